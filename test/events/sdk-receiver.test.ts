import { generateKeyPairSync } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import Fastify from 'fastify'
import { decodeJwt, SignJWT } from 'jose'
import { request } from 'undici'
import { MemoryJtiStore, SecurityEventError, SecurityEventReceiver, type JtiStore, type SecurityEvent } from '@ecosystem-directory/sdk'
import { eventTypes } from '../../src/events/types.js'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, enrolParticipant, makeCsr, operatorOf } from '../helpers/participant.js'

const statusChanged = eventTypes.organisationStatusChanged
const revoked = eventTypes.certificateRevoked
const env = { EVENTS_ALLOW_PRIVATE_TARGETS: 'true', EVENTS_POLL_MS: '30', EVENTS_TIMEOUT_MS: '3000', EVENTS_BACKOFF_BASE_MS: '100', EVENTS_BACKOFF_MAX_SECONDS: '1' }

const ctx = await buildTestApp(t, env)
const operator = operatorOf(ctx)
const bank = await enrolParticipant(ctx, { roles: ['data-holder'] })
const fintech = await enrolParticipant(ctx)
t.teardown(() => Promise.all([operator.close(), bank.close(), fintech.close()]))
const scope = 'directory:events'

async function until (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** The bank's authorisation server, receiving with the SDK on node:http. */
async function nodeReceiver (receiver: SecurityEventReceiver, onEvent: (e: SecurityEvent) => unknown): Promise<{ url: string, server: Server }> {
  const server = createServer(receiver.nodeHandler(onEvent))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, server }
}

const post = async (url: string, body: string, contentType = 'application/secevent+jwt') => {
  const res = await request(url, { method: 'POST', headers: { 'content-type': contentType }, body })
  const text = await res.body.text()
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined }
}

const feed = async (): Promise<string[]> => {
  const res = await bank.call('GET', `/organisations/${bank.orgId}/events?limit=500`, { scope })
  t.equal(res.status, 200, res.text)
  return res.json().sets
}

