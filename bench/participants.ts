// GET /participants at scale: 10 000 organisations (scripts/seed.ts: 30 000 software statements, 60 000
// certificates), the directory in a child process, driven by wrk against its public listener and, in the same
// run, against a bare node:http server (bench/lib/bare-server.ts) answering the same bytes and headers.
//
// Measures: requests/s and p99 (identity and gzip), ratio to the bare server; 304 (If-None-Match) rate and
// ratio; that cached answers cost no database work (round trips counted inside the directory process); the
// time of the first GET after one change (PATCH one organisation's status through the admin API); the
// directory's RSS before and after.
//
//   npx tsx bench/participants.ts [--organisations 10000] [--duration 10] [--threads 2] [--connections 32] [--rebuilds 5]
// DATABASE_URL=postgres://… runs on a fresh PostgreSQL database created on that server (dropped after).
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { request } from 'undici'
import { loadConfig } from '../src/config.js'
import { openDatabase, targetFrom } from '../src/db/database.js'
import { applyMigrations } from '../src/db/migrations.js'
import { seed, type SeedReport } from '../scripts/seed.js'
import { flags, fmt, freePort, log, median, numberFlag, repoRoot, round, sleep, table, writeResult } from './lib/common.js'
import { startDirectory, stopOnExit, type ProbeReport, type RunningDirectory } from './lib/directory.js'
import { operatorOf } from './lib/participant.js'
import { hasWrk, runWrk, type WrkResult } from './lib/wrk.js'

const f = flags()
const organisations = numberFlag(f, 'organisations', 10_000)
const duration = numberFlag(f, 'duration', 10)
const threads = numberFlag(f, 'threads', 2)
const connections = numberFlag(f, 'connections', 32)
const rebuilds = numberFlag(f, 'rebuilds', 5)
const mb = (n: number): number => round(n / 1048576, 1)

interface Fetched { status: number, ms: number, headers: Record<string, string>, body: Buffer }

async function get (url: string, headers: Record<string, string> = {}): Promise<Fetched> {
  const t0 = performance.now()
  const res = await request(url, { headers })
  const body = Buffer.from(await res.body.arrayBuffer())
  const ms = performance.now() - t0
  const h: Record<string, string> = {}
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h[k] = v
  return { status: res.statusCode, ms: round(ms, 1), headers: h, body }
}

/** The headers to copy into the bare server: what the directory sent, less the per-connection ones. */
function replayHeaders (h: Record<string, string>): Record<string, string> {
  const { date: _d, connection: _c, 'keep-alive': _k, 'x-request-id': _r, ...rest } = h
  return rest
}

async function startBare (variants: Array<{ encoding: string, body: Buffer, headers: Record<string, string> }>, dir: string): Promise<{ url: string, stop: () => Promise<void> }> {
  const files = await Promise.all(variants.map(async (v) => {
    const file = join(dir, `bare-${v.encoding}.body`)
    await writeFile(file, v.body)
    return { encoding: v.encoding, file, headers: v.headers }
  }))
  const list = join(dir, 'bare-variants.json')
  await writeFile(list, JSON.stringify(files))
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/bare-server.ts'], {
    cwd: repoRoot, env: { ...process.env, BARE_PORT: String(port), BARE_VARIANTS: list }, stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve())
    child.once('exit', (code) => reject(new Error(`bare server exited (${code})`)))
  })
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => { const done = new Promise((r) => child.once('exit', r)); child.kill('SIGTERM'); await done },
  }
}

