// The cost of building and reading X.509 structures with node-forge's ASN.1 codec (issue 9) against the
// hand-written DER codec it replaced, in one process on the same CA keys and CSRs.
//
// The baseline is the directory's own src/ at the commit before the codec was removed (or --baseline <rev>),
// extracted with `git archive` into a temporary directory and imported beside the current src/. Measured, in
// interleaved rounds, for each (issuing CA key, CSR key):
//   path     parseCsr + issueCertificate: what CertificateAuthority.issue does with a CSR before its transaction
//   parse    parseCsr alone (PEM/DER, key and signature policy, self-signature verify)
//   issue    issueCertificate alone (profile, extensions, TBSCertificate, sign)
//   describe describeCertificate (reading a certificate back)
// The ratio is new time / old time per operation (1.10 = 10 % slower), the median of the per-round ratios; times
// are CPU time of the benchmark's thread, so other load on the machine shows less in them than in wall-clock time.
//
//   npx tsx bench/codec.ts [--baseline <rev>] [--keys rsa-2048,ec-p256] [--seconds 1] [--rounds 7]
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as current from '../src/pki/certificate.js'
import * as currentCsr from '../src/pki/csr.js'
import { children, fromDer, toDer } from '../src/pki/der.js'
import { generateKeyPair, spkiOf } from '../src/pki/keys.js'
import { flags, log, median, numberFlag, repoRoot, round, table, writeResult } from './lib/common.js'
import { makeCsrs, type CsrKey } from './lib/participant.js'

const f = flags()
const keys = (f.keys ?? 'rsa-2048,ec-p256').split(',') as CsrKey[]
const seconds = numberFlag(f, 'seconds', 1)
const rounds = numberFlag(f, 'rounds', 7)
const git = (...args: string[]): string => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim()
const baseline = f.baseline ?? `${git('log', '-1', '--format=%H', '--diff-filter=D', '--', 'src/pki/asn1.ts')}^`
const baselineCommit = git('rev-parse', '--short', baseline)

type CertificateModule = typeof current
type CsrModule = Pick<typeof currentCsr, 'parseCsr'>

/** The baseline's src/ beside a link to our node_modules, so its imports resolve as they did then. */
async function loadBaseline (): Promise<{ certificate: CertificateModule, csr: CsrModule, dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-codec-'))
  execFileSync('sh', ['-c', `git archive ${baselineCommit} src | tar -x -C ${dir}`], { cwd: repoRoot })
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'))
  const certificate = await import(join(dir, 'src/pki/certificate.ts')) as CertificateModule
  const csr = await import(join(dir, 'src/pki/csr.ts')) as CsrModule
  return { certificate, csr, dir }
}

const day = 86_400_000
const caName = (cn: string): current.NameAttribute[] => [{ type: 'O', value: 'Bench' }, { type: 'CN', value: cn }]
const id = '6f1c9a52-3d0e-4b8e-9a57-2f7d1c3b9e10'
const subject: current.NameAttribute[] = [
  { type: 'C', value: 'GB' }, { type: 'O', value: 'Bench Fintech Ltd' }, { type: 'organizationIdentifier', value: id }, { type: 'UID', value: id }, { type: 'CN', value: id },
]
const urls = { crlUrl: 'http://127.0.0.1:8080/pki/crl', ocspUrl: 'http://127.0.0.1:8080/pki/ocsp', caIssuersUrl: 'http://127.0.0.1:8080/pki/issuing-ca.cer' }

/** A root and an issuing CA of `key`, made with the current code: both codecs sign under the same issuer. */
function makeCa (key: CsrKey): { der: Buffer, privateKey: ReturnType<typeof generateKeyPair>['privateKey'] } {
  const now = Date.now()
  const root = generateKeyPair(key)
  const rootDer = current.issueCertificate({
    serial: current.newSerial(), subject: caName('Bench Root'), publicKey: spkiOf(root.publicKey),
    notBefore: new Date(now - 60_000), notAfter: new Date(now + 3650 * day), profile: 'root-ca',
  }, { selfSigned: root.privateKey })
  const issuing = generateKeyPair(key)
  const der = current.issueCertificate({
    serial: current.newSerial(), subject: caName('Bench Issuing CA'), publicKey: spkiOf(issuing.publicKey),
    notBefore: new Date(now - 60_000), notAfter: new Date(now + 1825 * day), profile: 'issuing-ca', pathLen: 0,
  }, current.createIssuer(rootDer, root.privateKey))
  return { der, privateKey: issuing.privateKey }
}

/**
 * Operations per second of this thread's CPU time (user + system), not of wall-clock time: on a machine shared
 * with other work, waiting for a core would otherwise count as cost.
 */
function rate (fn: () => unknown, ms: number): number {
  let n = 0
  const cpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }
  const start = cpu()
  const end = start + ms
  let now = start
  while (now < end) {
    for (let i = 0; i < 8; i++) fn()
    n += 8
    now = cpu()
  }
  return n / ((now - start) / 1000)
}

type Step = 'path' | 'parse' | 'issue' | 'describe'
const steps: Step[] = ['path', 'parse', 'issue', 'describe']

