import { randomUUID } from 'node:crypto'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose'
import type { Clock } from '../clock.js'
import { epochSeconds } from '../clock.js'
import type { Config } from '../config.js'
import type { Prisma } from '../db/database.js'
import type { Sql } from '../db/sql.js'
import { OAuthError } from '../errors.js'
import type { SigningAlg, SigningKeys } from '../keys/signing-keys.js'
import { certificateProblem, thumbprint } from './client-certificate.js'
import type { ClientJwks } from './client-jwks.js'
import { ukScopesFor } from '../profiles/uk/scopes.js'

export const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const allowedAlgs: SigningAlg[] = ['PS256', 'ES256']
const skew = 30
const maxAssertionLifetime = 300

export interface TokenRequest {
  grant_type?: string | undefined
  client_assertion_type?: string | undefined
  client_assertion?: string | undefined
  client_id?: string | undefined
  scope?: string | undefined
}

export interface TokenResponse { access_token: string, token_type: 'Bearer', expires_in: number, scope: string }

export interface AccessTokenClaims extends JWTPayload {
  client_id: string
  org_id: string
  scope: string
  cnf: { 'x5t#S256': string }
}

/** fast-jwt's verifier options (times in milliseconds) for our access tokens. */
export interface AccessTokenRules {
  algorithms: SigningAlg[], checkTyp: string, allowedIss: string, allowedAud: string, clockTolerance: number, requiredClaims: string[]
}

/** The claims the guard reads have the types it reads them as (signature and presence are checked before). */
export function isAccessTokenClaims (payload: unknown): payload is AccessTokenClaims {
  const p = payload as Partial<Record<keyof AccessTokenClaims, unknown>> | null
  const cnf = p?.cnf as { 'x5t#S256'?: unknown } | undefined
  return typeof cnf?.['x5t#S256'] === 'string' && typeof p?.scope === 'string' && typeof p.org_id === 'string' && typeof p.client_id === 'string'
}

/**
 * The token endpoint's rules (DESIGN.md §5; RFC 7523 §3, FAPI 2.0 security profile §5.3.2.1):
 * client_credentials with private_key_jwt only, PS256/ES256 only, single-use jti across instances,
 * the client's certificate from the same organisation, and a token bound to that certificate (RFC 8705).
 */
export class TokenService {
  constructor (private readonly d: { prisma: Prisma, sql: Sql, clock: Clock, keys: SigningKeys, config: Pick<Config, 'DIRECTORY_ISSUER' | 'MTLS_BASE_URL' | 'ACCESS_TOKEN_TTL' | 'ECOSYSTEM_PROFILES'> }) {}

  get tokenEndpoint (): string { return `${this.d.config.MTLS_BASE_URL}/token` }
  /** The audience of access tokens: the directory's protected API. */
  get audience (): string { return this.d.config.MTLS_BASE_URL }

