import type { Sql } from '../db/sql.js'

export interface ParticipantsFilter {
  role?: string | undefined
  status?: string | undefined
  /** A delta: only organisations that changed (themselves, roles, software statements, servers) at or after this. */
  updatedSince?: Date | undefined
}

/**
 * The /participants document as JSON bytes, built by PostgreSQL: every organisation (by id) with its roles,
 * authorisation servers and software statements (DESIGN.md §6), filtered in SQL. At 10 000 organisations,
 * materialising 55 000 rows through Prisma and stringifying them held the event loop for ~190 ms; here the
 * database aggregates and the rows come back as JSON fragments of 100 organisations each, parsed as they arrive.
 */
export async function participantsDocument (sql: Sql, issuer: string, f: ParticipantsFilter): Promise<Buffer> {
  const rows = await sql.query<{ chunk: string }>(
    `WITH roles AS (
       SELECT r.organisation_id, '[' || string_agg((SELECT row_to_json(v) FROM (SELECT r.role, r.status) v)::text, ',' ORDER BY r.role) || ']' AS j
         FROM organisation_roles r GROUP BY r.organisation_id),
     software AS (
       SELECT s.organisation_id, '[' || string_agg((SELECT row_to_json(v) FROM (SELECT s.id AS software_id, s.client_name, s.status, s.roles, s.mode, s.version,
                $1 || '/organisations/' || s.organisation_id || '/software-statements/' || s.id || '/jwks' AS jwks_uri) v)::text, ',' ORDER BY s.created_at, s.id)
                FILTER (WHERE s.status <> 'removed') || ']' AS j,
              -- A removed statement is not listed, but its removal is a change of its organisation.
              max(s.updated_at) AS updated_at
         FROM software_statements s GROUP BY s.organisation_id),
     servers AS (
       SELECT a.organisation_id, '[' || string_agg(CASE WHEN a.logo_uri IS NOT NULL AND a.logo_uri <> ''
           THEN (SELECT row_to_json(v) FROM (SELECT a.id, a.issuer, a.discovery_url, a.customer_friendly_name, a.logo_uri, a.api_resources) v)::text
           ELSE (SELECT row_to_json(v) FROM (SELECT a.id, a.issuer, a.discovery_url, a.customer_friendly_name, a.api_resources) v)::text END,
           ',' ORDER BY a.created_at, a.id) || ']' AS j, max(a.updated_at) AS updated_at
         FROM authorisation_servers a GROUP BY a.organisation_id),
     docs AS (
       SELECT o.id, (row_number() OVER (ORDER BY o.id) - 1) / 100 AS part,
              (SELECT row_to_json(v) FROM (SELECT o.id AS org_id, o.legal_name, o.registration_number, o.country::text AS country, o.status,
                 COALESCE(roles.j, '[]')::json AS roles, $1 || '/organisations/' || o.id || '/jwks' AS jwks_uri,
                 COALESCE(servers.j, '[]')::json AS authorisation_servers, COALESCE(software.j, '[]')::json AS software_statements,
                 GREATEST(o.updated_at, software.updated_at, servers.updated_at) AS updated_at) v)::text AS doc
         FROM organisations o
         LEFT JOIN roles ON roles.organisation_id = o.id
         LEFT JOIN software ON software.organisation_id = o.id
         LEFT JOIN servers ON servers.organisation_id = o.id
        WHERE ($2::text IS NULL OR o.status::text = $2)
          AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM organisation_roles r WHERE r.organisation_id = o.id AND r.role = $3 AND r.status = 'active'))
          AND ($4::timestamptz IS NULL OR GREATEST(o.updated_at, software.updated_at, servers.updated_at) >= $4::timestamptz))
     SELECT string_agg(doc, ',' ORDER BY id) AS chunk FROM docs GROUP BY part ORDER BY part`,
    [issuer, f.status ?? null, f.role ?? null, f.updatedSince ?? null])
  // Encoded a few fragments at a time, letting other requests in between: 12 MiB in one go would hold the loop.
  const parts: Buffer[] = [Buffer.from('[')]
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) parts.push(Buffer.from(','))
    parts.push(Buffer.from(rows[i]!.chunk))
    if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve))
  }
  parts.push(Buffer.from(']'))
  return Buffer.concat(parts)
}
