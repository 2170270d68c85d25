import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { App } from '../../app.js'
import { scopes } from '../../auth/scopes.js'
import { Problem } from '../../errors.js'
import { uuid } from '../../registry/schemas.js'
import { sendDocument } from '../../routes/send-document.js'
import { profileErrors } from '../errors.js'
import type { UkKeystore } from './service.js'

function common (app: App): void {
  // Every OBIE Directory API response carries OB-Request-Id, "give it to the Support Desk".
  app.addHook('onRequest', async (_request, reply) => { reply.header('ob-request-id', randomUUID()) })
  // The Directory API declares no error body; ours says what failed, in RFC 6749 style. It knows no
  // 403: a token that may not do this, or a participant not in good standing, is its 401.
  profileErrors(app, {
    bodyLimit: app.services.config.BODY_LIMIT,
    render: (p: Problem, reply: FastifyReply) => reply.code(p.status === 403 ? 401 : p.status).type('application/json; charset=utf-8')
      .send({ error: p.code, error_description: [p.detail ?? p.title, ...(p.extensions.errors ?? []).map((e) => `${e.path}: ${e.message}`)].join('; ') }),
  })
}

/** Public listener, under /uk: the directory's keys and the OBIE keystore layout. */
export async function ukPublicRoutes (app: App): Promise<void> {
  common(app)
  const { documents, config, clock } = app.services
  const uk = app.services.profiles.uk!
  const tags = ['uk']
  app.get('/openbanking.jwks', { schema: { tags, summary: "The directory's SSA signing keys" } }, async (request, reply) =>
    sendDocument(request, reply, await documents.get('uk:openbanking.jwks', async () => ({
      body: JSON.stringify(uk.directoryJwks()), contentType: 'application/json',
    })), config.CACHE_MAX_AGE))

  const keystore = async (request: FastifyRequest, reply: FastifyReply, k: UkKeystore) => {
    const doc = await documents.get(`uk:keystore:${k.orgId}:${k.id}:${k.revoked}`, async () => {
      const { jwks, validUntil } = await uk.keystore(k)
      return { body: JSON.stringify(jwks), contentType: 'application/json', ...(validUntil ? { validUntil } : {}) }
    }, clock.now())
    return sendDocument(request, reply, doc, config.CACHE_MAX_AGE)
  }
  // `{id}.jwks`: id is the organisation (its whole keystore) or a software statement's base-62 id.
  const params = z.object({ orgId: uuid, file: z.string().regex(/^[0-9A-Za-z-]{22,36}\.jwks$/, 'must be {org_id}.jwks or {software_id}.jwks') })
  const idOf = (file: string) => file.slice(0, -'.jwks'.length)
  app.get('/:orgId/:file', { schema: { tags, params, summary: 'Active signing and transport keys of an organisation or one of its software statements' } },
    async (r, reply) => keystore(r, reply, { orgId: r.params.orgId, id: idOf(r.params.file), revoked: false }))
  app.get('/:orgId/revoked/:file', { schema: { tags, params, summary: 'Revoked and expired keys of an organisation or one of its software statements' } },
    async (r, reply) => keystore(r, reply, { orgId: r.params.orgId, id: idOf(r.params.file), revoked: true }))
}

/** mTLS listener, under /uk: the Directory API 2.2 SSA endpoint (its TPPReadAccess or ASPSPReadAccess, or our directory:software). */
export async function ukProtectedRoutes (app: App): Promise<void> {
  common(app)
  const uk = app.services.profiles.uk!
  app.get('/v2.1/organisation/:orgId/software-statement/:softwareId/software-statement-assertion', {
    preHandler: app.requireScope([scopes.ukTppRead, scopes.ukAspspRead, scopes.software]),
    schema: {
      tags: ['uk'], summary: 'Software Statement Assertion in the OBIE claim set',
      params: z.object({ orgId: uuid, softwareId: z.string().regex(/^[0-9A-Za-z-]{22,36}$/, 'must be a base-62 software statement id') }),
    },
  }, async (r, reply) => {
    let ssa: string
    try {
      ssa = await uk.assertion(r.params.orgId, r.params.softwareId, { actor: `client:${r.principal!.clientId}`, requestId: r.id })
    } catch (e) {
      // The status gate is the document's "pre-conditions … to generate an SSA": a 400 there.
      if (e instanceof Problem && e.status === 403) throw new Problem(400, 'ssa-precondition', 'SSA Pre-condition Not Met', e.detail)
      throw e
    }
    return reply.type('application/jws+json').header('cache-control', 'no-store').send(ssa)
  })
}
