import t from 'tap'
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose'
import { openDatabase } from '../../src/db/database.js'
import { eventTypes } from '../../src/events/types.js'
import { initDirectory } from '../../src/init.js'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, enrolParticipant, makeCsr } from '../helpers/participant.js'
import { Receiver } from '../helpers/receiver.js'
import { env, admin, statusChanged, until, operatorWithToken, subscribe, newOrganisation, toggle, statusesOf, deliveryRows } from '../helpers/events.js'

t.test('two instances on one database deliver each event once', async (t) => {
  // Normal operation: a generous timeout, so a busy machine does not turn a slow answer into a retry.
  const shared = { ...env, EVENTS_CONCURRENCY: '1', EVENTS_TIMEOUT_MS: '10000' }
  const a = await buildTestApp(t, shared)
  // A second instance: its own services and connection pool on the same database (PGlite: the same database object).
  const db = a.dbUrl ? await openDatabase({ kind: 'postgres', url: a.dbUrl }) : a.db
  if (a.dbUrl) t.teardown(() => db.close())
  const b = await buildTestApp(t, { ...shared, DIRECTORY_MASTER_KEY: a.config.DIRECTORY_MASTER_KEY! }, { db: { db, ...(a.dbUrl ? { url: a.dbUrl } : {}) } })
  const { call } = await operatorWithToken(t, a)
  const receivers = await Promise.all([1, 2, 3, 4].map(() => Receiver.start()))
  t.teardown(() => Promise.all(receivers.map((r) => r.down())))
  for (const r of receivers) r.delayMs = 20
  for (const r of receivers) await subscribe(call, r.url)
  const orgId = await newOrganisation(call)
  a.services.delivery.start()
  b.services.delivery.start()
  t.teardown(() => Promise.all([a.services.delivery.stop(), b.services.delivery.stop()]))

  const made = await toggle(call, orgId, 8)
  await Promise.all(receivers.map((r) => r.received(8)))
  await Promise.all([a.services.delivery.idle(), b.services.delivery.idle()])
  for (const r of receivers) {
    t.equal(r.attempts, 8, 'each event sent once to each receiver')
    t.same(statusesOf(r), made, 'in order')
  }
  t.equal(a.services.delivery.delivered + b.services.delivery.delivered, 32)
  t.ok(a.services.delivery.delivered > 0 && b.services.delivery.delivered > 0, `both instances delivered (${a.services.delivery.delivered} + ${b.services.delivery.delivered})`)
})

t.test('production mode: subscriptions to private, loopback and link-local addresses are refused, and never sent to', async (t) => {
  const ctx = await buildTestApp(t, { EVENTS_POLL_MS: '30', EVENTS_TIMEOUT_MS: '500' })
  t.equal(ctx.config.EVENTS_ALLOW_PRIVATE_TARGETS, false, 'the default')
  const { call } = await operatorWithToken(t, ctx)
  const refused: Array<[string, RegExp]> = [
    ['https://127.0.0.1/events', /127\.0\.0\.1 is not a public address/],
    ['https://10.1.2.3/events', /not a public address/],
    ['https://192.168.0.10/events', /not a public address/],
    ['https://169.254.169.254/latest/meta-data', /not a public address/],
    ['https://100.64.0.1/events', /not a public address/],
    ['https://[::1]/events', /not a public address/],
    ['https://[fe80::1]/events', /not a public address/],
    ['https://[::ffff:127.0.0.1]/events', /not a public address/],
    ['https://localhost/events', /not a public address/],
    ['https://api.localhost/events', /not a public address/],
    ['http://93.184.216.34/events', /https/],
  ]
  for (const [url, why] of refused) {
    const res = await call('POST', '/admin/event-subscriptions', { url, events: [statusChanged] })
    t.equal(res.status, 400, url)
    t.match(res.json(), { status: 400, errors: [{ path: 'body.url', message: why }] }, url)
  }
  t.equal(await ctx.db.prisma.eventSubscription.count(), 0, 'nothing stored')
  const ok = await call('POST', '/admin/event-subscriptions', { url: 'https://93.184.216.34/events', events: [statusChanged] })
  t.equal(ok.status, 201, 'a public https address is accepted')

  // A subscription made while private targets were allowed, or a database edited by hand: still never sent to.
  const receiver = await Receiver.start()
  t.teardown(() => receiver.down())
  const id = ok.json().id
  await ctx.db.prisma.eventSubscription.update({ where: { id }, data: { url: receiver.url.replace('http:', 'https:') } })
  const orgId = await newOrganisation(call)
  ctx.services.delivery.start()
  t.teardown(() => ctx.services.delivery.stop())
  await toggle(call, orgId, 1)
  await until('an attempt', async () => (await deliveryRows(ctx, id))[0]?.attempts === 1)
  t.match((await deliveryRows(ctx, id))[0], { status: 'pending', lastError: /target refused: 127\.0\.0\.1 is not a public address/ })
  t.equal(receiver.attempts, 0, 'no request reached the private address')
})

