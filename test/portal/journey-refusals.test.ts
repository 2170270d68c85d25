// Journey 4 in a real browser: what the portal refuses. An auditor's forged POST (403, nothing changed),
// another organisation's things (404), a request without the CSRF token (403), step-up missing for key
// rotation (403 until the passkey confirms), an expired session, and an organisation named
// `<img src=x onerror=alert(1)>` rendered as text.
import t from 'tap'
import { launch, pageFetch, portalApp, signedInPerson } from '../helpers/portal.js'

t.test('refusals', async (t) => {
  const d = await portalApp(t)
  const browser = await launch(t)
  const who = { actor: 'test' }
  const mk = (name: string) => d.services.organisations.create({ legal_name: name, registration_number: name.replace(/\W/g, ''), country: 'GB', roles: [{ role: 'data-recipient', status: 'active' }], status: 'active' }, who)
  const [a, b] = await Promise.all([mk('Alpha Bank'), mk('Bravo Bank')])
  const swB = await d.services.software.create(b.id, { client_name: 'Bravo App', redirect_uris: ['https://bravo.example/cb'], roles: ['data-recipient'], mode: 'live', token_endpoint_auth_method: 'private_key_jwt' }, who)

  const [auditor, adminA, operator] = await Promise.all([
    signedInPerson(d, browser, { scope: 'operator', email: 'auditor@example.org', role: 'operator-auditor' }),
    signedInPerson(d, browser, { scope: 'organisation', email: 'admin@alpha.example', role: 'org-admin', org_id: a.id }),
    signedInPerson(d, browser, { scope: 'operator', email: 'ops@example.org', role: 'operator-admin' }),
  ])

  await t.test('an auditor reads everything and changes nothing', async (t) => {
    const p = auditor.page
    await p.goto(`${d.base}/portal/organisations/${b.id}`)
    await p.getByRole('heading', { level: 1, name: 'Bravo Bank' }).waitFor()
    t.equal(await p.getByRole('button', { name: 'Preview the change' }).count(), 0, 'no status form offered')
    const before = await d.db.prisma.auditEvent.count()
    const create = await pageFetch(p, 'POST', '/portal/api/organisations', { legal_name: 'Forged Ltd', registration_number: 'F1', country: 'GB' })
    t.equal(create.status, 403)
    t.match(create.json, { type: 'urn:ecosystem-directory:problem:forbidden' }, 'in the API\'s problem format')
    const suspend = await pageFetch(p, 'POST', `/portal/api/organisations/${b.id}/status`, { status: 'suspended' })
    t.equal(suspend.status, 403)
    const software = await pageFetch(p, 'PATCH', `/portal/api/organisations/${b.id}/software-statements/${swB.software_id}`, { status: 'inactive' })
    t.equal(software.status, 403)
    const rotate = await pageFetch(p, 'POST', '/portal/api/keys/rotate')
    t.equal(rotate.status, 403)
    t.equal(await d.db.prisma.organisation.count({ where: { legalName: 'Forged Ltd' } }), 0)
    t.equal((await d.services.organisations.get(b.id)).status, 'active')
    t.equal((await d.services.software.get(b.id, swB.software_id)).status, 'active')
    t.equal(await d.db.prisma.auditEvent.count(), before, 'nothing changed, nothing audited')
    // The audit chain verifies for an auditor.
    await p.goto(`${d.base}/portal/audit`)
    await p.getByRole('button', { name: 'Verify the chain' }).click()
    await p.getByRole('heading', { name: 'The chain is intact' }).waitFor()
  })

  await t.test('another organisation is not found', async (t) => {
    const p = adminA.page
    const page = await p.goto(`${d.base}/portal/organisations/${b.id}`)
    t.equal(page?.status(), 404)
    await p.getByRole('heading', { level: 1, name: 'Not Found' }).waitFor()
    t.notMatch(await p.locator('main').innerText(), /Bravo/, 'nothing of it shown')
    t.equal((await p.goto(`${d.base}/portal/organisations/${b.id}/software-statements/${swB.software_id}`))?.status(), 404)
    await p.goto(`${d.base}/portal/organisations/${a.id}`)
    const patch = await pageFetch(p, 'PATCH', `/portal/api/organisations/${b.id}/software-statements/${swB.software_id}`, { client_name: 'Hijacked' })
    t.equal(patch.status, 404)
    const create = await pageFetch(p, 'POST', `/portal/api/organisations/${b.id}/software-statements`, { client_name: 'Sneaky', redirect_uris: ['https://x.example/cb'], roles: ['data-recipient'] })
    t.equal(create.status, 404)
    const invite = await pageFetch(p, 'POST', `/portal/api/organisations/${b.id}/invitations`, { email: 'me@evil.example', role: 'org-admin' })
    t.equal(invite.status, 404)
    const certs = await p.goto(`${d.base}/portal/certificates?org=${b.id}`)
    t.equal(certs?.status(), 404)
    t.equal((await d.services.software.get(b.id, swB.software_id)).client_name, 'Bravo App')
    t.equal(await d.db.prisma.softwareStatement.count({ where: { organisationId: b.id } }), 1)
    t.equal((await p.goto(`${d.base}/portal/audit`))?.status(), 403, 'the audit log is the operators\'')
  })

  await t.test('a state change without the CSRF token is refused', async (t) => {
    const p = adminA.page
    await p.goto(`${d.base}/portal/organisations/${a.id}`)
    const res = await pageFetch(p, 'POST', `/portal/api/organisations/${a.id}/contacts`, { type: 'technical', name: 'Eve', email: 'eve@alpha.example' }, { csrf: false })
    t.equal(res.status, 403)
    t.match(res.json.detail, /CSRF/)
    t.equal(await d.db.prisma.organisationContact.count(), 0)
    const ok = await pageFetch(p, 'POST', `/portal/api/organisations/${a.id}/contacts`, { type: 'technical', name: 'Tess', email: 'tess@alpha.example' })
    t.equal(ok.status, 201, 'with the token it works')
  })

  await t.test('key rotation needs a fresh passkey confirmation', async (t) => {
    const p = operator.page
    await p.goto(`${d.base}/portal/directory`)
    d.clock.advance(6 * 60)
    const activeBefore = await d.db.prisma.signingKey.findFirstOrThrow({ where: { state: 'active' } })
    const res = await pageFetch(p, 'POST', '/portal/api/keys/rotate')
    t.equal(res.status, 403)
    t.equal(res.json.type, 'urn:ecosystem-directory:problem:step-up-required')
    t.equal((await d.db.prisma.signingKey.findFirstOrThrow({ where: { state: 'active' } })).kid, activeBefore.kid, 'the keys did not rotate')
    // Through the page: the script asks for the passkey, then retries.
    await p.getByRole('button', { name: 'Rotate signing keys' }).click()
    const retired = p.getByRole('row').filter({ hasText: activeBefore.kid }).filter({ hasText: 'retired' })
    await retired.waitFor()
    const activeAfter = await d.db.prisma.signingKey.findFirstOrThrow({ where: { state: 'active' } })
    t.not(activeAfter.kid, activeBefore.kid, 'after the passkey confirmation the keys rotate')
    const event = await d.db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'signing_key.rotate' } })
    t.equal(event.actor, `user:${operator.userId}`)
  })

  await t.test('an organisation name is text, never markup', async (t) => {
    const p = operator.page
    let dialogs = 0
    p.on('dialog', (dlg) => { dialogs++; void dlg.dismiss() })
    const name = '<img src=x onerror=alert(1)>'
    await p.goto(`${d.base}/portal/organisations/new`)
    await p.getByLabel('Legal name').fill(name)
    await p.getByLabel('Registration number').fill('XSS1')
    await p.getByLabel('Country', { exact: true }).fill('GB')
    await p.getByRole('button', { name: 'Create organisation' }).click()
    await p.getByRole('heading', { level: 1, name }).waitFor()
    t.equal(await p.locator('h1').innerText(), name, 'the heading shows the name as text')
    t.equal(await p.locator('main img').count(), 0, 'no image element was made')
    await p.goto(`${d.base}/portal/organisations?q=${encodeURIComponent('<img')}`)
    await p.getByRole('link', { name }).waitFor()
    t.equal(await p.locator('main img').count(), 0)
    await p.goto(`${d.base}/portal/`)
    t.equal(dialogs, 0, 'no script ran')
  })

  await t.test('an expired session sends the person to sign in', async (t) => {
    const p = adminA.page
    d.clock.advance(31 * 60) // past the idle timeout
    await p.goto(`${d.base}/portal/organisations/${a.id}`)
    await p.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor()
    const res = await pageFetch(p, 'POST', `/portal/api/organisations/${a.id}/contacts`, { type: 'technical', name: 'Late', email: 'late@alpha.example' })
    t.equal(res.status, 401)
    t.equal(await d.db.prisma.organisationContact.count({ where: { name: 'Late' } }), 0)
  })
})
