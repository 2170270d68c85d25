// What one database round trip costs the directory's process: the same single-row read by primary key through
// a Prisma model query (what the services use), Prisma's $queryRawUnsafe, and the bare driver underneath
// (node-postgres, plain and as a named prepared statement; or PGlite's own query()), sequentially, in one run.
// CPU is process.cpuUsage() of this process per query (user + system), wall is the round trip.
//
//   npx tsx bench/db-roundtrip.ts [--queries 2000]
// Without DATABASE_URL: an in-memory PGlite. With it: a fresh database on that server, dropped afterwards.
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import { openDatabase, type Database } from '../src/db/database.js'
import { applyMigrations } from '../src/db/migrations.js'
import { flags, log, numberFlag, round, table, writeResult } from './lib/common.js'
import { admin } from './lib/directory.js'

const f = flags()
const queries = numberFlag(f, 'queries', 2000)

async function main (): Promise<void> {
  const server = process.env.DATABASE_URL
  let url: string | undefined
  let drop = async (): Promise<void> => {}
  if (server) {
    const name = `directory_bench_${randomBytes(5).toString('hex')}`
    await admin(server, `CREATE DATABASE ${name}`)
    const u = new URL(server)
    u.pathname = `/${name}`
    url = u.toString()
    drop = async () => { await admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
  }
  let db: Database | undefined
  try {
    db = await openDatabase(url ? { kind: 'postgres', url } : { kind: 'memory' })
    await applyMigrations(db)
    const id = randomUUID()
    await db.prisma.organisation.create({ data: { id, legalName: 'Bench Ltd', registrationNumber: 'B1', country: 'GB', status: 'active', roles: { create: [{ role: 'data-recipient' }] } } })
    const sql = 'SELECT * FROM organisations WHERE id = $1::uuid'
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['prisma organisation.findUnique', () => db!.prisma.organisation.findUnique({ where: { id } })],
      ['prisma organisation.findUnique include roles', () => db!.prisma.organisation.findUnique({ where: { id }, include: { roles: true } })],
      ['prisma $queryRawUnsafe (same SQL)', () => db!.prisma.$queryRawUnsafe(sql, id)],
    ]
    let client: pg.Client | undefined
    if (url) {
      client = new pg.Client({ connectionString: url })
      await client.connect()
      cases.push(['node-postgres client.query (same SQL)', () => client!.query(sql, [id])])
      cases.push(['node-postgres named prepared statement', () => client!.query({ name: 'bench_org', text: sql, values: [id] })])
    } else {
      cases.push(['PGlite query() (same SQL)', () => db!.pglite!.query(sql, [id])])
    }
    const rows: Array<{ name: string, wallUs: number, cpuUs: number }> = []
    for (const [name, fn] of cases) {
      for (let i = 0; i < 200; i++) await fn()
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      for (let i = 0; i < queries; i++) await fn()
      const c = process.cpuUsage(c0)
      rows.push({ name, wallUs: round((performance.now() - t0) * 1000 / queries, 0), cpuUs: round((c.user + c.system) / queries, 0) })
      log(`  ${name}: ${rows.at(-1)!.cpuUs} µs CPU, ${rows.at(-1)!.wallUs} µs wall`)
    }
    await client?.end()
    const base = rows.at(-1)!
    console.log(`\nOne read by primary key, ${queries} sequential queries each (${url ? 'PostgreSQL' : 'in-memory PGlite'}); ratio = CPU / ${base.name}`)
    console.log(table(['query path', 'CPU µs/query', 'wall µs/query', 'CPU ratio'], rows.map((r) => [r.name, r.cpuUs, r.wallUs, (r.cpuUs / base.cpuUs).toFixed(1)])))
    console.log(`\nwritten ${await writeResult('db-roundtrip', { settings: { queries, database: url ? 'postgresql' : 'pglite-memory' }, rows })}`)
  } finally {
    await db?.close()
    await drop()
  }
}

main().catch((e) => { console.error(e); process.exit(1) })
