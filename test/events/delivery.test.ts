import t from 'tap'
import { decodeJwt } from 'jose'
import { buildTestApp } from '../helpers/app.js'
import { enrolParticipant } from '../helpers/participant.js'
import { Receiver } from '../helpers/receiver.js'
import { env, admin, statusChanged, until, operatorWithToken, subscribe, newOrganisation, toggle, statusesOf, seqsOf, ascending, deliveryRows } from '../helpers/events.js'

t.test('a receiver that is down for a while receives everything after it recovers, in order, once', async (t) => {
  const ctx = await buildTestApp(t, env)
  const { call } = await operatorWithToken(t, ctx)
  const receiver = await Receiver.start()
  t.teardown(() => receiver.down())
  await receiver.down()
  const sub = await subscribe(call, receiver.url)
  const orgId = await newOrganisation(call)
  ctx.services.delivery.start()
  t.teardown(() => ctx.services.delivery.stop())

  const made = await toggle(call, orgId, 6)
  await until('a first failed attempt', async () => (await deliveryRows(ctx, sub))[0]?.attempts === 1)
  // Down through several retries: each time the backoff has passed (clock moved), the head is tried again.
  for (let attempt = 2; attempt <= 4; attempt++) {
    ctx.clock.advance(1)
    await until(`attempt ${attempt}`, async () => (await deliveryRows(ctx, sub))[0]!.attempts === attempt)
  }
  const rows = await deliveryRows(ctx, sub)
  t.same(rows.map((r) => r.status), Array(6).fill('pending'), 'nothing is lost or given up while the receiver is down')
  t.same(rows.slice(1).map((r) => r.attempts), Array(5).fill(0), 'the events behind the head wait their turn (ordering)')
  t.match(rows[0]!.lastError, /ECONNREFUSED/)
  const listed = await call('GET', `/admin/event-subscriptions/${sub}`)
  t.match(listed.json(), { pending: 6, failed: 0 })

  await receiver.up()
  ctx.clock.advance(1)
  await receiver.received(6)
  await ctx.services.delivery.idle()
  t.same(statusesOf(receiver), made, 'every change, in the order made')
  t.ok(ascending(seqsOf(receiver)), 'in event sequence')
  t.equal(receiver.attempts, 6, 'each sent once after the recovery')
  const after = await call('GET', `/admin/event-subscriptions/${sub}/deliveries`)
  t.ok(after.json().every((d: { status: string, last_status: number }) => d.status === 'delivered' && d.last_status === 202))
  t.equal(after.json().at(-1).attempts, 5, 'the head took the retries: the recovery attempt is its fifth')
})

t.test('a receiver answering 500 or hanging is retried and does not hold up other subscriptions', async (t) => {
  const ctx = await buildTestApp(t, { ...env, EVENTS_TIMEOUT_MS: '1000' })
  const { call } = await operatorWithToken(t, ctx)
  const [good, failing, hanging] = await Promise.all([Receiver.start(), Receiver.start(), Receiver.start()])
  t.teardown(() => Promise.all([good.down(), failing.down(), hanging.down()]))
  failing.behaviour = 'fail'
  hanging.behaviour = 'hang'
  const [, failingSub, hangingSub] = [await subscribe(call, good.url), await subscribe(call, failing.url), await subscribe(call, hanging.url)]
  const orgId = await newOrganisation(call)
  ctx.services.delivery.start()
  t.teardown(() => ctx.services.delivery.stop())

  const made = await toggle(call, orgId, 3)
  await good.received(3)
  t.same(statusesOf(good), made, 'the healthy receiver gets every event while the others fail')
  await until('the hanging receiver\'s request to time out', async () => (await deliveryRows(ctx, hangingSub))[0]?.attempts === 1)
  await until('the failing receiver\'s first attempt', async () => (await deliveryRows(ctx, failingSub))[0]?.attempts === 1)
  t.equal(failing.sets.length + hanging.sets.length, 0)

  const fail = (await call('GET', `/admin/event-subscriptions/${failingSub}/deliveries?status=pending`)).json()
  t.equal(fail.length, 3)
  t.match(fail.at(-1), { status: 'pending', attempts: 1, last_status: 500, last_error: /HTTP 500.*unavailable/, next_attempt_at: String, delivered_at: null })
  const hang = (await call('GET', `/admin/event-subscriptions/${hangingSub}/deliveries`)).json()
  t.match(hang.at(-1), { status: 'pending', attempts: 1, last_status: null, last_error: /timeout|abort/i })

  ctx.clock.advance(1)
  await until('second attempts', async () => (await deliveryRows(ctx, failingSub))[0]!.attempts === 2 && (await deliveryRows(ctx, hangingSub))[0]!.attempts === 2)
  t.ok(failing.attempts >= 2 && hanging.attempts >= 2, 'both are retried after the backoff')

  failing.behaviour = 'accept'
  hanging.behaviour = 'accept'
  ctx.clock.advance(1)
  await Promise.all([failing.received(3), hanging.received(3)])
  await ctx.services.delivery.idle()
  t.same(statusesOf(failing), made, 'then everything arrives, in order')
  t.same(statusesOf(hanging), made)
  t.equal(good.attempts, 3, 'the healthy receiver was never sent anything twice')
})

