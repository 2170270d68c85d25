// Certificates issued per second from a CSR.
//
// (a) In process, one thread: parseCsr (DER/PEM parse, key and signature policy, self-signature verify) +
//     issueCertificate (build the TBSCertificate, sign) with a prepared createIssuer, against bare node:crypto
//     sign() with the same CA KeyObject over data of the TBSCertificate's size. RSA-2048 and EC P-256 CAs.
// (b) Over HTTP with the database write: the directory in a child process, a participant enrolled, a software
//     statement, then POST /organisations/{org}/software-statements/{sw}/certificates driven (1) by an
//     in-process undici load generator over mTLS (wrk cannot present a client certificate) and (2) by wrk
//     over TLS with the RFC 9440 Client-Cert header (the directory configured to trust 127.0.0.1 as its
//     TLS-terminating proxy). cfssl serve runs side by side in the same run with a CA of the same key type,
//     driven by the same load generator and by wrk; the ratio is ours / cfssl.
//
//   npx tsx bench/issuance.ts [--only inprocess|http] [--keys rsa-2048,ec-p256] [--seconds 1] [--rounds 5]
//                             [--http-seconds 6] [--connections 16] [--max-requests 30000]
// DATABASE_URL=postgres://… runs (b) on a fresh PostgreSQL database created on that server (dropped after).
import { randomBytes, sign, verify, X509Certificate } from 'node:crypto'
import { Pool } from 'undici'
import { children, content, fromDer, toDer } from '../src/pki/der.js'
import { createIssuer, describeCertificate, issueCertificate, newSerial, x5tS256, type NameAttribute, type PreparedIssuer } from '../src/pki/certificate.js'
import { parseCsr } from '../src/pki/csr.js'
import { generateKeyPair, spkiOf } from '../src/pki/keys.js'
import { toPem } from '../src/pki/pem.js'
import { cfsslVersion, startCfssl } from './lib/cfssl.js'
import { flags, fmt, log, median, numberFlag, round, table, writeResult } from './lib/common.js'
import { startDirectory, stopOnExit } from './lib/directory.js'
import { runLoad, type LoadResult } from './lib/load.js'
import { enrolParticipant, makeCsrs, mtlsPool, type CsrKey } from './lib/participant.js'
import { hasWrk, runWrk, type WrkResult } from './lib/wrk.js'

const f = flags()
const keys = (f.keys ?? 'rsa-2048,ec-p256').split(',') as CsrKey[]
const seconds = numberFlag(f, 'seconds', 1)
const rounds = numberFlag(f, 'rounds', 5)
const httpSeconds = numberFlag(f, 'http-seconds', 6)
const connections = numberFlag(f, 'connections', 16)
const maxRequests = numberFlag(f, 'max-requests', 30_000)
const reference: Record<CsrKey, number> = { 'rsa-2048': 1900, 'ec-p256': 8700 } // the issue's cfssl numbers (wrk)

// ---------------------------------------------------------------- (a) in process

const day = 86_400_000
const caName = (cn: string): NameAttribute[] => [{ type: 'O', value: 'Bench' }, { type: 'CN', value: cn }]

function makeCa (key: CsrKey): PreparedIssuer {
  const now = Date.now()
  const root = generateKeyPair(key)
  const rootDer = issueCertificate({
    serial: newSerial(), subject: caName('Bench Root'), publicKey: spkiOf(root.publicKey),
    notBefore: new Date(now - 60_000), notAfter: new Date(now + 3650 * day), profile: 'root-ca',
  }, { selfSigned: root.privateKey })
  const issuing = generateKeyPair(key)
  const issuingDer = issueCertificate({
    serial: newSerial(), subject: caName('Bench Issuing CA'), publicKey: spkiOf(issuing.publicKey),
    notBefore: new Date(now - 60_000), notAfter: new Date(now + 1825 * day), profile: 'issuing-ca', pathLen: 0,
  }, createIssuer(rootDer, root.privateKey))
  return createIssuer(issuingDer, issuing.privateKey)
}

