import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, enrolParticipant, makeCsr, operatorOf } from '../helpers/participant.js'

t.test('updated_since on /participants and the keystores returns exactly what changed after that time', async (t) => {
  const ctx = await buildTestApp(t)
  const operator = operatorOf(ctx)
  const bank = await enrolParticipant(ctx, { roles: ['data-holder'] })
  const fintech = await enrolParticipant(ctx)
  const quiet = await enrolParticipant(ctx)
  t.teardown(() => Promise.all([operator.close(), bank.close(), fintech.close(), quiet.close()]))
  const sw = (await bank.call('POST', `/organisations/${bank.orgId}/software-statements`, { json: { client_name: 'Bank App', redirect_uris: ['https://bank.example/cb'], roles: ['data-holder'] } })).json()
  const issue = async () => {
    const res = await bank.call('POST', `/organisations/${bank.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'signing', csr: makeCsr(ecKey()) } })
    t.equal(res.status, 201, res.text)
    return res.json()
  }
  const old = await issue()
  const kept = await issue()

  // Registry rows carry the database's time and revocations the service clock: line the clock up with now, a
  // second ahead, so everything made from here on is after `since` and everything before it is not.
  const since = new Date()
  ctx.clock.advance((since.getTime() - ctx.clock.now().getTime()) / 1000 + 1)
  const q = `updated_since=${encodeURIComponent(since.toISOString())}`
  t.same((await ctx.app.inject(`/participants?${q}`)).json(), [], 'nothing changed yet')

  t.equal((await operator.call('PATCH', `/admin/organisations/${fintech.orgId}`, { scope: 'directory:admin', json: { status: 'suspended' } })).status, 200)
  t.equal((await bank.call('POST', `/organisations/${bank.orgId}/certificates/${old.serial}/revoke`, { json: { reason: 'superseded' } })).status, 200)
  const fresh = await issue()
  const as = await bank.call('POST', `/organisations/${bank.orgId}/authorisation-servers`, { json: { issuer: 'https://as.bank.example', discovery_url: 'https://as.bank.example/.well-known/openid-configuration', customer_friendly_name: 'Bank' } })
  t.equal(as.status, 201, as.text)

  const delta = await ctx.app.inject(`/participants?${q}`)
  t.equal(delta.statusCode, 200)
  t.match(delta.headers.etag, /^"/)
  const changed = delta.json() as Array<{ org_id: string, status: string, updated_at: string, authorisation_servers: unknown[] }>
  t.same(changed.map((p) => p.org_id).sort(), [bank.orgId, fintech.orgId].sort(), 'the suspended organisation and the one that added a server; not the quiet one')
  t.equal(changed.find((p) => p.org_id === fintech.orgId)!.status, 'suspended')
  t.equal(changed.find((p) => p.org_id === bank.orgId)!.authorisation_servers.length, 1, 'each entry whole, as in the full list')
  t.ok(changed.every((p) => new Date(p.updated_at) >= since), 'updated_at is the latest change')
  const full = (await ctx.app.inject('/participants')).json() as Array<{ org_id: string, updated_at: string }>
  t.ok(full.some((p) => p.org_id === quiet.orgId), 'the full list still has everyone')
  t.ok(new Date(full.find((p) => p.org_id === quiet.orgId)!.updated_at) < since)
  t.same((await ctx.app.inject(`/participants?${q}&status=suspended`)).json().map((p: { org_id: string }) => p.org_id), [fintech.orgId], 'with the usual filters')

  const keys = (path: string) => ctx.app.inject(path).then((r) => { t.equal(r.statusCode, 200, r.body); return (r.json().keys as Array<{ kid: string }>).map((k) => k.kid).sort() })
  const base = `/organisations/${bank.orgId}/software-statements/${sw.software_id}/jwks`
  t.same(await keys(`${base}?${q}`), [fresh['x5t#S256']], 'active keys added since')
  t.same(await keys(`${base}/inactive?${q}`), [old['x5t#S256']], 'keys revoked since')
  t.same(await keys(`/organisations/${bank.orgId}/jwks?${q}`), [fresh['x5t#S256']], 'the organisation keystore too')
  t.same(await keys(base), [kept['x5t#S256'], fresh['x5t#S256']].sort(), 'without updated_since: the whole active set')
  t.same(await keys(`/organisations/${fintech.orgId}/jwks?${q}`), [], 'no new keys there')

  for (const bad of ['updated_since=yesterday', 'updated_since=2026-13-01T00:00:00Z', 'updated_since=2026-12-01T00:00:00', 'since=2026-12-01T00:00:00Z']) {
    for (const path of ['/participants', base, `${base}/inactive`, `/organisations/${bank.orgId}/jwks`]) {
      const res = await ctx.app.inject(`${path}?${bad}`)
      t.equal(res.statusCode, 400, `${path}?${bad}`)
      t.match(res.headers['content-type'], /application\/problem\+json/)
    }
  }

  const doc = (await ctx.app.inject('/openapi.json')).json()
  for (const path of ['/participants', '/organisations/{orgId}/jwks', '/organisations/{orgId}/software-statements/{softwareId}/jwks', '/organisations/{orgId}/software-statements/{softwareId}/jwks/inactive']) {
    const param = doc.paths[path]?.get?.parameters?.find((p: { name: string }) => p.name === 'updated_since')
    t.match(param, { in: 'query', required: false, schema: { type: 'string', format: 'date-time' }, description: /RFC 3339/ }, `${path} documents updated_since`)
  }
})
