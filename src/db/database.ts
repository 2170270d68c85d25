import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { PrismaClient } from '../generated/prisma/client.js'

export type Prisma = InstanceType<typeof PrismaClient>
/** The client inside `$transaction(async (tx) => …)`. */
export type Tx = Parameters<Extract<Parameters<Prisma['$transaction']>[0], (tx: never) => unknown>>[0]

export type DatabaseTarget =
  | { kind: 'postgres', url: string }
  | { kind: 'pglite', dir: string }
  /** In memory; optionally started from a data-dir dump (tests clone a migrated template). */
  | { kind: 'memory', loadDataDir?: Blob }

export interface Database {
  readonly kind: DatabaseTarget['kind']
  readonly prisma: Prisma
  /** A fresh adapter factory on the same database, for the schema engine. */
  readonly migrationAdapter: () => SqlMigrationAwareDriverAdapterFactory
  /** The embedded engine, when there is one (dumps, direct SQL in tests). */
  readonly pglite?: PGlite
  close: () => Promise<void>
}

/**
 * @prisma/adapter-pg runs a migration script by splitting it at every ';', which breaks a function body (or a
 * comment) holding one. PostgreSQL's simple query protocol takes the whole script and runs its statements in
 * order, as `prisma migrate deploy` and PGlite's exec do.
 */
class MigrationPg extends PrismaPg {
  override async connect (): ReturnType<PrismaPg['connect']> {
    const adapter = await super.connect()
    const pool = adapter.underlyingDriver() as { query: (sql: string) => Promise<unknown> }
    const converted = adapter as unknown as { onError: (e: unknown) => never }
    adapter.executeScript = async (script: string) => { await pool.query(script).catch((e: unknown) => converted.onError(e)) }
    return adapter
  }
}

export function targetFrom (config: { DATABASE_URL?: string | undefined, DATA_DIR: string }): DatabaseTarget {
  if (config.DATABASE_URL) return { kind: 'postgres', url: config.DATABASE_URL }
  return { kind: 'pglite', dir: join(config.DATA_DIR, 'pglite') }
}

export async function openDatabase (target: DatabaseTarget): Promise<Database> {
  if (target.kind === 'postgres') {
    const options = { connectionString: target.url, max: 10, connectionTimeoutMillis: 5000 }
    const prisma = new PrismaClient({ adapter: new PrismaPg(options) })
    await prisma.$connect()
    return { kind: 'postgres', prisma, migrationAdapter: () => new MigrationPg(options), close: () => prisma.$disconnect() }
  }
  if (target.kind === 'pglite') mkdirSync(target.dir, { recursive: true, mode: 0o700 })
  // PGlite is one embedded connection: the Prisma client and the schema engine share it.
  const pglite = target.kind === 'pglite'
    ? new PGlite(target.dir)
    : new PGlite(target.loadDataDir ? { loadDataDir: target.loadDataDir } : {})
  await pglite.waitReady
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) })
  return {
    kind: target.kind,
    prisma,
    migrationAdapter: () => new PrismaPGlite(pglite),
    pglite,
    close: async () => { await prisma.$disconnect(); await pglite.close() },
  }
}
