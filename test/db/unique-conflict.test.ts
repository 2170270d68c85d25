import { randomUUID } from 'node:crypto'
import t from 'tap'
import { toProblem } from '../../src/plugins/errors.js'
import { buildTestApp } from '../helpers/app.js'
import { operatorOf } from '../helpers/participant.js'

// A unique constraint that another write won is the client's conflict (409 naming the field), never a 500.
const ctx = await buildTestApp(t)
const operator = operatorOf(ctx)
t.teardown(() => operator.close())
const adminToken = await operator.token('directory:admin')

t.test('a unique violation from the database maps to 409 naming the fields', async (t) => {
  const { prisma } = ctx.db
  const data = { legalName: 'Twice Ltd', registrationNumber: randomUUID().slice(0, 12), country: 'GB', status: 'active' as const }
  await prisma.organisation.create({ data: { id: randomUUID(), ...data } })
  const err = await prisma.organisation.create({ data: { id: randomUUID(), ...data } }).then(() => undefined, (e: Error) => e)
  t.ok(err, 'the second insert fails')
  const problem = toProblem(err!, 0)
  t.equal(problem?.status, 409)
  t.same((problem?.toJSON() as unknown as { fields: string[] }).fields.sort(), ['country', 'registration_number'])
  t.match(problem?.detail, /registration_number/)

  const org = await prisma.organisation.findFirstOrThrow({ where: { registrationNumber: data.registrationNumber } })
  const issuer = `https://as-${randomUUID()}.example`
  const as = { organisationId: org.id, issuer, discoveryUrl: `${issuer}/.well-known/openid-configuration`, customerFriendlyName: 'x', apiResources: [] }
  await prisma.authorisationServer.create({ data: { id: randomUUID(), ...as } })
  const err2 = await prisma.authorisationServer.create({ data: { id: randomUUID(), ...as } }).then(() => undefined, (e: Error) => e)
  t.same((toProblem(err2!, 0)?.toJSON() as unknown as { fields: string[] }).fields, ['issuer'])
})

t.test('identical POST /admin/organisations at once: one 201, the others 409, none 5xx', async (t) => {
  const body = { legal_name: 'Race Bank plc', registration_number: randomUUID().slice(0, 12), country: 'GB', roles: ['data-holder'], status: 'active' }
  const answers = await Promise.all(Array.from({ length: 6 }, () => operator.http.call('POST', '/admin/organisations', { token: adminToken, json: body })))
  const statuses = answers.map((a) => a.status).sort()
  t.same(statuses, [201, 409, 409, 409, 409, 409], statuses.join(','))
  for (const a of answers.filter((x) => x.status === 409)) {
    t.equal(a.headers['content-type'], 'application/problem+json; charset=utf-8')
    t.match(a.json(), { type: 'urn:ecosystem-directory:problem:conflict', detail: /registration/ })
  }
})
