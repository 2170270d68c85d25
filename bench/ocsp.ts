// OCSP responses per second: the directory's responder against CloudFlare's `cfssl ocspserve` serving responses
// signed ahead of time (`cfssl ocspsign`), both driven by wrk in the same run, GET (RFC 5019 §5, the request in the
// path) and POST, with requests about one certificate each and no nonce — what RFC 5019 clients send. cfssl 1.2
// (Debian) answers every GET with 400 (it base64-decodes the path with its leading "/"), so its POST is the peer
// of both rows.
//
// Both CAs have the same key type (--key, default rsa-2048) and 16 certificates each; every request asks about one
// of them, cycling. The directory's certificates are issued through its participant API; cfssl's by `cfssl sign`.
//
//   npx tsx bench/ocsp.ts [--key rsa-2048|ec-p256] [--seconds 6] [--connections 16]
// DATABASE_URL=postgres://… runs the directory on a fresh PostgreSQL database created on that server.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { request } from 'undici'
import { flags, fmt, freePort, log, numberFlag, round, sleep, table, writeResult } from './lib/common.js'
import { startDirectory, stopOnExit, type ProbeReport, type RunningDirectory } from './lib/directory.js'
import { enrolParticipant, makeCsrs, type CsrKey } from './lib/participant.js'
import { runWrk, type WrkResult } from './lib/wrk.js'

const run = promisify(execFile)
const f = flags()
const key = (f.key ?? 'rsa-2048') as CsrKey
const seconds = numberFlag(f, 'seconds', 6)
const connections = numberFlag(f, 'connections', 16)
const count = 16

/** A DER OCSP request without a nonce for `cert` issued by `issuer` (PEM files), as openssl builds it (SHA-1 CertID). */
function ocspRequest (dir: string, issuerPem: string, certPem: string, i: number): Buffer {
  const out = join(dir, `req${i}.der`)
  execFileSync('openssl', ['ocsp', '-issuer', issuerPem, '-cert', certPem, '-no_nonce', '-reqout', out], { stdio: 'ignore' })
  return readFileSync(out)
}

const firstPem = (bundle: string): string => /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(bundle)![0]

/** wrk Lua cycling GET paths, or POST bodies (binary, as decimal escapes). */
function lua (reqs: Buffer[], method: 'GET' | 'POST', prefix: string): string {
  if (method === 'GET') {
    return `local paths = { ${reqs.map((r) => JSON.stringify(prefix + encodeURIComponent(r.toString('base64')))).join(', ')} }
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end`
  }
  const esc = (b: Buffer): string => '"' + [...b].map((x) => `\\${x}`).join('') + '"'
  return `local bodies = { ${reqs.map(esc).join(',\n')} }
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/ocsp-request"
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "${prefix}", nil, bodies[i])
end`
}

interface Cfssl { url: string, stop: () => Promise<void>, requests: Buffer[] }

async function startCfsslOcsp (dir: string, csrs: string[]): Promise<Cfssl> {
  const csrJson = { CN: 'Bench cfssl OCSP CA', key: key === 'rsa-2048' ? { algo: 'rsa', size: 2048 } : { algo: 'ecdsa', size: 256 } }
  await writeFile(join(dir, 'ca-csr.json'), JSON.stringify(csrJson))
  const ca = JSON.parse((await run('cfssl', ['gencert', '-initca', join(dir, 'ca-csr.json')])).stdout) as { cert: string, key: string }
  const caPem = join(dir, 'cfssl-ca.pem')
  const caKey = join(dir, 'cfssl-ca-key.pem')
  await writeFile(caPem, ca.cert)
  await writeFile(caKey, ca.key, { mode: 0o600 })
  const responses: string[] = []
  const requests: Buffer[] = []
  for (let i = 0; i < csrs.length; i++) {
    const csrFile = join(dir, `cfssl${i}.csr`)
    await writeFile(csrFile, csrs[i]!)
    const cert = JSON.parse((await run('cfssl', ['sign', '-ca', caPem, '-ca-key', caKey, csrFile])).stdout).cert as string
    const certFile = join(dir, `cfssl${i}.pem`)
    await writeFile(certFile, cert)
    responses.push(JSON.parse((await run('cfssl', ['ocspsign', '-ca', caPem, '-responder', caPem, '-responder-key', caKey, '-cert', certFile, '-status', 'good'])).stdout).ocspResponse)
    requests.push(ocspRequest(dir, caPem, certFile, 100 + i))
  }
  await writeFile(join(dir, 'responses.b64'), responses.join('\n') + '\n')
  const port = await freePort()
  const child = spawn('cfssl', ['ocspserve', '-address', '127.0.0.1', '-port', String(port), '-responses', join(dir, 'responses.b64'), '-loglevel', '3'], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (i > 100) throw new Error('cfssl ocspserve did not start')
    try {
      const res = await request(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: requests[0]! })
      await res.body.arrayBuffer()
      if (res.statusCode === 200) break
      throw new Error(`cfssl ocspserve answered ${res.statusCode}`)
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('cfssl ocspserve answered')) throw e
      await sleep(100)
    }
  }
  return { url, requests, stop: async () => { if (child.exitCode === null) { const done = new Promise((r) => child.once('exit', r)); child.kill('SIGTERM'); await done } } }
}