t.test('node:http and Fastify receivers verify real pushes against /jwks, deduplicate by jti, and retry a failed handler', async (t) => {
  const options = { issuer: ctx.publicUrl, audience: bank.orgId }
  const viaNode: SecurityEvent[] = []
  const viaFastify: SecurityEvent[] = []
  let failOnce = true
  const node = await nodeReceiver(new SecurityEventReceiver(options), (e) => {
    if (e.type === revoked && failOnce) { failOnce = false; throw new Error('database busy') }
    viaNode.push(e)
  })
  const app = Fastify()
  await app.register(new SecurityEventReceiver(options).fastifyPlugin({ path: '/events', onEvent: (e) => { viaFastify.push(e) } }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const fastifyUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/events`
  for (const url of [node.url, fastifyUrl]) {
    const res = await bank.call('POST', `/organisations/${bank.orgId}/event-subscriptions`, { scope, json: { url, events: [statusChanged, revoked] } })
    t.equal(res.status, 201, res.text)
  }
  ctx.services.delivery.start()
  t.teardown(() => ctx.services.delivery.stop())

  const sw = (await fintech.call('POST', `/organisations/${fintech.orgId}/software-statements`, { json: { client_name: 'Wallet', redirect_uris: ['https://wallet.example/cb'], roles: ['data-recipient'] } })).json()
  const cert = (await fintech.call('POST', `/organisations/${fintech.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'transport', csr: makeCsr(ecKey()) } })).json()
  t.equal((await operator.call('POST', `/admin/certificates/${cert.serial}/revoke`, { scope: 'directory:admin', json: { reason: 'keyCompromise' } })).status, 200)
  t.equal((await operator.call('PATCH', `/admin/organisations/${fintech.orgId}`, { scope: 'directory:admin', json: { status: 'suspended' } })).status, 200)

  await until('both events on Fastify', () => viaFastify.length === 2)
  t.same(viaFastify.map((e) => e.type), [revoked, statusChanged], 'in order')
  t.match(viaFastify[0], { iss: ctx.publicUrl, jti: String, iat: Number, seq: /^\d+$/, subject: { format: 'opaque', id: cert.serial }, event: { serial: cert.serial, reason: 'keyCompromise', org_id: fintech.orgId } })
  t.match(viaFastify[1], { subject: { format: 'opaque', id: fintech.orgId }, event: { previous_status: 'active', status: 'suspended' } })

  // The node receiver's handler threw on the revocation: it answered 500, the directory retries after its backoff.
  const [sub] = (await bank.call('GET', `/organisations/${bank.orgId}/event-subscriptions`, { scope })).json().filter((s: { url: string }) => s.url === node.url)
  await until('the failed attempt recorded', async () => (await ctx.db.prisma.eventDelivery.count({ where: { subscriptionId: sub.id, attempts: 1, status: 'pending' } })) === 1)
  t.equal(viaNode.length, 0)
  ctx.clock.advance(2)
  await until('both events on node:http', () => viaNode.length === 2)
  t.same(viaNode.map((e) => e.jti), viaFastify.map((e) => e.jti), 'the same events, in order, after the retry')
  const deliveries = (await bank.call('GET', `/organisations/${bank.orgId}/event-subscriptions/${sub.id}/deliveries`, { scope })).json()
  t.match(deliveries.at(-1), { type: revoked, status: 'delivered', attempts: 2 }, 'the handler failure was a 500: retried, then accepted')

  // At-least-once: a SET arriving again is acknowledged and not handed over twice.
  const sets = await feed()
  const again = sets.find((s) => decodeJwt(s).jti === viaNode[1]!.jti)!
  t.same(await post(node.url, again), { status: 202, body: undefined }, 'a duplicate is accepted…')
  t.same(await post(fastifyUrl, again), { status: 202, body: undefined })
  t.equal(viaNode.length, 2, '…without calling the handler again')
  t.equal(viaFastify.length, 2)

  // Refusals answer RFC 8935 §2.3 errors, on both.
  const adminSets = (await operator.call('GET', '/admin/events?limit=1', { scope: 'directory:admin' })).json().sets
  const [h, p, s] = again.split('.')
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), jti: 'forged' })).toString('base64url')}.${s}`
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  const foreign = await new SignJWT({ jti: 'x', events: { [statusChanged]: {} } }).setProtectedHeader({ alg: 'ES256', kid: 'not-ours', typ: 'secevent+jwt' })
    .setIssuer(ctx.publicUrl).setAudience(bank.orgId).setIssuedAt().sign(stranger)
  const plainJwt = await new SignJWT({ jti: 'y', events: { [statusChanged]: {} } }).setProtectedHeader({ alg: 'ES256', kid: 'not-ours', typ: 'JWT' })
    .setIssuer(ctx.publicUrl).setAudience(bank.orgId).setIssuedAt().sign(stranger)
  for (const url of [node.url, fastifyUrl]) {
    t.match(await post(url, adminSets[0]), { status: 400, body: { err: 'invalid_audience', description: /aud/ } }, 'a SET for another audience')
    t.match(await post(url, tampered), { status: 400, body: { err: 'authentication_failed' } }, 'a changed payload')
    t.match(await post(url, foreign), { status: 400, body: { err: 'invalid_key' } }, 'a key the directory does not publish')
    t.match(await post(url, plainJwt), { status: 400, body: { err: 'invalid_request', description: /typ/ } }, 'not a SET')
    t.match(await post(url, 'not a jwt'), { status: 400, body: { err: 'invalid_request' } })
    t.equal((await post(url, again, 'application/json')).status, 400, 'only application/secevent+jwt')
  }
  t.equal(viaNode.length + viaFastify.length, 4, 'no refused SET reached a handler')
})

t.test('verify: issuer and iat window; a pluggable jti store shared by two receivers', async (t) => {
  const sets = await feed()
  t.ok(sets.length > 0)
  const set = sets[0]!
  const base = { issuer: ctx.publicUrl, audience: bank.orgId }
  const fail = async (r: SecurityEventReceiver, code: string) => {
    const err = await r.verify(set).then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof SecurityEventError, code)
    t.equal((err as SecurityEventError).code, code)
  }
  await fail(new SecurityEventReceiver({ ...base, issuer: 'https://other.example', jwksUri: `${ctx.publicUrl}/jwks` }), 'ERR_SET_ISSUER')
  const iat = (await new SecurityEventReceiver(base).verify(set)).iat * 1000
  await fail(new SecurityEventReceiver({ ...base, maxTokenAge: 3600, clock: () => iat + 3601_000 }), 'ERR_SET_TOO_OLD')
  await fail(new SecurityEventReceiver({ ...base, clock: () => iat - 120_000 }), 'ERR_SET_NOT_YET_VALID')
  const ok = await new SecurityEventReceiver({ ...base, maxTokenAge: 3600, clock: () => iat + 3599_000 }).verify(set)
  t.equal(ok.iss, ctx.publicUrl, 'inside the window')

  // Two receiver processes sharing one store (as Redis SET NX would): each event is handled once between them.
  const shared = new Map<string, number>()
  const store: JtiStore = {
    add: async (jti, expiresAt) => { if (shared.has(jti)) return false; shared.set(jti, expiresAt); return true },
    delete: async (jti) => { shared.delete(jti) },
  }
  const handled: string[] = []
  const a = new SecurityEventReceiver({ ...base, jtiStore: store })
  const b = new SecurityEventReceiver({ ...base, jtiStore: store })
  t.match(await a.receive(set, (e) => { handled.push(e.jti) }), { status: 202, duplicate: false })
  t.match(await b.receive(set, (e) => { handled.push(e.jti) }), { status: 202, duplicate: true })
  t.equal(handled.length, 1)
  t.ok([...shared.values()][0]! > Date.now(), 'remembered until the end of the iat window')

  const memory = new MemoryJtiStore({ maxEntries: 2 })
  t.equal(memory.add('a', Date.now() + 1000), true)
  t.equal(memory.add('a', Date.now() + 1000), false)
  t.equal(memory.add('b', Date.now() - 1), true)
  t.equal(memory.add('c', Date.now() + 1000), true, 'full: the expired entry makes room')
  t.equal(memory.size, 2)
})
