import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import t, { type Test } from 'tap'
import { SignJWT } from 'jose'
import { buildTestApp } from '../helpers/app.js'
import { foreignCertificates } from '../helpers/foreign-pki.js'
import { enrolParticipant, MtlsClient, type Participant } from '../helpers/participant.js'

// One directory for the file; each refusal is its own test and leaves the rest intact.
const ctx = await buildTestApp(t)
const alice = await enrolParticipant(ctx)
const bob = await enrolParticipant(ctx)
t.teardown(() => Promise.all([alice.close(), bob.close()]))

const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')

async function refused (t: Test, p: Participant, form: Record<string, string>, error: string, description: RegExp, status = error === 'invalid_client' ? 401 : 400): Promise<void> {
  const res = await p.http.call('POST', '/token', { form })
  t.equal(res.status, status, `status ${status}`)
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(res.json(), { error, error_description: description })
}
const form = (assertion: string, extra: Record<string, string> = {}) => ({ grant_type: 'client_credentials', client_assertion_type: assertionType, client_assertion: assertion, ...extra })

t.test('a valid assertion gets a token bound to the certificate', async (t) => {
  const res = await alice.tokenResponse()
  t.equal(res.status, 200)
  t.equal(res.headers['cache-control'], 'no-store')
})

t.test('the discovery document describes the token endpoint', async (t) => {
  const doc = (await ctx.app.inject('/.well-known/openid-configuration')).json()
  t.match(doc, {
    issuer: ctx.publicUrl, token_endpoint: `${ctx.mtlsUrl}/token`, mtls_endpoint_aliases: { token_endpoint: `${ctx.mtlsUrl}/token` },
    jwks_uri: `${ctx.publicUrl}/jwks`, grant_types_supported: ['client_credentials'], token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['PS256', 'ES256'], tls_client_certificate_bound_access_tokens: true,
  })
})

t.test('replayed jti is refused', async (t) => {
  const a = await alice.assertion()
  t.equal((await alice.http.call('POST', '/token', { form: form(a) })).status, 200)
  await refused(t, alice, form(a), 'invalid_client', /jti has been used/)
})

t.test('expired assertion is refused', async (t) => {
  const now = Math.floor(Date.now() / 1000)
  await refused(t, alice, form(await alice.assertion({ iat: now - 600, exp: now - 300 })), 'invalid_client', /expired/)
})

t.test('far-future exp is refused', async (t) => {
  const now = Math.floor(Date.now() / 1000)
  await refused(t, alice, form(await alice.assertion({ exp: now + 3600 })), 'invalid_client', /exp is more than 300 s ahead/)
})

t.test('missing exp is refused', async (t) => {
  const now = Math.floor(Date.now() / 1000)
  const a = await new SignJWT({ iss: alice.clientId, sub: alice.clientId, aud: `${ctx.mtlsUrl}/token`, jti: 'no-exp', iat: now })
    .setProtectedHeader({ alg: 'ES256', kid: alice.kid }).sign(alice.signingKey)
  await refused(t, alice, form(a), 'invalid_client', /exp/)
})

t.test('wrong aud is refused', async (t) => {
  await refused(t, alice, form(await alice.assertion({ aud: 'https://another.example/token' })), 'invalid_client', /aud/)
})

t.test('iss ≠ sub is refused', async (t) => {
  await refused(t, alice, form(await alice.assertion({ sub: bob.clientId })), 'invalid_client', /iss and sub/)
})

t.test('alg none is refused', async (t) => {
  const now = Math.floor(Date.now() / 1000)
  const unsigned = `${b64({ alg: 'none' })}.${b64({ iss: alice.clientId, sub: alice.clientId, aud: `${ctx.mtlsUrl}/token`, jti: 'x', exp: now + 60 })}.`
  await refused(t, alice, form(unsigned), 'invalid_client', /alg none is not allowed/)
})

t.test('HS256 with the public key as the secret is refused', async (t) => {
  const publicPem = createPublicKey(alice.signingKey).export({ format: 'pem', type: 'spki' }) as string
  const a = await alice.assertion({}, { alg: 'HS256' }, new TextEncoder().encode(publicPem))
  await refused(t, alice, form(a), 'invalid_client', /alg HS256 is not allowed/)
})

