import { z } from 'zod'
import type { App } from '../../app.js'
import { scopes } from '../../auth/scopes.js'
import { delivery, deliveryQuery, feed, feedQuery, subscription, subscriptionCreate, subscriptionParams } from '../../events/schemas.js'
import { orgParams } from './schemas.js'

const tags = ['events']

/** A participant's event subscriptions (RFC 8935 push), their deliveries, and the event feed. */
export default async function participantEventRoutes (app: App): Promise<void> {
  const s = app.services
  const who = (r: { principal?: { clientId: string }, id: string }) => ({ actor: `client:${r.principal!.clientId}`, requestId: r.id })
  const events = { preHandler: app.requireScope(scopes.events) }

  app.post('/organisations/:orgId/event-subscriptions', { ...events, schema: { tags, params: orgParams, body: subscriptionCreate, response: { 201: subscription } } },
    async (r, reply) => reply.code(201).send(await s.events.create(r.params.orgId, r.body, who(r))))
  app.get('/organisations/:orgId/event-subscriptions', { ...events, schema: { tags, params: orgParams, response: { 200: z.array(subscription) } } },
    async (r) => s.events.list(r.params.orgId))
  app.get('/organisations/:orgId/event-subscriptions/:subscriptionId', { ...events, schema: { tags, params: subscriptionParams, response: { 200: subscription } } },
    async (r) => s.events.get(r.params.orgId, r.params.subscriptionId))
  app.delete('/organisations/:orgId/event-subscriptions/:subscriptionId', { ...events, schema: { tags, params: subscriptionParams } },
    async (r, reply) => { await s.events.remove(r.params.orgId, r.params.subscriptionId, who(r)); return reply.code(204).send() })
  app.get('/organisations/:orgId/event-subscriptions/:subscriptionId/deliveries', {
    ...events, schema: { tags, params: subscriptionParams, querystring: deliveryQuery, response: { 200: z.array(delivery) } },
  }, async (r) => s.events.deliveries(r.params.orgId, r.params.subscriptionId, r.query))

  app.get('/organisations/:orgId/events', {
    ...events, schema: { tags, params: orgParams, querystring: feedQuery, response: { 200: feed }, summary: 'Signed SETs for the changes after a cursor' },
  }, async (r, reply) => reply.header('cache-control', 'no-store').send(await s.events.feed(r.params.orgId, r.query)))
}
