// The /participants rebuild alone, in this process, against an already seeded database (scripts/seed.ts): how long
// participantsDocument() takes, how much CPU this process spends on it, and the longest stretch the event loop was
// held (a 1 ms timer's worst lateness) — beside the method it replaced (four Prisma findMany, grouping and
// JSON.stringify in JavaScript), interleaved, so both see the same machine.
//
//   DATABASE_URL=postgres://…/seeded npx tsx bench/participants-build.ts [--rounds 5]
import { openDatabase, type Database } from '../src/db/database.js'
import { participantsDocument } from '../src/publication/participants.js'
import { flags, log, median, numberFlag, round, table, writeResult } from './lib/common.js'

const f = flags()
const rounds = numberFlag(f, 'rounds', 5)
const issuer = 'http://127.0.0.1:8080'

/** The previous build: every row through Prisma, grouped and serialised on the event loop. */
async function prismaBuild (db: Database): Promise<Buffer> {
  const p = db.prisma
  const [orgs, roles, software, servers] = await Promise.all([
    p.organisation.findMany({ orderBy: { id: 'asc' }, select: { id: true, legalName: true, registrationNumber: true, country: true, status: true } }),
    p.organisationRole.findMany({ orderBy: { role: 'asc' } }),
    p.softwareStatement.findMany({ where: { status: { not: 'removed' } }, orderBy: { createdAt: 'asc' }, select: { id: true, organisationId: true, clientName: true, status: true, roles: true, mode: true, version: true } }),
    p.authorisationServer.findMany({ orderBy: { createdAt: 'asc' } }),
  ])
  const byOrg = new Map<string, { roles: unknown[], authorisation_servers: unknown[], software_statements: unknown[] }>()
  const list = orgs.map((o) => {
    const e = { org_id: o.id, legal_name: o.legalName, registration_number: o.registrationNumber, country: o.country, status: o.status, roles: [] as unknown[], jwks_uri: `${issuer}/organisations/${o.id}/jwks`, authorisation_servers: [] as unknown[], software_statements: [] as unknown[] }
    byOrg.set(o.id, e)
    return e
  })
  for (const r of roles) byOrg.get(r.organisationId)?.roles.push({ role: r.role, status: r.status })
  for (const s of software) byOrg.get(s.organisationId)?.software_statements.push({ software_id: s.id, client_name: s.clientName, status: s.status, roles: s.roles, mode: s.mode, version: s.version, jwks_uri: `${issuer}/organisations/${s.organisationId}/software-statements/${s.id}/jwks` })
  for (const a of servers) byOrg.get(a.organisationId)?.authorisation_servers.push({ id: a.id, issuer: a.issuer, discovery_url: a.discoveryUrl, customer_friendly_name: a.customerFriendlyName, ...(a.logoUri ? { logo_uri: a.logoUri } : {}), api_resources: a.apiResources })
  return Buffer.from(JSON.stringify(list))
}

async function timed (build: () => Promise<Buffer>): Promise<{ ms: number, cpuMs: number, longestBlockMs: number, bytes: number }> {
  let last = performance.now()
  let longest = 0
  const timer = setInterval(() => { const now = performance.now(); longest = Math.max(longest, now - last); last = now }, 1)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const body = await build()
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  clearInterval(timer)
  longest = Math.max(longest, performance.now() - last)
  return { ms: round(ms, 1), cpuMs: round((cpu.user + cpu.system) / 1000, 1), longestBlockMs: round(longest, 1), bytes: body.length }
}

async function main (): Promise<void> {
  const url = process.env.DATABASE_URL
  if (!url) throw new Error('set DATABASE_URL to a database seeded by scripts/seed.ts')
  const db = await openDatabase({ kind: 'postgres', url })
  try {
    await participantsDocument(db.sql, issuer, {}); await prismaBuild(db) // warm-up (plans, JIT)
    const runs: Record<'sql' | 'prisma', Array<Awaited<ReturnType<typeof timed>>>> = { sql: [], prisma: [] }
    for (let i = 0; i < rounds; i++) {
      runs.sql.push(await timed(() => participantsDocument(db.sql, issuer, {})))
      runs.prisma.push(await timed(() => prismaBuild(db)))
      log(`round ${i + 1}: SQL ${runs.sql.at(-1)!.ms} ms (blocked ${runs.sql.at(-1)!.longestBlockMs}), Prisma ${runs.prisma.at(-1)!.ms} ms (blocked ${runs.prisma.at(-1)!.longestBlockMs})`)
    }
    const m = (xs: Array<Awaited<ReturnType<typeof timed>>>, k: 'ms' | 'cpuMs' | 'longestBlockMs'): number => median(xs.map((x) => x[k]))
    console.log(`\n/participants rebuild, in process, median of ${rounds} interleaved rounds`)
    console.log(table(['build', 'wall ms', 'CPU ms (this process)', 'longest loop block ms', 'MiB'], [
      ['PostgreSQL builds the JSON (participantsDocument)', m(runs.sql, 'ms'), m(runs.sql, 'cpuMs'), m(runs.sql, 'longestBlockMs'), round(runs.sql[0]!.bytes / 1048576, 1)],
      ['previous: Prisma rows + JSON.stringify', m(runs.prisma, 'ms'), m(runs.prisma, 'cpuMs'), m(runs.prisma, 'longestBlockMs'), round(runs.prisma[0]!.bytes / 1048576, 1)],
    ]))
    console.log(`\nwritten ${await writeResult('participants-build', { rounds, runs })}`)
  } finally {
    await db.close()
  }
}

main().catch((e) => { console.error(e); process.exit(1) })