t.test('after the retry window a delivery is marked failed; later events still go out; subscribers list their deliveries', async (t) => {
  const ctx = await buildTestApp(t, { ...env, EVENTS_RETRY_SECONDS: '60' })
  const { call } = await operatorWithToken(t, ctx)
  const holder = await enrolParticipant(ctx, { roles: ['data-holder'] })
  t.teardown(() => holder.close())
  const receiver = await Receiver.start()
  t.teardown(() => receiver.down())
  receiver.behaviour = 'fail'
  const scope = 'directory:events'
  const created = await holder.call('POST', `/organisations/${holder.orgId}/event-subscriptions`, { scope, json: { url: receiver.url, events: [statusChanged] } })
  t.equal(created.status, 201, created.text)
  const sub = created.json().id
  const orgId = await newOrganisation(call)
  ctx.services.delivery.start()
  t.teardown(() => ctx.services.delivery.stop())

  await toggle(call, orgId, 2)
  await until('a first attempt', async () => (await deliveryRows(ctx, sub))[0]?.attempts === 1)
  ctx.clock.advance(30)
  await until('a retry inside the window', async () => (await deliveryRows(ctx, sub))[0]!.attempts === 2)
  t.same((await deliveryRows(ctx, sub)).map((r) => r.status), ['pending', 'pending'], 'inside the window: still pending')
  ctx.clock.advance(31)
  await until('both given up', async () => (await deliveryRows(ctx, sub)).every((r) => r.status === 'failed'))

  receiver.behaviour = 'accept'
  await call('PATCH', `/admin/organisations/${orgId}`, { status: 'suspended' })
  await receiver.received(1)
  await ctx.services.delivery.idle()
  t.equal(receiver.sets.length, 1, 'failed events are not sent again; the next one goes out at once')
  t.match(decodeJwt(receiver.sets[0]!).events, { [statusChanged]: { status: 'suspended' } })

  const path = `/organisations/${holder.orgId}/event-subscriptions/${sub}`
  const mine = await holder.call('GET', path, { scope })
  t.match(mine.json(), { id: sub, pending: 0, failed: 2 })
  const all = (await holder.call('GET', `${path}/deliveries`, { scope })).json()
  t.same(all.map((d: { status: string }) => d.status), ['delivered', 'failed', 'failed'], 'newest first, each with its status')
  t.match(all[2], { type: statusChanged, attempts: 3, last_status: 500, last_error: /HTTP 500/, next_attempt_at: null, delivered_at: null })
  t.match(all[1], { attempts: 1, last_status: 500 }, 'the one behind it, past the window too, is given up at its first attempt')
  t.match(all[0], { attempts: 1, last_status: 202, last_error: null, delivered_at: String })
  const failed = (await holder.call('GET', `${path}/deliveries?status=failed&limit=1`, { scope })).json()
  t.equal(failed.length, 1)
  t.equal(failed[0].jti, all[1].jti)
  t.equal(await ctx.db.prisma.eventDelivery.count({ where: { subscriptionId: sub, status: 'failed' } }), 2)
  t.equal((await holder.call('GET', `${path}/deliveries?status=lost`, { scope })).status, 400)
  t.equal((await holder.call('GET', `${path}/deliveries`, { scope: 'directory:read' })).status, 403)
})

