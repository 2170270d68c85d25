import t from 'tap'
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { allEventTypes, eventTypes } from '../../src/events/types.js'
import { buildTestApp, type TestApp } from '../helpers/app.js'
import { ecKey, enrolParticipant, makeCsr, operatorOf, type Participant } from '../helpers/participant.js'
import { Receiver } from '../helpers/receiver.js'

const env = { EVENTS_ALLOW_PRIVATE_TARGETS: 'true', EVENTS_POLL_MS: '30', EVENTS_TIMEOUT_MS: '1500' }

async function verifier (ctx: TestApp, audience: string) {
  const jwks = createRemoteJWKSet(new URL(`${ctx.publicUrl}/jwks`))
  return (set: string) => jwtVerify(set, jwks, { issuer: ctx.publicUrl, audience, typ: 'secevent+jwt' })
}

/** Every kind of change the directory announces, made through the APIs. */
async function everyChange (ctx: TestApp, operator: Participant): Promise<void> {
  const admin = 'directory:admin'
  const holder = await enrolParticipant(ctx, { roles: ['data-holder', 'data-recipient'] })
  t.teardown(() => holder.close())
  const ok = (res: { status: number, text: string }, status = 200) => { if (res.status !== status) throw new Error(`${res.status} ${res.text}`) }
  ok(await operator.call('PATCH', `/admin/organisations/${holder.orgId}`, { scope: admin, json: { roles: ['data-holder'] } }))
  const sw = await holder.call('POST', `/organisations/${holder.orgId}/software-statements`, { json: { client_name: 'Bank App', redirect_uris: ['https://bank.example/cb'], roles: ['data-holder'] } })
  ok(sw, 201)
  const softwareId = sw.json().software_id
  ok(await holder.call('PATCH', `/organisations/${holder.orgId}/software-statements/${softwareId}`, { json: { client_name: 'Bank App 2' } }))
  const cert = await holder.call('POST', `/organisations/${holder.orgId}/software-statements/${softwareId}/certificates`, { json: { type: 'signing', csr: makeCsr(ecKey()) } })
  ok(cert, 201)
  ok(await holder.call('POST', `/organisations/${holder.orgId}/certificates/${cert.json().serial}/revoke`, { json: { reason: 'keyCompromise' } }))
  const as = await holder.call('POST', `/organisations/${holder.orgId}/authorisation-servers`, { json: { issuer: 'https://as.bank.example', discovery_url: 'https://as.bank.example/.well-known/openid-configuration', customer_friendly_name: 'Bank' } })
  ok(as, 201)
  ok(await holder.call('PATCH', `/organisations/${holder.orgId}/authorisation-servers/${as.json().id}`, { json: { customer_friendly_name: 'The Bank' } }))
  ok(await holder.call('PATCH', `/organisations/${holder.orgId}/software-statements/${softwareId}`, { json: { status: 'inactive' } }))
  ok(await operator.call('POST', '/admin/keys/rotate', { scope: admin }))
  ok(await operator.call('PATCH', `/admin/organisations/${holder.orgId}`, { scope: admin, json: { status: 'suspended' } }))
}

