import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import type { Actor } from '../audit/audit-log.js'
import { epochSeconds, type Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Prisma } from '../db/database.js'
import { Forbidden, NotFound } from '../errors.js'
import type { SigningKeys } from '../keys/signing-keys.js'
import { ssaClaims } from './claims.js'

interface SsaSourceRow {
  id: string, version: number, mode: 'live' | 'test', roles: string[], token_endpoint_auth_method: string, client_name: string
  client_description: string | null, client_uri: string | null, logo_uri: string | null, tos_uri: string | null, policy_uri: string | null
  redirect_uris: string[], software_status: string, org_id: string, legal_name: string, org_status: string, active_roles: string[]
}

/**
 * Software Statement Assertions: issued only while the organisation, the software statement and every
 * role it claims are active at this moment; a new jti each time, recorded for audit.
 */
export class SsaService {
  constructor (private readonly d: { prisma: Prisma, clock: Clock, keys: SigningKeys, config: Pick<Config, 'DIRECTORY_ISSUER' | 'SSA_TTL' | 'ROLES'> }) {}

  async issue (orgId: string, softwareId: string, who: Actor): Promise<string> {
    // One round trip: the software statement, its organisation and the organisation's active roles.
    const [row] = await this.d.prisma.$queryRawUnsafe<SsaSourceRow[]>(
      `SELECT s.id, s.version, s.mode::text AS mode, s.roles, s.token_endpoint_auth_method, s.client_name, s.client_description,
              s.client_uri, s.logo_uri, s.tos_uri, s.policy_uri, s.redirect_uris, s.status::text AS software_status,
              o.id AS org_id, o.legal_name, o.status::text AS org_status,
              ARRAY(SELECT r.role FROM organisation_roles r WHERE r.organisation_id = o.id AND r.status = 'active') AS active_roles
         FROM software_statements s JOIN organisations o ON o.id = s.organisation_id
        WHERE s.id = $1::uuid AND s.organisation_id = $2::uuid`, softwareId, orgId)
    if (!row) throw NotFound(`no software statement ${softwareId} in organisation ${orgId}`)
    if (row.org_status !== 'active') throw Forbidden(`the organisation is ${row.org_status}: no SSA is issued`)
    if (row.software_status !== 'active') throw Forbidden(`the software statement is ${row.software_status}: no SSA is issued`)
    const active = new Set(row.active_roles)
    const inactive = row.roles.filter((r) => !active.has(r))
    if (inactive.length > 0) throw Forbidden(`the organisation's role ${inactive.join(', ')} is not active: no SSA is issued`)
    const org = { id: row.org_id, legalName: row.legal_name, status: row.org_status }
    const software = {
      id: row.id, version: row.version, mode: row.mode, roles: row.roles, tokenEndpointAuthMethod: row.token_endpoint_auth_method,
      clientName: row.client_name, clientDescription: row.client_description, clientUri: row.client_uri, logoUri: row.logo_uri,
      tosUri: row.tos_uri, policyUri: row.policy_uri, redirectUris: row.redirect_uris,
    }

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
