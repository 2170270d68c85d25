import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt'
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { currentStanding, thumbprint } from '../auth/client-certificate.js'
import { scopes, type Scope } from '../auth/scopes.js'
import { isAccessTokenClaims, type AccessTokenClaims } from '../auth/tokens.js'
import { Forbidden, NotFound, Unauthorized } from '../errors.js'

export interface Principal { clientId: string, orgId: string, scopes: string[], admin: boolean }

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for a protected route: token bound to this connection's certificate, scope, live status. */
    requireScope: (scope: Scope | Scope[]) => preHandlerAsyncHookHandler
  }
  interface FastifyRequest { principal?: Principal }
}

function challenge (reply: FastifyReply, error?: string, description?: string, scope?: string): void {
  const params = ['realm="directory"']
  if (error) params.push(`error="${error}"`)
  if (description) params.push(`error_description="${description.replace(/["\\]/g, '')}"`)
  if (scope) params.push(`scope="${scope}"`)
  reply.header('www-authenticate', `Bearer ${params.join(', ')}`)
}

/**
 * Every protected request (DESIGN.md §5): RFC 6750 bearer token, RFC 9068 claims, RFC 8705 binding to
 * the certificate on this connection, scope, and the client and its organisation active *now* — a
 * suspension bites on the next request, not at token expiry. Another organisation's resources are 404.
 */
async function guard (app: FastifyInstance): Promise<void> {
  const { tokens, db, clock, keys } = app.services
  // The key is the published directory key the token's kid names (active, next, or retired within the
  // overlap), and the token's alg must be that key's: a PS256 key never verifies an ES256 header, and
  // an unknown kid fails before any signature work.
  await app.register(fastifyJwt, {
    secret: {
      public: async (_request: FastifyRequest, token: TokenOrHeader) => {
        const header = 'header' in token ? token.header : token
        const key = keys.verificationKey(header.kid)
        if (!key) throw new Error('the access token is not signed by a published directory key')
        if (header.alg !== key.alg) throw new Error(`the access token's alg is not its key's (${key.alg})`)
        return key.pem
      },
    },
    decode: { complete: true },
    verify: tokens.accessTokenRules,
    decoratorName: 'accessTokenClaims',
  })
  app.decorate('requireScope', (needed: Scope | Scope[]): preHandlerAsyncHookHandler => async (request: FastifyRequest, reply: FastifyReply) => {
    const der = request.presentedCertificate()
    const auth = request.headers.authorization
    const m = typeof auth === 'string' ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(auth) : null
    if (!m) {
      challenge(reply)
      throw Unauthorized('a bearer access token from the token endpoint is required')
    }
    let claims: AccessTokenClaims
    try {
      // Our clock, not the process's: time is set in tests, and every instance judges expiry alike.
      const payload = await request.jwtVerify<object>({ clockTimestamp: clock.now().getTime() })
      if (!isAccessTokenClaims(payload)) throw new Error('malformed access token claims')
      claims = payload
    } catch (e) {
      const why = (e as { code?: string }).code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' ? 'the access token has expired' : 'the access token is invalid'
      challenge(reply, 'invalid_token', why)
      throw Unauthorized(why)
    }
    if (claims.cnf['x5t#S256'] !== thumbprint(der)) {
      challenge(reply, 'invalid_token', 'token bound to another certificate')
      throw Unauthorized('the access token is bound to another client certificate')
    }
    // The token is bound to this certificate; whether certificate, client and organisation are still
    // in good standing is read fresh, in one query, on every request.
    const standing = await currentStanding(db.sql, clock, claims.cnf['x5t#S256'], claims.client_id)
    if (standing.certificate) throw Unauthorized(standing.certificate)
    if (standing.client) throw Forbidden(standing.client)
    if (standing.organisation) throw Forbidden(standing.organisation)
    const granted = claims.scope.split(' ')
    // A list is alternatives: any one of them will do.
    const anyOf: string[] = Array.isArray(needed) ? needed : [needed]
    if (!anyOf.some((s) => granted.includes(s))) {
      challenge(reply, 'insufficient_scope', undefined, anyOf.join(' '))
      throw Forbidden(`the access token lacks the ${anyOf.join(' or ')} scope`)
    }
    const principal: Principal = { clientId: claims.client_id, orgId: claims.org_id, scopes: granted, admin: granted.includes(scopes.admin) }
    request.principal = principal
    const orgId = (request.params as { orgId?: string } | undefined)?.orgId
    if (orgId !== undefined && orgId !== principal.orgId && !principal.admin) throw NotFound()
  })
}

export default fp(guard, { name: 'guard', dependencies: ['client-certificate'] })