/** Checks one answer with openssl (good, signature verified) before measuring. */
async function checkAnswer (url: string, req: Buffer, dir: string, issuerPem: string, caFile: string, name: string): Promise<void> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: req })
  const der = Buffer.from(await res.body.arrayBuffer())
  const file = join(dir, `${name}-resp.der`)
  await writeFile(file, der)
  const out = execFileSync('openssl', ['ocsp', '-respin', file, '-issuer', issuerPem, '-CAfile', caFile, '-resp_text'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  if (!/Cert Status: good/.test(out)) throw new Error(`${name}: the OCSP answer is not "good":\n${out}`)
}

interface Row { method: 'GET' | 'POST', ours: WrkResult, cfssl: WrkResult, ratio: number, queriesPerRequest: number, cpuMsPerRequest: number }

async function measure (dir: RunningDirectory, ourReqs: Buffer[], cfssl: Cfssl, method: 'GET' | 'POST'): Promise<Row> {
  const before: ProbeReport = await dir.probe()
  const ours = await runWrk({ url: `${dir.publicUrl}/pki/ocsp`, threads: 2, connections, durationSec: seconds, lua: lua(ourReqs, method, method === 'GET' ? '/pki/ocsp/' : '/pki/ocsp') })
  const after = await dir.probe()
  // cfssl 1.2's GET decodes the path with its leading "/" and answers 400 to every request: its POST is the peer.
  const theirs = await runWrk({ url: cfssl.url, threads: 2, connections, durationSec: seconds, lua: lua(cfssl.requests, 'POST', '/') })
  for (const [w, who] of [[ours, 'ours'], [theirs, 'cfssl']] as const) if (w.non2xx3xx > 0) log(`  ! ${who} ${method}: ${w.non2xx3xx} non-2xx/3xx answers`)
  const n = Math.max(1, ours.requests)
  return {
    method, ours, cfssl: theirs, ratio: round(ours.rate / theirs.rate, 3),
    queriesPerRequest: round((after.queries - before.queries) / n, 3),
    cpuMsPerRequest: round((after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000 / n, 3),
  }
}

export async function benchOcsp (): Promise<Row[]> {
  const work = await mkdtemp(join(tmpdir(), 'bench-ocsp-'))
  const dir = await startDirectory({ env: { CA_ISSUING_KEY: key } })
  let cfssl: Cfssl | undefined
  stopOnExit({ stop: async () => { await Promise.all([dir.stop(), cfssl?.stop()]) } })
  try {
    log(`directory up (${dir.database}); issuing ${count} certificates`)
    const participant = await enrolParticipant(dir)
    const token = await participant.token()
    const softwareId = await participant.createSoftware(token)
    const csrs = makeCsrs(count, 'ec-p256')
    const issuerPem = join(work, 'issuing.pem')
    await writeFile(issuerPem, firstPem(dir.operator.caPem))
    const caFile = join(work, 'bundle.pem')
    await writeFile(caFile, dir.operator.caPem)
    const ourReqs: Buffer[] = []
    for (let i = 0; i < count; i++) {
      const res = await participant.call('POST', `/organisations/${participant.orgId}/software-statements/${softwareId}/certificates`, { token, json: { type: 'transport', csr: csrs[i] } })
      if (res.status !== 201) throw new Error(`issue: ${res.status} ${res.text}`)
      const certFile = join(work, `ours${i}.pem`)
      await writeFile(certFile, res.json().certificate)
      ourReqs.push(ocspRequest(work, issuerPem, certFile, i))
    }
    await participant.close()
    cfssl = await startCfsslOcsp(work, makeCsrs(count, 'ec-p256'))
    await checkAnswer(`${dir.publicUrl}/pki/ocsp`, ourReqs[0]!, work, issuerPem, caFile, 'ours')
    await checkAnswer(cfssl.url, cfssl.requests[0]!, work, join(work, 'cfssl-ca.pem'), join(work, 'cfssl-ca.pem'), 'cfssl')
    log('both answers verified by openssl; measuring')
    const rows: Row[] = []
    for (const method of ['GET', 'POST'] as const) {
      const r = await measure(dir, ourReqs, cfssl, method)
      log(`  ${method}: ours ${fmt(r.ours.rate)}/s, cfssl ${fmt(r.cfssl.rate)}/s, ratio ${r.ratio}; ${r.queriesPerRequest} queries and ${r.cpuMsPerRequest} ms CPU per request`)
      rows.push(r)
    }
    return rows
  } finally {
    await Promise.all([dir.stop(), cfssl?.stop()])
    await rm(work, { recursive: true, force: true })
  }
}

async function main (): Promise<void> {
  const rows = await benchOcsp()
  console.log(`\nOCSP (${key} CA), wrk -t2 -c${connections} -d${seconds}s, one certificate per request, no nonce`)
  console.log(table(['method', 'ours/s', 'ours p99 ms', 'cfssl ocspserve (POST)/s', 'cfssl p99 ms', 'ours / cfssl', 'DB queries/req', 'directory CPU ms/req'],
    rows.map((r) => [r.method, r.ours.rate, r.ours.latencyMs.p99, r.cfssl.rate, r.cfssl.latencyMs.p99, r.ratio.toFixed(3), r.queriesPerRequest, r.cpuMsPerRequest])))
  console.log(`\nwritten ${await writeResult('ocsp', { settings: { key, seconds, connections, count }, rows: rows.map(({ ours, cfssl, ...r }) => ({ ...r, ours: { ...ours, raw: undefined }, cfssl: { ...cfssl, raw: undefined } })) })}`)
}

if (process.argv[1]?.endsWith('ocsp.ts')) main().catch((e) => { console.error(e); process.exit(1) })
