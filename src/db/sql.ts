import type { PGlite } from '@electric-sql/pglite'
import type pg from 'pg'

/**
 * One SQL statement, one round trip, straight to the driver: for the per-request hot paths (guard, token,
 * SSA, issuance, OCSP). Through Prisma the same statement costs the directory 3–5× the CPU
 * (bench/db-roundtrip.ts); everything else keeps using Prisma. Parameters are always bound, never spliced.
 * Column types come back as the driver gives them: write the SQL so both agree (cast int8 to int or text).
 */
export interface Sql {
  /** `name` makes it a prepared statement on PostgreSQL (parsed and planned once per connection). */
  query: <T>(text: string, values?: unknown[], name?: string) => Promise<T[]>
}

/** PostgreSQL through the pool Prisma's adapter also uses. */
export function poolSql (pool: pg.Pool): Sql {
  return {
    query: async <T>(text: string, values: unknown[] = [], name?: string) =>
      (await pool.query(name ? { name, text, values } : { text, values })).rows as T[],
  }
}

/** Embedded PGlite: its query() waits for any transaction Prisma holds open on the same connection. */
export function pgliteSql (db: PGlite): Sql {
  return { query: async <T>(text: string, values: unknown[] = []) => (await db.query<T>(text, values)).rows }
}