t.test('an authorisation server subscribed learns of a suspension and a revocation as they happen, without polling', async (t) => {
  const ctx = await buildTestApp(t, env)
  const { call } = await operatorWithToken(t, ctx)
  const bank = await enrolParticipant(ctx, { roles: ['data-holder'] })
  const fintech = await enrolParticipant(ctx)
  t.teardown(() => Promise.all([bank.close(), fintech.close()]))
  const as = await Receiver.start()
  t.teardown(() => as.down())
  const created = await bank.call('POST', `/organisations/${bank.orgId}/event-subscriptions`, {
    scope: 'directory:events', json: { url: as.url, events: [statusChanged, eventTypes.certificateRevoked] },
  })
  t.equal(created.status, 201, created.text)
  ctx.services.delivery.start()
  t.teardown(() => ctx.services.delivery.stop())
  const sw = (await fintech.call('POST', `/organisations/${fintech.orgId}/software-statements`, { json: { client_name: 'Wallet', redirect_uris: ['https://wallet.example/cb'], roles: ['data-recipient'] } })).json()
  const cert = (await fintech.call('POST', `/organisations/${fintech.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'transport', csr: makeCsr(ecKey()) } })).json()
  const jwks = createRemoteJWKSet(new URL(`${ctx.publicUrl}/jwks`))
  const verify = async (set: string) => (await jwtVerify(set, jwks, { issuer: ctx.publicUrl, audience: bank.orgId, typ: 'secevent+jwt' })).payload

  const revoked = await call('POST', `/admin/certificates/${cert.serial}/revoke`, { reason: 'keyCompromise' })
  t.equal(revoked.status, 200, revoked.text)
  await as.received(1)
  t.match((await verify(as.sets[0]!)).events, { [eventTypes.certificateRevoked]: { serial: cert.serial, org_id: fintech.orgId, reason: 'keyCompromise', 'x5t#S256': cert['x5t#S256'] } })

  const suspended = await call('PATCH', `/admin/organisations/${fintech.orgId}`, { status: 'suspended' })
  t.equal(suspended.status, 200)
  await as.received(2)
  const claims = await verify(as.sets[1]!)
  t.match(claims, { sub_id: { format: 'opaque', id: fintech.orgId }, events: { [statusChanged]: { org_id: fintech.orgId, previous_status: 'active', status: 'suspended' } } })
  t.equal(as.sets.length, 2, 'only the types subscribed to')
})

t.test('a re-issued issuing CA is announced', async (t) => {
  const ctx = await buildTestApp(t, env)
  const { call } = await operatorWithToken(t, ctx)
  const mark = (await call('GET', '/admin/events?limit=500')).json().cursor
  // The issuing CA points at the root's CRL and OCSP under DIRECTORY_ISSUER: a new issuer URL re-issues it.
  await initDirectory({ ...ctx.config, DIRECTORY_ISSUER: 'https://directory.example' }, ctx.db, ctx.clock)
  const feed = (await call('GET', `/admin/events?cursor=${mark}`)).json()
  const events = feed.sets.map((s: string) => decodeJwt(s).events as Record<string, { change: string, issuing_serial: string }>)
  const ca = events.find((e: object) => eventTypes.caChanged in e)
  t.match(ca?.[eventTypes.caChanged], { change: 'issuing-ca-reissued', issuing_serial: /^[0-9a-f]+$/i })
})