interface Row {
  ca: CsrKey
  csr: CsrKey
  /** µs per operation, median over rounds. */
  oldMicros: Record<Step, number>
  newMicros: Record<Step, number>
  /** new time / old time, median of the per-round ratios. */
  ratio: Record<Step, number>
}

function measure (ca: CsrKey, csrKey: CsrKey, old: { certificate: CertificateModule, csr: CsrModule }): Row {
  const caKeys = makeCa(ca)
  const csrs = makeCsrs(16, csrKey)
  const impls = {
    old: { ...old, issuer: old.certificate.createIssuer(caKeys.der, caKeys.privateKey) },
    new: { certificate: current, csr: currentCsr as CsrModule, issuer: current.createIssuer(caKeys.der, caKeys.privateKey) },
  }
  const spkis = csrs.map((c) => currentCsr.parseCsr(c).spki)
  const fns = Object.fromEntries(Object.entries(impls).map(([name, m]) => {
    let i = 0
    const issue = (spki: Buffer): Buffer => m.certificate.issueCertificate({
      serial: m.certificate.newSerial(), subject, publicKey: spki,
      notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 397 * day), profile: 'transport', ...urls,
    }, m.issuer)
    const sample = issue(spkis[0]!)
    if (!new X509Certificate(sample).verify(impls.new.issuer.publicKey)) throw new Error(`${name}: the certificate does not verify under the CA`)
    const steps: Record<Step, () => unknown> = {
      path: () => issue(m.csr.parseCsr(csrs[i++ & 15]!).spki),
      parse: () => m.csr.parseCsr(csrs[i++ & 15]!),
      issue: () => issue(spkis[i++ & 15]!),
      describe: () => m.certificate.describeCertificate(sample),
    }
    return [name, steps]
  })) as Record<'old' | 'new', Record<Step, () => unknown>>

  // Both codecs must make the same certificate from the same template (serial aside, which is random).
  const fixed = { serial: Buffer.from('0123456789abcdef', 'hex'), subject, publicKey: spkis[0]!, notBefore: new Date(1_800_000_000_000), notAfter: new Date(1_800_000_000_000 + day), profile: 'transport' as const, ...urls }
  const a = impls.old.certificate.issueCertificate(fixed, impls.old.issuer)
  const b = current.issueCertificate(fixed, impls.new.issuer)
  const tbs = (d: Buffer): Buffer => toDer(children(fromDer(d))[0]!) // ECDSA signatures differ run to run; the TBS must not
  if (!tbs(a).equals(tbs(b))) throw new Error('the two codecs build different TBSCertificates from one template')

  for (const s of steps) { rate(fns.old[s], 200); rate(fns.new[s], 200) } // warm-up (JIT)
  const runs = Object.fromEntries(steps.map((s) => [s, { old: [] as number[], new: [] as number[] }])) as Record<Step, { old: number[], new: number[] }>
  const ms = seconds * 1000
  for (let r = 0; r < rounds; r++) {
    for (const s of steps) {
      const share = s === 'path' ? ms : ms / 3
      // alternate which goes first, so drift on a shared machine does not favour one
      if (r % 2 === 0) { runs[s].old.push(rate(fns.old[s], share)); runs[s].new.push(rate(fns.new[s], share)) } else { runs[s].new.push(rate(fns.new[s], share)); runs[s].old.push(rate(fns.old[s], share)) }
    }
  }
  const us = (xs: number[]): number => round(1e6 / median(xs), 1)
  const map = <T>(fn: (s: Step) => T): Record<Step, T> => Object.fromEntries(steps.map((s) => [s, fn(s)])) as Record<Step, T>
  return {
    ca, csr: csrKey,
    oldMicros: map((s) => us(runs[s].old)),
    newMicros: map((s) => us(runs[s].new)),
    ratio: map((s) => round(median(runs[s].old.map((o, r) => o / runs[s].new[r]!)), 3)),
  }
}

async function main (): Promise<void> {
  log(`baseline: src/ at ${baselineCommit} (the hand-written codec); current: the working tree`)
  const old = await loadBaseline()
  try {
    const rows: Row[] = []
    for (const ca of keys) {
      for (const csr of keys) {
        log(`  CA ${ca}, CSR ${csr} …`)
        rows.push(measure(ca, csr, old))
      }
    }
    console.log(`\nnew (node-forge) vs old (hand-written DER), µs per operation; ratio = new / old (baseline ${baselineCommit})\n`)
    console.log(table(
      ['issuing CA', 'CSR key', 'µs path old', 'µs path new', '**ratio path**', 'µs parseCsr old → new', 'µs issueCertificate old → new', 'µs describe old → new'],
      rows.map((r) => [r.ca, r.csr, r.oldMicros.path, r.newMicros.path, `**${r.ratio.path.toFixed(2)}**`,
        `${r.oldMicros.parse} → ${r.newMicros.parse}`, `${r.oldMicros.issue} → ${r.newMicros.issue}`, `${r.oldMicros.describe} → ${r.newMicros.describe}`]),
    ))
    console.log(`\nwritten ${await writeResult('codec', { baseline: baselineCommit, seconds, rounds, rows })}`)
  } finally {
    rmSync(old.dir, { recursive: true, force: true })
  }
}

main().catch((e) => { console.error(e); process.exit(1) })
