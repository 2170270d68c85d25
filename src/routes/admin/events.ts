import { z } from 'zod'
import type { App } from '../../app.js'
import { scopes } from '../../auth/scopes.js'
import { adminSubscriptionParams, delivery, deliveryQuery, feed, feedQuery, subscription, subscriptionCreate } from '../../events/schemas.js'

const tags = ['admin', 'events']

/**
 * The operator's subscriptions: created for the operator's own organisation (the SETs' audience), and
 * every organisation's subscriptions listed, inspected and removable here.
 */
export default async function adminEventRoutes (app: App): Promise<void> {
  const s = app.services
  app.addHook('preHandler', app.requireScope(scopes.admin))
  const who = (r: { principal?: { clientId: string }, id: string }) => ({ actor: `operator:${r.principal!.clientId}`, requestId: r.id })

  app.post('/admin/event-subscriptions', { schema: { tags, body: subscriptionCreate, response: { 201: subscription } } },
    async (r, reply) => reply.code(201).send(await s.events.create(r.principal!.orgId, r.body, who(r))))
  app.get('/admin/event-subscriptions', { schema: { tags, response: { 200: z.array(subscription) } } },
    async () => s.events.list(undefined))
  app.get('/admin/event-subscriptions/:subscriptionId', { schema: { tags, params: adminSubscriptionParams, response: { 200: subscription } } },
    async (r) => s.events.get(undefined, r.params.subscriptionId))
  app.delete('/admin/event-subscriptions/:subscriptionId', { schema: { tags, params: adminSubscriptionParams } },
    async (r, reply) => { await s.events.remove(undefined, r.params.subscriptionId, who(r)); return reply.code(204).send() })
  app.get('/admin/event-subscriptions/:subscriptionId/deliveries', { schema: { tags, params: adminSubscriptionParams, querystring: deliveryQuery, response: { 200: z.array(delivery) } } },
    async (r) => s.events.deliveries(undefined, r.params.subscriptionId, r.query))
  app.get('/admin/events', { schema: { tags, querystring: feedQuery, response: { 200: feed } } },
    async (r, reply) => reply.header('cache-control', 'no-store').send(await s.events.feed(r.principal!.orgId, r.query)))
}