  /**
   * `certificate` is the DER of the client certificate on this connection (chain checked by TLS); whether it is one
   * we issued, current and unrevoked, is read in the same round trip as the client.
   */
  async issue (req: TokenRequest, certificate: Buffer): Promise<TokenResponse> {
    if (req.grant_type !== 'client_credentials') {
      throw new OAuthError(req.grant_type ? 'unsupported_grant_type' : 'invalid_request', req.grant_type ? `grant_type ${req.grant_type} is not supported; use client_credentials` : 'grant_type is required')
    }
    if (req.client_assertion_type !== clientAssertionType) throw new OAuthError('invalid_request', `client_assertion_type must be ${clientAssertionType}`)
    if (!req.client_assertion) throw new OAuthError('invalid_request', 'client_assertion is required')

    let header, unverified
    try {
      header = decodeProtectedHeader(req.client_assertion)
      unverified = decodeJwt(req.client_assertion)
    } catch {
      throw new OAuthError('invalid_client', 'client_assertion is not a JWT')
    }
    if (typeof header.alg !== 'string' || !(allowedAlgs as string[]).includes(header.alg)) {
      throw new OAuthError('invalid_client', `client_assertion alg ${String(header.alg)} is not allowed; use PS256 or ES256`)
    }
    const clientId = unverified.iss
    if (typeof clientId !== 'string' || unverified.sub !== clientId) throw new OAuthError('invalid_client', 'client_assertion iss and sub must both be the client id')
    if (req.client_id !== undefined && req.client_id !== clientId) throw new OAuthError('invalid_client', 'client_id does not match the client_assertion')
    if (!/^[0-9a-f-]{36}$/.test(clientId)) throw new OAuthError('invalid_client', 'unknown client')
    // One round trip for the certificate, the client and its organisation's status.
    const x5t = thumbprint(certificate)
    const [row] = await this.d.sql.query<{
      type: string | null, status: string | null, not_before: Date | null, not_after: Date | null, cert_org: string | null
      organisation_id: string | null, jwks: ClientJwks, scopes: string[], org_status: string, active_roles: string[] | null
    }>(
      `SELECT ce.type::text AS type, ce.status::text AS status, ce.not_before, ce.not_after, ce.organisation_id AS cert_org,
              c.organisation_id, c.jwks, c.scopes, o.status::text AS org_status,
              -- The uk profile grants its scopes by role; only then are the roles read.
              CASE WHEN $3::boolean THEN ARRAY(SELECT r.role FROM organisation_roles r WHERE r.organisation_id = o.id AND r.status = 'active') END AS active_roles
         FROM (SELECT 1) one
         LEFT JOIN certificates ce ON ce.x5t_s256 = $1
         LEFT JOIN clients c ON c.id = $2::uuid AND c.active
         LEFT JOIN organisations o ON o.id = c.organisation_id`, [x5t, clientId, this.d.config.ECOSYSTEM_PROFILES.includes('uk')], 'token_client')
    // RFC 8705 §2: a certificate this directory issued, a current and unrevoked transport certificate.
    const problem = certificateProblem(row!.type ? { type: row!.type, status: row!.status!, notBefore: new Date(row!.not_before!), notAfter: new Date(row!.not_after!) } : undefined, this.d.clock.now())
    if (problem) throw new OAuthError('invalid_client', problem)
    const cert = { x5tS256: x5t, organisationId: row!.cert_org! }
    if (!row!.organisation_id) throw new OAuthError('invalid_client', 'unknown client')
    const client = { ...row!, organisation_id: row!.organisation_id }

    let payload: JWTPayload
    try {
      ({ payload } = await jwtVerify(req.client_assertion, this.keySetOf(clientId, client.jwks), {
        algorithms: allowedAlgs, issuer: clientId, subject: clientId, audience: [this.d.config.DIRECTORY_ISSUER, this.tokenEndpoint],
        clockTolerance: skew, requiredClaims: ['exp', 'jti'], currentDate: this.d.clock.now(),
      }))
    } catch (e) {
      throw new OAuthError('invalid_client', assertionProblem(e))
    }
    const now = epochSeconds(this.d.clock)
    if (payload.exp! > now + maxAssertionLifetime + skew) throw new OAuthError('invalid_client', `client_assertion exp is more than ${maxAssertionLifetime} s ahead`)
    if (payload.iat !== undefined && payload.iat > now + skew) throw new OAuthError('invalid_client', 'client_assertion iat is in the future')
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) throw new OAuthError('invalid_client', 'client_assertion jti must be a non-empty string')

    // RFC 8705 §2: the client authenticated with this certificate; it must be its organisation's.
    if (cert.organisationId !== client.organisation_id) throw new OAuthError('invalid_client', 'the client certificate belongs to another organisation')
    if (client.org_status !== 'active') throw new OAuthError('unauthorized_client', `the organisation is ${client.org_status}`)