t.test('every event type arrives pushed, signed, and verifies with jose against /jwks; the CA event is in the feed', async (t) => {
  const ctx = await buildTestApp(t, env)
  const operator = operatorOf(ctx)
  t.teardown(() => operator.close())
  const receiver = await Receiver.start()
  t.teardown(() => receiver.down())
  const sub = await operator.call('POST', '/admin/event-subscriptions', { scope: 'directory:admin', json: { url: receiver.url, events: allEventTypes } })
  t.equal(sub.status, 201, sub.text)
  t.match(sub.json(), { url: receiver.url, org_id: ctx.operator.orgId, events: allEventTypes, pending: 0 })
  const mark = (await operator.call('GET', '/admin/events?limit=500', { scope: 'directory:admin' })).json().cursor
  ctx.services.delivery.start()
  t.teardown(() => ctx.services.delivery.stop())

  await everyChange(ctx, operator)
  const pushedTypes = allEventTypes.filter((e) => e !== eventTypes.caChanged)
  const feed = await operator.call('GET', '/admin/events?limit=500', { scope: 'directory:admin' })
  t.equal(feed.status, 200, feed.text)
  const expected = feed.json().sets.filter((s: string) => BigInt(decodeJwt(s).seq as string) > BigInt(mark))
  await receiver.received(expected.length)
  await ctx.services.delivery.idle()
  t.equal(receiver.sets.length, expected.length, 'nothing sent twice')

  const verify = await verifier(ctx, ctx.operator.orgId)
  const seen = new Set<string>()
  let lastSeq = 0n
  for (const set of receiver.sets) {
    const { payload, protectedHeader } = await verify(set)
    t.equal(protectedHeader.typ, 'secevent+jwt')
    t.match(payload, { iss: ctx.publicUrl, aud: ctx.operator.orgId, jti: String, iat: Number, sub_id: { format: 'opaque', id: String } })
    t.equal(Object.keys(payload.events as object).length, 1, 'one event per SET')
    t.notOk('exp' in payload || 'sub' in payload, 'RFC 8417 §2.2: no exp, the subject in sub_id')
    const seq = BigInt(payload.seq as string)
    t.ok(seq > lastSeq, 'in event order')
    lastSeq = seq
    seen.add(Object.keys(payload.events as object)[0]!)
  }
  t.same([...seen].sort(), [...pushedTypes].sort(), 'every pushed type arrived')
  t.equal(new Set(receiver.jtis).size, receiver.jtis.length, 'one jti per event')

  const status = receiver.sets.map((s) => decodeJwt(s).events as Record<string, Record<string, unknown>>)
    .find((e) => eventTypes.organisationStatusChanged in e)![eventTypes.organisationStatusChanged]
  t.match(status, { previous_status: 'active', status: 'suspended', subject_kind: 'organisation' })
  const revoked = receiver.sets.map((s) => decodeJwt(s).events as Record<string, Record<string, unknown>>)
    .find((e) => eventTypes.certificateRevoked in e)![eventTypes.certificateRevoked]
  t.match(revoked, { reason: 'keyCompromise', type: 'signing', org_id: String, 'x5t#S256': String })
  const kids = new Set(receiver.sets.map((s) => decodeProtectedHeader(s).kid))
  t.equal(kids.size, 2, 'SETs after the rotation are signed with the new key, and both verify')

  const ca = (await Promise.all(feed.json().sets.map(verify)))
    .find((v) => eventTypes.caChanged in (v.payload.events as object))
  t.ok(ca, 'the CA made at init is announced, and verifies')

  const deliveries = await operator.call('GET', `/admin/event-subscriptions/${sub.json().id}/deliveries?limit=200`, { scope: 'directory:admin' })
  t.equal(deliveries.status, 200)
  t.equal(deliveries.json().length, receiver.sets.length)
  t.ok(deliveries.json().every((d: { status: string, last_status: number }) => d.status === 'delivered' && d.last_status === 202))
})

