import t from 'tap'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, enrolParticipant, makeCsr, MtlsClient, operatorOf } from '../helpers/participant.js'

const ctx = await buildTestApp(t)
const alice = await enrolParticipant(ctx, { roles: ['data-recipient', 'payment-initiator'] })
const bob = await enrolParticipant(ctx)
t.teardown(() => Promise.all([alice.close(), bob.close()]))
const software = async (p = alice, roles = ['data-recipient']) => {
  const res = await p.call('POST', `/organisations/${p.orgId}/software-statements`, { json: { client_name: 'App', redirect_uris: ['https://app.example/cb'], roles } })
  if (res.status !== 201) throw new Error(res.text)
  return res.json().software_id as string
}

t.test('no bearer token: 401 with a Bearer challenge', async (t) => {
  const res = await alice.http.call('GET', `/organisations/${alice.orgId}`)
  t.equal(res.status, 401)
  t.match(res.headers['www-authenticate'], /^Bearer realm="directory"/)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
})

t.test('a garbage or foreign token: 401 invalid_token', async (t) => {
  const res = await alice.http.call('GET', `/organisations/${alice.orgId}`, { token: 'eyJhbGciOiJub25lIn0.e30.' })
  t.equal(res.status, 401)
  t.match(res.headers['www-authenticate'], /error="invalid_token"/)
})

t.test('a token presented over another certificate (cnf mismatch) is refused', async (t) => {
  const token = await alice.token()
  // Bob's connection, Alice's token.
  const res = await bob.http.call('GET', `/organisations/${alice.orgId}`, { token })
  t.equal(res.status, 401)
  t.match(res.json().detail, /bound to another client certificate/)
  // Another certificate of Alice's own organisation is another certificate too.
  const sw = await software()
  const key = ecKey()
  const issued = await alice.call('POST', `/organisations/${alice.orgId}/software-statements/${sw}/certificates`, { json: { type: 'transport', csr: makeCsr(key) } })
  t.equal(issued.status, 201)
  const second = new MtlsClient(ctx.mtlsUrl, { key: key.export({ format: 'pem', type: 'pkcs8' }) as string, cert: issued.json().certificate, ca: ctx.services.authority.caBundlePem() })
  t.teardown(() => second.close())
  const again = await second.call('GET', `/organisations/${alice.orgId}`, { token })
  t.equal(again.status, 401)
  t.match(again.headers['www-authenticate'], /invalid_token/)
})

t.test('an expired token is refused', async (t) => {
  const token = await alice.token()
  ctx.clock.advance(301 + 30)
  t.teardown(() => ctx.clock.advance(-331))
  const res = await alice.http.call('GET', `/organisations/${alice.orgId}`, { token })
  t.equal(res.status, 401)
  t.match(res.json().detail, /expired/)
})

t.test('insufficient scope: 403 with the needed scope', async (t) => {
  const res = await alice.call('POST', `/organisations/${alice.orgId}/software-statements`, {
    scope: 'directory:read', json: { client_name: 'App', redirect_uris: ['https://app.example/cb'], roles: ['data-recipient'] },
  })
  t.equal(res.status, 403)
  t.match(res.headers['www-authenticate'], /error="insufficient_scope", scope="directory:software"/)
})

t.test('a participant cannot reach /admin', async (t) => {
  const token = await alice.token()
  const res = await alice.http.call('GET', '/admin/organisations', { token })
  t.equal(res.status, 403)
})

t.test("another organisation's resources are 404, never 403", async (t) => {
  const sw = await software(bob)
  for (const path of [`/organisations/${bob.orgId}`, `/organisations/${bob.orgId}/software-statements`, `/organisations/${bob.orgId}/software-statements/${sw}/ssa`, `/organisations/${bob.orgId}/certificates`]) {
    const res = await alice.call('GET', path)
    t.equal(res.status, 404, path)
  }
  const own = await alice.call('GET', `/organisations/${alice.orgId}/software-statements/${sw}`)
  t.equal(own.status, 404, "bob's software id under alice's organisation")
})

t.test('suspension bites on the next request, not at token expiry', async (t) => {
  const carol = await enrolParticipant(ctx)
  t.teardown(() => carol.close())
  const token = await carol.token()
  t.equal((await carol.http.call('GET', `/organisations/${carol.orgId}`, { token })).status, 200)
  await ctx.services.organisations.update(carol.orgId, { status: 'suspended' }, { actor: 'test' })
  const res = await carol.http.call('GET', `/organisations/${carol.orgId}`, { token })
  t.equal(res.status, 403)
  t.match(res.json().detail, /suspended/)
  await ctx.services.organisations.update(carol.orgId, { status: 'active' }, { actor: 'test' })
  t.equal((await carol.http.call('GET', `/organisations/${carol.orgId}`, { token })).status, 200, 'reactivation restores access')
})

