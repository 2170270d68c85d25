// SSAs and access tokens per second over mTLS, each against the bare signing rate of the same algorithm
// measured in the same run: jose SignJWT on an imported CryptoKey (what the directory signs with), and raw
// WebCrypto crypto.subtle.sign, both with 8 signatures in flight on the libuv thread pool.
//
// The directory runs in a child process; the load is an in-process undici generator over mTLS (wrk cannot
// present a client certificate), keep-alive, `--connections` requests in flight:
//   SSA:   GET /organisations/{org}/software-statements/{sw}/ssa with one access token reused
//   token: POST /token, client_credentials + private_key_jwt, each with its own pre-signed client assertion
//          (single-use jti), so the generator does no signing while it measures
// The directory's event-loop delay (perf_hooks.monitorEventLoopDelay inside its process) is sampled during
// each run, to show that signing does not block the loop.
//
//   npx tsx bench/ssa.ts [--alg PS256|ES256] [--seconds 6] [--connections 8] [--max-requests 20000] [--baseline-seconds 2]
// DATABASE_URL=postgres://… runs on a fresh PostgreSQL database created on that server (dropped after).
import { generateKeyPairSync, webcrypto } from 'node:crypto'
import { createRemoteJWKSet, decodeJwt, importPKCS8, jwtVerify, SignJWT, type JWTPayload } from 'jose'
import { flags, fmt, log, median, numberFlag, round, table, writeResult } from './lib/common.js'
import { startDirectory, stopOnExit, type ProbeReport } from './lib/directory.js'
import { runLoad, type LoadResult } from './lib/load.js'
import { enrolParticipant, mtlsPool, Participant } from './lib/participant.js'

const f = flags()
const alg = (f.alg ?? 'PS256') as 'PS256' | 'ES256'
if (alg !== 'PS256' && alg !== 'ES256') throw new Error('--alg must be PS256 or ES256')
const seconds = numberFlag(f, 'seconds', 6)
const connections = numberFlag(f, 'connections', 8)
const maxRequests = numberFlag(f, 'max-requests', 20_000)
const baselineSeconds = numberFlag(f, 'baseline-seconds', 2)
const inFlight = 8

interface Baseline { signJwtPerSec: number, subtlePerSec: number }

/** Bare signing, `inFlight` at a time, for `ms`: jose SignJWT over the given claims, and crypto.subtle.sign over the same signing input. */
async function bareSigning (claims: JWTPayload, ms: number): Promise<Baseline> {
  const pair = alg === 'PS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
  const key = await importPKCS8(pem, alg) // as SigningKeys.load imports the directory's keys
  const header = { alg, kid: 'bench', typ: 'JWT' }
  const signJwt = (): Promise<string> => new SignJWT({ ...claims }).setProtectedHeader(header).sign(key)
  const input = new TextEncoder().encode((await signJwt()).split('.').slice(0, 2).join('.'))
  const params = alg === 'PS256' ? { name: 'RSA-PSS', saltLength: 32 } : { name: 'ECDSA', hash: 'SHA-256' }
  const subtle = (): Promise<ArrayBuffer> => webcrypto.subtle.sign(params, key as webcrypto.CryptoKey, input)
  const measure = async (op: () => Promise<unknown>, dur: number): Promise<number> => {
    let n = 0
    const start = performance.now()
    const end = start + dur
    await Promise.all(Array.from({ length: inFlight }, async () => { while (performance.now() < end) { await op(); n++ } }))
    return n / ((performance.now() - start) / 1000)
  }
  await measure(signJwt, 200)
  await measure(subtle, 200)
  return { signJwtPerSec: round(await measure(signJwt, ms), 0), subtlePerSec: round(await measure(subtle, ms / 2), 0) }
}

interface Phase {
  load: LoadResult
  /** The directory's event-loop delay during the run, ms. */
  eventLoopDelay: ProbeReport['eld']
  /** Latency of a trivial request to the probe on the directory's loop, every 10 ms during the run, ms. */
  probePing: { pings: number, p50: number, p99: number, max: number }
  dbRoundTripsPerRequest: number
  cpuMsPerRequest: number
}

