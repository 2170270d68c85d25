import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { openDatabase, type Database } from '../../src/db/database.js'
import { applyMigrations, readMigrations } from '../../src/db/migrations.js'

const cacheDir = join(import.meta.dirname, '../../node_modules/.cache/directory-tests')

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * A migrated database of its own for one test: in-memory PGlite by default; with DATABASE_URL set,
 * a fresh PostgreSQL database created on that server and dropped afterwards.
 */
export async function testDatabase (t: Teardown, { migrate = true } = {}): Promise<{ db: Database, url?: string }> {
  const server = process.env.DATABASE_URL
  if (!server) {
    const db = await openDatabase(migrate ? { kind: 'memory', loadDataDir: await migratedTemplate() } : { kind: 'memory' })
    t.teardown(() => db.close().catch(() => {}))
    return { db }
  }
  const name = `directory_test_${randomBytes(6).toString('hex')}`
  await admin(server, migrate ? `CREATE DATABASE ${name} TEMPLATE ${await postgresTemplate(server)}` : `CREATE DATABASE ${name}`)
  const url = databaseUrl(server, name)
  const db = await openDatabase({ kind: 'postgres', url })
  t.teardown(async () => {
    await db.close().catch(() => {})
    await admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })
  return { db, url }
}

/** Makes the database unreachable for the app: PGlite closes; PostgreSQL refuses new connections and drops the open ones. */
export async function stopDatabase (db: Database, url?: string): Promise<void> {
  if (!url) return db.close()
  const name = new URL(url).pathname.slice(1)
  await admin(process.env.DATABASE_URL!, `ALTER DATABASE ${name} ALLOW_CONNECTIONS false`)
  await admin(process.env.DATABASE_URL!, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`)
}

// PGlite's initdb costs over a second per instance; a dump of a migrated database loads in half
// that. The dump is cached on disk, keyed by the migrations, so every test file shares it.
let template: Promise<Blob> | undefined
function migratedTemplate (): Promise<Blob> {
  template ??= (async () => {
    const file = join(cacheDir, `pglite-${await migrationsKey()}.tar`)
    try {
      return new Blob([await readFile(file)])
    } catch {
      const db = await openDatabase({ kind: 'memory' })
      await applyMigrations(db)
      const dump = await db.pglite!.dumpDataDir('none')
      await db.close()
      await mkdir(cacheDir, { recursive: true })
      const tmp = `${file}.${process.pid}`
      await writeFile(tmp, Buffer.from(await dump.arrayBuffer()))
      await rename(tmp, file)
      return dump
    }
  })()
  return template
}

function databaseUrl (server: string, name: string): string {
  const url = new URL(server)
  url.pathname = `/${name}`
  return url.toString()
}

async function migrationsKey (): Promise<string> {
  const list = await readMigrations()
  return createHash('sha256').update(JSON.stringify(list.migrationDirectories)).digest('hex').slice(0, 16)
}

// The same on PostgreSQL: one migrated template database per migration set, copied by CREATE DATABASE.
// Parallel test files may race to build it: the loser of the rename drops its copy.
let pgTemplate: Promise<string> | undefined
function postgresTemplate (server: string): Promise<string> {
  pgTemplate ??= (async () => {
    const name = `directory_tmpl_${await migrationsKey()}`
    const exists = await admin(server, `SELECT 1 FROM pg_database WHERE datname = '${name}' AND datistemplate`)
    if (exists.length) return name
    const build = `${name}_${randomBytes(4).toString('hex')}`
    await admin(server, `CREATE DATABASE ${build}`)
    const db = await openDatabase({ kind: 'postgres', url: databaseUrl(server, build) })
    await applyMigrations(db)
    await db.close()
    try {
      await admin(server, `ALTER DATABASE ${build} RENAME TO ${name}`)
      await admin(server, `ALTER DATABASE ${name} WITH IS_TEMPLATE true`)
    } catch {
      await admin(server, `DROP DATABASE IF EXISTS ${build} WITH (FORCE)`)
      for (let i = 0; i < 50 && !(await admin(server, `SELECT 1 FROM pg_database WHERE datname = '${name}' AND datistemplate`)).length; i++) {
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    return name
  })()
  return pgTemplate
}

async function admin (server: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: server })
  await client.connect()
  try { return (await client.query(sql)).rows } finally { await client.end() }
}
