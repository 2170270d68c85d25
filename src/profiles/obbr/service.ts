import type { Actor } from '../../audit/audit-log.js'
import type { Clock } from '../../clock.js'
import type { Config } from '../../config.js'
import type { Prisma } from '../../db/database.js'
import type { SigningKeys } from '../../keys/signing-keys.js'
import type { CertificateAuthority } from '../../pki/authority.js'
import { loadKeystore, type CertificateJwk } from '../../publication/keystores.js'
import type { SsaService } from '../../ssa/ssa-service.js'
import { profilePaths } from '../common.js'
import { loadObbrParticipants } from './participants.js'
import { obbrSsaProfile } from './ssa.js'

export type ObbrKeystore = { orgId: string, softwareId?: string, kind: 'application' | 'transport', inactive: boolean }

/** Open Finance Brasil / Raidiam: participants list, keystores and SSAs, all read from the registry. */
export class ObbrProfile {
  private readonly ssaProfile
  constructor (private readonly d: {
    prisma: Prisma, clock: Clock, keys: SigningKeys, authority: CertificateAuthority, ssa: SsaService
    config: Pick<Config, 'DIRECTORY_ISSUER' | 'OBBR_SSA_ISSUER' | 'DEFAULT_AUTHORISATION_DOMAIN'>
  }) {
    this.ssaProfile = obbrSsaProfile({
      issuer: d.config.OBBR_SSA_ISSUER, keystoreBase: d.config.DIRECTORY_ISSUER + profilePaths.obbr, defaultDomain: d.config.DEFAULT_AUTHORISATION_DOMAIN,
    })
  }

  participants (): Promise<unknown[]> { return loadObbrParticipants(this.d.prisma, this.d.config.DEFAULT_AUTHORISATION_DOMAIN) }

  /** The directory's SSA signing keys (Raidiam `openbanking.jwks`). */
  directoryJwks (): unknown { return this.d.keys.jwks() }

  /**
   * `application.jwks` holds signing keys, `transport.jwks` the mTLS keys; `inactive/` the revoked and
   * expired ones. The organisation-level set is every signing key of its software.
   */
  keystore (k: ObbrKeystore): Promise<{ jwks: { keys: CertificateJwk[] }, validUntil?: Date }> {
    return loadKeystore(this.d.prisma, this.d.clock, this.d.authority.chain(), {
      orgId: k.orgId, ...(k.softwareId ? { softwareId: k.softwareId } : {}), inactive: k.inactive, type: k.kind === 'application' ? 'signing' : 'transport',
    })
  }

  assertion (orgId: string, softwareId: string, who: Actor): Promise<string> { return this.d.ssa.issueAs(this.ssaProfile, orgId, softwareId, who) }
}
