import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import type { Actor } from '../audit/audit-log.js'
import { epochSeconds, type Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Sql } from '../db/sql.js'
import { Forbidden, NotFound } from '../errors.js'
import type { SigningKeys } from '../keys/signing-keys.js'
import { ssaClaims } from './claims.js'

interface SsaSourceRow {
  id: string, version: number, mode: 'live' | 'test', roles: string[], token_endpoint_auth_method: string, client_name: string
  client_description: string | null, client_uri: string | null, logo_uri: string | null, tos_uri: string | null, policy_uri: string | null
  redirect_uris: string[], environment: string | null, on_behalf_of: string | null, software_status: string,
  org_id: string, legal_name: string, org_status: string, registration_number: string, company_register: string | null,
  registration_id: string | null, country: string, active_roles: string[], authority_claims: SsaAuthorityClaim[]
  contacts: SsaContact[] | string | null
}

/** An organisation contact (business, technical, security-incident), read only for profiles that assert contacts. */
export interface SsaContact { type: string, name: string, email: string, phone: string | null }

export interface SsaAuthorityClaim {
  id: string, role: string, authorisation_domain: string, authority_id: string, authority_name: string, authority_code: string | null
  registration_id: string | null, member_states: string[], status: 'active' | 'inactive'
}

/** Everything the registry knows that any SSA profile may assert: read once, after the status gate. */
export interface SsaSource {
  org: {
    id: string, legalName: string, status: string, registrationNumber: string, companyRegister: string | null, registrationId: string | null
    country: string, activeRoles: string[], authorityClaims: SsaAuthorityClaim[]
    /** Present when the profile asked for `contacts`. */
    contacts?: SsaContact[]
  }
  software: {
    id: string, version: number, mode: 'live' | 'test', roles: string[], tokenEndpointAuthMethod: string, clientName: string, clientDescription: string | null
    clientUri: string | null, logoUri: string | null, tosUri: string | null, policyUri: string | null, redirectUris: string[]
    environment: string | null, onBehalfOf: string | null
  }
}

/** How a profile shapes its SSA: the claims (without iat/jti), its `iss`, and whether it carries `exp`. */
export interface SsaProfile {
  issuer: string
  claims: (source: SsaSource) => Record<string, unknown>
  /** Lifetime in seconds (default SSA_TTL); the SSA always carries exp. */
  ttl?: number
  /** Read the organisation's contacts too (in the same statement). */
  contacts?: boolean
}

