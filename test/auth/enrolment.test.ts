import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, enrolWithCode, makeCsr, MtlsClient, operatorOf } from '../helpers/participant.js'

const ctx = await buildTestApp(t)
const operator = operatorOf(ctx)
t.teardown(() => operator.close())
const admin = await operator.token('directory:admin')
let n = 0
async function orgWithCode (status: 'active' | 'pending' = 'active') {
  const org = (await operator.http.call('POST', '/admin/organisations', { token: admin, json: { legal_name: `Enrolling ${++n} Ltd`, registration_number: `ENR-${n}`, country: 'GB', roles: ['data-recipient'], status } })).json()
  const code = await operator.http.call('POST', `/admin/organisations/${org.id}/enrolment-codes`, { token: admin })
  return { orgId: org.id as string, code: code.json().code as string, cacheControl: code.headers['cache-control'] }
}
const jwks = () => {
  const jwk = createPublicKey(ecKey()).export({ format: 'jwk' })
  return { keys: [{ ...jwk, alg: 'ES256', use: 'sig', kid: 'k1' }] }
}
const counts = async () => ({ clients: await ctx.db.prisma.client.count(), certificates: await ctx.db.prisma.certificate.count() })

t.test('enrolment returns a client id and a transport certificate for the code\'s organisation', async (t) => {
  const { orgId, code, cacheControl } = await orgWithCode()
  t.equal(cacheControl, 'no-store', 'the code is never cached')
  const p = await enrolWithCode(ctx, code)
  t.teardown(() => p.close())
  t.equal(p.orgId, orgId)
  const cert = new X509Certificate(p.transportCertPem)
  t.match(cert.subject, new RegExp(`UID=${p.clientId}`))
  t.equal((await p.tokenResponse()).status, 200, 'the new credentials work at once')
  const row = await ctx.db.prisma.enrolmentCode.findFirstOrThrow({ where: { organisationId: orgId } })
  t.not(row.codeHash, code, 'only a hash of the code is stored')
  t.ok(row.usedAt)
})

t.test('a used code is refused and creates nothing', async (t) => {
  const { code } = await orgWithCode()
  await (await enrolWithCode(ctx, code)).close()
  const before = await counts()
  const again = await ctx.app.inject({ method: 'POST', url: '/enrol', payload: { code, csr: makeCsr(ecKey()), jwks: jwks() } })
  t.equal(again.statusCode, 401)
  t.match(again.json(), { type: 'urn:ecosystem-directory:problem:unauthorized', detail: /unknown, used or expired/ })
  t.same(await counts(), before)
})

t.test('an unknown or expired code is refused and creates nothing', async (t) => {
  const before = await counts()
  const unknown = await ctx.app.inject({ method: 'POST', url: '/enrol', payload: { code: 'x'.repeat(43), csr: makeCsr(ecKey()), jwks: jwks() } })
  t.equal(unknown.statusCode, 401)
  const { code } = await orgWithCode()
  ctx.clock.advance(ctx.config.ENROLMENT_CODE_TTL + 1)
  t.teardown(() => ctx.clock.advance(-(ctx.config.ENROLMENT_CODE_TTL + 1)))
  const expired = await ctx.app.inject({ method: 'POST', url: '/enrol', payload: { code, csr: makeCsr(ecKey()), jwks: jwks() } })
  t.equal(expired.statusCode, 401)
  t.same(await counts(), before)
})

t.test('a bad CSR or a bad JWKS is refused before the code is spent', async (t) => {
  const { code } = await orgWithCode()
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
  const badCsr = await ctx.app.inject({ method: 'POST', url: '/enrol', payload: { code, csr: makeCsr(weak), jwks: jwks() } })
  t.equal(badCsr.statusCode, 400)
  t.match(badCsr.json().detail, /1024/)
  const withPrivate = { keys: [{ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), alg: 'ES256' }] }
  const priv = await ctx.app.inject({ method: 'POST', url: '/enrol', payload: { code, csr: makeCsr(ecKey()), jwks: withPrivate } })
  t.equal(priv.statusCode, 400)
  t.match(priv.json().errors[0], { path: "body.jwks.keys.0", message: /a private key member "d" must never be sent/ })
  const rs256 = await ctx.app.inject({ method: 'POST', url: '/enrol', payload: { code, csr: makeCsr(ecKey()), jwks: { keys: [{ ...jwks().keys[0], alg: 'RS256' }] } } })
  t.equal(rs256.statusCode, 400)
  const p = await enrolWithCode(ctx, code)
  t.teardown(() => p.close())
  t.ok(p.clientId, 'the code still works after the refusals')
})

