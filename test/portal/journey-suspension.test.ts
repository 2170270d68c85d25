// Journey 3 in a real browser: the operator suspends an organisation after reading the cascade preview;
// the participant API then refuses the organisation's token (403) and its org-admin sees the suspension.
// Then the revoke: the preview counts the certificates, the organisation's name must be typed, and the
// passkey confirms it (step-up) once the sign-in is older than five minutes.
import t from 'tap'
import { enrolParticipant } from '../helpers/participant.js'
import { launch, portalApp, screenshot, signedInPerson } from '../helpers/portal.js'

t.test('suspend with cascade preview; the API refuses the organisation; revoke with typed name and step-up', async (t) => {
  const d = await portalApp(t)
  const browser = await launch(t)
  const participant = await enrolParticipant(d, { legalName: 'Northwind Savings', roles: ['data-recipient'] })
  t.teardown(() => participant.close())
  const orgId = participant.orgId
  await d.services.software.create(orgId, {
    client_name: 'Northwind App', redirect_uris: ['https://app.northwind.example/cb'], roles: ['data-recipient'], mode: 'live', token_endpoint_auth_method: 'private_key_jwt',
  }, { actor: 'test' })
  const token = await participant.token('directory:read')
  t.equal((await participant.call('GET', `/organisations/${orgId}`, { token })).status, 200, 'before: the token works')

  const [operator, orgAdmin] = await Promise.all([
    signedInPerson(d, browser, { scope: 'operator', email: 'ops@example.org', role: 'operator-admin' }),
    signedInPerson(d, browser, { scope: 'organisation', email: 'admin@northwind.example', role: 'org-admin', org_id: orgId }),
  ])
  const op = operator.page
  await op.goto(`${d.base}/portal/organisations?q=northwind`)
  await op.getByRole('link', { name: 'Northwind Savings' }).click()
  await op.getByRole('heading', { level: 1, name: 'Northwind Savings' }).waitFor()
  await op.getByLabel('New status').selectOption('suspended')
  await op.getByRole('button', { name: 'Preview the change' }).click()
  await op.getByRole('heading', { level: 1, name: 'Change organisation status' }).waitFor()
  const preview = await op.locator('main').innerText()
  t.match(preview, /These software statements stop working/)
  t.match(preview, /Northwind App/, 'the preview names the software statement that stops')
  t.match(preview, /No certificate is revoked/, 'suspension revokes no certificate')
  t.match(preview, /1 API client is refused/)
  await screenshot(op, 'status-preview')
  t.equal((await d.services.organisations.get(orgId)).status, 'active', 'the preview changes nothing')
  await op.getByRole('button', { name: 'Suspend Northwind Savings' }).click()
  await op.getByRole('heading', { level: 1, name: 'Northwind Savings' }).waitFor()
  t.match(await op.locator('main').innerText(), /This organisation is suspended/)
  t.equal((await d.services.organisations.get(orgId)).status, 'suspended')

  const after = await participant.call('GET', `/organisations/${orgId}`, { token })
  t.equal(after.status, 403, 'after: the participant API refuses the organisation\'s token')

  await orgAdmin.page.goto(`${d.base}/portal/organisations/${orgId}`)
  t.match(await orgAdmin.page.locator('main').innerText(), /This organisation is suspended/, 'the org-admin sees the suspension')
  await screenshot(orgAdmin.page, 'org-admin-suspended')

  // Revoke: the certificates are counted, the name must be typed, the passkey confirms.
  d.clock.advance(6 * 60) // the sign-in no longer counts as a fresh confirmation
  await op.getByLabel('New status').selectOption('revoked')
  await op.getByRole('button', { name: 'Preview the change' }).click()
  await op.getByRole('heading', { level: 1, name: 'Change organisation status' }).waitFor()
  t.match(await op.locator('main').innerText(), /1 certificate will be revoked/)
  const confirm = op.getByRole('button', { name: 'Revoke Northwind Savings' })
  t.ok(await confirm.isDisabled(), 'the revoke button waits for the typed name')
  await op.getByLabel('Type the organisation\'s legal name to confirm').fill('Northwind')
  t.ok(await confirm.isDisabled())
  await op.getByLabel('Type the organisation\'s legal name to confirm').fill('Northwind Savings')
  await confirm.click()
  await op.getByRole('heading', { level: 1, name: 'Northwind Savings' }).waitFor()
  t.equal((await d.services.organisations.get(orgId)).status, 'revoked')
  t.same((await d.services.authority.list(orgId)).map((c) => c.status), ['revoked'], 'its certificate is revoked')
  const session = await d.db.prisma.portalSession.findFirstOrThrow({ where: { userId: operator.userId } })
  t.ok(session.stepUpAt && session.stepUpAt.getTime() > session.createdAt.getTime(), 'the passkey confirmed the revoke (step-up)')
  const revokeEvent = await d.db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'organisation.update', target: `organisation:${orgId}` }, orderBy: { seq: 'desc' } })
  t.equal(revokeEvent.actor, `user:${operator.userId}`)
})
