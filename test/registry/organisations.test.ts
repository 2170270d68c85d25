import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, enrolParticipant, makeCsr, operatorOf } from '../helpers/participant.js'
import { organisationStatuses } from '../../src/registry/lifecycle.js'

const ctx = await buildTestApp(t)
const operator = operatorOf(ctx)
const adminToken = await operator.token('directory:admin')
t.teardown(() => operator.close())
const admin = (method: string, path: string, json?: unknown) => operator.http.call(method, path, { token: adminToken, ...(json !== undefined ? { json } : {}) })
let n = 0
const newOrg = async (status: 'pending' | 'active' = 'active', roles: unknown[] = ['data-recipient']) => {
  const res = await admin('POST', '/admin/organisations', { legal_name: `Org ${n} Ltd`, registration_number: `REG-${++n}`, country: 'GB', roles, status })
  if (res.status !== 201) throw new Error(res.text)
  return res.json()
}

// Walks an organisation into `status` along allowed moves.
const paths: Record<string, string[]> = {
  pending: [], active: ['active'], suspended: ['active', 'suspended'], revoked: ['active', 'revoked'], withdrawn: ['withdrawn'],
}
const allowed = new Set(['pending>active', 'pending>withdrawn', 'active>suspended', 'active>revoked', 'active>withdrawn',
  'suspended>active', 'suspended>revoked', 'suspended>withdrawn', 'revoked>active'])

t.test('create: 201 with the DESIGN.md shape; duplicates and bad input refused', async (t) => {
  const org = await newOrg('pending', ['data-holder', { role: 'data-recipient', status: 'inactive' }])
  t.match(org, { legal_name: /Org \d+ Ltd/, country: 'GB', status: 'pending', version: 1, roles: [{ role: 'data-holder', status: 'active' }, { role: 'data-recipient', status: 'inactive' }] })
  t.match(org.id, /^[0-9a-f-]{36}$/)
  const dup = await admin('POST', '/admin/organisations', { legal_name: 'Again', registration_number: org.registration_number, country: 'GB' })
  t.equal(dup.status, 409)
  const bad = await admin('POST', '/admin/organisations', { legal_name: '', registration_number: 'x', country: 'gb', roles: ['astronaut'], extra: 1 })
  t.equal(bad.status, 400)
  const paths = bad.json().errors.map((e: { path: string }) => e.path)
  t.ok(paths.includes('body.legal_name') && paths.includes('body.country'), JSON.stringify(paths))
  const unknownRole = await admin('POST', '/admin/organisations', { legal_name: 'X', registration_number: 'y1', country: 'GB', roles: ['astronaut'] })
  t.equal(unknownRole.status, 400)
  t.match(unknownRole.json().errors[0].message, /unknown role astronaut/)
  const wrongTypes = await admin('POST', '/admin/organisations', { legal_name: 42, registration_number: ['x'], country: 'GB' })
  t.equal(wrongTypes.status, 400)
  const huge = await operator.http.call('POST', '/admin/organisations', { token: adminToken, body: JSON.stringify({ legal_name: 'x'.repeat(1024 * 1024), registration_number: 'h', country: 'GB' }), headers: { 'content-type': 'application/json' } })
  t.equal(huge.status, 413)
  const long = await admin('POST', '/admin/organisations', { legal_name: 'x'.repeat(65), registration_number: 'h2', country: 'GB' })
  t.equal(long.status, 400, 'longer than an X.520 organizationName (64)')
  const bidi = await admin('POST', '/admin/organisations', { legal_name: 'Good Bank\u202Eknab live', registration_number: 'h3', country: 'GB' })
  t.equal(bidi.status, 400)
  t.match(bidi.json().errors[0].message, /bidirectional/)
})

t.test('every status transition: allowed ones succeed, the rest are 409 naming both statuses', async (t) => {
  for (const from of organisationStatuses) {
    for (const to of organisationStatuses) {
      if (from === to) continue
      const org = await newOrg(from === 'pending' ? 'pending' : from === 'withdrawn' ? 'pending' : 'active')
      for (const step of paths[from]!.filter((s) => s !== org.status)) {
        const r = await admin('PATCH', `/admin/organisations/${org.id}`, { status: step })
        if (r.status !== 200) throw new Error(`setup ${from}: ${r.text}`)
      }
      const res = await admin('PATCH', `/admin/organisations/${org.id}`, { status: to })
      if (allowed.has(`${from}>${to}`)) {
        t.equal(res.status, 200, `${from} → ${to} allowed`)
        t.equal(res.json().status, to)
      } else {
        t.equal(res.status, 409, `${from} → ${to} refused`)
        t.match(res.json(), { type: 'urn:ecosystem-directory:problem:invalid-transition', current_status: from, requested_status: to, detail: new RegExp(`from ${from} to ${to}`) })
        t.equal((await admin('GET', `/admin/organisations/${org.id}`)).json().status, from, 'unchanged')
      }
    }
  }
})

