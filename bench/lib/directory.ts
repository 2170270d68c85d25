// Starts the real directory in a child process (`node --import tsx src/server.ts`, i.e. what `npx tsx
// src/server.ts` runs, minus the npx/tsx wrapper processes so that the pid we watch is the server) on
// 127.0.0.1 ephemeral ports, with a fresh DATA_DIR, and reads the operator credentials init wrote there.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { Pool, request } from 'undici'
import { freePort, log, percentile, repoRoot, round, sleep } from './common.js'

export interface OperatorCredentials {
  clientId: string
  orgId: string
  signingKid: string
  signingKeyPem: string
  transportKeyPem: string
  transportCertPem: string
  caPem: string
}

export interface ProbeReport {
  pid: number
  queries: number
  memory: NodeJS.MemoryUsage
  /** process.cpuUsage() of the directory, µs. */
  cpu: { user: number, system: number }
  eld: { p50: number, p99: number, max: number, mean: number, samples: number }
}

export interface RunningDirectory {
  publicUrl: string
  mtlsUrl: string
  dataDir: string
  /** 'pglite' or the PostgreSQL database URL created for this run. */
  database: string
  operator: OperatorCredentials
  child: ChildProcess
  probe: () => Promise<ProbeReport>
  resetEventLoopDelay: () => Promise<void>
  /**
   * Pings the probe (an HTTP server on the directory's own event loop) every 10 ms until the returned function
   * is called, which gives the ping latencies: how long the loop kept a trivial request waiting. A check on
   * monitorEventLoopDelay, which on PGlite missed stalls of several hundred ms that these pings saw.
   */
  startPinger: () => () => Promise<{ pings: number, p50: number, p99: number, max: number }>
  stop: () => Promise<void>
}

export interface StartOptions {
  env?: Record<string, string>
  /** Runs after the data dir (and database) exist and before the server starts: seeding. */
  before?: (ctx: { dataDir: string, env: Record<string, string> }) => Promise<void>
}

/**
 * A database for one run: PGlite under the temporary DATA_DIR, or — when DATABASE_URL names a PostgreSQL
 * server — a fresh database created there and dropped by stop().
 */
async function benchDatabase (): Promise<{ url?: string, drop: () => Promise<void> }> {
  const server = process.env.DATABASE_URL
  if (!server) return { drop: async () => {} }
  const name = `directory_bench_${randomBytes(5).toString('hex')}`
  await admin(server, `CREATE DATABASE ${name}`)
  // Diagnostic: BENCH_PG_SYNCHRONOUS_COMMIT=off shows how much of a write path is the WAL flush at COMMIT.
  const sync = process.env.BENCH_PG_SYNCHRONOUS_COMMIT
  if (sync !== undefined) {
    if (!/^(on|off|local|remote_write|remote_apply)$/.test(sync)) throw new Error('BENCH_PG_SYNCHRONOUS_COMMIT: on, off, local, remote_write or remote_apply')
    await admin(server, `ALTER DATABASE ${name} SET synchronous_commit = ${sync}`)
  }
  const url = new URL(server)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => {}) }
}

export async function admin (server: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: server })
  await client.connect()
  try { return (await client.query(sql)).rows } finally { await client.end() }
}

