import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { PrismaClient } from '../generated/prisma/client.js'
import { pgliteSql, poolSql, type Sql } from './sql.js'
import { lockDatabaseDir, type DataDirLock } from './data-dir-lock.js'

export type Prisma = InstanceType<typeof PrismaClient>
/** The client inside `$transaction(async (tx) => …)`. */
export type Tx = Parameters<Extract<Parameters<Prisma['$transaction']>[0], (tx: never) => unknown>>[0]

export type DatabaseTarget = (
  | { kind: 'postgres', url: string }
  | { kind: 'pglite', dir: string }
  /** In memory; optionally started from a data-dir dump (tests clone a migrated template). */
  | { kind: 'memory', loadDataDir?: Blob }
) & { limits?: Partial<DatabaseLimits> }

/**
 * Bounds on database calls, in milliseconds: taking a connection from the pool (or opening one), one
 * statement, waiting to start a transaction, and a whole transaction. A frozen or unreachable server then
 * fails the request within seconds (a 503), and the pool recovers by itself when the server is back.
 */
export interface DatabaseLimits {
  connectTimeoutMs: number
  statementTimeoutMs: number
  transactionMaxWaitMs: number
  transactionTimeoutMs: number
}

export const defaultLimits: DatabaseLimits = { connectTimeoutMs: 3000, statementTimeoutMs: 5000, transactionMaxWaitMs: 3000, transactionTimeoutMs: 5000 }

export interface Database {
  readonly kind: DatabaseTarget['kind']
  readonly prisma: Prisma
  /** The same database without Prisma, for the hot paths (src/db/sql.ts). */
  readonly sql: Sql
  /** A fresh adapter factory on the same database, for the schema engine. */
  readonly migrationAdapter: () => SqlMigrationAwareDriverAdapterFactory
  /** The embedded engine, when there is one (dumps, direct SQL in tests). */
  readonly pglite?: PGlite
  /** The embedded database's owner lock, held until close. */
  readonly lock?: DataDirLock
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

/**
 * adapter-pg hands a transaction's connection back to the pool even when a statement in it failed on the
 * client side (query_timeout while the server was frozen): that connection is still inside the aborted
 * transaction, or still busy with the old statement, and every later user gets 25P02 or a stale answer.
 * A transaction that saw any error gives its connection back as broken, so the pool destroys it.
 */
class BoundedPg extends PrismaPg {
  override async connect (): ReturnType<PrismaPg['connect']> {
    const adapter = await super.connect()
    const start = adapter.startTransaction.bind(adapter)
    adapter.startTransaction = async (isolationLevel) => {
      const tx = await start(isolationLevel)
      const internals = tx as unknown as { client: { release: (err?: Error | boolean) => void }, onError: (e: unknown) => never }
      let failed: Error | undefined
      const onError = internals.onError.bind(tx)
      internals.onError = (e: unknown) => { failed ??= e instanceof Error ? e : new Error(String(e)); return onError(e) }
      const release = internals.client.release.bind(internals.client)
      internals.client.release = (err?: Error | boolean) => release(err ?? failed)
      return tx
    }
    return adapter
  }
}

export function targetFrom (config: {
  DATABASE_URL?: string | undefined, DATA_DIR: string,
  DB_CONNECT_TIMEOUT_MS?: number, DB_STATEMENT_TIMEOUT_MS?: number, DB_TRANSACTION_MAX_WAIT_MS?: number, DB_TRANSACTION_TIMEOUT_MS?: number,
}): DatabaseTarget {
  const limits: Partial<DatabaseLimits> = {
    ...(config.DB_CONNECT_TIMEOUT_MS ? { connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS } : {}),
    ...(config.DB_STATEMENT_TIMEOUT_MS ? { statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS } : {}),
    ...(config.DB_TRANSACTION_MAX_WAIT_MS ? { transactionMaxWaitMs: config.DB_TRANSACTION_MAX_WAIT_MS } : {}),
    ...(config.DB_TRANSACTION_TIMEOUT_MS ? { transactionTimeoutMs: config.DB_TRANSACTION_TIMEOUT_MS } : {}),
  }
  if (config.DATABASE_URL) return { kind: 'postgres', url: config.DATABASE_URL, limits }
  return { kind: 'pglite', dir: join(config.DATA_DIR, 'pglite'), limits }
}

/**
 * Opens the database. An embedded one on disk is locked for this process first (DataDirLocked names the
 * holder); `owner` says what this process is, for that message.
 */
export async function openDatabase (target: DatabaseTarget, opts: { owner?: string } = {}): Promise<Database> {
  const limits = { ...defaultLimits, ...target.limits }
  const transactionOptions = { maxWait: limits.transactionMaxWaitMs, timeout: limits.transactionTimeoutMs }
  if (target.kind === 'postgres') {
    const options = {
      connectionString: target.url, max: 10, connectionTimeoutMillis: limits.connectTimeoutMs,
      // The server cancels a long statement (57014); the client gives up a little later when the server
      // cannot even do that (frozen), and the pool destroys that connection.
      statement_timeout: limits.statementTimeoutMs, query_timeout: limits.statementTimeoutMs + 500,
    }
    // One pool, so bounded alike, for Prisma and the hot paths' direct queries.
    const pool = new pg.Pool(options)
    const prisma = new PrismaClient({ adapter: new BoundedPg(pool), transactionOptions })
    await prisma.$connect()
    // Migrations may run long statements: only the connection is bounded.
    const migration = { connectionString: target.url, connectionTimeoutMillis: limits.connectTimeoutMs }
    return {
      kind: 'postgres', prisma, sql: poolSql(pool), migrationAdapter: () => new MigrationPg(migration),
      close: async () => { await prisma.$disconnect(); await pool.end() },
    }
  }
  let lock: DataDirLock | undefined
  if (target.kind === 'pglite') {
    lock = await lockDatabaseDir(target.dir, opts.owner ?? ['directory', ...process.argv.slice(2, 3)].join(' '))
    mkdirSync(target.dir, { recursive: true, mode: 0o700 })
  }
  // PGlite is one embedded connection: the Prisma client and the schema engine share it.
  let pglite: PGlite
  try {
    pglite = target.kind === 'pglite'
      ? new PGlite(target.dir)
      : new PGlite(target.loadDataDir ? { loadDataDir: target.loadDataDir } : {})
    await pglite.waitReady
  } catch (err) {
    await lock?.release()
    throw err
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite), transactionOptions })
  return {
    kind: target.kind,
    prisma,
    sql: pgliteSql(pglite),
    migrationAdapter: () => new PrismaPGlite(pglite),
    pglite,
    ...(lock ? { lock } : {}),
    close: async () => { try { await prisma.$disconnect(); await pglite.close() } finally { await lock?.release() } },
  }
}
