import { createPublicKey } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import type { JWK } from 'jose'
import { clientJwks } from '../../src/auth/client-jwks.js'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, makeCsr, operatorOf } from '../helpers/participant.js'

// Fuzz (fixed seed): mutated client JWKS at /enrol never make a 5xx; every refusal is problem+json and creates
// no client (the code stays usable); a mutation that happens to leave a valid set is enrolled.
const ctx = await buildTestApp(t, { RATE_LIMIT_ENROL: '0' })
const operator = operatorOf(ctx)
t.teardown(() => operator.close())
const org = await operator.call('POST', '/admin/organisations', {
  scope: 'directory:admin', json: { legal_name: 'Fuzz Ltd', registration_number: 'FUZZ0001', country: 'GB', roles: ['data-recipient'], status: 'active' },
})
const newCode = async (): Promise<string> => (await operator.call('POST', `/admin/organisations/${org.json().id}/enrolment-codes`, { scope: 'directory:admin' })).json().code
let code = await newCode()
const csr = makeCsr(ecKey())
const good = { ...(createPublicKey(ecKey()).export({ format: 'jwk' }) as JWK), kid: 'k1', alg: 'ES256', use: 'sig' }

const anyValue = fc.oneof(
  fc.string(), fc.string({ unit: 'binary' }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.array(fc.string(), { maxLength: 5 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 4 }),
  fc.constantFrom('\u0000', 'P-256', 'ES256', 'sig', 'verify', ['verify'], 'A'.repeat(2000)),
)
const member = fc.constantFrom('kty', 'kid', 'use', 'key_ops', 'ext', 'alg', 'crv', 'x', 'y', 'n', 'e', 'd', 'x5c', 'x5t', 'x5t#S256', 'oth', '__proto__', 'extra')
// One to three members of a good key set to arbitrary values, or removed, or the whole key replaced.
const mutatedJwks = fc.oneof(
  fc.array(fc.tuple(member, fc.option(anyValue, { nil: undefined })), { minLength: 1, maxLength: 3 }).map((changes) => {
    const key: Record<string, unknown> = { ...good }
    for (const [m, v] of changes) { if (v === undefined) delete key[m]; else key[m] = v }
    return { keys: [key] }
  }),
  anyValue.map((v) => ({ keys: [v] })),
  anyValue.map((v) => ({ keys: v })),
  anyValue,
)

t.test('300 mutated JWKS: no 5xx, problem+json refusals, nothing changed', async (t) => {
  let refused = 0
  await fc.assert(fc.asyncProperty(mutatedJwks, async (jwks) => {
    const before = await ctx.db.prisma.client.count()
    const res = await ctx.app.inject({ method: 'POST', url: '/enrol', payload: JSON.stringify({ code, csr, jwks }), headers: { 'content-type': 'application/json' } })
    if (res.statusCode === 201) {
      code = await newCode()
      return clientJwks.safeParse(jwks).success
    }
    refused++
    return res.statusCode === 400 && res.headers['content-type'] === 'application/problem+json; charset=utf-8' &&
      await ctx.db.prisma.client.count() === before
  }), { seed: 20261202, numRuns: 300 })
  t.ok(refused > 250, `${refused} of 300 refused`)
  const res = await ctx.app.inject({ method: 'POST', url: '/enrol', payload: { code, csr, jwks: { keys: [good] } } })
  t.equal(res.statusCode, 201, `the code was never spent: ${res.body}`)
})