t.test('a suspended organisation cannot get a code or enrol', async (t) => {
  const { orgId, code } = await orgWithCode()
  await ctx.services.organisations.update(orgId, { status: 'suspended' }, { actor: 'test' })
  const res = await ctx.app.inject({ method: 'POST', url: '/enrol', payload: { code, csr: makeCsr(ecKey()), jwks: jwks() } })
  t.equal(res.statusCode, 401)
  t.match(res.json().detail, /suspended/)
  const another = await operator.http.call('POST', `/admin/organisations/${orgId}/enrolment-codes`, { token: admin })
  t.equal(another.status, 409)
})

t.test('enrolment codes never reach the log', async (t) => {
  const { code } = await orgWithCode()
  await ctx.app.inject({ method: 'POST', url: '/enrol', payload: { code, csr: 'garbage', jwks: jwks() } })
  t.notMatch(ctx.logs.join('\n'), new RegExp(code))
})

t.test('proxy mode (RFC 9440): Client-Cert accepted only when configured and only from a trusted proxy', async (t) => {
  const { code } = await orgWithCode()
  const p = await enrolWithCode(ctx, code)
  t.teardown(() => p.close())
  const der = new X509Certificate(p.transportCertPem).raw.toString('base64')
  const anonymous = new MtlsClient(ctx.mtlsUrl, { ca: ctx.services.authority.caBundlePem() })
  t.teardown(() => anonymous.close())
  // The proxied instances below have their own URLs, so the assertion's audience is theirs.
  const assertion = await p.assertion()
  const form = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }
  const ignored = await anonymous.call('POST', '/token', { form, headers: { 'client-cert': `:${der}:` } })
  t.equal(ignored.status, 401, 'the header is ignored unless TRUSTED_PROXY_CLIENT_CERT is set')

  const shared = { db: { db: ctx.db, ...(ctx.dbUrl ? { url: ctx.dbUrl } : {}) } }
  const key = ctx.config.DIRECTORY_MASTER_KEY!
  const proxied = await buildTestApp(t, { DIRECTORY_MASTER_KEY: key, TRUSTED_PROXY_CLIENT_CERT: 'true', TRUSTED_PROXIES: '127.0.0.1' }, shared)
  const viaProxy = new MtlsClient(proxied.mtlsUrl, { ca: ctx.services.authority.caBundlePem() })
  t.teardown(() => viaProxy.close())
  const aud = (u: string) => ({ aud: `${u}/token` })
  const ok = await viaProxy.call('POST', '/token', { form: { ...form, client_assertion: await p.assertion(aud(proxied.mtlsUrl)) }, headers: { 'client-cert': `:${der}:` } })
  t.equal(ok.status, 200, ok.text)
  const token = ok.json().access_token
  t.equal((await viaProxy.call('GET', `/organisations/${p.orgId}`, { token, headers: { 'client-cert': `:${der}:` } })).status, 200, 'the token is bound to the forwarded certificate')
  const foreign = new X509Certificate(ctx.services.authority.caBundlePem()).raw.toString('base64')
  const forged = await viaProxy.call('POST', '/token', { form: { ...form, client_assertion: await p.assertion(aud(proxied.mtlsUrl)) }, headers: { 'client-cert': `:${foreign}:` } })
  t.equal(forged.status, 401, 'a forwarded certificate we did not issue is refused')
  const malformed = await viaProxy.call('POST', '/token', { form: { ...form, client_assertion: await p.assertion(aud(proxied.mtlsUrl)) }, headers: { 'client-cert': der } })
  t.equal(malformed.status, 401)
  t.match(malformed.json().error_description, /RFC 9440/)

  const untrusted = await buildTestApp(t, { DIRECTORY_MASTER_KEY: key, TRUSTED_PROXY_CLIENT_CERT: 'true', TRUSTED_PROXIES: '192.0.2.1' }, shared)
  const direct = new MtlsClient(untrusted.mtlsUrl, { ca: ctx.services.authority.caBundlePem() })
  t.teardown(() => direct.close())
  const refused = await direct.call('POST', '/token', { form: { ...form, client_assertion: await p.assertion(aud(untrusted.mtlsUrl)) }, headers: { 'client-cert': `:${der}:` } })
  t.equal(refused.status, 401)
  t.match(refused.json().error_description, /only from a trusted proxy/)
})
