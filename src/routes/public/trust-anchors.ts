import { directoryJwks, keystore, participantList } from '@ecosystem-directory/sdk'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { App } from '../../app.js'
import { participantsDocument } from '../../publication/participants.js'
import { Document } from '../../publication/document-cache.js'
import { loadKeystore } from '../../publication/keystores.js'
import { organisationStatuses } from '../../registry/lifecycle.js'
import { roleCode, uuid } from '../../registry/schemas.js'
import { sendDocument } from '../send-document.js'

const json = 'application/json; charset=utf-8'

// A delta (RFC 3339 time): the entries changed at or after it. Commit order is not time order, so a client asks
// again from a little before its previous request; the event feed is the exact alternative (README "Events").
const updatedSince = z.iso.datetime({ offset: true }).optional()
  .describe('Only what changed at or after this time (RFC 3339): a delta to merge into a copy read earlier')
const keystoreQuery = z.object({ updated_since: updatedSince }).strict()

/** What authorisation servers pull during DCR and on every mTLS call (DESIGN.md §6, public listener). */
export default async function trustAnchorRoutes (app: App): Promise<void> {
  const { documents, keys, config, clock, db, authority } = app.services
  const maxAge = config.CACHE_MAX_AGE

  app.get('/jwks', {
    // Response schemas are the SDK's wire contract: documented in /openapi.json; the cached bytes are checked against
    // them by the contract test (they are built outside the serializer, some in SQL).
    schema: { tags: ['trust anchors'], summary: 'Directory signing keys (active, next, recently retired)', response: { 200: directoryJwks } },
  }, async (request, reply) => {
    const doc = await documents.get('jwks', async () => ({ body: JSON.stringify(keys.jwks()), contentType: 'application/jwk-set+json' }))
    return sendDocument(request, reply, doc, maxAge)
  })

  app.get('/participants', {
    schema: {
      tags: ['trust anchors'],
      summary: 'Every organisation with its roles, authorisation servers and software statements',
      querystring: z.object({ role: roleCode.optional(), status: z.enum(organisationStatuses).optional(), updated_since: updatedSince }).strict(),
      response: { 200: participantList },
    },
  }, async (request, reply) => {
    const { role, status, updated_since: since } = request.query
    if (since) {
      // Deltas are per client: built each time, never cached (a cache keyed by time would grow without bound).
      const body = await participantsDocument(db.sql, config.DIRECTORY_ISSUER, { role, status, updatedSince: new Date(since) })
      return sendDocument(request, reply, new Document(body, json, 0n), maxAge)
    }
    const key = `participants?role=${role ?? ''}&status=${status ?? ''}`
    // Built by the database once per registry version and filter (src/publication/participants.ts).
    const doc = await documents.get(key, async () => ({ body: await participantsDocument(db.sql, config.DIRECTORY_ISSUER, { role, status }), contentType: json }))
    return sendDocument(request, reply, doc, maxAge)
  })

  const serveKeystore = async (request: FastifyRequest<{ Params: { orgId: string, softwareId?: string }, Querystring: { updated_since?: string | undefined } }>, reply: FastifyReply, inactive: boolean) => {
    const { orgId, softwareId } = request.params
    const since = request.query.updated_since
    if (since) {
      const { jwks } = await loadKeystore(db.prisma, clock, authority.chain(), { orgId, ...(softwareId ? { softwareId } : {}), inactive, updatedSince: new Date(since) })
      return sendDocument(request, reply, new Document(Buffer.from(JSON.stringify(jwks)), 'application/jwk-set+json', 0n), maxAge)
    }
    const doc = await documents.get(`keystore:${orgId}:${softwareId ?? ''}:${inactive}`, async () => {
      const { jwks, validUntil } = await loadKeystore(db.prisma, clock, authority.chain(), { orgId, ...(softwareId ? { softwareId } : {}), inactive })
      return { body: JSON.stringify(jwks), contentType: 'application/jwk-set+json', ...(validUntil ? { validUntil } : {}) }
    }, clock.now())
    return sendDocument(request, reply, doc, maxAge)
  }

  app.get('/organisations/:orgId/jwks', {
    schema: { tags: ['trust anchors'], summary: "An organisation's active keys (all its software)", params: z.object({ orgId: uuid }), querystring: keystoreQuery, response: { 200: keystore } },
  }, async (request, reply) => serveKeystore(request, reply, false))

  app.get('/organisations/:orgId/software-statements/:softwareId/jwks', {
    schema: { tags: ['trust anchors'], summary: 'Active transport and signing keys of a software statement', params: z.object({ orgId: uuid, softwareId: uuid }), querystring: keystoreQuery, response: { 200: keystore } },
  }, async (request, reply) => serveKeystore(request, reply, false))

  app.get('/organisations/:orgId/software-statements/:softwareId/jwks/inactive', {
    schema: { tags: ['trust anchors'], summary: 'Revoked and expired keys of a software statement', params: z.object({ orgId: uuid, softwareId: uuid }), querystring: keystoreQuery, response: { 200: keystore } },
  }, async (request, reply) => serveKeystore(request, reply, true))
}