t.test('SSA refused while the software statement is inactive or a role is inactive', async (t) => {
  const sw = await software(alice, ['payment-initiator'])
  const token = await alice.token()
  const path = `/organisations/${alice.orgId}/software-statements/${sw}`
  t.equal((await alice.http.call('GET', `${path}/ssa`, { token })).status, 200)
  t.equal((await alice.http.call('PATCH', path, { token, json: { status: 'inactive' } })).status, 200)
  const inactive = await alice.http.call('GET', `${path}/ssa`, { token })
  t.equal(inactive.status, 403)
  t.match(inactive.json().detail, /software statement is inactive/)
  t.equal((await alice.http.call('PATCH', path, { token, json: { status: 'active' } })).status, 200)
  await ctx.services.organisations.update(alice.orgId, { roles: [{ role: 'data-recipient', status: 'active' }, { role: 'payment-initiator', status: 'inactive' }] }, { actor: 'test' })
  const role = await alice.http.call('GET', `${path}/ssa`, { token })
  t.equal(role.status, 403)
  t.match(role.json().detail, /payment-initiator is not active/)
})

t.test('a revoked certificate is refused on the next request', async (t) => {
  const dave = await enrolParticipant(ctx)
  t.teardown(() => dave.close())
  const token = await dave.token()
  t.equal((await dave.http.call('GET', `/organisations/${dave.orgId}`, { token })).status, 200)
  const certs = (await dave.http.call('GET', `/organisations/${dave.orgId}/certificates`, { token })).json()
  const revoke = await dave.http.call('POST', `/organisations/${dave.orgId}/certificates/${certs[0].serial}/revoke`, { token, json: { reason: 'keyCompromise' } })
  t.equal(revoke.status, 200)
  t.equal(revoke.json().status, 'revoked')
  const res = await dave.http.call('GET', `/organisations/${dave.orgId}`, { token })
  t.equal(res.status, 401)
  t.match(res.json().detail, /revoked/)
  const tok = await dave.tokenResponse()
  t.equal(tok.status, 401)
  t.match(tok.json(), { error: 'invalid_client', error_description: /revoked/ })
})

t.test('revocation requests: unknown reason, another organisation\'s serial', async (t) => {
  const token = await alice.token()
  const bobs = (await bob.call('GET', `/organisations/${bob.orgId}/certificates`)).json()
  const bad = await alice.http.call('POST', `/organisations/${alice.orgId}/certificates/${bobs[0].serial}/revoke`, { token, json: { reason: 'because' } })
  t.equal(bad.status, 400)
  const other = await alice.http.call('POST', `/organisations/${alice.orgId}/certificates/${bobs[0].serial}/revoke`, { token, json: { reason: 'superseded' } })
  t.equal(other.status, 404)
})

t.test('key rotation: tokens and SSAs signed before it still verify', async (t) => {
  const sw = await software()
  const token = await alice.token()
  const ssa = (await alice.http.call('GET', `/organisations/${alice.orgId}/software-statements/${sw}/ssa`, { token })).text
  const before = (await ctx.app.inject('/jwks')).json()
  const operator = operatorOf(ctx)
  t.teardown(() => operator.close())
  const rotated = await operator.call('POST', '/admin/keys/rotate', { scope: 'directory:admin' })
  t.equal(rotated.status, 200)
  const { active_kid: activeKid, retired_kid: retiredKid } = rotated.json()
  const after = (await ctx.app.inject('/jwks')).json()
  const kids = after.keys.map((k: { kid: string }) => k.kid)
  t.ok(kids.includes(activeKid) && kids.includes(retiredKid), 'the retired key stays published')
  t.ok(before.keys.some((k: { kid: string }) => k.kid === activeKid), 'the new active key was published before it signed anything')
  t.equal(kids.length, 3, 'retired, active and a new next key')
  const { protectedHeader } = await jwtVerify(ssa, createLocalJWKSet(after), { issuer: ctx.publicUrl })
  t.equal(protectedHeader.kid, retiredKid)
  t.equal((await alice.http.call('GET', `/organisations/${alice.orgId}`, { token })).status, 200, 'the pre-rotation token still works')
  const fresh = await alice.http.call('GET', `/organisations/${alice.orgId}/software-statements/${sw}/ssa`, { token })
  const verified = await jwtVerify(fresh.text, createLocalJWKSet(after), { issuer: ctx.publicUrl })
  t.equal(verified.protectedHeader.kid, activeKid, 'new SSAs use the new active key')
})

t.test('@fastify/jwt refuses a directory-signed token without typ at+jwt, an unknown kid, and HS256 under our kid', async (t) => {
  const { SignJWT } = await import('jose')
  const key = ctx.services.keys.current()
  const claims = { client_id: 'c', org_id: alice.orgId, scope: 'directory:read', cnf: { 'x5t#S256': 'x' } }
  const sign = (header: Record<string, unknown>, k: CryptoKey | Uint8Array = key.key) => new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header } as never)
    .setIssuer(ctx.config.DIRECTORY_ISSUER).setAudience(ctx.config.MTLS_BASE_URL).setIssuedAt().setExpirationTime('5m').setJti('j').sign(k)
  for (const [what, token] of [
    ['typ JWT', await sign({ typ: 'JWT' })],
    ['unknown kid', await sign({ kid: 'not-a-published-kid' })],
    ['HS256 keyed with our kid', await sign({ alg: 'HS256' }, new TextEncoder().encode(JSON.stringify(key.publicJwk)))],
  ] as const) {
    const res = await alice.http.call('GET', `/organisations/${alice.orgId}`, { token })
    t.equal(res.status, 401, what)
    t.match(res.headers['www-authenticate'], /invalid_token/, what)
  }
})
