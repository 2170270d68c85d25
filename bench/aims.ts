// Every row of the aims table (issue 15) against its peer, in one run, on PostgreSQL: runs the benchmarks one
// after the other as child processes, reads their bench/results/*-postgresql.json, prints the table and writes
// bench/results/aims.json. Each benchmark measures its own peer in the same run; the ratios are what count.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/aims.ts [--quick] [--workers auto|N]
// --quick shortens every run (3 s loads, 3 rebuilds) for a look, not for the README.
// --workers (default auto: one per core, as cfssl's Go runtime uses every core) is the directory's WORKERS for the
// issuance, SSA/token and OCSP rows; the /participants row runs one process, whose event loop its probe watches.
// BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the directory processes (bench/lib/cpuprofile.ts).
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { flags, log, machine, repoRoot, resultsDir, round, table, writeResult } from './lib/common.js'

const f = flags()
const quick = f.quick === 'true'
if (!process.env.DATABASE_URL) throw new Error('the aims are measured on PostgreSQL: set DATABASE_URL (a server where a fresh database may be created)')

const workers = f.workers ?? 'auto'

function bench (script: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  log(`== ${Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')}npx tsx bench/${script} ${args.join(' ')}`)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', script), ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] })
    child.once('exit', (code) => code === 0 ? resolve() : reject(new Error(`bench/${script} exited with ${code}`)))
  })
}

const result = async (name: string): Promise<any> => JSON.parse(await readFile(join(resultsDir, `${name}-postgresql.json`), 'utf8'))

async function main (): Promise<void> {
  const s = quick ? '3' : '6'
  await bench('issuance.ts', ['--only', 'http', '--keys', 'rsa-2048,ec-p256', '--http-seconds', s], { WORKERS: workers })
  await bench('ssa.ts', ['--alg', 'PS256', '--seconds', s], { WORKERS: workers })
  await bench('ocsp.ts', ['--seconds', s], { WORKERS: workers })
  await bench('participants.ts', ['--duration', quick ? '2' : '5', '--rebuilds', quick ? '3' : '5'], { WORKERS: '1' })

  const issuance = await result('issuance')
  const ssa = await result('ssa-ps256')
  const ocsp = await result('ocsp')
  const participants = await result('participants')
  const http = (key: string): any => issuance.http.find((r: { key: string }) => r.key === key)
  const rsa = http('rsa-2048')
  const ec = http('ec-p256')
  const get = ocsp.rows.find((r: { method: string }) => r.method === 'GET')
  const post = ocsp.rows.find((r: { method: string }) => r.method === 'POST')
  const rb = participants.rebuild
  const x = (n: number): string => `${round(n, 3)}×`
  const rows: Array<[string, string, string, string, string]> = [
    ['CSR → certificate over HTTP (mTLS, token, durable write + audit), RSA-2048 CA vs cfssl serve', x(rsa.ratioUndici),
      `${rsa.ours.undiciMtls.rate}/s vs ${rsa.cfssl.undici.rate}/s; ${rsa.queriesPerIssue} round trips, ${rsa.cpuMsPerIssue} ms CPU per issuance`, '≥ 1.0×', rsa.ratioUndici >= 1 ? 'met' : 'not met'],
    ['the same, EC P-256 CA vs cfssl serve', x(ec.ratioUndici),
      `${ec.ours.undiciMtls.rate}/s vs ${ec.cfssl.undici.rate}/s; ${ec.queriesPerIssue} round trips, ${ec.cpuMsPerIssue} ms CPU per issuance`, '≥ 0.3×', ec.ratioUndici >= 0.3 ? 'met' : 'not met'],
    ['SSA over mTLS vs bare jose signing, 8 in flight, PS256', x(ssa.ssa.ratioSignJwt),
      `${ssa.ssa.load.rate}/s vs ${ssa.bare.signJwtPerSec}/s; ${ssa.ssa.dbRoundTripsPerRequest} round trips, ${ssa.ssa.cpuMsPerRequest} ms CPU per SSA`, '≥ 0.5×', ssa.ssa.ratioSignJwt >= 0.5 ? 'met' : 'not met'],
    ['token endpoint vs the same baseline', x(ssa.token.ratioSignJwt),
      `${ssa.token.load.rate}/s vs ${ssa.bare.signJwtPerSec}/s; ${ssa.token.dbRoundTripsPerRequest} round trips, ${ssa.token.cpuMsPerRequest} ms CPU per token`, '≥ 0.5×', ssa.token.ratioSignJwt >= 0.5 ? 'met' : 'not met'],
    ['OCSP GET (RFC 5019, pre-produced) vs cfssl ocspserve, wrk -c16', x(get.ratio),
      `${get.ours.rate}/s vs ${get.cfssl.rate}/s; ${get.queriesPerRequest} queries, ${get.cpuMsPerRequest} ms CPU per response`, '≥ 1.0×', get.ratio >= 1 ? 'met' : 'not met'],
    ['OCSP POST vs cfssl ocspserve, wrk -c16', x(post.ratio),
      `${post.ours.rate}/s vs ${post.cfssl.rate}/s; ${post.queriesPerRequest} queries, ${post.cpuMsPerRequest} ms CPU per response`, '≥ 1.0×', post.ratio >= 1 ? 'met' : 'not met'],
    ['/participants rebuild after one change at 10 000 organisations', `${rb.medianFirstGetMs} ms, loop blocked ${rb.medianLongestPingMs} ms`,
      `median of ${rb.runs.length}; event-loop delay max ${rb.medianEventLoopDelayMaxMs} ms`, '< 100 ms, loop never blocked > 20 ms',
      rb.medianFirstGetMs < 100 && rb.medianLongestPingMs <= 20 ? 'met' : 'not met'],
    ['directory CPU per issuance (RSA-2048 CA)', `${rsa.cpuMsPerIssue} ms`, `P-256 CA: ${ec.cpuMsPerIssue} ms`, '≤ 1 ms', rsa.cpuMsPerIssue <= 1 ? 'met' : 'not met'],
  ]
  console.log(`\nAims (issue 15), PostgreSQL, one run, WORKERS=${workers}; load average ${machine().loadavg}`)
  console.log(table(['path', 'measured', 'detail', 'aim', ''], rows))
  console.log(`\nwritten ${await writeResult('aims', { quick, workers, rows: rows.map(([path, measured, detail, aim, status]) => ({ path, measured, detail, aim, status })) })}`)
}

main().catch((e) => { console.error(e); process.exit(1) })
