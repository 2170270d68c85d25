// Journey 2 in a real browser: the operator creates an organisation with roles and invites its org-admin;
// the org-admin (a second browser context with its own authenticator) sets up a passkey, creates a software
// statement, uploads a CSR made with openssl, downloads the certificate and chain, and openssl verifies it
// against the directory's /pki/ca.pem.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ecKey, makeCsr } from '../helpers/participant.js'
import { launch, person, portalApp, screenshot, setUp, signedInPerson } from '../helpers/portal.js'

t.test('operator onboards an organisation; its org-admin gets a certificate from a CSR', async (t) => {
  const d = await portalApp(t)
  const browser = await launch(t)
  const dir = mkdtempSync(join(tmpdir(), 'journey2-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))

  const operator = await signedInPerson(d, browser, { scope: 'operator', email: 'ops@example.org', role: 'operator-admin' })
  const op = operator.page
  await op.getByRole('link', { name: 'Organisations' }).click()
  await op.getByRole('heading', { level: 1, name: 'Organisations' }).waitFor()
  await op.getByRole('link', { name: 'Create an organisation' }).click()
  await op.getByRole('heading', { level: 1, name: 'Create an organisation' }).waitFor()

  // A field problem appears next to its field, and nothing is created.
  await op.getByLabel('Legal name').fill('Acme Payments Ltd')
  await op.getByLabel('Registration number').fill('12345678')
  await op.getByLabel('Country', { exact: true }).fill('gb')
  await op.getByRole('button', { name: 'Create organisation' }).click()
  const countryError = op.locator('[data-field="country"] .field-error')
  await countryError.waitFor()
  t.match(await countryError.innerText(), /ISO 3166-1 alpha-2/, 'the country problem is shown beside the Country field')
  t.equal(await d.db.prisma.organisation.count({ where: { legalName: 'Acme Payments Ltd' } }), 0)

  await op.getByLabel('Country', { exact: true }).fill('GB')
  await op.getByRole('group', { name: 'Roles' }).getByLabel('data-recipient').check()
  await op.getByRole('group', { name: 'Roles' }).getByLabel('payment-initiator').check()
  await op.getByLabel('Status').selectOption('active')
  await screenshot(op, 'organisation-create')
  await op.getByRole('button', { name: 'Create organisation' }).click()
  await op.getByRole('heading', { level: 1, name: 'Acme Payments Ltd' }).waitFor()
  const orgId = op.url().split('/').pop()!
  const org = await d.services.organisations.get(orgId)
  t.same(org.roles.map((r) => r.role), ['data-recipient', 'payment-initiator'], 'created with its roles')
  t.equal(org.status, 'active')

  // Invite the org-admin: the link is shown once.
  await op.getByRole('form', { name: 'Invite a user' }).getByLabel('Email').fill('admin@acme.example')
  await op.getByRole('form', { name: 'Invite a user' }).getByLabel('Role').selectOption('org-admin')
  await op.getByRole('button', { name: 'Invite user' }).click()
  const linkEl = op.locator('#org-invite-setup_url')
  await linkEl.waitFor()
  const setupUrl = await linkEl.innerText()
  t.match(setupUrl, /\/portal\/setup\/[A-Za-z0-9_-]{20,}$/, 'the setup link is shown')
  await screenshot(op, 'organisation-detail')
  await op.reload()
  t.notMatch(await op.locator('main').innerText(), setupUrl, 'and only once: a reload does not show it again')

  // The org-admin, in their own browser with their own authenticator.
  const admin = await person(browser, { width: 390, height: 844 })
  await setUp(admin, setupUrl)
  const ap = admin.page
  await ap.getByRole('link', { name: 'Acme Payments Ltd' }).click()
  await ap.getByRole('heading', { level: 1, name: 'Acme Payments Ltd' }).waitFor()
  t.equal(await ap.getByRole('button', { name: 'Preview the change' }).count(), 0, 'an org-admin is offered no status change')
  await ap.getByRole('link', { name: 'Create a software statement' }).click()
  await ap.getByLabel('Client name').fill('Acme Checkout')
  await ap.getByLabel('Redirect URIs').fill('https://checkout.acme.example/cb\nhttps://checkout.acme.example/cb2')
  await ap.getByRole('group', { name: 'Roles' }).getByLabel('payment-initiator').check()
  await ap.getByRole('button', { name: 'Create software statement' }).click()
  await ap.getByRole('heading', { level: 1, name: 'Acme Checkout' }).waitFor()
  const sw = (await d.services.software.list(orgId))[0]!
  t.same(sw.redirect_uris, ['https://checkout.acme.example/cb', 'https://checkout.acme.example/cb2'])
  t.same(sw.roles, ['payment-initiator'])

  // A CSR made with openssl, uploaded as a file.
  const csrFile = join(dir, 'transport.csr')
  writeFileSync(csrFile, makeCsr(ecKey(), '/CN=whatever-the-participant-wrote'))
  await ap.getByLabel('CSR file').setInputFiles(csrFile)
  await ap.waitForFunction("document.getElementById('csr-text').value.includes('BEGIN CERTIFICATE REQUEST')")
  await ap.getByLabel('Certificate type').selectOption('transport')
  await ap.getByRole('button', { name: 'Request certificate' }).click()
  await ap.getByRole('heading', { level: 1, name: 'Certificate' }).waitFor()
  await screenshot(ap, 'certificate-390px')
  const width = await ap.evaluate<number>('document.documentElement.scrollWidth')
  t.ok(width <= 390, `no sideways scrolling at 390 px (${width})`)

  const [download] = await Promise.all([ap.waitForEvent('download'), ap.getByRole('link', { name: 'Download certificate and chain (PEM)' }).click()])
  const pemPath = join(dir, 'cert.pem')
  await download.saveAs(pemPath)
  const ca = await ap.request.get(`${d.base}/pki/ca.pem`)
  t.equal(ca.status(), 200)
  writeFileSync(join(dir, 'ca.pem'), await ca.text())
  const verified = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), pemPath], { encoding: 'utf8' })
  t.match(verified, /cert\.pem: OK/, 'openssl verifies the downloaded certificate against /pki/ca.pem')
  const subject = execFileSync('openssl', ['x509', '-in', pemPath, '-noout', '-subject'], { encoding: 'utf8' })
  t.match(subject, /O\s*=\s*Acme Payments Ltd/, 'the subject comes from the registry')
  t.match(subject, new RegExp(sw.software_id), 'and names the software statement')

  // The org-admin revokes it with a reason; the passkey confirms (the sign-in is no longer fresh).
  d.clock.advance(6 * 60)
  await ap.getByLabel('Reason').selectOption('keyCompromise')
  await ap.getByRole('button', { name: 'Revoke certificate' }).click()
  await ap.getByText('Revoked', { exact: true }).waitFor()
  const [revoked] = await d.services.authority.list(orgId)
  t.match(revoked, { status: 'revoked', revocation_reason: 'keyCompromise' }, 'revoked with the reason given')

  // Organisation admins invite their own users; the link is shown once.
  await ap.goto(`${d.base}/portal/organisations/${orgId}`)
  await ap.getByRole('form', { name: 'Invite a user' }).getByLabel('Email').fill('viewer@acme.example')
  await ap.getByRole('form', { name: 'Invite a user' }).getByLabel('Role').selectOption('org-viewer')
  await ap.getByRole('button', { name: 'Invite user' }).click()
  await ap.locator('#org-invite-setup_url').waitFor()
  const viewer = await d.db.prisma.portalUser.findUniqueOrThrow({ where: { email: 'viewer@acme.example' }, include: { memberships: true } })
  t.same(viewer.memberships.map((m) => [m.organisationId, m.role]), [[orgId, 'org-viewer']])

  const adminUser = await d.db.prisma.portalUser.findUniqueOrThrow({ where: { email: 'admin@acme.example' } })
  const events = await d.db.prisma.auditEvent.findMany({ where: { action: { in: ['software_statement.create', 'certificate.issue', 'certificate.revoke'] }, target: { in: [`software_statement:${sw.software_id}`, ...(await d.services.authority.list(orgId)).map((c) => `certificate:${c.serial}`)] } } })
  t.same(events.map((e) => [e.action, e.actor]).sort(), [['certificate.issue', `user:${adminUser.id}`], ['certificate.revoke', `user:${adminUser.id}`], ['software_statement.create', `user:${adminUser.id}`]], 'audited with the org-admin as actor')
  const created = await d.db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'organisation.create' } })
  t.equal(created.actor, `user:${operator.userId}`, 'the organisation with the operator as actor')
})
