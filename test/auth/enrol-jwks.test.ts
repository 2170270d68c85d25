import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import type { JWK } from 'jose'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, makeCsr, operatorOf, Participant } from '../helpers/participant.js'

// Finding 5: the client JWKS at /enrol is checked member by member (RFC 7517/7518) before the enrolment code is
// spent; a refused JWKS is a 400 problem+json naming the member, never a 500, and the code stays usable.
const ctx = await buildTestApp(t, { RATE_LIMIT_ENROL: '0' })
const operator = operatorOf(ctx)
t.teardown(() => operator.close())

async function newCode (): Promise<string> {
  const org = await operator.call('POST', '/admin/organisations', {
    scope: 'directory:admin', json: { legal_name: `Jwks ${Math.random().toString(36).slice(2, 8)} Ltd`, registration_number: Math.random().toString(36).slice(2, 12), country: 'GB', roles: ['data-recipient'], status: 'active' },
  })
  const code = await operator.call('POST', `/admin/organisations/${org.json().id}/enrolment-codes`, { scope: 'directory:admin' })
  return code.json().code
}

const signing = ecKey()
const pub = createPublicKey(signing).export({ format: 'jwk' }) as JWK
const good = { ...pub, kid: 'k1', alg: 'ES256', use: 'sig' }
const rsaPub = createPublicKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey).export({ format: 'jwk' }) as JWK
// Too deep for JSON.stringify here: spliced into the request body as text.
const deep = '{"a":'.repeat(5000) + '"x"' + '}'.repeat(5000)

const refused: Array<[string, unknown, RegExp]> = [
  ['a NUL in kid', { keys: [{ ...good, kid: '\u0000' }] }, /kid/],
  ['a member nested 5000 deep', { keys: [{ ...good, extra: '<deep>' }] }, /extra|[Uu]nrecognized/],
  ['key_ops not an array', { keys: [{ ...good, key_ops: 5 }] }, /key_ops/],
  ['key_ops with an unknown operation', { keys: [{ ...good, key_ops: ['verify', 'launch'] }] }, /key_ops/],
  ['key_ops without verify', { keys: [{ ...good, key_ops: ['encrypt'] }] }, /verify/],
  ['key_ops repeated', { keys: [{ ...good, key_ops: ['verify', 'verify'] }] }, /repeat/],
  ['ext not a boolean', { keys: [{ ...good, ext: 'yes' }] }, /ext/],
  ['use enc', { keys: [{ ...good, use: 'enc' }] }, /use/],
  ['an unknown member', { keys: [{ ...good, colour: 'blue' }] }, /colour|[Uu]nrecognized/],
  ['a private member', { keys: [{ ...good, d: 'AAAA' }] }, /private key member/],
  ['x not base64url', { keys: [{ ...good, x: 'not base64!' }] }, /base64url/],
  ['x too long', { keys: [{ ...good, x: 'A'.repeat(5000) }] }, /x/],
  ['a curve other than P-256', { keys: [{ ...good, crv: 'P-384' }] }, /P-256/],
  ['kty oct', { keys: [{ kty: 'oct', k: 'AAAA' }] }, /kty|private/],
  ['alg not fitting the key', { keys: [{ ...good, alg: 'PS256' }] }, /does not fit/],
  ['an RSA key with alg ES256', { keys: [{ ...rsaPub, alg: 'ES256' }] }, /does not fit/],
  ['a duplicated kid', { keys: [good, { ...good }] }, /unique/],
  ['keys not an array', { keys: { 0: good } }, /keys/],
  ['x5c not base64', { keys: [{ ...good, x5c: ['\u0000'] }] }, /x5c/],
  ['eleven keys', { keys: Array.from({ length: 11 }, (_, i) => ({ ...good, kid: `k${i}` })) }, /at most 10/],
  ['an unknown member beside keys', { keys: [good], extra: 1 }, /[Uu]nrecognized|extra/],
]

t.test('each bad JWKS is a 400 problem+json naming the problem, and the code is not spent', async (t) => {
  const code = await newCode()
  for (const [what, jwks, message] of refused) {
    const payload = JSON.stringify({ code, csr: makeCsr(ecKey()), jwks }).replace('"<deep>"', deep)
    const res = await ctx.app.inject({ method: 'POST', url: '/enrol', payload, headers: { 'content-type': 'application/json' } })
    t.equal(res.statusCode, 400, `${what}: ${res.body.slice(0, 300)}`)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', what)
    t.match(JSON.stringify(res.json().errors ?? res.json().detail), message, what)
  }
  const clients = await ctx.db.prisma.client.count()
  const res = await ctx.app.inject({ method: 'POST', url: '/enrol', payload: { code, csr: makeCsr(ecKey()), jwks: { keys: [good] } } })
  t.equal(res.statusCode, 201, `the same code still enrols: ${res.body}`)
  t.equal(await ctx.db.prisma.client.count(), clients + 1)
})

t.test('the members a public signing key may carry are accepted, and the key then gets a token', async (t) => {
  const code = await newCode()
  const transport = ecKey()
  const jwk = { ...good, key_ops: ['verify'], ext: true }
  const res = await ctx.app.inject({ method: 'POST', url: '/enrol', payload: { code, csr: makeCsr(transport), jwks: { keys: [jwk, { ...rsaPub, kid: 'r1', alg: 'PS256' }] } } })
  t.equal(res.statusCode, 201, res.body)
  const out = res.json()
  const p = new Participant(ctx, out.client_id, out.org_id, signing, 'k1', transport.export({ format: 'pem', type: 'pkcs8' }) as string, out.certificate + out.chain.join(''))
  t.teardown(() => p.close())
  const token = await p.tokenResponse({ scope: 'directory:read' })
  t.equal(token.status, 200, token.text)
})
