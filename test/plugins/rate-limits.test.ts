import t from 'tap'
import { request } from 'undici'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, enrolParticipant, makeCsr } from '../helpers/participant.js'

// Rate limits on /token (per client certificate), /enrol and OCSP (per address): 429 with Retry-After in
// each endpoint's own format, and nothing done for the refused request.
const ctx = await buildTestApp(t, { RATE_LIMIT_TOKEN: '5', RATE_LIMIT_ENROL: '4', RATE_LIMIT_OCSP: '2', RATE_LIMIT_WINDOW_SECONDS: '600' })
const alice = await enrolParticipant(ctx)
const bob = await enrolParticipant(ctx)
t.teardown(() => Promise.all([alice.close(), bob.close()]))

t.test('/token: per client certificate, RFC 6749 JSON with Retry-After', async (t) => {
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await alice.tokenResponse({ scope: 'directory:read' })).status)
  t.same(statuses, [200, 200, 200, 200, 200])
  const over = await alice.tokenResponse({ scope: 'directory:read' })
  t.equal(over.status, 429)
  t.ok(Number(over.headers['retry-after']) > 0, 'Retry-After in seconds')
  t.match(over.headers['content-type'], /^application\/json/)
  t.match(over.json(), { error: 'temporarily_unavailable', error_description: /client certificate/ })
  t.equal((await bob.tokenResponse({ scope: 'directory:read' })).status, 200, 'another certificate has its own budget')
})

t.test('/enrol: per address, problem+json; the refused request spends nothing', async (t) => {
  // Two of the four were the enrolments above (same address).
  for (let i = 0; i < 2; i++) {
    const res = await request(`${ctx.publicUrl}/enrol`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'x'.repeat(43), csr: makeCsr(ecKey()), jwks: { keys: [] } }) })
    await res.body.dump()
    t.equal(res.statusCode, 400)
  }
  const over = await request(`${ctx.publicUrl}/enrol`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.equal(over.statusCode, 429)
  t.ok(over.headers['retry-after'])
  t.equal(over.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(await over.body.json(), { type: 'urn:ecosystem-directory:problem:rate-limited', status: 429 })
})

t.test('OCSP: per address, an OCSP tryLater response', async (t) => {
  for (let i = 0; i < 2; i++) {
    const res = await request(`${ctx.publicUrl}/pki/ocsp/AAAA`)
    await res.body.dump()
    t.not(res.statusCode, 429)
  }
  const over = await request(`${ctx.publicUrl}/pki/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: Buffer.from('3000', 'hex') })
  t.equal(over.statusCode, 429)
  t.ok(over.headers['retry-after'])
  t.equal(over.headers['content-type'], 'application/ocsp-response')
  t.same(Buffer.from(await over.body.arrayBuffer()), Buffer.from('30030a0103', 'hex'))
})
