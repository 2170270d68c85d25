// A participant as the benchmarks drive it: mTLS with undici (keep-alive), private_key_jwt assertions,
// certificate-bound tokens; enrolment through the operator's admin API and POST /enrol.
import { execFileSync } from 'node:child_process'
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { calculateJwkThumbprint, SignJWT, type JWK } from 'jose'
import { Agent, Pool, request } from 'undici'
import type { RunningDirectory } from './directory.js'

export type CsrKey = 'rsa-2048' | 'ec-p256'

/** PEM CSRs made by openssl, each with its own fresh key (`openssl req -new -newkey`). */
export function makeCsrs (count: number, key: CsrKey, subject = '/CN=bench'): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'bench-csr-'))
  try {
    const newkey = key === 'rsa-2048' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']
    return Array.from({ length: count }, (_, i) => execFileSync('openssl', [
      'req', '-new', ...newkey, '-nodes', '-keyout', join(dir, `k${i}.pem`), '-subj', subject, '-sha256',
    ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface Reply { status: number, headers: Record<string, string | string[] | undefined>, text: string, json: () => any }

export interface TlsCredentials { key: string, cert: string, ca: string }

/** undici connect options for the directory's mTLS listener (its certificate names localhost and 127.0.0.1). */
export const tlsConnect = (tls: TlsCredentials) => ({ ...tls, rejectUnauthorized: true, servername: 'localhost' })

export class Participant {
  readonly agent: Agent
  private n = 0
  constructor (
    readonly dir: Pick<RunningDirectory, 'mtlsUrl' | 'publicUrl'>,
    readonly clientId: string,
    readonly orgId: string,
    readonly signingKey: KeyObject,
    readonly kid: string,
    readonly tls: TlsCredentials,
  ) {
    this.agent = new Agent({ connect: tlsConnect(tls) })
  }

  /** A fresh client assertion (RFC 7523): single-use jti, ES256. */
  async assertion (): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ iss: this.clientId, sub: this.clientId, aud: `${this.dir.mtlsUrl}/token`, jti: `${randomUUID()}-${this.n++}`, iat: now, exp: now + 120 })
      .setProtectedHeader({ alg: 'ES256', kid: this.kid })
      .sign(this.signingKey)
  }

  static tokenForm (assertion: string, scope: string): string {
    return new URLSearchParams({
      grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, scope,
    }).toString()
  }

  async call (method: string, path: string, opts: { token?: string, json?: unknown, form?: string } = {}): Promise<Reply> {
    const headers: Record<string, string> = {}
    let body: string | undefined
    if (opts.token) headers.authorization = `Bearer ${opts.token}`
    if (opts.json !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(opts.json) }
    if (opts.form !== undefined) { headers['content-type'] = 'application/x-www-form-urlencoded'; body = opts.form }
    const res = await request(this.dir.mtlsUrl + path, { method: method as 'GET', headers, body, dispatcher: this.agent })
    const text = await res.body.text()
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) }
  }

  async token (scope = 'directory:read directory:software'): Promise<string> {
    const res = await this.call('POST', '/token', { form: Participant.tokenForm(await this.assertion(), scope) })
    if (res.status !== 200) throw new Error(`token: ${res.status} ${res.text}`)
    return res.json().access_token
  }

  /** A software statement for this participant's organisation. */
  async createSoftware (token: string, roles = ['data-recipient']): Promise<string> {
    const res = await this.call('POST', `/organisations/${this.orgId}/software-statements`, {
      token, json: { client_name: `Bench app ${randomUUID().slice(0, 8)}`, redirect_uris: ['https://app.example/cb'], roles },
    })
    if (res.status !== 201) throw new Error(`create software: ${res.status} ${res.text}`)
    return res.json().software_id
  }

  close (): Promise<void> { return this.agent.close() }
}

export function operatorOf (dir: RunningDirectory): Participant {
  const o = dir.operator
  return new Participant(dir, o.clientId, o.orgId, createPrivateKey(o.signingKeyPem), o.signingKid,
    { key: o.transportKeyPem, cert: o.transportCertPem, ca: o.caPem })
}

/** Operator creates an active organisation and an enrolment code; the participant enrols with a P-256 transport CSR. */
export async function enrolParticipant (dir: RunningDirectory, roles = ['data-recipient']): Promise<Participant> {
  const operator = operatorOf(dir)
  try {
    const admin = await operator.token('directory:admin')
    const org = await operator.call('POST', '/admin/organisations', {
      token: admin, json: { legal_name: `Bench Fintech ${randomUUID().slice(0, 8)} Ltd`, registration_number: randomUUID().slice(0, 12), country: 'GB', roles, status: 'active' },
    })
    if (org.status !== 201) throw new Error(`create organisation: ${org.status} ${org.text}`)
    const orgId = org.json().id
    const code = await operator.call('POST', `/admin/organisations/${orgId}/enrolment-codes`, { token: admin })
    if (code.status !== 201) throw new Error(`enrolment code: ${code.status} ${code.text}`)
    const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    const jwk = createPublicKey(signing).export({ format: 'jwk' }) as JWK
    const kid = await calculateJwkThumbprint(jwk)
    const transport = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    const keyPem = transport.export({ format: 'pem', type: 'pkcs8' }) as string
    const csr = csrFor(keyPem)
    const res = await request(`${dir.publicUrl}/enrol`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: code.json().code, csr, jwks: { keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] } }),
    })
    const text = await res.body.text()
    if (res.statusCode !== 201) throw new Error(`enrol: ${res.statusCode} ${text}`)
    const out = JSON.parse(text)
    return new Participant(dir, out.client_id, out.org_id, signing, kid, { key: keyPem, cert: out.certificate + out.chain.join(''), ca: dir.operator.caPem })
  } finally {
    await operator.close()
  }
}

function csrFor (keyPem: string): string {
  const d = mkdtempSync(join(tmpdir(), 'bench-csr-'))
  try {
    const keyFile = join(d, 'key.pem')
    writeFileSync(keyFile, keyPem, { mode: 0o600 })
    return execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', '/CN=participant'], { encoding: 'utf8' })
  } finally {
    rmSync(d, { recursive: true, force: true })
  }
}

/** A keep-alive pool of `connections` mTLS connections to the directory, for load. */
export function mtlsPool (dir: Pick<RunningDirectory, 'mtlsUrl'>, tls: TlsCredentials, connections: number): Pool {
  return new Pool(dir.mtlsUrl, { connections, pipelining: 1, connect: tlsConnect(tls) })
}