t.test('the feed returns exactly the changes after a cursor, in order, and a refused change announces nothing', async (t) => {
  const ctx = await buildTestApp(t, env)
  const operator = operatorOf(ctx)
  const p = await enrolParticipant(ctx)
  t.teardown(() => Promise.all([operator.close(), p.close()]))
  const scope = 'directory:events'
  const start = await p.call('GET', `/organisations/${p.orgId}/events`, { scope })
  t.equal(start.status, 200, start.text)
  t.equal(start.headers['cache-control'], 'no-store')
  let cursor = start.json().cursor
  while (start.json().more_available) break

  const s1 = (await p.call('POST', `/organisations/${p.orgId}/software-statements`, { json: { client_name: 'One', redirect_uris: ['https://a.example/cb'], roles: ['data-recipient'] } })).json()
  const refused = await operator.call('PATCH', `/admin/organisations/${p.orgId}`, { scope: 'directory:admin', json: { status: 'pending' } })
  t.equal(refused.status, 409, 'an invalid transition is refused…')
  await operator.call('PATCH', `/admin/organisations/${p.orgId}`, { scope: 'directory:admin', json: { status: 'suspended' } })
  await operator.call('PATCH', `/admin/organisations/${p.orgId}`, { scope: 'directory:admin', json: { status: 'active' } })

  const verify = await verifier(ctx, p.orgId)
  const page1 = await p.call('GET', `/organisations/${p.orgId}/events?cursor=${cursor}&limit=2`, { scope })
  t.equal(page1.json().sets.length, 2)
  t.equal(page1.json().more_available, true)
  const page2 = await p.call('GET', `/organisations/${p.orgId}/events?cursor=${page1.json().cursor}&limit=2`, { scope })
  t.equal(page2.json().more_available, false)
  const all = [...page1.json().sets, ...page2.json().sets]
  const claims = await Promise.all(all.map(async (s: string) => (await verify(s)).payload))
  t.same(claims.map((c) => Object.keys(c.events as object)[0]), [
    eventTypes.softwareStatementCreated, eventTypes.organisationStatusChanged, eventTypes.organisationStatusChanged,
  ], '…and only the changes made are there, in order')
  t.equal((claims[0]!.sub_id as { id: string }).id, s1.software_id)
  cursor = page2.json().cursor
  const empty = await p.call('GET', `/organisations/${p.orgId}/events?cursor=${cursor}`, { scope })
  t.same(empty.json(), { sets: [], cursor, more_available: false }, 'nothing new: the same cursor back')

  const only = await p.call('GET', `/organisations/${p.orgId}/events?cursor=${start.json().cursor}&events=${encodeURIComponent(eventTypes.organisationStatusChanged)}`, { scope })
  t.equal(only.json().sets.length, 2, 'filtered by type')
  t.equal((await p.call('GET', `/organisations/${p.orgId}/events?cursor=abc`, { scope })).status, 400)
  t.equal((await p.call('GET', `/organisations/${p.orgId}/events?events=urn:nope`, { scope })).status, 400)
  t.equal((await p.call('GET', `/organisations/${p.orgId}/events`, { scope: 'directory:read' })).status, 403, 'the events scope is needed')
})

t.test('subscriptions: validation, own organisation only, delete, and audit', async (t) => {
  const ctx = await buildTestApp(t, env)
  const a = await enrolParticipant(ctx)
  const b = await enrolParticipant(ctx)
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const scope = 'directory:events'
  const path = `/organisations/${a.orgId}/event-subscriptions`
  const bad = async (json: unknown, field: RegExp) => {
    const res = await a.call('POST', path, { scope, json })
    t.equal(res.status, 400, res.text)
    t.match(res.headers['content-type'], /application\/problem\+json/)
    t.match(JSON.stringify(res.json().errors), field)
  }
  await bad({ url: 'ftp://x.example/e', events: [eventTypes.certificateRevoked] }, /https/)
  await bad({ url: 'https://x.example/e', events: ['urn:nope'] }, /events/)
  await bad({ url: 'https://x.example/e', events: [] }, /events/)
  await bad({ url: 'https://user:pw@x.example/e', events: [eventTypes.certificateRevoked] }, /credentials/)
  await bad({ url: 'https://x.example/e', events: [eventTypes.certificateRevoked], extra: 1 }, /extra|unrecognized/i)

  const created = await a.call('POST', path, { scope, json: { url: 'http://127.0.0.1:9/e', events: [eventTypes.certificateRevoked] } })
  t.equal(created.status, 201, created.text)
  const id = created.json().id
  t.equal((await b.call('GET', `/organisations/${a.orgId}/event-subscriptions`, { scope })).status, 404, 'another organisation\'s subscriptions are not found')
  t.equal((await b.call('DELETE', `/organisations/${b.orgId}/event-subscriptions/${id}`, { scope })).status, 404)
  t.same((await a.call('GET', path, { scope })).json().map((s: { id: string }) => s.id), [id])
  t.equal((await a.call('GET', path, { scope: 'directory:read' })).status, 403)
  t.equal((await a.call('DELETE', `${path}/${id}`, { scope })).status, 204)
  t.equal((await a.call('GET', `${path}/${id}`, { scope })).status, 404)
  const audit = await ctx.services.audit.list(ctx.db.prisma, { limit: 10, target: `event_subscription:${id}` })
  t.same(audit.events.map((e) => e.action), ['event_subscription.delete', 'event_subscription.create'])
})
