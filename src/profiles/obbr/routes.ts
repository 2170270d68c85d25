import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { App } from '../../app.js'
import { scopes } from '../../auth/scopes.js'
import type { Problem } from '../../errors.js'
import { uuid } from '../../registry/schemas.js'
import { sendDocument } from '../../routes/send-document.js'
import { profileErrors } from '../errors.js'
import type { ObbrKeystore } from './service.js'

// x-fapi-interaction-id (obbr-participants-openapi.yaml): echoed when well formed, otherwise a new RFC 4122 id.
const interactionId = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,99}$/

function common (app: App): void {
  app.addHook('onSend', async (request, reply) => {
    const given = request.headers['x-fapi-interaction-id']
    reply.header('x-fapi-interaction-id', typeof given === 'string' && interactionId.test(given) ? given : randomUUID())
  })
  // Raidiam's error body (HttpResponseBody): {errors: [message]}.
  profileErrors(app, {
    bodyLimit: app.services.config.BODY_LIMIT,
    render: (p: Problem, reply: FastifyReply) => reply.code(p.status).type('application/json; charset=utf-8')
      .send({ errors: [p.detail ?? p.title, ...(p.extensions.errors ?? []).map((e) => `${e.path}: ${e.message}`)] }),
  })
}

/** Public listener, under /obbr: the participants list and the keystores. */
export async function obbrPublicRoutes (app: App): Promise<void> {
  common(app)
  const { documents, config, clock } = app.services
  const obbr = app.services.profiles.obbr!
  const tags = ['obbr']

  app.get('/participants', { schema: { tags, summary: 'Open Finance Brasil participants list (ParticipantObjectList)' } }, async (request, reply) =>
    sendDocument(request, reply, await documents.get('obbr:participants', async () => ({
      body: JSON.stringify(await obbr.participants()), contentType: 'application/json; charset=utf-8',
    })), config.CACHE_MAX_AGE))

  app.get('/openbanking.jwks', { schema: { tags, summary: "The directory's SSA signing keys" } }, async (request, reply) =>
    sendDocument(request, reply, await documents.get('obbr:openbanking.jwks', async () => ({
      body: JSON.stringify(obbr.directoryJwks()), contentType: 'application/json',
    })), config.CACHE_MAX_AGE))

  const keystore = async (request: FastifyRequest, reply: FastifyReply, k: ObbrKeystore) => {
    const doc = await documents.get(`obbr:keystore:${k.orgId}:${k.softwareId ?? ''}:${k.kind}:${k.inactive}`, async () => {
      const { jwks, validUntil } = await obbr.keystore(k)
      return { body: JSON.stringify(jwks), contentType: 'application/json', ...(validUntil ? { validUntil } : {}) }
    }, clock.now())
    return sendDocument(request, reply, doc, config.CACHE_MAX_AGE)
  }
  const org = z.object({ orgId: uuid })
  const sw = z.object({ orgId: uuid, softwareId: uuid })
  const file = z.enum(['application.jwks', 'transport.jwks'])
  const kindOf = (f: z.infer<typeof file>) => (f === 'application.jwks' ? 'application' as const : 'transport' as const)
  app.get('/:orgId/application.jwks', { schema: { tags, params: org, summary: "Active signing keys of all the organisation's software" } },
    async (r, reply) => keystore(r, reply, { orgId: r.params.orgId, kind: 'application', inactive: false }))
  app.get('/:orgId/inactive/application.jwks', { schema: { tags, params: org, summary: "Revoked and expired signing keys of the organisation's software" } },
    async (r, reply) => keystore(r, reply, { orgId: r.params.orgId, kind: 'application', inactive: true }))
  app.get('/:orgId/:softwareId/:file', { schema: { tags, params: sw.extend({ file }), summary: 'application.jwks (signing) or transport.jwks (mTLS) of a software statement' } },
    async (r, reply) => keystore(r, reply, { orgId: r.params.orgId, softwareId: r.params.softwareId, kind: kindOf(r.params.file), inactive: false }))
  app.get('/:orgId/:softwareId/inactive/:file', { schema: { tags, params: sw.extend({ file }), summary: 'Revoked and expired keys of a software statement' } },
    async (r, reply) => keystore(r, reply, { orgId: r.params.orgId, softwareId: r.params.softwareId, kind: kindOf(r.params.file), inactive: true }))
}

/** mTLS listener, under /obbr: the Raidiam Connect API's SSA endpoint (scope directory:software). */
export async function obbrProtectedRoutes (app: App): Promise<void> {
  common(app)
  const obbr = app.services.profiles.obbr!
  app.get('/organisations/:orgId/softwarestatements/:softwareId/assertion', {
    preHandler: app.requireScope(scopes.software),
    schema: { tags: ['obbr'], params: z.object({ orgId: uuid, softwareId: uuid }), summary: 'Software Statement Assertion in the Open Finance Brasil claim set' },
  }, async (r, reply) => reply.type('application/jwt').header('cache-control', 'no-store')
    .send(await obbr.assertion(r.params.orgId, r.params.softwareId, { actor: `client:${r.principal!.clientId}`, requestId: r.id })))
}