    const allowed: string[] = [...client.scopes, ...(client.active_roles ? ukScopesFor(client.active_roles) : [])]
    const requested = req.scope ? req.scope.split(' ').filter(Boolean) : client.scopes
    const refused = requested.filter((s) => !allowed.includes(s))
    if (refused.length > 0 || requested.length === 0) throw new OAuthError('invalid_scope', `scope not allowed for this client: ${refused.join(' ') || '(empty)'}`)

    // The primary key (client_id, jti) refuses a replay on every instance sharing the database.
    // ON CONFLICT DO NOTHING: a replay is an answer (no row back), not an error to classify.
    const [fresh] = await this.d.sql.query<{ jti: string }>(
      'INSERT INTO used_assertions (client_id, jti, expires_at) VALUES ($1::uuid, $2, $3) ON CONFLICT DO NOTHING RETURNING jti',
      [clientId, payload.jti, new Date((payload.exp! + skew) * 1000)], 'token_jti')
    if (!fresh) throw new OAuthError('invalid_client', 'client_assertion jti has been used already')
    this.prune(now)

    const scope = [...new Set(requested)].join(' ')
    const key = this.d.keys.current()
    const ttl = this.d.config.ACCESS_TOKEN_TTL
    const accessToken = await new SignJWT({ client_id: clientId, org_id: client.organisation_id, scope, cnf: { 'x5t#S256': cert.x5tS256 } })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(this.d.config.DIRECTORY_ISSUER).setSubject(clientId).setAudience(this.audience)
      .setIssuedAt(now).setExpirationTime(now + ttl).setJti(randomUUID())
      .sign(key.key)
    return { access_token: accessToken, token_type: 'Bearer', expires_in: ttl, scope }
  }

  // Importing a client's keys costs more than verifying with them: keep the imported set per client,
  // replaced when the stored JWKS changes.
  private readonly clientKeySets = new Map<string, { json: string, set: ReturnType<typeof createLocalJWKSet> }>()
  private keySetOf (clientId: string, jwks: ClientJwks): ReturnType<typeof createLocalJWKSet> {
    const json = JSON.stringify(jwks)
    const hit = this.clientKeySets.get(clientId)
    if (hit?.json === json) return hit.set
    if (this.clientKeySets.size >= 10_000) this.clientKeySets.delete(this.clientKeySets.keys().next().value!)
    const set = createLocalJWKSet(jwks as never)
    this.clientKeySets.set(clientId, { json, set })
    return set
  }

  /**
   * What an access token must be (RFC 9068 §4), as @fastify/jwt verify options: PS256/ES256, `typ` at+jwt,
   * our issuer, our protected API as audience, and the claims the guard relies on. The guard checks the
   * key (by kid, among the published keys), `cnf` and standing itself.
   */
  get accessTokenRules (): AccessTokenRules {
    return {
      algorithms: allowedAlgs, checkTyp: 'at+jwt', allowedIss: this.d.config.DIRECTORY_ISSUER, allowedAud: this.audience,
      clockTolerance: skew * 1000, requiredClaims: ['exp', 'iat', 'jti', 'client_id', 'org_id', 'scope', 'cnf'],
    }
  }

  private lastPrune = 0
  /** Drops remembered jti values once their assertions have expired (at most once a minute). */
  private prune (now: number): void {
    if (now - this.lastPrune < 60) return
    this.lastPrune = now
    this.d.prisma.usedAssertion.deleteMany({ where: { expiresAt: { lt: new Date(now * 1000) } } }).catch(() => {})
  }
}

function assertionProblem (e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'client_assertion has expired'
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `client_assertion ${e.claim} claim is invalid: ${e.reason}`
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'client_assertion signature does not verify'
  if (e instanceof joseErrors.JWKSNoMatchingKey) return 'client_assertion is not signed by a key registered for this client'
  if (e instanceof joseErrors.JWKSMultipleMatchingKeys) return 'client_assertion needs a kid: several registered keys match'
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'client_assertion alg is not allowed'
  return 'client_assertion is invalid'
}
