import formbody from '@fastify/formbody'
import type { App } from '../../app.js'
import { OAuthError, Problem } from '../../errors.js'
import type { TokenRequest } from '../../auth/tokens.js'

const fields = ['grant_type', 'client_assertion_type', 'client_assertion', 'client_id', 'scope'] as const

/** POST /token (RFC 6749 §4.4 + RFC 7523 + RFC 8705): errors in RFC 6749 §5.2 form, never cached. */
export default async function tokenRoutes (app: App): Promise<void> {
  await app.register(formbody, { bodyLimit: 16 * 1024 })
  app.post('/token', {
    schema: { tags: ['oauth'], summary: 'Client credentials with private_key_jwt over mTLS → certificate-bound access token', consumes: ['application/x-www-form-urlencoded'] },
    bodyLimit: 16 * 1024,
    config: { oauthErrors: true },
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    if (!request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
      throw new OAuthError('invalid_request', 'the token request must be application/x-www-form-urlencoded')
    }
    const body = (request.body ?? {}) as Record<string, unknown>
    const form: TokenRequest = {}
    for (const name of fields) {
      const v = body[name]
      // RFC 6749 §3.2: parameters must not be included more than once.
      if (Array.isArray(v)) throw new OAuthError('invalid_request', `${name} is repeated`)
      if (v !== undefined) form[name] = String(v)
    }
    let certificate
    try {
      certificate = request.presentedCertificate()
    } catch (e) {
      if (!(e instanceof Problem)) throw e
      throw new OAuthError('invalid_client', e.detail ?? e.title)
    }
    // The certificate is looked up with the client, in one round trip. A database that is away is not the
    // client's fault: the error handler answers that 503 temporarily_unavailable.
    return app.services.tokens.issue(form, certificate)
  })
}