/** What CertificateAuthority.issue does with a CSR before its database transaction, minus the registry reads. */
function issueFromCsr (csr: string, issuer: PreparedIssuer): Buffer {
  const parsed = parseCsr(csr)
  const now = Date.now()
  const id = '6f1c9a52-3d0e-4b8e-9a57-2f7d1c3b9e10'
  return issueCertificate({
    serial: newSerial(),
    subject: [{ type: 'C', value: 'GB' }, { type: 'O', value: 'Bench Fintech Ltd' }, { type: 'organizationIdentifier', value: id }, { type: 'UID', value: id }, { type: 'CN', value: id }],
    publicKey: parsed.spki, notBefore: new Date(now - 60_000), notAfter: new Date(now + 397 * day), profile: 'transport',
    crlUrl: 'http://127.0.0.1:8080/pki/crl', ocspUrl: 'http://127.0.0.1:8080/pki/ocsp', caIssuersUrl: 'http://127.0.0.1:8080/pki/ca.pem',
  }, issuer)
}

/** Operations per second of a synchronous function, run for `ms`. */
function rate (fn: () => unknown, ms: number): number {
  let n = 0
  const start = performance.now()
  const end = start + ms
  let now = start
  while (now < end) {
    for (let i = 0; i < 8; i++) fn()
    n += 8
    now = performance.now()
  }
  return n / ((now - start) / 1000)
}

interface InProcessRow {
  ca: CsrKey, csr: CsrKey, tbsBytes: number
  bareSignPerSec: number, oursPerSec: number, ratio: number
  /**
   * The best any implementation that verifies the CSR through node:crypto can do: one CA signature plus one
   * verification of the CSR's self-signature with its key already imported, against the bare signature.
   */
  ceilingRatio: number
  /** Per-operation cost, µs: where the time goes. */
  micros: { sign: number, verifyCsrSignature: number, parseCsr: number, issueCertificate: number, ours: number, authorityExtras: number }
  oursPlusAuthorityExtrasPerSec: number
}

