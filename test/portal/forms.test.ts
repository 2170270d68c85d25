// The forms that exist only in the browser, as a person uses them: the enrolment code shown once with its copy
// button, an authorisation server with its API resources (a problem shown beside its field first), a contact,
// an operator invitation, a software statement edit.
import t from 'tap'
import { launch, portalApp, signedInPerson } from '../helpers/portal.js'

t.test('browser-only forms', async (t) => {
  const d = await portalApp(t)
  const browser = await launch(t)
  const who = { actor: 'test' }
  const org = await d.services.organisations.create({ legal_name: 'Contoso Bank', registration_number: 'C-1', country: 'GB', roles: [{ role: 'data-holder', status: 'active' }, { role: 'data-recipient', status: 'active' }], status: 'active' }, who)
  const sw = await d.services.software.create(org.id, { client_name: 'Contoso App', redirect_uris: ['https://contoso.example/cb'], roles: ['data-recipient'], mode: 'live', token_endpoint_auth_method: 'private_key_jwt' }, who)
  const op = await signedInPerson(d, browser, { scope: 'operator', email: 'ops@example.org', role: 'operator-admin' })
  await op.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: d.base })
  const p = op.page
  const orgPage = `${d.base}/portal/organisations/${org.id}`

  await p.goto(orgPage)
  await p.getByRole('button', { name: 'Create an enrolment code' }).click()
  const code = p.locator('#enrolment-code-code')
  await code.waitFor()
  t.match(await code.innerText(), /^[A-Za-z0-9_-]{40,}$/, 'the enrolment code is shown')
  await p.getByRole('button', { name: 'Copy code' }).click()
  await p.getByRole('button', { name: 'Copied' }).waitFor()
  t.equal(await p.evaluate<string>('navigator.clipboard.readText()'), await code.innerText(), 'the copy button copies it')
  t.equal(await d.db.prisma.enrolmentCode.count({ where: { organisationId: org.id } }), 1)

  await p.getByText('Add an authorisation server').click()
  await p.getByLabel('Customer friendly name').fill('Contoso Online Banking')
  await p.getByLabel('Issuer').fill('https://auth.contoso.example')
  await p.getByLabel('Discovery URL').fill('http://auth.contoso.example/.well-known/openid-configuration')
  await p.getByLabel('API resources').fill('accounts 2.0 https://api.contoso.example/accounts/v2')
  await p.getByRole('button', { name: 'Add authorisation server' }).click()
  const discoveryError = p.locator('[data-field="discovery_url"] .field-error')
  await discoveryError.waitFor()
  t.match(await discoveryError.innerText(), /https/, 'the problem is shown beside Discovery URL')
  await p.getByLabel('Discovery URL').fill('https://auth.contoso.example/.well-known/openid-configuration')
  await p.getByRole('button', { name: 'Add authorisation server' }).click()
  await p.getByRole('cell', { name: 'Contoso Online Banking' }).waitFor()
  const servers = await d.services.authorisationServers.list(org.id)
  t.same(servers[0]?.api_resources, [{ family: 'accounts', version: '2.0', base_url: 'https://api.contoso.example/accounts/v2' }])

  await p.getByText('Add a contact').click()
  await p.getByLabel('Contact type').selectOption('security-incident')
  await p.getByRole('form', { name: 'Add a contact' }).getByLabel('Name').fill('Sec Ops')
  await p.getByRole('form', { name: 'Add a contact' }).getByLabel('Email').fill('soc@contoso.example')
  await p.getByRole('button', { name: 'Add contact' }).click()
  await p.getByRole('cell', { name: 'soc@contoso.example' }).waitFor()

  await p.goto(`${d.base}/portal/users`)
  await p.getByLabel('Email').fill('auditor@example.org')
  await p.getByLabel('Role').selectOption('operator-auditor')
  await p.getByRole('button', { name: 'Invite operator' }).click()
  await p.locator('#operator-invite-setup_url').waitFor()
  t.match(await p.locator('#operator-invite-setup_url').innerText(), /\/portal\/setup\//)
  t.equal((await d.db.prisma.portalUser.findUniqueOrThrow({ where: { email: 'auditor@example.org' } })).operatorRole, 'operator-auditor')

  await p.goto(`${orgPage}/software-statements/${sw.software_id}`)
  await p.getByRole('form', { name: 'Edit the software statement' }).getByLabel('Client name').fill('Contoso App 2')
  await p.getByRole('button', { name: 'Save changes' }).click()
  await p.getByRole('heading', { level: 1, name: 'Contoso App 2' }).waitFor()
})
