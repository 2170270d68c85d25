import cookie from '@fastify/cookie'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { App } from '../app.js'
import { Forbidden, Problem, Unauthorized } from '../errors.js'
import { toProblem } from '../plugins/errors.js'
import assets from './assets.js'
import { escape } from './html.js'
import { sameSecret } from './secrets.js'
import type { Session } from './sessions.js'
import type { PortalUserView } from './users.js'
import authApi from './routes/auth-api.js'
import authPages from './pages/auth-pages.js'
import directoryPages from './pages/directory-pages.js'
import eventPages from './pages/event-pages.js'
import organisationPages from './pages/organisation-pages.js'
import softwarePages from './pages/software-pages.js'
import eventApi from './routes/event-api.js'
import registryApi from './routes/registry-api.js'

export interface PortalRequestState { session: Session, user: PortalUserView }

declare module 'fastify' {
  interface FastifyRequest { portal?: PortalRequestState }
}

// __Host-: the browser only accepts it Secure, for this host alone, with Path=/ (no subdomain can plant it).
export const sessionCookie = '__Host-directory-session'

export const StepUpRequired = (): Problem =>
  new Problem(403, 'step-up-required', 'Confirm With Your Passkey', 'this action needs a passkey confirmation from the last 5 minutes')

/** The signed-in person, or a 401 (API) — pages redirect to the login page instead (see pages). */
export function viewer (request: FastifyRequest): PortalRequestState {
  if (!request.portal) throw Unauthorized('sign in to the portal first')
  return request.portal
}

export function setSessionCookie (reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  reply.setCookie(sessionCookie, token, { path: '/', httpOnly: true, secure: true, sameSite: 'strict', maxAge: maxAgeSeconds })
}

/**
 * The web portal under /portal/ on the public listener: pages, their script and style, and the JSON API
 * under /portal/api. Every action calls the same services as the admin and participant APIs.
 */
export default async function portal (app: App): Promise<void> {
  const { config, portal: p } = app.services
  const origin = new URL(config.DIRECTORY_ISSUER).origin

  await app.register(cookie)
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'"], connectSrc: ["'self'"],
        formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"], objectSrc: ["'none'"],
      },
    },
    // Setup links carry their token in the path: never send it on in a Referer.
    referrerPolicy: { policy: 'no-referrer' },
    // Behind plain http on localhost HSTS would be meaningless; over https the proxy or listener sets it.
    strictTransportSecurity: origin.startsWith('https:'),
  })
  await app.register(rateLimit, { global: false })

  // Every response here is about one person: never stored by shared caches.
  app.addHook('onSend', async (request, reply) => {
    if (!request.url.startsWith('/portal/assets/')) reply.header('cache-control', 'no-store')
  })

  app.addHook('preHandler', async (request) => {
    const token = request.cookies[sessionCookie]
    if (token) {
      const session = await p.sessions.resolve(token)
      if (session) request.portal = { session, user: await p.users.get(session.userId) }
    }
    if (request.method === 'GET' || request.method === 'HEAD') return
    // State changes: the browser must say it is us (Origin), and a signed-in request carries the
    // session's CSRF token in a header a cross-site form cannot set.
    const from = request.headers.origin
    if (from !== undefined && from !== origin) throw Forbidden('cross-origin request refused')
    if (request.portal) {
      const csrf = request.headers['x-csrf-token']
      if (typeof csrf !== 'string' || !sameSecret(csrf, request.portal.session.csrfToken)) throw Forbidden('missing or wrong CSRF token: reload the page and try again')
    }
  })

  await app.register(assets)
  await app.register(async (api) => {
    await api.register(authApi)
    await api.register(registryApi)
    await api.register(eventApi)
  }, { prefix: '/portal/api' })

  await app.register(async (pages) => {
    // Pages answer errors as pages, not JSON.
    pages.setErrorHandler((error, request, reply) => {
      const problem = toProblem(error as Error, config.BODY_LIMIT)
      if (!problem) request.log.error({ err: error }, 'unexpected error')
      const status = problem?.status ?? 500
      const title = problem?.title ?? 'Something went wrong'
      const detail = problem?.detail ?? 'An unexpected error occurred; it has been logged.'
      return reply.code(status).type('text/html; charset=utf-8').send(errorPage(title, detail))
    })
    await pages.register(authPages)
    await pages.register(organisationPages)
    await pages.register(softwarePages)
    await pages.register(directoryPages)
    await pages.register(eventPages)
  }, { prefix: '/portal' })
}

export function errorPage (title: string, detail: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} — Ecosystem Directory</title><link rel="stylesheet" href="/portal/assets/portal.css"></head>
<body><header class="top"><a class="brand" href="/portal/">Ecosystem Directory</a></header><main id="main"><h1>${escape(title)}</h1><p>${escape(detail)}</p>
<p><a href="/portal/login">Go to sign in</a></p></main></body></html>`
}
