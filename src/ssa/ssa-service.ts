import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import type { Actor } from '../audit/audit-log.js'
import { epochSeconds, type Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Prisma } from '../db/database.js'
import { Forbidden, NotFound } from '../errors.js'
import type { SigningKeys } from '../keys/signing-keys.js'
import { ssaClaims } from './claims.js'

/**
 * Software Statement Assertions: issued only while the organisation, the software statement and every
 * role it claims are active at this moment; a new jti each time, recorded for audit.
 */
export class SsaService {
  constructor (private readonly d: { prisma: Prisma, clock: Clock, keys: SigningKeys, config: Pick<Config, 'DIRECTORY_ISSUER' | 'SSA_TTL' | 'ROLES'> }) {}

  async issue (orgId: string, softwareId: string, who: Actor): Promise<string> {
    const software = await this.d.prisma.softwareStatement.findFirst({
      where: { id: softwareId, organisationId: orgId }, include: { organisation: { include: { roles: true } } },
    })
    if (!software) throw NotFound(`no software statement ${softwareId} in organisation ${orgId}`)
    const org = software.organisation
    if (org.status !== 'active') throw Forbidden(`the organisation is ${org.status}: no SSA is issued`)
    if (software.status !== 'active') throw Forbidden(`the software statement is ${software.status}: no SSA is issued`)
    const active = new Set(org.roles.filter((r) => r.status === 'active').map((r) => r.role))
    const inactive = software.roles.filter((r) => !active.has(r))
    if (inactive.length > 0) throw Forbidden(`the organisation's role ${inactive.join(', ')} is not active: no SSA is issued`)

    const key = this.d.keys.current()
    const iat = epochSeconds(this.d.clock)
    const exp = iat + this.d.config.SSA_TTL
    const jti = randomUUID()
    const claims = ssaClaims({ org, software }, this.d.config.DIRECTORY_ISSUER, this.d.config.ROLES)
    const ssa = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.d.config.DIRECTORY_ISSUER).setIssuedAt(iat).setExpirationTime(exp).setJti(jti)
      .sign(key.key)
    // Issuing an SSA changes no state, so it is recorded in its own table rather than the audit
    // chain, whose append serialises every writer on one lock.
    await this.d.prisma.ssaIssuance.create({
      data: { jti, softwareStatementId: software.id, organisationId: org.id, kid: key.kid, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000), requestedBy: who.actor },
    })
    return ssa
  }
}
