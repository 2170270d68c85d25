import { spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { request } from 'undici'
import { buildTestApp, type TestApp } from './app.js'
import { ecKey, enrolParticipant, makeCsr, type Participant } from './participant.js'

interface Tap {
  teardown: (fn: () => unknown) => void
}

export interface RunResult { status: number | null, stdout: string, stderr: string, out: string }

/**
 * Runs an independent verifier as a child process without blocking this process's event loop: the
 * verifiers fetch CRLs and ask OCSP of the directory listening in this very process.
 */
export function run (cmd: string, args: string[], opts: { cwd?: string, input?: string, timeoutMs?: number, env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.stdout!.on('data', (d) => { stdout += d })
    child.stderr!.on('data', (d) => { stderr += d })
    child.on('error', (e) => { clearTimeout(timer); reject(e) })
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr, out: stdout + stderr }) })
    if (child.stdin) {
      child.stdin.on('error', () => {}) // a tool that exits without reading its input
      child.stdin.end(opts.input)
    }
  })
}

/** The first of `bins` missing from PATH, if any: its test is skipped with that reason (CI installs them all). */
export function missingTool (...bins: string[]): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter)
  return bins.find((b) => !dirs.some((d) => { try { accessSync(join(d, b), constants.X_OK); return true } catch { return false } }))
}

const firstPem = (bundle: string): string => bundle.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!

export interface InteropArtefacts {
  ctx: TestApp
  participant: Participant
  dir: string
  /** Absolute path of a file in `dir`. */
  path: (name: string) => string
  /** PEM files in `dir`: root.pem, issuing.pem, good.pem, revoked.pem, signing.pem (leaves alone), good.key (PKCS#8). */
  files: { root: string, issuing: string, good: string, goodKey: string, revoked: string, signing: string, bundle: string }
  /** The CRLs fetched from the distribution points the certificates name: issuing CA's (leaves) and root's (issuing CA), DER and PEM. */
  crls: { issuingDer: string, issuingPem: string, rootDer: string, rootPem: string, urls: { leaf: string, issuing: string } }
  serials: { good: string, revoked: string, signing: string }
}

function crlDistributionPoint (certPem: string, dir: string): Promise<string> {
  // openssl prints the extension as "Full Name:\n URI:http://…"
  return run('openssl', ['x509', '-noout', '-ext', 'crlDistributionPoints'], { cwd: dir, input: certPem }).then((r) => {
    const m = /URI:(\S+)/.exec(r.stdout)
    if (!m) throw new Error(`no CRL distribution point: ${r.out}`)
    return m[1]!
  })
}

async function fetchDer (url: string): Promise<Buffer> {
  const res = await request(url)
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode}`)
  return Buffer.from(await res.body.arrayBuffer())
}

/**
 * A running directory and real artefacts made through its API: a participant enrolled, its enrolment transport
 * certificate (good), a second transport certificate revoked (keyCompromise), a signing certificate; then the CRLs
 * fetched from the distribution points those certificates name, as any relying party would.
 */
export async function interopArtefacts (t: Tap, env: Record<string, string> = {}): Promise<InteropArtefacts> {
  const dir = mkdtempSync(join(tmpdir(), 'interop-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = (name: string): string => join(dir, name)
  const write = (name: string, content: string | Buffer): string => { writeFileSync(path(name), content); return path(name) }
  const ctx = await buildTestApp(t, env)
  const participant = await enrolParticipant(ctx, { legalName: 'Interop Payments Ltd' })
  t.teardown(() => participant.close())
  const [issuingPem, rootPem] = ctx.services.authority.caBundlePem().split(/(?<=-----END CERTIFICATE-----\n)/)
  const sw = await participant.call('POST', `/organisations/${participant.orgId}/software-statements`, {
    json: { client_name: 'Interop Wallet', redirect_uris: ['https://wallet.example/cb'], roles: ['data-recipient'] },
  })
  if (sw.status !== 201) throw new Error(`software statement: ${sw.status} ${sw.text}`)
  const issue = async (type: 'transport' | 'signing'): Promise<{ serial: string, certificate: string }> => {
    const res = await participant.call('POST', `/organisations/${participant.orgId}/software-statements/${sw.json().software_id}/certificates`, { json: { type, csr: makeCsr(ecKey()) } })
    if (res.status !== 201) throw new Error(`issue ${type}: ${res.status} ${res.text}`)
    return res.json()
  }
  const revoked = await issue('transport')
  const revoke = await participant.call('POST', `/organisations/${participant.orgId}/certificates/${revoked.serial}/revoke`, { json: { reason: 'keyCompromise' } })
  if (revoke.status !== 200) throw new Error(`revoke: ${revoke.status} ${revoke.text}`)
  const signing = await issue('signing')
  const good = firstPem(participant.transportCertPem)
  const files = {
    root: write('root.pem', rootPem!), issuing: write('issuing.pem', issuingPem!), bundle: write('bundle.pem', issuingPem! + rootPem!),
    good: write('good.pem', good), goodKey: write('good.key', participant.transportKeyPem),
    revoked: write('revoked.pem', revoked.certificate), signing: write('signing.pem', signing.certificate),
  }
  const leafUrl = await crlDistributionPoint(good, dir)
  const issuingUrl = await crlDistributionPoint(issuingPem!, dir)
  const pem = async (name: string, der: Buffer): Promise<string> => {
    const r = await run('openssl', ['crl', '-inform', 'DER', '-in', write(`${name}.crl`, der)])
    if (r.status !== 0) throw new Error(r.out)
    return write(`${name}.crl.pem`, r.stdout)
  }
  const issuingCrl = await fetchDer(leafUrl)
  const rootCrl = await fetchDer(issuingUrl)
  return {
    ctx, participant, dir, path, files,
    crls: { issuingDer: path('issuing.crl'), issuingPem: await pem('issuing', issuingCrl), rootDer: path('root.crl'), rootPem: await pem('root', rootCrl), urls: { leaf: leafUrl, issuing: issuingUrl } },
    serials: { good: new X509Certificate(good).serialNumber.toLowerCase(), revoked: revoked.serial, signing: signing.serial },
  }
}
