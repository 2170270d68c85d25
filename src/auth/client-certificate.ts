import { createHash } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Sql } from '../db/sql.js'
import { Unauthorized } from '../errors.js'

/** A client certificate presented on this connection, matched to one we issued. */
export interface PresentedCertificate {
  der: Buffer
  x5tS256: string
  serial: string
  organisationId: string
  softwareStatementId: string | null
}

export const thumbprint = (der: Buffer): string => createHash('sha256').update(der).digest('base64url')

interface CertificateRow { type: string, status: string, notBefore: Date, notAfter: Date }

/** Why a certificate row cannot authenticate a client now, or undefined when it can. */
export function certificateProblem (row: CertificateRow | undefined, now: Date): string | undefined {
  if (!row) return 'the client certificate was not issued by this directory'
  if (row.type !== 'transport') return 'the client certificate is not a transport certificate'
  if (row.status === 'revoked') return 'the client certificate is revoked'
  if (now < row.notBefore || now >= row.notAfter) return 'the client certificate is outside its validity period'
  return undefined
}

/**
 * Beyond the TLS chain check: the exact certificate must be one this directory issued, a transport
 * certificate, in its validity period and not revoked — read from the store on every request, so a
 * revocation bites on the next request, not when a cache expires.
 */
export async function resolveClientCertificate (sql: Sql, clock: Clock, der: Buffer): Promise<PresentedCertificate> {
  const x5t = thumbprint(der)
  const [row] = await sql.query<CertificateRow & { serial: string, organisationId: string, softwareStatementId: string | null }>(
    `SELECT serial, type::text AS type, status::text AS status, not_before AS "notBefore", not_after AS "notAfter",
            organisation_id AS "organisationId", software_statement_id AS "softwareStatementId"
       FROM certificates WHERE x5t_s256 = $1`, [x5t], 'client_certificate')
  const problem = certificateProblem(row, clock.now())
  if (problem || !row) throw Unauthorized(problem ?? 'unknown certificate')
  return { der, x5tS256: x5t, serial: row.serial, organisationId: row.organisationId, softwareStatementId: row.softwareStatementId }
}

interface StandingRow { type: string | null, status: string | null, not_before: Date | null, not_after: Date | null, client_active: boolean | null, org_status: string | null }

/**
 * One round trip for everything a protected request must know *now*: the connection's certificate
 * (issued by us, transport, current, unrevoked) and the token's client and organisation status.
 */
export async function currentStanding (sql: Sql, clock: Clock, x5tS256: string, clientId: string):
Promise<{ certificate?: string, client?: string, organisation?: string }> {
  if (!/^[0-9a-f-]{36}$/i.test(clientId)) return { client: 'the client is no longer active' }
  const rows = await sql.query<StandingRow>(
    `SELECT c.type::text AS type, c.status::text AS status, c.not_before, c.not_after,
            cl.active AS client_active, o.status::text AS org_status
       FROM (SELECT 1) one
       LEFT JOIN certificates c ON c.x5t_s256 = $1
       LEFT JOIN clients cl ON cl.id = $2::uuid
       LEFT JOIN organisations o ON o.id = cl.organisation_id`, [x5tS256, clientId], 'current_standing')
  const r = rows[0]!
  const certificate = certificateProblem(r.type ? { type: r.type, status: r.status!, notBefore: new Date(r.not_before!), notAfter: new Date(r.not_after!) } : undefined, clock.now())
  return {
    ...(certificate ? { certificate } : {}),
    ...(!r.client_active ? { client: 'the client is no longer active' } : {}),
    ...(r.org_status && r.org_status !== 'active' ? { organisation: `the organisation is ${r.org_status}` } : {}),
  }
}