function inProcess (ca: CsrKey, csrKey: CsrKey): InProcessRow {
  const issuer = makeCa(ca)
  const csrs = makeCsrs(16, csrKey)
  const sample = issueFromCsr(csrs[0]!, issuer)
  const cert = new X509Certificate(sample)
  if (!cert.verify(issuer.publicKey)) throw new Error('the issued certificate does not verify under the CA')
  const tbsBytes = toDer(children(fromDer(sample))[0]!).length
  const data = randomBytes(tbsBytes)
  const parsed = csrs.map((c) => parseCsr(c))
  // The CSR's signed part and signature, to time the verification alone with the key already imported.
  const signed = parsed.map((p) => {
    const [info, , sig] = children(fromDer(p.der))
    return { info: toDer(info!), sig: content(sig!).subarray(1), key: p.publicKey }
  })
  const ms = seconds * 1000
  let i = 0
  const bare = (): Buffer => sign('sha256', data, issuer.privateKey)
  const ours = (): Buffer => issueFromCsr(csrs[i++ & 15]!, issuer)
  const withExtras = (): unknown => {
    // CertificateAuthority.issue also re-reads what it built: describeCertificate (parse + createPublicKey), x5tS256, PEM.
    const der = issueFromCsr(csrs[i++ & 15]!, issuer)
    return [describeCertificate(der), x5tS256(der), toPem(der, 'CERTIFICATE')]
  }
  const verifyOnly = (): boolean => { const s = signed[i++ & 15]!; return verify('sha256', s.info, s.key, s.sig) }
  const ceiling = (): unknown => [verifyOnly(), bare()]
  if (!verifyOnly()) throw new Error('CSR self-signature check failed in the bench')
  rate(bare, 200); rate(ours, 200); rate(withExtras, 200); rate(ceiling, 200) // warm-up (JIT)
  const runs: Record<'bare' | 'ours' | 'ceiling' | 'extras' | 'verify' | 'parse' | 'issue', number[]> = { bare: [], ours: [], ceiling: [], extras: [], verify: [], parse: [], issue: [] }
  for (let r = 0; r < rounds; r++) { // interleaved, so drift on a shared machine hits all of them alike
    runs.bare.push(rate(bare, ms))
    runs.ours.push(rate(ours, ms))
    runs.ceiling.push(rate(ceiling, ms / 2))
    runs.extras.push(rate(withExtras, ms / 2))
    runs.verify.push(rate(verifyOnly, ms / 4))
    runs.parse.push(rate(() => parseCsr(csrs[i++ & 15]!), ms / 4))
    runs.issue.push(rate(() => issueCertificate({
      serial: newSerial(), subject: caName('x'), publicKey: parsed[i++ & 15]!.spki, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + day),
      profile: 'transport', crlUrl: 'http://127.0.0.1:8080/pki/crl', ocspUrl: 'http://127.0.0.1:8080/pki/ocsp', caIssuersUrl: 'http://127.0.0.1:8080/pki/ca.pem',
    }, issuer), ms / 4))
  }
  // Ratios per round (same moment, same machine state), then the median over rounds.
  const ratioOf = (xs: number[]): number => median(xs.map((x, r) => x / runs.bare[r]!))
  const b = median(runs.bare)
  const o = median(runs.ours)
  const us = (xs: number[]): number => round(1e6 / median(xs), 1)
  return {
    ca, csr: csrKey, tbsBytes, bareSignPerSec: round(b, 0), oursPerSec: round(o, 0), ratio: round(ratioOf(runs.ours), 3),
    ceilingRatio: round(ratioOf(runs.ceiling), 3),
    micros: {
      sign: us(runs.bare), verifyCsrSignature: us(runs.verify), parseCsr: us(runs.parse), issueCertificate: us(runs.issue), ours: us(runs.ours),
      authorityExtras: round(median(runs.extras.map((x, r) => 1e6 / x - 1e6 / runs.ours[r]!)), 1),
    },
    oursPlusAuthorityExtrasPerSec: round(median(runs.extras), 0),
  }
}

// ---------------------------------------------------------------- (b) over HTTP

interface HttpRow {
  key: CsrKey
  database: string
  connections: number
  /** Database round trips per issuance (queries, BEGIN/COMMIT included), counted in the directory process. */
  queriesPerIssue: number
  /** CPU time (user + system) of the directory process per issuance, ms: 1000 / this is its one-core ceiling. */
  cpuMsPerIssue: number
  ours: { undiciMtls: LoadResult, wrkClientCertHeader?: WrkResult | { skipped: string } }
  cfssl: { version: string, undici: LoadResult, wrk?: WrkResult | { skipped: string } }
  ratioUndici: number
  ratioWrk?: number
  referenceCfsslWrk: number
}

const luaBodies = (bodies: string[], headers: Record<string, string>): string => `
local bodies = { ${bodies.map((b) => `[==[${b}]==]`).join(',\n')} }
local i = 0
wrk.method = "POST"
${Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join('\n')}
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
`

function wrkSummary (w: WrkResult, what: string): WrkResult {
  if (w.non2xx3xx > 0) log(`  ! ${what}: ${w.non2xx3xx} non-2xx/3xx responses`)
  const { raw, ...rest } = w
  return { ...rest, raw: raw.trim() }
}

