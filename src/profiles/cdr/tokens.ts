import { randomUUID } from 'node:crypto'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose'
import type { PresentedCertificate } from '../../auth/client-certificate.js'
import { clientAssertionType, type TokenRequest } from '../../auth/tokens.js'
import { epochSeconds, type Clock } from '../../clock.js'
import type { Prisma } from '../../db/database.js'
import { OAuthError } from '../../errors.js'
import type { SigningKeys } from '../../keys/signing-keys.js'
import type { CertificateAuthority } from '../../pki/authority.js'
import { loadKeystore } from '../../publication/keystores.js'

/** The Register's token rules (CDS "CDR Register" security profile; mock-register TokenController). */
export const registerScope = 'cdr-register:read'
export const registerAudience = 'cdr-register'
const algorithms = ['PS256', 'ES256']
const tokenTtl = 300
const skew = 30

export interface RegisterToken { client_id: string, scope: string, cnf: { 'x5t#S256': string } }

/**
 * The CDR Register's token endpoint: client_credentials with private_key_jwt where the client is the
 * **software product** (iss = sub = software product id), signed with one of the product's active
 * signing keys at this directory, over an mTLS connection with a transport certificate of its
 * organisation; scope exactly `cdr-register:read`; the token's audience is the Register alone.
 */
export class RegisterTokens {
  constructor (private readonly d: {
    prisma: Prisma, clock: Clock, keys: SigningKeys, authority: CertificateAuthority, issuer: string, tokenEndpoint: string
  }) {}

  async issue (req: TokenRequest, cert: PresentedCertificate): Promise<{ access_token: string, token_type: 'Bearer', expires_in: number, scope: string }> {
    if (req.grant_type !== 'client_credentials') throw new OAuthError(req.grant_type ? 'unsupported_grant_type' : 'invalid_request', 'grant_type must be client_credentials')
    if (req.client_assertion_type !== clientAssertionType) throw new OAuthError('invalid_request', `client_assertion_type must be ${clientAssertionType}`)
    if (!req.client_assertion) throw new OAuthError('invalid_request', 'client_assertion is required')
    if (req.scope !== registerScope) throw new OAuthError('invalid_scope', `scope must be ${registerScope}`)
    let productId: unknown
    try {
      const alg = decodeProtectedHeader(req.client_assertion).alg
      if (!algorithms.includes(String(alg))) throw new OAuthError('invalid_client', `client_assertion alg ${String(alg)} is not allowed; use PS256 or ES256`)
      productId = decodeJwt(req.client_assertion).iss
    } catch (e) {
      if (e instanceof OAuthError) throw e
      throw new OAuthError('invalid_client', 'client_assertion is not a JWT')
    }
    if (typeof productId !== 'string' || !/^[0-9a-f-]{36}$/.test(productId)) throw new OAuthError('invalid_client', 'client_assertion iss must be the software product id')
    if (req.client_id !== undefined && req.client_id !== productId) throw new OAuthError('invalid_client', 'client_id does not match the client_assertion')
    const product = await this.d.prisma.softwareProduct.findUnique({ where: { softwareStatementId: productId }, include: { softwareStatement: { select: { organisationId: true } } } })
    if (!product) throw new OAuthError('invalid_client', 'unknown software product')
    const orgId = product.softwareStatement.organisationId
    if (cert.organisationId !== orgId) throw new OAuthError('invalid_client', 'the client certificate belongs to another organisation')

    const { jwks } = await loadKeystore(this.d.prisma, this.d.clock, this.d.authority.chain(), { orgId, softwareId: productId, type: 'signing' })
    let payload: JWTPayload
    try {
      ({ payload } = await jwtVerify(req.client_assertion, createLocalJWKSet(jwks as never), {
        algorithms, issuer: productId, subject: productId, audience: [this.d.tokenEndpoint, this.d.issuer],
        clockTolerance: skew, requiredClaims: ['exp', 'jti'], currentDate: this.d.clock.now(),
      }))
    } catch (e) {
      throw new OAuthError('invalid_client', `client_assertion: ${(e as Error).message}`)
    }
    const now = epochSeconds(this.d.clock)
    if (payload.exp! > now + 300 + skew) throw new OAuthError('invalid_client', 'client_assertion exp is more than 300 s ahead')
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) throw new OAuthError('invalid_client', 'client_assertion jti must be a non-empty string')
    try {
      // Software product ids and client ids are both UUIDs from one generator: one replay table serves both.
      await this.d.prisma.usedAssertion.create({ data: { clientId: productId, jti: payload.jti, expiresAt: new Date((payload.exp! + skew) * 1000) } })
    } catch (e) {
      if ((e as { code?: string }).code === 'P2002' || /unique|duplicate/i.test(String(e))) throw new OAuthError('invalid_client', 'client_assertion jti has been used already')
      throw e
    }
    const key = this.d.keys.current()
    const token = await new SignJWT({ client_id: productId, scope: registerScope, cnf: { 'x5t#S256': cert.x5tS256 } })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(this.d.issuer).setSubject(productId).setAudience(registerAudience)
      .setIssuedAt(now).setExpirationTime(now + tokenTtl).setJti(randomUUID())
      .sign(key.key)
    return { access_token: token, token_type: 'Bearer', expires_in: tokenTtl, scope: registerScope }
  }

  /** A Register access token's claims, or why it is not one: our key, at+jwt, our issuer, the Register's audience. */
  async verify (token: string): Promise<RegisterToken> {
    const { payload } = await jwtVerify(token, createLocalJWKSet(this.d.keys.jwks() as never), {
      algorithms, typ: 'at+jwt', issuer: this.d.issuer, audience: registerAudience, requiredClaims: ['exp', 'client_id', 'scope', 'cnf'], currentDate: this.d.clock.now(),
    })
    const cnf = payload.cnf as { 'x5t#S256'?: unknown } | undefined
    if (typeof payload.client_id !== 'string' || typeof payload.scope !== 'string' || typeof cnf?.['x5t#S256'] !== 'string') throw new Error('malformed claims')
    return { client_id: payload.client_id, scope: payload.scope, cnf: { 'x5t#S256': cnf['x5t#S256'] } }
  }
}
