import { createHash } from 'node:crypto'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { TooManyRequests } from '../errors.js'
import { render } from './errors.js'

/** OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED tryLater(3) } — no responseBytes (RFC 6960 §4.2.1). */
export const ocspTryLater = Buffer.from('30030a0103', 'hex')

type Limited = 'token' | 'enrol' | 'ocsp'
const routes: Record<string, Limited> = { '/token': 'token', '/enrol': 'enrol', '/pki/ocsp': 'ocsp', '/pki/ocsp/*': 'ocsp' }

/**
 * Rate limits (@fastify/rate-limit) on the endpoints anyone can reach without a token: /token per client
 * certificate (its SHA-256; the address when none), /enrol and OCSP per address. Over the limit: 429 with
 * Retry-After, in the endpoint's own format (RFC 6749 JSON at /token, problem+json at /enrol, an OCSP tryLater
 * response at the responder). Counters live in this process (see README "Rate limits").
 */
async function rateLimits (app: FastifyInstance): Promise<void> {
  const { config } = app.services
  const max: Record<Limited, number> = { token: config.RATE_LIMIT_TOKEN, enrol: config.RATE_LIMIT_ENROL, ocsp: config.RATE_LIMIT_OCSP }
  const windowMs = config.RATE_LIMIT_WINDOW_SECONDS * 1000
  const limiters: Partial<Record<Limited, FastifyInstance['createRateLimit'] extends (...a: never[]) => infer L ? L : never>> = {}
  // Registered in a scope of its own and called from our hooks: no route config involved, so any other
  // registration (the portal's login limit) keeps its own behaviour.
  await app.register(async (scope) => {
    await scope.register(rateLimit, { global: false, skipOnError: true })
    for (const name of Object.keys(max) as Limited[]) {
      if (max[name] > 0) limiters[name] = scope.createRateLimit({ max: max[name], timeWindow: windowMs, keyGenerator: name === 'token' ? clientKey : (r) => `ip:${r.ip}` })
    }
  })

  app.addHook('onRoute', (route) => {
    const name = routes[route.url]
    const limiter = name ? limiters[name] : undefined
    if (!name || !limiter) return
    const hook = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const r = await limiter(request)
      if (r.isAllowed || !r.isExceeded) return undefined
      reply.header('retry-after', String(r.ttlInSeconds))
      request.log.info({ limit: name, key: r.key.slice(0, 16) }, 'rate limit exceeded')
      if (name === 'ocsp') return reply.code(429).type('application/ocsp-response').header('cache-control', 'no-store').send(ocspTryLater)
      const who = name === 'token' ? 'this client certificate' : 'this address'
      return render(request, reply, TooManyRequests(`more than ${r.max} requests in ${config.RATE_LIMIT_WINDOW_SECONDS} s from ${who}; retry after ${r.ttlInSeconds} s`))
    }
    route.onRequest = [...[route.onRequest ?? []].flat(), hook]
  })
}

/** The client certificate on this connection (mTLS listener), else the address. */
function clientKey (request: FastifyRequest): string {
  try {
    return `cert:${createHash('sha256').update(request.presentedCertificate()).digest('base64url')}`
  } catch {
    return `ip:${request.ip}`
  }
}

export default fp(rateLimits, { name: 'rate-limits' })
