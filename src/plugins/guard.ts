import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { errors as joseErrors } from 'jose'
import { currentStanding, thumbprint } from '../auth/client-certificate.js'
import { scopes, type Scope } from '../auth/scopes.js'
import { Forbidden, NotFound, Unauthorized } from '../errors.js'

export interface Principal { clientId: string, orgId: string, scopes: string[], admin: boolean }

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for a protected route: token bound to this connection's certificate, scope, live status. */
    requireScope: (scope: Scope) => preHandlerAsyncHookHandler
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
  const { tokens, db, clock } = app.services
  app.decorate('requireScope', (needed: Scope): preHandlerAsyncHookHandler => async (request: FastifyRequest, reply: FastifyReply) => {
    const der = request.presentedCertificate()
    const auth = request.headers.authorization
    const m = typeof auth === 'string' ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(auth) : null
    if (!m) {
      challenge(reply)
      throw Unauthorized('a bearer access token from the token endpoint is required')
    }
    let claims
    try {
      claims = await tokens.verify(m[1]!)
    } catch (e) {
      const why = e instanceof joseErrors.JWTExpired ? 'the access token has expired' : 'the access token is invalid'
      challenge(reply, 'invalid_token', why)
      throw Unauthorized(why)
    }
    if (claims.cnf['x5t#S256'] !== thumbprint(der)) {
      challenge(reply, 'invalid_token', 'token bound to another certificate')
      throw Unauthorized('the access token is bound to another client certificate')
    }
    // The token is bound to this certificate; whether certificate, client and organisation are still
    // in good standing is read fresh, in one query, on every request.
    const standing = await currentStanding(db.prisma, clock, claims.cnf['x5t#S256'], claims.client_id)
    if (standing.certificate) throw Unauthorized(standing.certificate)
    if (standing.client) throw Forbidden(standing.client)
    if (standing.organisation) throw Forbidden(standing.organisation)
    const granted = claims.scope.split(' ')
    if (!granted.includes(needed)) {
      challenge(reply, 'insufficient_scope', undefined, needed)
      throw Forbidden(`the access token lacks the ${needed} scope`)
    }
    const principal: Principal = { clientId: claims.client_id, orgId: claims.org_id, scopes: granted, admin: granted.includes(scopes.admin) }
    request.principal = principal
    const orgId = (request.params as { orgId?: string } | undefined)?.orgId
    if (orgId !== undefined && orgId !== principal.orgId && !principal.admin) throw NotFound()
  })
}

export default fp(guard, { name: 'guard', dependencies: ['client-certificate'] })
