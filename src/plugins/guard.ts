import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { errors as joseErrors } from 'jose'
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
  const { tokens, db } = app.services
  app.decorate('requireScope', (needed: Scope): preHandlerAsyncHookHandler => async (request: FastifyRequest, reply: FastifyReply) => {
    const cert = await request.clientCertificate()
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
    if (claims.cnf['x5t#S256'] !== cert.x5tS256) {
      challenge(reply, 'invalid_token', 'token bound to another certificate')
      throw Unauthorized('the access token is bound to another client certificate')
    }
    const granted = claims.scope.split(' ')
    if (!granted.includes(needed)) {
      challenge(reply, 'insufficient_scope', undefined, needed)
      throw Forbidden(`the access token lacks the ${needed} scope`)
    }
    const client = await db.prisma.client.findUnique({ where: { id: claims.client_id }, select: { active: true, organisation: { select: { status: true } } } })
    if (!client?.active) throw Forbidden('the client is no longer active')
    if (client.organisation.status !== 'active') throw Forbidden(`the organisation is ${client.organisation.status}`)
    const principal: Principal = { clientId: claims.client_id, orgId: claims.org_id, scopes: granted, admin: granted.includes(scopes.admin) }
    request.principal = principal
    const orgId = (request.params as { orgId?: string } | undefined)?.orgId
    if (orgId !== undefined && orgId !== principal.orgId && !principal.admin) throw NotFound()
  })
}

export default fp(guard, { name: 'guard', dependencies: ['client-certificate'] })