t.test('RS256 is refused (FAPI 2.0 allows PS256 and ES256 only)', async (t) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  const now = Math.floor(Date.now() / 1000)
  const a = await new SignJWT({ iss: alice.clientId, sub: alice.clientId, aud: `${ctx.mtlsUrl}/token`, jti: 'rs', exp: now + 60 })
    .setProtectedHeader({ alg: 'RS256' }).sign(rsa)
  await refused(t, alice, form(a), 'invalid_client', /alg RS256 is not allowed/)
})

t.test('a signature by a key not registered for the client is refused', async (t) => {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  await refused(t, alice, form(await alice.assertion({}, {}, other)), 'invalid_client', /signature does not verify|not signed by a key registered/)
})

t.test('unknown client is refused', async (t) => {
  const id = '00000000-0000-4000-8000-000000000000'
  await refused(t, alice, form(await alice.assertion({ iss: id, sub: id })), 'invalid_client', /unknown client/)
})

t.test("another organisation's certificate is refused", async (t) => {
  // Bob's assertion over Alice's mTLS connection.
  const res = await alice.http.call('POST', '/token', { form: form(await bob.assertion()) })
  t.equal(res.status, 401)
  t.match(res.json(), { error: 'invalid_client', error_description: /another organisation/ })
})

t.test('a scope the client does not have is refused', async (t) => {
  await refused(t, alice, form(await alice.assertion(), { scope: 'directory:admin' }), 'invalid_scope', /directory:admin/)
})

t.test('unsupported grant type and missing parameters', async (t) => {
  await refused(t, alice, form(await alice.assertion(), { grant_type: 'authorization_code' }), 'unsupported_grant_type', /authorization_code/)
  await refused(t, alice, { grant_type: 'client_credentials', client_assertion: await alice.assertion() }, 'invalid_request', /client_assertion_type/)
  await refused(t, alice, { grant_type: 'client_credentials', client_assertion_type: assertionType }, 'invalid_request', /client_assertion is required/)
  await refused(t, alice, { client_assertion_type: assertionType }, 'invalid_request', /grant_type is required/)
})

t.test('malformed and oversize form bodies are refused', async (t) => {
  const garbage = await alice.http.call('POST', '/token', { form: form('not.a.jwt') })
  t.equal(garbage.status, 401)
  t.equal(garbage.json().error, 'invalid_client')
  const repeated = await alice.http.call('POST', '/token', {
    body: `grant_type=client_credentials&grant_type=client_credentials&client_assertion_type=${encodeURIComponent(assertionType)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  t.equal(repeated.status, 400)
  t.match(repeated.json(), { error: 'invalid_request', error_description: /repeated/ })
  const json = await alice.http.call('POST', '/token', { json: form(await alice.assertion()) })
  t.equal(json.status, 400)
  t.equal(json.json().error, 'invalid_request')
  const huge = await alice.http.call('POST', '/token', { body: 'grant_type=' + 'x'.repeat(20_000), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(huge.status, 413)
})

t.test('no client certificate: invalid_client', async (t) => {
  const anonymous = new MtlsClient(ctx.mtlsUrl, { ca: ctx.services.authority.caBundlePem() })
  t.teardown(() => anonymous.close())
  const res = await anonymous.call('POST', '/token', { form: form(await alice.assertion()) })
  t.equal(res.status, 401)
  t.match(res.json(), { error: 'invalid_client', error_description: /client certificate/ })
})

t.test('self-signed and foreign-CA certificates: invalid_client', async (t) => {
  const foreign = foreignCertificates()
  for (const [name, creds] of Object.entries(foreign)) {
    const c = new MtlsClient(ctx.mtlsUrl, { ...creds, ca: ctx.services.authority.caBundlePem() })
    const res = await c.call('POST', '/token', { form: form(await alice.assertion()) })
    t.equal(res.status, 401, name)
    t.match(res.json(), { error: 'invalid_client', error_description: /not trusted|not issued by this directory/ }, name)
    await c.close()
  }
})

t.test('a suspended organisation gets no token', async (t) => {
  const carol = await enrolParticipant(ctx)
  t.teardown(() => carol.close())
  await ctx.services.organisations.update(carol.orgId, { status: 'suspended' }, { actor: 'test' })
  const res = await carol.tokenResponse()
  t.equal(res.status, 400)
  t.match(res.json(), { error: 'unauthorized_client', error_description: /suspended/ })
})
