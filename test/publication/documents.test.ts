import { randomBytes } from 'node:crypto'
import { gunzipSync, brotliDecompressSync } from 'node:zlib'
import t from 'tap'
import { request } from 'undici'
import { buildTestApp } from '../helpers/app.js'
import { enrolParticipant, operatorOf } from '../helpers/participant.js'

t.test('/participants: shape, filters, ETag/304, compression, and a change visible at once', async (t) => {
  const ctx = await buildTestApp(t)
  const holder = await enrolParticipant(ctx, { roles: ['data-holder'] })
  const recipient = await enrolParticipant(ctx, { roles: ['data-recipient'] })
  t.teardown(() => Promise.all([holder.close(), recipient.close()]))
  const sw = (await recipient.call('POST', `/organisations/${recipient.orgId}/software-statements`, { json: { client_name: 'App', redirect_uris: ['https://a.example/cb'], roles: ['data-recipient'] } })).json()

  const first = await ctx.app.inject('/participants')
  t.equal(first.statusCode, 200)
  t.match(first.headers['cache-control'], /^public, max-age=60$/)
  const etag = String(first.headers.etag)
  t.match(etag, /^"[A-Za-z0-9_-]{27}"$/, 'a strong ETag')
  const me = first.json().find((p: { org_id: string }) => p.org_id === recipient.orgId)
  t.match(me, {
    status: 'active', roles: [{ role: 'data-recipient', status: 'active' }], jwks_uri: `${ctx.publicUrl}/organisations/${recipient.orgId}/jwks`,
    software_statements: [{ software_id: sw.software_id, client_name: 'App', status: 'active', roles: ['data-recipient'], mode: 'live', jwks_uri: sw.jwks_uri }],
  })

  const cached = await ctx.app.inject({ url: '/participants', headers: { 'if-none-match': etag } })
  t.equal(cached.statusCode, 304)
  t.equal(cached.body, '')
  t.equal((await ctx.app.inject({ url: '/participants', headers: { 'if-none-match': `"other", W/${etag}` } })).statusCode, 304, 'a list and a weak form match too')

  const holders = (await ctx.app.inject('/participants?role=data-holder')).json()
  t.ok(holders.every((p: { roles: Array<{ role: string }> }) => p.roles.some((r) => r.role === 'data-holder')))
  t.ok(holders.some((p: { org_id: string }) => p.org_id === holder.orgId))
  t.equal((await ctx.app.inject('/participants?status=bogus')).statusCode, 400)
  t.equal((await ctx.app.inject('/participants?role=Bad Role')).statusCode, 400)

  for (const [enc, decode] of [['gzip', gunzipSync], ['br', brotliDecompressSync]] as const) {
    const res = await request(`${ctx.publicUrl}/participants`, { headers: { 'accept-encoding': enc } })
    const body = Buffer.from(await res.body.arrayBuffer())
    if (first.rawPayload.length >= 1024) {
      t.equal(res.headers['content-encoding'], enc)
      t.same(JSON.parse(decode(body).toString()), first.json(), `${enc} decodes to the same document`)
      t.not(res.headers.etag, etag, `${enc} has its own ETag`)
    }
    t.equal(res.headers.vary, 'accept-encoding')
  }

  await ctx.services.organisations.update(holder.orgId, { status: 'suspended' }, { actor: 'test' })
  ctx.services.documents.markStale()
  const after = await ctx.app.inject({ url: '/participants', headers: { 'if-none-match': etag } })
  t.equal(after.statusCode, 200, 'the old ETag no longer matches')
  t.equal(after.json().find((p: { org_id: string }) => p.org_id === holder.orgId).status, 'suspended')
})

t.test('a cached document is served without touching the database', async (t) => {
  const ctx = await buildTestApp(t)
  const warm = await ctx.app.inject('/participants')
  const etag = String(warm.headers.etag)
  // Stop the poller and make the database unreachable: the cached bytes still answer, 304 included.
  ctx.services.documents.stop()
  await ctx.app.inject('/participants')
  const prisma = ctx.db.prisma as unknown as { organisation: { findMany: unknown } }
  const original = prisma.organisation.findMany
  let queries = 0
  prisma.organisation.findMany = (...args: unknown[]) => { queries++; return (original as (...a: unknown[]) => unknown).apply(ctx.db.prisma.organisation, args) }
  t.teardown(() => { prisma.organisation.findMany = original })
  for (let i = 0; i < 20; i++) {
    t.equal((await ctx.app.inject({ url: '/participants', headers: { 'if-none-match': etag } })).statusCode, 304)
    t.equal((await ctx.app.inject('/participants')).statusCode, 200)
  }
  t.equal(queries, 0, 'no rebuild while nothing changed')
})

t.test('keystores: unknown ids are 404 problems', async (t) => {
  const ctx = await buildTestApp(t)
  const p = await enrolParticipant(ctx)
  t.teardown(() => p.close())
  const missing = '00000000-0000-4000-8000-000000000000'
  for (const url of [`/organisations/${missing}/jwks`, `/organisations/${p.orgId}/software-statements/${missing}/jwks`, `/organisations/${missing}/software-statements/${missing}/jwks/inactive`]) {
    const res = await ctx.app.inject(url)
    t.equal(res.statusCode, 404, url)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  }
  t.equal((await ctx.app.inject('/organisations/nope/jwks')).statusCode, 400)
  const orgKeys = (await ctx.app.inject(`/organisations/${p.orgId}/jwks`)).json()
  t.equal(orgKeys.keys.length, 1, 'the enrolment transport certificate')
  t.match(orgKeys.keys[0], { use: 'tls', kty: 'EC', x5c: [/^MII/, /^MII/] })
})

t.test('two instances on one database see each other\'s changes without a restart', async (t) => {
  const env = { DIRECTORY_MASTER_KEY: randomBytes(32).toString('base64') }
  const a = await buildTestApp(t, env)
  const b = await buildTestApp(t, env, { db: { db: a.db, ...(a.dbUrl ? { url: a.dbUrl } : {}) } })
  const operator = operatorOf(a)
  t.teardown(() => operator.close())
  const before = (await b.app.inject('/participants')).json().length
  const created = await operator.call('POST', '/admin/organisations', { scope: 'directory:admin', json: { legal_name: 'Seen Everywhere Ltd', registration_number: 'SEEN-1', country: 'GB', status: 'active' } })
  t.equal(created.status, 201)
  // b learns of the change by polling the shared version counter (every 100 ms in tests).
  let seen = false
  for (let i = 0; i < 40 && !seen; i++) {
    seen = (await b.app.inject('/participants')).json().length === before + 1
    if (!seen) await new Promise((r) => setTimeout(r, 50))
  }
  t.ok(seen, 'instance b serves the organisation created through instance a')
  const rotated = await operator.call('POST', '/admin/keys/rotate', { scope: 'directory:admin' })
  for (let i = 0; i < 40 && b.services.keys.current().kid !== rotated.json().active_kid; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(b.services.keys.current().kid, rotated.json().active_kid, 'instance b signs with the key promoted on instance a')
})