/**
 * Software Statement Assertions: issued only while the organisation, the software statement and every
 * role it claims are active at this moment; a new jti each time, recorded for audit. Ecosystem
 * profiles (src/profiles/) pass their own claim set; the gate and the signing are the same for all.
 */
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export class SsaService {
  constructor (private readonly d: { sql: Sql, clock: Clock, keys: SigningKeys, config: Pick<Config, 'DIRECTORY_ISSUER' | 'SSA_TTL' | 'ROLES'> }) {}

  /** The software, its organisation and what they assert, once the status gate has passed. */
  async source (orgId: string, softwareId: string): Promise<SsaSource> {
    return this.read(orgId, softwareId)
  }

  /**
   * One round trip: the software statement, its organisation, its active roles and authority claims — and, when
   * `record` is given, the issuance row, written by the same statement only if the gate below would pass.
   */
  private async read (orgId: string, softwareId: string, record?: { jti: string, kid: string, issuedAt: Date, expiresAt: Date, requestedBy: string }, withContacts = false): Promise<SsaSource> {
    if (!uuid.test(orgId) || !uuid.test(softwareId)) throw NotFound(`no software statement ${softwareId} in organisation ${orgId}`)
    const [row] = await this.d.sql.query<SsaSourceRow>(
      `WITH src AS (
       SELECT s.id, s.version, s.mode::text AS mode, s.roles, s.token_endpoint_auth_method, s.client_name, s.client_description,
              s.client_uri, s.logo_uri, s.tos_uri, s.policy_uri, s.redirect_uris, s.environment, s.on_behalf_of,
              s.status::text AS software_status, o.id AS org_id, o.legal_name, o.status::text AS org_status,
              o.registration_number, o.company_register, o.registration_id, o.country::text AS country,
              ARRAY(SELECT r.role FROM organisation_roles r WHERE r.organisation_id = o.id AND r.status = 'active') AS active_roles,
              COALESCE((SELECT json_agg(json_build_object('id', c.id, 'role', c.role, 'authorisation_domain', c.authorisation_domain,
                  'authority_id', c.authority_id, 'authority_name', c.authority_name, 'authority_code', c.authority_code,
                  'registration_id', c.registration_id, 'member_states', c.member_states, 'status', c.status::text)
                  ORDER BY c.role, c.authorisation_domain, c.authority_id)
                FROM authority_claims c WHERE c.organisation_id = o.id), '[]'::json) AS authority_claims,
              CASE WHEN $8::boolean THEN COALESCE((SELECT json_agg(json_build_object('type', k.type, 'name', k.name, 'email', k.email, 'phone', k.phone)
                  ORDER BY k.type, k.name) FROM organisation_contacts k WHERE k.organisation_id = o.id), '[]'::json) END AS contacts
         FROM software_statements s JOIN organisations o ON o.id = s.organisation_id
        WHERE s.id = $1::uuid AND s.organisation_id = $2::uuid),
       recorded AS (
       INSERT INTO ssa_issuances (jti, software_statement_id, organisation_id, kid, requested_by, issued_at, expires_at)
       SELECT $3::text, src.id, src.org_id, $4::text, $5::text, $6::timestamptz, $7::timestamptz FROM src
        WHERE $3::text IS NOT NULL AND src.org_status = 'active' AND src.software_status = 'active' AND src.roles <@ src.active_roles)
       SELECT * FROM src`,
      [softwareId, orgId, record?.jti ?? null, record?.kid ?? null, record?.requestedBy ?? null, record?.issuedAt ?? null, record?.expiresAt ?? null, withContacts],
      'ssa_source')
    if (!row) throw NotFound(`no software statement ${softwareId} in organisation ${orgId}`)
    if (row.org_status !== 'active') throw Forbidden(`the organisation is ${row.org_status}: no SSA is issued`)
    if (row.software_status !== 'active') throw Forbidden(`the software statement is ${row.software_status}: no SSA is issued`)
    const active = new Set(row.active_roles)
    const inactive = row.roles.filter((r) => !active.has(r))
    if (inactive.length > 0) throw Forbidden(`the organisation's role ${inactive.join(', ')} is not active: no SSA is issued`)
    const claims = typeof row.authority_claims === 'string' ? JSON.parse(row.authority_claims) as SsaAuthorityClaim[] : row.authority_claims
    const contacts = typeof row.contacts === 'string' ? JSON.parse(row.contacts) as SsaContact[] : row.contacts
    return {
      org: {
        id: row.org_id, legalName: row.legal_name, status: row.org_status, registrationNumber: row.registration_number,
        companyRegister: row.company_register, registrationId: row.registration_id, country: row.country.trim(),
        activeRoles: row.active_roles, authorityClaims: claims.map((c) => ({ ...c, member_states: c.member_states ?? [] })),
        ...(contacts ? { contacts } : {}),
      },
      software: {
        id: row.id, version: row.version, mode: row.mode, roles: row.roles, tokenEndpointAuthMethod: row.token_endpoint_auth_method,
        clientName: row.client_name, clientDescription: row.client_description, clientUri: row.client_uri, logoUri: row.logo_uri,
        tosUri: row.tos_uri, policyUri: row.policy_uri, redirectUris: row.redirect_uris, environment: row.environment, onBehalfOf: row.on_behalf_of,
      },
    }
  }

  /** The native SSA (DESIGN.md §7). */
  async issue (orgId: string, softwareId: string, who: Actor): Promise<string> {
    const { DIRECTORY_ISSUER: issuer, ROLES: roles } = this.d.config
    return this.issueAs({ issuer, claims: (s) => ({ ...ssaClaims(s, issuer, roles) }) }, orgId, softwareId, who)
  }

  /** An SSA in a profile's claim set, after the same status gate as the native one. */
  async issueAs (profile: SsaProfile, orgId: string, softwareId: string, who: Actor): Promise<string> {
    const key = this.d.keys.current()
    const iat = epochSeconds(this.d.clock)
    const exp = iat + (profile.ttl ?? this.d.config.SSA_TTL)
    const jti = randomUUID()
    // Issuing an SSA changes no state, so it is recorded in its own table rather than the audit chain, whose
    // append serialises every writer on one lock; the record is written by the same statement that reads the
    // gate, and only when the gate passes.
    const source = await this.read(orgId, softwareId, { jti, kid: key.kid, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000), requestedBy: who.actor }, profile.contacts)
    const ssa = await new SignJWT(profile.claims(source))
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(profile.issuer).setIssuedAt(iat).setExpirationTime(exp).setJti(jti)
      .sign(key.key)
    return ssa
  }
}
