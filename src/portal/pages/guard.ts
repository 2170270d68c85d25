import type { FastifyReply, FastifyRequest } from 'fastify'
import type { PortalRequestState } from '../plugin.js'
import type { PageContext } from './layout.js'

/** The signed-in person for a page, or undefined after sending them to the sign-in page. */
export function signedIn (request: FastifyRequest, reply: FastifyReply): (PortalRequestState & { ctx: PageContext }) | undefined {
  if (!request.portal) {
    const path = request.url.split('?')[0] ?? '/portal/'
    // Only our own paths as the return address: no open redirect.
    void reply.redirect(`/portal/login?next=${encodeURIComponent(path)}`)
    return undefined
  }
  const { user, session } = request.portal
  return { user, session, ctx: { user, csrf: session.csrfToken, path: request.url.split('?')[0] ?? '' } }
}

export const sendPage = (reply: FastifyReply, body: string, status = 200): FastifyReply =>
  reply.code(status).type('text/html; charset=utf-8').send(body)
