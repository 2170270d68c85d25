import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { enrolParticipant, operatorOf } from '../helpers/participant.js'

const ctx = await buildTestApp(t)
const p = await enrolParticipant(ctx, { roles: ['data-recipient', { role: 'payment-initiator', status: 'inactive' }] as never })
t.teardown(() => p.close())
const token = await p.token()
const create = (body: Record<string, unknown>) => p.http.call('POST', `/organisations/${p.orgId}/software-statements`, {
  token, json: { client_name: 'App', redirect_uris: ['https://app.example/cb'], roles: ['data-recipient'], ...body },
})
const paths = (res: { json: () => { errors?: Array<{ path: string }> } }) => (res.json().errors ?? []).map((e) => e.path)

t.test('roles must be a subset of the organisation\'s active roles', async (t) => {
  t.equal((await create({})).status, 201)
  const inactive = await create({ roles: ['payment-initiator'] })
  t.equal(inactive.status, 400)
  t.match(inactive.json().errors[0].message, /payment-initiator is not an active role/)
  const absent = await create({ roles: ['data-holder'] })
  t.equal(absent.status, 400)
  t.equal((await create({ roles: [] })).status, 400)
})

t.test('hostile redirect URIs are refused, each with its reason', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['javascript:alert(1)', /https/],
    ['http://app.example/cb', /must use https/],
    ['http://localhost/cb', /must use https/],
    ['https://app.example/cb#frag', /fragment/],
    ['https://*.app.example/cb', /wildcard/],
    ['https://user:pw@app.example/cb', /credentials/],
    ['/relative/cb', /absolute/],
    ['https://аpp.example/cb', /ASCII/], // Cyrillic а: a homograph
    ['https://app.example/c b', /ASCII without spaces/],
    [`https://app.example/${'a'.repeat(2100)}`, /2048/],
    ['data:text/html,hi', /https/],
  ]
  for (const [uri, reason] of cases) {
    const res = await create({ redirect_uris: [uri] })
    t.equal(res.status, 400, uri.slice(0, 40))
    t.match(res.json().errors.find((e: { path: string }) => e.path.startsWith('body.redirect_uris'))?.message, reason, uri.slice(0, 40))
  }
})

t.test('http://localhost is allowed only for test-mode software', async (t) => {
  const res = await create({ mode: 'test', redirect_uris: ['http://localhost:3000/cb'] })
  t.equal(res.status, 201)
  t.equal(res.json().mode, 'test')
  const sw = res.json().software_id
  const toLive = await p.http.call('PATCH', `/organisations/${p.orgId}/software-statements/${sw}`, { token, json: { mode: 'live' } })
  t.equal(toLive.status, 400, 'switching to live with a localhost URI is refused')
})

t.test('10 000 redirect URIs, duplicate URIs, 1 MB names, unicode tricks, unknown fields', async (t) => {
  const many = await create({ redirect_uris: Array.from({ length: 10_000 }, (_, i) => `https://app.example/cb/${i}`) })
  t.equal(many.status, 400)
  t.match(many.json().errors[0].message, /at most 20/)
  t.ok(paths(await create({ redirect_uris: ['https://a.example/cb', 'https://a.example/cb'] })).includes('body.redirect_uris'))
  const big = await p.http.call('POST', `/organisations/${p.orgId}/software-statements`, {
    token, body: JSON.stringify({ client_name: 'x'.repeat(1024 * 1024), redirect_uris: ['https://a.example/cb'], roles: ['data-recipient'] }), headers: { 'content-type': 'application/json' },
  })
  t.equal(big.status, 413)
  t.ok(paths(await create({ client_name: 'x'.repeat(300) })).includes('body.client_name'))
  t.ok(paths(await create({ client_name: 'Pay\u200bPal' })).includes('body.client_name'), 'zero-width space')
  t.ok(paths(await create({ client_name: 'App\u0000' })).includes('body.client_name'), 'NUL')
  t.ok(paths(await create({ logo_uri: 'javascript:alert(1)' })).includes('body.logo_uri'))
  t.ok(paths(await create({ client_uri: 'http://app.example' })).includes('body.client_uri'))
  const unknown = await create({ software_id: '00000000-0000-4000-8000-000000000000' })
  t.equal(unknown.status, 400, 'unknown fields are refused, not ignored')
  const nfc = await create({ client_name: 'Cafe\u0301 App' })
  t.equal(nfc.json().client_name, 'Café App', 'names are stored NFC-normalised')
})

t.test('update: version increments; status lifecycle; removed is terminal and revokes certificates', async (t) => {
  const sw = (await create({})).json().software_id
  const path = `/organisations/${p.orgId}/software-statements/${sw}`
  const up = await p.http.call('PATCH', path, { token, json: { client_name: 'App 2', client_description: 'Budgets' } })
  t.equal(up.status, 200)
  t.match(up.json(), { client_name: 'App 2', client_description: 'Budgets', version: 2 })
  const cleared = await p.http.call('PATCH', path, { token, json: { client_description: null } })
  t.notOk('client_description' in cleared.json(), 'a cleared optional value is omitted')
  t.equal((await p.http.call('PATCH', path, { token, json: { status: 'inactive' } })).json().status, 'inactive')
  t.equal((await p.http.call('PATCH', path, { token, json: { status: 'removed' } })).json().status, 'removed')
  const back = await p.http.call('PATCH', path, { token, json: { status: 'active' } })
  t.equal(back.status, 409)
  t.equal((await p.http.call('PATCH', path, { token, json: {} })).status, 400)
})

t.test('the operator creates software on an organisation\'s behalf; authorisation servers', async (t) => {
  const operator = operatorOf(ctx)
  t.teardown(() => operator.close())
  const admin = await operator.token('directory:admin')
  const sw = await operator.http.call('POST', `/admin/organisations/${p.orgId}/software-statements`, { token: admin, json: { client_name: 'By Operator', redirect_uris: ['https://op.example/cb'], roles: ['data-recipient'] } })
  t.equal(sw.status, 201)
  const as = await p.http.call('POST', `/organisations/${p.orgId}/authorisation-servers`, {
    token, json: { issuer: 'https://as.bank.example', discovery_url: 'https://as.bank.example/.well-known/openid-configuration', customer_friendly_name: 'Bank', api_resources: [{ family: 'accounts', version: '4.0', base_url: 'https://api.bank.example/accounts' }] },
  })
  t.equal(as.status, 201)
  const dup = await p.http.call('POST', `/organisations/${p.orgId}/authorisation-servers`, {
    token, json: { issuer: 'https://as.bank.example', discovery_url: 'https://as.bank.example/x', customer_friendly_name: 'Again' },
  })
  t.equal(dup.status, 409)
  const bad = await p.http.call('POST', `/organisations/${p.orgId}/authorisation-servers`, { token, json: { issuer: 'http://as.example', discovery_url: 'nope', customer_friendly_name: '' } })
  t.equal(bad.status, 400)
  const patched = await p.http.call('PATCH', `/organisations/${p.orgId}/authorisation-servers/${as.json().id}`, { token, json: { customer_friendly_name: 'Bank plc' } })
  t.match(patched.json(), { customer_friendly_name: 'Bank plc', version: 2 })
  const participants = (await ctx.app.inject('/participants')).json()
  const me = participants.find((x: { org_id: string }) => x.org_id === p.orgId)
  t.match(me.authorisation_servers[0], { issuer: 'https://as.bank.example', customer_friendly_name: 'Bank plc' })
})
