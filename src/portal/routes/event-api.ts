import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { App } from '../../app.js'
import { NotFound } from '../../errors.js'
import { subscriptionCreate } from '../../events/schemas.js'
import { uuid } from '../../registry/schemas.js'
import { assertManage, assertOperatorAdmin } from '../access.js'
import { viewer } from '../plugin.js'
import { operatorOrganisationId } from '../queries.js'

// The portal's JSON API for event subscriptions: the permission check (access.ts), then the same
// EventSubscriptions service the admin and participant APIs call, with the actor `user:<id>`.

const org = z.object({ orgId: uuid })
const one = z.object({ subscriptionId: uuid })

export default async function eventApi (app: App): Promise<void> {
  const s = app.services
  const who = (r: FastifyRequest) => ({ actor: `user:${viewer(r).user.id}`, requestId: r.id })
  const me = (r: FastifyRequest) => viewer(r).user
  const hide = { hide: true }

  // Operators: subscriptions for the operator's organisation; every organisation's removable here, as on the admin API.
  app.post('/event-subscriptions', { schema: { ...hide, body: subscriptionCreate } }, async (r, reply) => {
    assertOperatorAdmin(me(r))
    const orgId = await operatorOrganisationId(s.db.prisma)
    if (!orgId) throw NotFound('the directory has no operator organisation yet (run init)')
    return reply.code(201).send(await s.events.create(orgId, r.body, who(r)))
  })
  app.delete('/event-subscriptions/:subscriptionId', { schema: { ...hide, params: one } }, async (r) => {
    assertOperatorAdmin(me(r))
    await s.events.remove(undefined, r.params.subscriptionId, who(r))
    return { ok: true }
  })

  // An organisation's own subscriptions (org-admin or operator-admin).
  app.post('/organisations/:orgId/event-subscriptions', { schema: { ...hide, params: org, body: subscriptionCreate } }, async (r, reply) => {
    assertManage(me(r), r.params.orgId)
    return reply.code(201).send(await s.events.create(r.params.orgId, r.body, who(r)))
  })
  app.delete('/organisations/:orgId/event-subscriptions/:subscriptionId', { schema: { ...hide, params: org.extend(one.shape) } }, async (r) => {
    assertManage(me(r), r.params.orgId)
    await s.events.remove(r.params.orgId, r.params.subscriptionId, who(r))
    return { ok: true }
  })
}