t.test('roles are replaced as a set; version increments', async (t) => {
  const org = await newOrg()
  const res = await admin('PATCH', `/admin/organisations/${org.id}`, { roles: ['data-holder', 'payment-initiator'] })
  t.equal(res.status, 200)
  t.same(res.json().roles.map((r: { role: string }) => r.role), ['data-holder', 'payment-initiator'])
  t.equal(res.json().version, 2)
  t.equal((await admin('PATCH', `/admin/organisations/${org.id}`, {})).status, 400, 'an empty patch is refused')
})

t.test('revoking an organisation revokes its certificates; its keystore empties into the inactive set', async (t) => {
  const p = await enrolParticipant(ctx)
  t.teardown(() => p.close())
  const sw = (await p.call('POST', `/organisations/${p.orgId}/software-statements`, { json: { client_name: 'App', redirect_uris: ['https://a.example/cb'], roles: ['data-recipient'] } })).json()
  await p.call('POST', `/organisations/${p.orgId}/software-statements/${sw.software_id}/certificates`, { json: { type: 'signing', csr: makeCsr(ecKey()) } })
  t.equal((await ctx.app.inject(`/organisations/${p.orgId}/software-statements/${sw.software_id}/jwks`)).json().keys.length, 1)
  const res = await admin('PATCH', `/admin/organisations/${p.orgId}`, { status: 'revoked' })
  t.equal(res.status, 200)
  const certs = await ctx.db.prisma.certificate.findMany({ where: { organisationId: p.orgId } })
  t.ok(certs.length >= 2)
  t.ok(certs.every((c) => c.status === 'revoked' && c.revocationReason === 'privilegeWithdrawn'), 'every certificate revoked')
  t.equal((await ctx.app.inject(`/organisations/${p.orgId}/software-statements/${sw.software_id}/jwks`)).json().keys.length, 0)
  t.equal((await ctx.app.inject(`/organisations/${p.orgId}/software-statements/${sw.software_id}/jwks/inactive`)).json().keys.length, 1)
  const tok = await p.tokenResponse()
  t.equal(tok.status, 401, 'its transport certificate no longer authenticates')
})

t.test('suspending an organisation stops SSAs at once; reactivating restores them', async (t) => {
  const p = await enrolParticipant(ctx)
  t.teardown(() => p.close())
  const sw = (await p.call('POST', `/organisations/${p.orgId}/software-statements`, { json: { client_name: 'App', redirect_uris: ['https://a.example/cb'], roles: ['data-recipient'] } })).json()
  await admin('PATCH', `/admin/organisations/${p.orgId}`, { status: 'suspended' })
  await t.rejects(ctx.services.ssa.issue(p.orgId, sw.software_id, { actor: 'test' }), { name: 'Problem', message: /organisation is suspended/ })
  await admin('PATCH', `/admin/organisations/${p.orgId}`, { status: 'active' })
  t.ok(await ctx.services.ssa.issue(p.orgId, sw.software_id, { actor: 'test' }))
})

t.test('list: pagination and filters by status and role', async (t) => {
  const holder = await newOrg('pending', ['data-holder'])
  const page1 = await admin('GET', '/admin/organisations?limit=2')
  t.equal(page1.json().organisations.length, 2)
  t.ok(page1.json().next_cursor)
  const page2 = await admin('GET', `/admin/organisations?limit=2&cursor=${page1.json().next_cursor}`)
  t.notSame(page2.json().organisations.map((o: { id: string }) => o.id), page1.json().organisations.map((o: { id: string }) => o.id))
  const pending = (await admin('GET', '/admin/organisations?status=pending&role=data-holder&limit=500')).json().organisations
  t.ok(pending.some((o: { id: string }) => o.id === holder.id))
  t.ok(pending.every((o: { status: string }) => o.status === 'pending'))
  t.equal((await admin('GET', '/admin/organisations?status=sleeping')).status, 400)
  t.equal((await admin('GET', '/admin/organisations/00000000-0000-4000-8000-000000000000')).status, 404)
  t.equal((await admin('GET', '/admin/organisations/not-a-uuid')).status, 400)
})

t.test('every change is audited with actor, before → after and request id', async (t) => {
  const org = await newOrg()
  await operator.http.call('PATCH', `/admin/organisations/${org.id}`, { token: adminToken, json: { status: 'suspended' }, headers: { 'x-request-id': 'audit-req-1' } })
  const events = (await admin('GET', `/admin/audit?target=organisation:${org.id}`)).json().events
  const change = events.find((e: { action: string }) => e.action === 'organisation.update')
  t.match(change, { actor: `operator:${ctx.operator.clientId}`, request_id: 'audit-req-1', before: { status: 'active' }, after: { status: 'suspended' } })
  t.same((await admin('GET', '/admin/audit/verify')).json(), { ok: true, events: (await ctx.db.prisma.auditEvent.count()) })
})