export async function startDirectory (opts: StartOptions = {}): Promise<RunningDirectory> {
  const [publicPort, mtlsPort, probePort] = [await freePort(), await freePort(), await freePort()]
  const dataDir = await mkdtemp(join(tmpdir(), 'directory-bench-'))
  const db = await benchDatabase()
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PUBLIC_PORT: String(publicPort),
    MTLS_PORT: String(mtlsPort),
    DIRECTORY_ISSUER: `http://127.0.0.1:${publicPort}`,
    MTLS_BASE_URL: `https://127.0.0.1:${mtlsPort}`,
    DIRECTORY_MASTER_KEY: randomBytes(32).toString('base64'),
    TLS_SERVER_NAMES: 'localhost,127.0.0.1',
    // Request logs off: the bare baselines log nothing either (BENCH_LOG_LEVEL=info to include them).
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    BENCH_PROBE_PORT: String(probePort),
    // Throughput from one client is what is measured here, not the rate limiter.
    RATE_LIMIT_TOKEN: '0', RATE_LIMIT_ENROL: '0', RATE_LIMIT_OCSP: '0',
    ...(db.url ? { DATABASE_URL: db.url } : {}),
    ...opts.env,
  }
  const cleanup = async (): Promise<void> => {
    await db.drop().catch((e) => log('drop database:', e))
    await rm(dataDir, { recursive: true, force: true })
  }
  try {
    await opts.before?.({ dataDir, env })
  } catch (e) {
    await cleanup()
    throw e
  }
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env }
  if (!db.url) delete childEnv.DATABASE_URL
  // BENCH_NODE_ARGS adds node flags to the directory's process, e.g. "--cpu-prof --cpu-prof-dir=bench/results/profiles".
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', '--import', './bench/lib/probe.ts', 'src/server.ts'], {
    cwd: repoRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (b: Buffer): void => { output = (output + b.toString()).slice(-20_000) }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  let exited = false
  child.once('exit', () => { exited = true })

  const stop = async (): Promise<void> => {
    if (!exited) {
      const done = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await done
      clearTimeout(timer)
    }
    await cleanup()
  }

  const publicUrl = env.DIRECTORY_ISSUER!
  const deadline = Date.now() + 300_000 // a loaded machine, or several workers starting, takes minutes
  for (;;) {
    if (exited) { await cleanup(); throw new Error(`the directory exited during start-up:\n${output}`) }
    if (Date.now() > deadline) { await stop(); throw new Error(`the directory did not become ready:\n${output}`) }
    try {
      const res = await request(`${publicUrl}/readyz`)
      await res.body.text()
      if (res.statusCode === 200) break
    } catch { /* not listening yet */ }
    await sleep(200)
  }

  const dir = join(dataDir, 'operator')
  const client = JSON.parse(await readFile(join(dir, 'client.json'), 'utf8'))
  const operator: OperatorCredentials = {
    clientId: client.client_id, orgId: client.org_id, signingKid: client.signing_kid,
    signingKeyPem: await readFile(join(dir, 'signing.key'), 'utf8'),
    transportKeyPem: await readFile(join(dir, 'transport.key'), 'utf8'),
    transportCertPem: await readFile(join(dir, 'transport.pem'), 'utf8'),
    caPem: await readFile(join(dir, 'ca.pem'), 'utf8'),
  }
  const probeUrl = `http://127.0.0.1:${probePort}/probe`
  return {
    publicUrl,
    mtlsUrl: env.MTLS_BASE_URL!,
    dataDir,
    database: db.url ?? 'pglite',
    operator,
    child,
    probe: async () => (await (await request(probeUrl)).body.json()) as ProbeReport,
    resetEventLoopDelay: async () => { await (await request(`${probeUrl}/reset`, { method: 'POST' })).body.text() },
    startPinger: () => {
      const pool = new Pool(`http://127.0.0.1:${probePort}`, { connections: 1 })
      const times: number[] = []
      let running = true
      const loop = (async () => {
        while (running) {
          const t0 = performance.now()
          await (await pool.request({ path: '/probe/ping', method: 'GET' })).body.text()
          times.push(performance.now() - t0)
          await sleep(10)
        }
      })()
      return async () => {
        running = false
        await loop
        await pool.close()
        return { pings: times.length, p50: round(percentile(times, 50)), p99: round(percentile(times, 99)), max: round(Math.max(...times)) }
      }
    },
    stop,
  }
}

/** Stops the child when the benchmark is interrupted, so no server outlives its run. */
export function stopOnExit (dir: { stop: () => Promise<void> }): void {
  const handler = (): void => { dir.stop().finally(() => process.exit(130)) }
  process.once('SIGINT', handler)
  process.once('SIGTERM', handler)
}
