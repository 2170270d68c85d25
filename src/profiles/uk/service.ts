import type { Actor } from '../../audit/audit-log.js'
import type { Clock } from '../../clock.js'
import type { Config } from '../../config.js'
import type { Prisma } from '../../db/database.js'
import { NotFound } from '../../errors.js'
import type { SigningKeys } from '../../keys/signing-keys.js'
import type { CertificateAuthority } from '../../pki/authority.js'
import { loadKeystore, type CertificateJwk } from '../../publication/keystores.js'
import type { SsaService } from '../../ssa/ssa-service.js'
import { profilePaths } from '../common.js'
import { fromUkId } from './ids.js'
import { ukSsaProfile } from './ssa.js'

/** A keystore file of the OBIE layout: `{id}.jwks` under an organisation, id = the organisation or one of its software. */
export type UkKeystore = { orgId: string, id: string, revoked: boolean }

/** UK Open Banking (OBIE Directory API 2.2): SSAs and the keystores they name, read from the registry. */
export class UkProfile {
  private readonly ssaProfile
  constructor (private readonly d: {
    prisma: Prisma, clock: Clock, keys: SigningKeys, authority: CertificateAuthority, ssa: SsaService
    config: Pick<Config, 'DIRECTORY_ISSUER' | 'UK_SSA_ISSUER'>
  }) {
    this.ssaProfile = ukSsaProfile({ issuer: d.config.UK_SSA_ISSUER, keystoreBase: d.config.DIRECTORY_ISSUER + profilePaths.uk })
  }

  /** The directory's SSA signing keys (OBIE `openbanking.jwks`). */
  directoryJwks (): unknown { return this.d.keys.jwks() }

  /**
   * OBIE keystores hold "all active signing and network certs" of the software (or of the whole
   * organisation); `revoked/` the revoked and expired ones.
   */
  keystore (k: UkKeystore): Promise<{ jwks: { keys: CertificateJwk[] }, validUntil?: Date }> {
    const id = fromUkId(k.id)
    if (!id) throw NotFound(`no keystore ${k.id}.jwks in organisation ${k.orgId}`)
    return loadKeystore(this.d.prisma, this.d.clock, this.d.authority.chain(), {
      orgId: k.orgId, ...(id !== k.orgId ? { softwareId: id } : {}), inactive: k.revoked,
    })
  }

  /** The SSA of a software statement named by its base-62 id (or its UUID). */
  assertion (orgId: string, softwareId: string, who: Actor): Promise<string> {
    const id = fromUkId(softwareId)
    if (!id) throw NotFound(`no software statement ${softwareId} in organisation ${orgId}`)
    return this.d.ssa.issueAs(this.ssaProfile, orgId, id, who)
  }
}