async function phase (dir: Awaited<ReturnType<typeof startDirectory>>, run: () => Promise<LoadResult>, warmup: number): Promise<Phase> {
  await dir.resetEventLoopDelay()
  const before = await dir.probe()
  const stopPinger = dir.startPinger()
  const load = await run()
  const probePing = await stopPinger()
  const after = await dir.probe()
  const n = load.requests + warmup
  return {
    load,
    eventLoopDelay: after.eld,
    probePing,
    dbRoundTripsPerRequest: round((after.queries - before.queries) / n, 1),
    cpuMsPerRequest: round((after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000 / n, 2),
  }
}

async function main (): Promise<void> {
  const dir = await startDirectory({ env: { SIGNING_ALG: alg } })
  stopOnExit(dir)
  try {
    log(`directory up (${dir.database}), signing ${alg}; enrolling a participant`)
    const participant = await enrolParticipant(dir)
    const token = await participant.token()
    const softwareId = await participant.createSoftware(token)
    const ssaPath = `/organisations/${participant.orgId}/software-statements/${softwareId}/ssa`

    // One SSA, verified against the directory's JWKS like an authorisation server would; its claims are what the baseline signs.
    const first = await participant.call('GET', ssaPath, { token })
    if (first.status !== 200) throw new Error(`GET ssa: ${first.status} ${first.text}`)
    const jwks = createRemoteJWKSet(new URL(`${dir.publicUrl}/jwks`))
    await jwtVerify(first.text, jwks, { issuer: dir.publicUrl, algorithms: [alg] })
    const claims = decodeJwt(first.text)
    log(`SSA verified with jose against /jwks (${first.text.length} bytes)`)

    const baselineBefore = await bareSigning(claims, baselineSeconds * 1000)
    log(`bare ${alg}, ${inFlight} in flight: SignJWT ${fmt(baselineBefore.signJwtPerSec)}/s, crypto.subtle.sign ${fmt(baselineBefore.subtlePerSec)}/s`)

    const warmup = connections * 4
    const pool = mtlsPool(dir, participant.tls, connections)
    const ssa = await phase(dir, () => runLoad({
      dispatcher: pool, concurrency: connections, durationMs: seconds * 1000, maxRequests, warmup,
      next: () => ({ path: ssaPath, headers: { authorization: `Bearer ${token}` } }),
    }), warmup)
    log(`SSA: ${fmt(ssa.load.rate)}/s p99 ${ssa.load.latencyMs.p99} ms; event-loop delay p99 ${ssa.eventLoopDelay.p99} ms, probe ping p99 ${ssa.probePing.p99} ms ${ssa.load.errors ? `errors ${ssa.load.errors}: ${ssa.load.firstError}` : ''}`)

    // Pre-signed client assertions, one per token request (jti is single-use).
    const tokenBudget = Math.min(maxRequests, 6000)
    const forms: string[] = []
    for (let i = 0; i < tokenBudget + warmup; i++) forms.push(Participant.tokenForm(await participant.assertion(), 'directory:read directory:software'))
    const tokens = await phase(dir, () => runLoad({
      dispatcher: pool, concurrency: connections, durationMs: seconds * 1000, maxRequests: tokenBudget, warmup,
      next: (i) => ({ path: '/token', method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: forms[i]! }),
    }), warmup)
    log(`token: ${fmt(tokens.load.rate)}/s p99 ${tokens.load.latencyMs.p99} ms; event-loop delay p99 ${tokens.eventLoopDelay.p99} ms, probe ping p99 ${tokens.probePing.p99} ms ${tokens.load.errors ? `errors ${tokens.load.errors}: ${tokens.load.firstError}` : ''}`)
    if (tokens.load.requests >= tokenBudget) log(`  (stopped at the ${tokenBudget} pre-signed assertions)`)
    await pool.close()

    const baselineAfter = await bareSigning(claims, baselineSeconds * 1000)
    log(`bare ${alg} again: SignJWT ${fmt(baselineAfter.signJwtPerSec)}/s, crypto.subtle.sign ${fmt(baselineAfter.subtlePerSec)}/s`)
    await participant.close()

    // The baseline is measured before and after the load; the ratio uses their mean.
    const bare = {
      signJwtPerSec: round((baselineBefore.signJwtPerSec + baselineAfter.signJwtPerSec) / 2, 0),
      subtlePerSec: round((baselineBefore.subtlePerSec + baselineAfter.subtlePerSec) / 2, 0),
    }
    const row = (name: string, p: Phase): Array<string | number> => [
      name, p.load.rate, p.load.latencyMs.p50, p.load.latencyMs.p99, bare.signJwtPerSec, (p.load.rate / bare.signJwtPerSec).toFixed(3),
      (p.load.rate / bare.subtlePerSec).toFixed(3), p.eventLoopDelay.p99, p.eventLoopDelay.max, p.probePing.p99, p.dbRoundTripsPerRequest, p.cpuMsPerRequest,
    ]
    console.log(`\n${alg} over mTLS (${dir.database === 'pglite' ? 'pglite' : 'postgresql'}), ${connections} requests in flight, ${seconds} s; bare signing with ${inFlight} in flight on the thread pool`)
    console.log(table(
      ['what', 'req/s', 'p50 ms', 'p99 ms', `bare SignJWT/s`, 'ratio (SignJWT)', 'ratio (subtle.sign)', 'event-loop delay p99 ms', 'ELD max ms', 'probe ping p99 ms', 'DB round trips/req', 'directory CPU ms/req'],
      [row('SSA (token reused)', ssa), row('token (private_key_jwt)', tokens)],
    ))
    console.log(`bare ${alg}: SignJWT ${fmt(baselineBefore.signJwtPerSec)}/s before, ${fmt(baselineAfter.signJwtPerSec)}/s after; crypto.subtle.sign ${fmt(baselineBefore.subtlePerSec)}/s before, ${fmt(baselineAfter.subtlePerSec)}/s after`)
    const result = {
      settings: { alg, seconds, connections, maxRequests, baselineSeconds, inFlight, database: dir.database === 'pglite' ? 'pglite' : 'postgresql', logLevel: process.env.BENCH_LOG_LEVEL ?? 'warn' },
      bare: { ...bare, before: baselineBefore, after: baselineAfter, ssaBytes: first.text.length },
      ssa: { ...ssa, ratioSignJwt: round(ssa.load.rate / bare.signJwtPerSec, 3), ratioSubtle: round(ssa.load.rate / bare.subtlePerSec, 3) },
      token: { ...tokens, ratioSignJwt: round(tokens.load.rate / bare.signJwtPerSec, 3), ratioSubtle: round(tokens.load.rate / bare.subtlePerSec, 3) },
      medianEventLoopDelayP99: median([ssa.eventLoopDelay.p99, tokens.eventLoopDelay.p99]),
    }
    console.log(`\nwritten ${await writeResult(`ssa-${alg.toLowerCase()}`, result)}`)
  } finally {
    await dir.stop()
  }
}

main().catch((e) => { console.error(e); process.exit(1) })
