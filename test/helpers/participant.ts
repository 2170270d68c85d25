import { execFileSync } from 'node:child_process'
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { calculateJwkThumbprint, SignJWT, type JWK } from 'jose'
import { Agent, request } from 'undici'
import type { TestApp } from './app.js'

export interface Response { status: number, headers: Record<string, string | string[] | undefined>, text: string, json: () => any }

/** A PEM CSR for `key`, made by openssl (the independent tool a participant would use). */
export function makeCsr (key: KeyObject, subject = '/CN=participant', extra: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'csr-'))
  try {
    writeFileSync(join(dir, 'key.pem'), key.export({ format: 'pem', type: 'pkcs8' }) as string)
    return execFileSync('openssl', ['req', '-new', '-key', join(dir, 'key.pem'), '-subj', subject, ...extra], { encoding: 'utf8' })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const ecKey = (): KeyObject => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey

/** An mTLS HTTP client with the given certificate (or none). */
export class MtlsClient {
  readonly agent: Agent
  constructor (readonly baseUrl: string, tls: { key?: string, cert?: string, ca: string }) {
    this.agent = new Agent({ connect: { ...tls, rejectUnauthorized: true, servername: 'localhost' } })
  }

  async call (method: string, path: string, opts: { token?: string, json?: unknown, form?: Record<string, string>, body?: string, headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...opts.headers }
    let body: string | undefined = opts.body
    if (opts.token) headers.authorization = `Bearer ${opts.token}`
    if (opts.json !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(opts.json) }
    if (opts.form) { headers['content-type'] = 'application/x-www-form-urlencoded'; body = new URLSearchParams(opts.form).toString() }
    const res = await request(this.baseUrl + path, { method: method as 'GET', headers, body, dispatcher: this.agent })
    const text = await res.body.text()
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) }
  }

  close (): Promise<void> { return this.agent.close() }
}

/** A client identity at the directory: mTLS credentials and a private_key_jwt signing key. */
export class Participant {
  readonly http: MtlsClient
  private n = 0
  constructor (
    readonly ctx: TestApp,
    readonly clientId: string,
    readonly orgId: string,
    readonly signingKey: KeyObject,
    readonly kid: string,
    readonly transportKeyPem: string,
    readonly transportCertPem: string,
    readonly alg: 'ES256' | 'PS256' = 'ES256',
  ) {
    this.http = new MtlsClient(ctx.mtlsUrl, { key: transportKeyPem, cert: transportCertPem, ca: ctx.services.authority.caBundlePem() })
  }

  /** A client assertion (RFC 7523) with overridable claims and header. */
  async assertion (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: KeyObject | Uint8Array = this.signingKey): Promise<string> {
    const now = Math.floor(this.ctx.clock.now().getTime() / 1000)
    return new SignJWT({ iss: this.clientId, sub: this.clientId, aud: `${this.ctx.mtlsUrl}/token`, jti: `${randomUUID()}-${this.n++}`, iat: now, exp: now + 60, ...claims })
      .setProtectedHeader({ alg: this.alg, kid: this.kid, ...header } as never)
      .sign(key as never)
  }

  async tokenResponse (form: Record<string, string> = {}): Promise<Response> {
    return this.http.call('POST', '/token', {
      form: { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await this.assertion(), ...form },
    })
  }

  async token (scope = 'directory:read directory:software'): Promise<string> {
    const res = await this.tokenResponse({ scope })
    if (res.status !== 200) throw new Error(`token: ${res.status} ${res.text}`)
    return res.json().access_token
  }

  async call (method: string, path: string, opts: Parameters<MtlsClient['call']>[2] & { scope?: string } = {}): Promise<Response> {
    const token = opts.token ?? await this.token(opts.scope)
    return this.http.call(method, path, { ...opts, token })
  }

  close (): Promise<void> { return this.http.close() }
}

/** The operator, from the credentials init wrote to DATA_DIR/operator/. */
export function operatorOf (ctx: TestApp): Participant {
  return new Participant(ctx, ctx.operator.clientId, ctx.operator.orgId, createPrivateKey(ctx.operator.signingKeyPem), ctx.operator.signingKid,
    ctx.operator.transportKeyPem, ctx.operator.transportCertPem)
}

export interface EnrolOptions { roles?: string[], legalName?: string, status?: 'active' | 'pending' }

/**
 * The whole onboarding as a participant lives it: the operator creates the organisation and an
 * enrolment code; the participant makes its keys, a CSR with openssl, and enrols on the public listener.
 */
export async function enrolParticipant (ctx: TestApp, opts: EnrolOptions = {}): Promise<Participant> {
  const operator = operatorOf(ctx)
  try {
    const org = await operator.call('POST', '/admin/organisations', {
      scope: 'directory:admin',
      json: {
        legal_name: opts.legalName ?? `Fintech ${randomUUID().slice(0, 8)} Ltd`, registration_number: randomUUID().slice(0, 12), country: 'GB',
        roles: opts.roles ?? ['data-recipient'], status: opts.status ?? 'active',
      },
    })
    if (org.status !== 201) throw new Error(`create organisation: ${org.status} ${org.text}`)
    const orgId = org.json().id
    const code = await operator.call('POST', `/admin/organisations/${orgId}/enrolment-codes`, { scope: 'directory:admin' })
    if (code.status !== 201) throw new Error(`enrolment code: ${code.status} ${code.text}`)
    return await enrolWithCode(ctx, code.json().code)
  } finally {
    await operator.close()
  }
}

export async function enrolWithCode (ctx: TestApp, code: string): Promise<Participant> {
  const signing = ecKey()
  const jwk = createPublicKey(signing).export({ format: 'jwk' }) as JWK
  const kid = await calculateJwkThumbprint(jwk)
  const transport = ecKey()
  const res = await ctx.app.inject({
    method: 'POST', url: '/enrol',
    payload: { code, csr: makeCsr(transport), jwks: { keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] } },
  })
  if (res.statusCode !== 201) throw new Error(`enrol: ${res.statusCode} ${res.body}`)
  const out = res.json()
  return new Participant(ctx, out.client_id, out.org_id, signing, kid,
    transport.export({ format: 'pem', type: 'pkcs8' }) as string, out.certificate + out.chain.join(''))
}