async function main (): Promise<void> {
  if (!(await hasWrk())) throw new Error('wrk is not installed: apt-get install -y wrk')
  let seeded: SeedReport | undefined
  log(`seeding ${organisations} organisations, then starting the directory…`)
  const dir: RunningDirectory = await startDirectory({
    before: async ({ env }) => {
      const config = loadConfig({ ...env })
      const db = await openDatabase(targetFrom(config))
      try {
        await applyMigrations(db)
        seeded = await seed(db, { organisations, softwarePerOrganisation: 3, certificatesPerSoftware: 2, batch: 500, roles: Object.keys(config.ROLES) })
      } finally {
        await db.close()
      }
    },
  })
  stopOnExit(dir)
  let bare: { url: string, stop: () => Promise<void> } | undefined
  try {
    log(`seeded in ${seeded!.seconds} s; directory up (${dir.database})`)
    const url = `${dir.publicUrl}/participants`
    const rssBefore = await dir.probe()

    // First build (cold: nothing cached since start), then the cached answer, identity and gzip.
    const cold = await get(url)
    if (cold.status !== 200) throw new Error(`GET /participants: ${cold.status} ${cold.body.toString().slice(0, 300)}`)
    const doc = JSON.parse(cold.body.toString()) as Array<{ software_statements: unknown[] }>
    const afterBuild = await dir.probe()
    const warm = await get(url)
    const gzCold = await get(url, { 'accept-encoding': 'gzip' })
    const gzWarm = await get(url, { 'accept-encoding': 'gzip' })
    log(`document: ${doc.length} participants, ${doc.reduce((n, p) => n + p.software_statements.length, 0)} software statements, ${mb(cold.body.length)} MiB (gzip ${mb(gzWarm.body.length)} MiB)`)
    log(`first GET ${cold.ms} ms (build), cached GET ${warm.ms} ms; first gzip GET ${gzCold.ms} ms (compress once), cached gzip GET ${gzWarm.ms} ms`)

    bare = await startBare([
      { encoding: 'identity', body: warm.body, headers: replayHeaders(warm.headers) },
      { encoding: 'gzip', body: gzWarm.body, headers: replayHeaders(gzWarm.headers) },
    ], dir.dataDir)
    const check = await get(`${bare.url}/participants`)
    if (!check.body.equals(warm.body)) throw new Error('the bare server does not answer the same bytes')

    const wrkOpts = { threads, connections, durationSec: duration }
    const runs: Record<string, { ours: WrkResult, bare: WrkResult, oursQueries: number, oursCpuMs: number }> = {}
    const cases: Array<[string, Record<string, string>]> = [
      ['identity', {}],
      ['gzip', { 'Accept-Encoding': 'gzip' }],
      ['304 If-None-Match', { 'If-None-Match': warm.headers.etag! }],
    ]
    for (const [name, headers] of cases) {
      const before = await dir.probe()
      const ours = await runWrk({ url, headers, ...wrkOpts })
      const after = await dir.probe()
      const theirs = await runWrk({ url: `${bare.url}/participants`, headers, ...wrkOpts })
      for (const [who, r] of [['directory', ours], ['bare', theirs]] as const) {
        if (r.non2xx3xx > 0 || r.socketErrors) log(`  ! ${who} ${name}: ${r.non2xx3xx} non-2xx/3xx, ${r.socketErrors ?? 'no socket errors'}`)
      }
      runs[name] = {
        ours, bare: theirs,
        oursQueries: after.queries - before.queries,
        oursCpuMs: round((after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000, 0),
      }
      log(`  ${name}: directory ${fmt(ours.rate)}/s p99 ${ours.latencyMs.p99} ms (${after.queries - before.queries} DB round trips in ${ours.requests} requests); bare ${fmt(theirs.rate)}/s p99 ${theirs.latencyMs.p99} ms; ratio ${round(ours.rate / theirs.rate, 3)}`)
    }
    // The directory polls the registry version every 250 ms (DocumentCache): that is all the database work expected.
    const pollsExpected = Math.round(duration / 0.25)

    // One change, then the next GET rebuilds: PATCH a seeded organisation's status back and forth.
    const operator = operatorOf(dir)
    const admin = await operator.token('directory:admin')
    const target = (JSON.parse(warm.body.toString()) as Array<{ org_id: string, status: string }>).find((p) => p.status === 'active')!
    const rebuildRuns: Array<{ patchMs: number, firstGetMs: number, queries: number, eventLoopDelayMaxMs: number, longestPingMs: number, cachedGetMs: number, firstGzipGetMs: number, etagChanged: boolean }> = []
    let etag = warm.headers.etag
    for (let i = 0; i < rebuilds; i++) {
      const status = i % 2 === 0 ? 'suspended' : 'active'
      const t0 = performance.now()
      const patched = await operator.call('PATCH', `/admin/organisations/${target.org_id}`, { token: admin, json: { status } })
      const patchMs = round(performance.now() - t0, 1)
      if (patched.status !== 200) throw new Error(`PATCH organisation: ${patched.status} ${patched.text}`)
      await dir.resetEventLoopDelay()
      const q0 = (await dir.probe()).queries
      const stopPinger = dir.startPinger()
      const first = await get(url)
      const pings = await stopPinger()
      const p1 = await dir.probe()
      const q1 = p1.queries
      const cached = await get(url)
      const gz = await get(url, { 'accept-encoding': 'gzip' })
      const changed = first.headers.etag !== etag
      etag = first.headers.etag
      const shown = (JSON.parse(first.body.toString()) as Array<{ org_id: string, status: string }>).find((p) => p.org_id === target.org_id)?.status
      if (shown !== status) throw new Error(`the rebuilt document shows ${shown}, expected ${status}`)
      rebuildRuns.push({ patchMs, firstGetMs: first.ms, queries: q1 - q0, eventLoopDelayMaxMs: p1.eld.max, longestPingMs: pings.max, cachedGetMs: cached.ms, firstGzipGetMs: gz.ms, etagChanged: changed })
      await sleep(300)
    }
    await operator.close()
    const rssAfter = await dir.probe()

    const memory = (p: ProbeReport) => ({ rssMiB: mb(p.memory.rss), heapUsedMiB: mb(p.memory.heapUsed), externalMiB: mb(p.memory.external), arrayBuffersMiB: mb(p.memory.arrayBuffers) })
    const ratio = (name: string): number => round(runs[name]!.ours.rate / runs[name]!.bare.rate, 3)
    const result = {
      settings: { organisations, duration, threads, connections, rebuilds, database: dir.database === 'pglite' ? 'pglite' : 'postgresql', logLevel: process.env.BENCH_LOG_LEVEL ?? 'warn' },
      seed: seeded,
      document: {
        participants: doc.length, bytes: cold.body.length, gzipBytes: gzWarm.body.length, etag: warm.headers.etag,
        firstGetMs: cold.ms, cachedGetMs: warm.ms, firstGzipGetMs: gzCold.ms, cachedGzipGetMs: gzWarm.ms,
        firstBuildQueries: afterBuild.queries - rssBefore.queries,
      },
      wrk: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, {
        ratio: ratio(k), oursRate: v.ours.rate, bareRate: v.bare.rate, oursP99Ms: v.ours.latencyMs.p99, bareP99Ms: v.bare.latencyMs.p99,
        oursRequests: v.ours.requests, oursDbRoundTrips: v.oursQueries, pollsExpected, oursCpuMs: v.oursCpuMs,
        oursCommand: v.ours.command, oursTransferPerSec: v.ours.transferPerSec, bareTransferPerSec: v.bare.transferPerSec,
        non2xx3xx: { ours: v.ours.non2xx3xx, bare: v.bare.non2xx3xx },
      }])),
      rebuild: { runs: rebuildRuns, medianFirstGetMs: median(rebuildRuns.map((r) => r.firstGetMs)), medianEventLoopDelayMaxMs: median(rebuildRuns.map((r) => r.eventLoopDelayMaxMs)), medianLongestPingMs: median(rebuildRuns.map((r) => r.longestPingMs)), medianCachedGetMs: median(rebuildRuns.map((r) => r.cachedGetMs)), medianQueries: median(rebuildRuns.map((r) => r.queries)) },
      memory: { beforeFirstGet: memory(rssBefore), afterFirstBuild: memory(afterBuild), afterRuns: memory(rssAfter) },
    }

    console.log(`\nGET /participants — ${doc.length} organisations, ${mb(cold.body.length)} MiB JSON (${mb(gzWarm.body.length)} MiB gzip), ${result.settings.database}; wrk -t${threads} -c${connections} -d${duration}s --latency`)
    console.log(table(
      ['answer', 'directory req/s', 'directory p99 ms', 'bare node:http req/s', 'bare p99 ms', 'ratio', 'DB round trips during run (polls expected)'],
      Object.entries(runs).map(([k, v]) => [k, v.ours.rate, v.ours.latencyMs.p99, v.bare.rate, v.bare.latencyMs.p99, ratio(k).toFixed(3), `${v.oursQueries} (${pollsExpected}) in ${v.ours.requests} requests`]),
    ))
    console.log(`\nafter one change (PATCH /admin/organisations/{id} status), ${rebuilds} times:`)
    console.log(table(
      ['PATCH ms', 'first GET ms (rebuild)', 'DB round trips', 'event-loop delay max ms', 'longest probe ping ms', 'next GET ms (cached)', 'first gzip GET ms', 'ETag changed'],
      rebuildRuns.map((r) => [r.patchMs, r.firstGetMs, r.queries, r.eventLoopDelayMaxMs, r.longestPingMs, r.cachedGetMs, r.firstGzipGetMs, String(r.etagChanged)]),
    ))
    console.log(`\nfirst GET after start ${cold.ms} ms (${result.document.firstBuildQueries} DB round trips), cached GET ${warm.ms} ms`)
    console.log(table(['directory memory', 'RSS MiB', 'heap used MiB', 'external MiB'], [
      ['before the first GET', result.memory.beforeFirstGet.rssMiB, result.memory.beforeFirstGet.heapUsedMiB, result.memory.beforeFirstGet.externalMiB],
      ['after the first build', result.memory.afterFirstBuild.rssMiB, result.memory.afterFirstBuild.heapUsedMiB, result.memory.afterFirstBuild.externalMiB],
      ['after all runs', result.memory.afterRuns.rssMiB, result.memory.afterRuns.heapUsedMiB, result.memory.afterRuns.externalMiB],
    ]))
    console.log(`\nwritten ${await writeResult('participants', result)}`)
  } finally {
    await bare?.stop()
    await dir.stop()
  }
}

main().catch((e) => { console.error(e); process.exit(1) })