async function overHttp (key: CsrKey, useWrk: boolean): Promise<HttpRow> {
  const csrs = makeCsrs(32, key)
  const cfssl = await startCfssl(key, csrs[0]!)
  const dir = await startDirectory({ env: { CA_ISSUING_KEY: key, TRUSTED_PROXY_CLIENT_CERT: 'true', TRUSTED_PROXIES: '127.0.0.1' } })
  stopOnExit({ stop: async () => { await Promise.all([dir.stop(), cfssl.stop()]) } })
  try {
    log(`  directory up (${dir.database}); cfssl ${cfssl.version} up; enrolling a participant`)
    const participant = await enrolParticipant(dir)
    const token = await participant.token()
    const softwareId = await participant.createSoftware(token)
    const path = `/organisations/${participant.orgId}/software-statements/${softwareId}/certificates`
    const oursBodies = csrs.map((csr) => JSON.stringify({ type: 'transport', csr }))
    const cfsslBodies = csrs.map((csr) => JSON.stringify({ certificate_request: csr }))
    const durationMs = httpSeconds * 1000

    const pool = mtlsPool(dir, participant.tls, connections)
    const before = await dir.probe()
    const ours = await runLoad({
      dispatcher: pool, concurrency: connections, durationMs, maxRequests, warmup: connections * 4,
      next: (i) => ({ path, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: oursBodies[i % oursBodies.length]! }),
    })
    await pool.close()
    const after = await dir.probe()
    const issued = ours.requests + connections * 4
    const queriesPerIssue = round((after.queries - before.queries) / issued, 1)
    const cpuMsPerIssue = round((after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000 / issued, 2)
    log(`  ours: ${queriesPerIssue} database round trips and ${cpuMsPerIssue} ms of directory CPU per issuance (probe in the directory process)`)
    log(`  ours (undici, mTLS, ${connections} conns): ${fmt(ours.rate)}/s p99 ${ours.latencyMs.p99} ms ${ours.errors ? `errors ${ours.errors}: ${ours.firstError}` : ''}`)

    const cpool = new Pool(cfssl.url, { connections, pipelining: 1 })
    const theirs = await runLoad({
      dispatcher: cpool, concurrency: connections, durationMs, maxRequests, warmup: connections * 4,
      next: (i) => ({ path: '/api/v1/cfssl/sign', method: 'POST', headers: { 'content-type': 'application/json' }, body: cfsslBodies[i % cfsslBodies.length]! }),
    })
    await cpool.close()
    log(`  cfssl (undici, ${connections} conns): ${fmt(theirs.rate)}/s p99 ${theirs.latencyMs.p99} ms ${theirs.errors ? `errors ${theirs.errors}: ${theirs.firstError}` : ''}`)

    let cfsslWrk: WrkResult | { skipped: string } = { skipped: 'wrk not installed (apt-get install -y wrk)' }
    let oursWrk: WrkResult | { skipped: string } = cfsslWrk
    if (useWrk) {
      cfsslWrk = wrkSummary(await runWrk({
        url: `${cfssl.url}/api/v1/cfssl/sign`, threads: 2, connections, durationSec: httpSeconds,
        lua: luaBodies(cfsslBodies, { 'Content-Type': 'application/json' }),
      }), 'cfssl wrk')
      log(`  cfssl (wrk): ${fmt(cfsslWrk.rate)}/s p99 ${cfsslWrk.latencyMs.p99} ms`)
      const der = new X509Certificate(participant.tls.cert).raw
      oursWrk = wrkSummary(await runWrk({
        url: `${dir.mtlsUrl}${path}`, threads: 2, connections, durationSec: httpSeconds,
        lua: luaBodies(oursBodies, { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Client-Cert': `:${der.toString('base64')}:` }),
      }), 'ours wrk')
      log(`  ours (wrk, TLS + Client-Cert header): ${fmt(oursWrk.rate)}/s p99 ${oursWrk.latencyMs.p99} ms`)
    }
    await participant.close()
    return {
      key, database: dir.database === 'pglite' ? 'pglite' : 'postgresql', connections, queriesPerIssue, cpuMsPerIssue,
      ours: { undiciMtls: ours, wrkClientCertHeader: oursWrk },
      cfssl: { version: cfssl.version, undici: theirs, wrk: cfsslWrk },
      ratioUndici: round(ours.rate / theirs.rate, 3),
      ...('rate' in oursWrk && 'rate' in cfsslWrk ? { ratioWrk: round(oursWrk.rate / cfsslWrk.rate, 3) } : {}),
      referenceCfsslWrk: reference[key],
    }
  } finally {
    await Promise.all([dir.stop(), cfssl.stop()])
  }
}

// ---------------------------------------------------------------- main

async function main (): Promise<void> {
  const result: Record<string, unknown> = { settings: { keys, seconds, rounds, httpSeconds, connections, maxRequests } }
  if (f.only !== 'http') {
    log(`(a) in process: ${rounds} interleaved rounds of ${seconds} s each`)
    const rows: InProcessRow[] = []
    for (const ca of keys) {
      for (const csr of [ca, ...keys.filter((k) => k !== ca)]) {
        const r = inProcess(ca, csr)
        log(`  CA ${ca}, CSR ${csr}: ours ${fmt(r.oursPerSec)}/s, bare sign ${fmt(r.bareSignPerSec)}/s, ratio ${r.ratio}`)
        rows.push(r)
      }
    }
    result.inProcess = rows
    console.log('\n(a) In process — certificates per second from a CSR (parseCsr + verify + build + sign) vs bare sign() of the same CA key')
    console.log('    ceiling = (CSR signature verify with the key pre-imported + CA sign) / bare sign: the most any verifying issuer gets here')
    console.log(table(
      ['issuing CA', 'CSR key', 'TBS bytes', 'bare sign/s', 'ours/s', 'ratio', 'ceiling', 'µs sign', 'µs CSR verify', 'µs parseCsr', 'µs issueCertificate', 'µs ours', 'µs +authority extras'],
      rows.map((r) => [r.ca, r.csr, r.tbsBytes, r.bareSignPerSec, r.oursPerSec, r.ratio.toFixed(2), r.ceilingRatio.toFixed(2), r.micros.sign, r.micros.verifyCsrSignature,
        r.micros.parseCsr, r.micros.issueCertificate, r.micros.ours, r.micros.authorityExtras]),
    ))
  }
  if (f.only !== 'inprocess') {
    const version = await cfsslVersion()
    if (!version) throw new Error('cfssl is not installed: apt-get install -y golang-cfssl')
    const useWrk = await hasWrk()
    log(`(b) over HTTP: ${httpSeconds} s per run, ${connections} connections, at most ${maxRequests} requests per run`)
    const rows: HttpRow[] = []
    for (const key of keys) {
      log(` ${key}:`)
      rows.push(await overHttp(key, useWrk))
    }
    result.http = rows
    const w = (x: WrkResult | { skipped: string } | undefined, field: 'rate' | 'p99'): string | number =>
      x && 'rate' in x ? (field === 'rate' ? x.rate : x.latencyMs.p99) : '—'
    console.log(`\n(b) Over HTTP with the database write (${rows[0]?.database}) vs cfssl ${version} (no database), ${connections} connections, ${httpSeconds} s`)
    console.log(table(
      ['key', 'driver', 'ours/s', 'ours p99 ms', 'cfssl/s', 'cfssl p99 ms', 'ours / cfssl', 'issue ref. cfssl/s'],
      rows.flatMap((r) => [
        [r.key, 'undici (ours over mTLS)', r.ours.undiciMtls.rate, r.ours.undiciMtls.latencyMs.p99, r.cfssl.undici.rate, r.cfssl.undici.latencyMs.p99, r.ratioUndici.toFixed(3), r.referenceCfsslWrk],
        [r.key, 'wrk (ours: TLS + Client-Cert)', w(r.ours.wrkClientCertHeader, 'rate'), w(r.ours.wrkClientCertHeader, 'p99'), w(r.cfssl.wrk, 'rate'), w(r.cfssl.wrk, 'p99'), r.ratioWrk?.toFixed(3) ?? '—', r.referenceCfsslWrk],
      ]),
    ))
  }
  console.log(`\nwritten ${await writeResult('issuance', result)}`)
}

main().catch((e) => { console.error(e); process.exit(1) })
