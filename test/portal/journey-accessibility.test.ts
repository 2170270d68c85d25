// Journey 5 in a real browser: axe-core on every portal page (WCAG 2.1 A/AA and best practices), no
// serious or critical violations; keyboard use.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import t from 'tap'
import type { Page } from 'playwright-core'
import { ecKey, makeCsr } from '../helpers/participant.js'
import { launch, person, portalApp, screenshot, signedInPerson } from '../helpers/portal.js'

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

interface Violation { id: string, impact: string | null, help: string, nodes: Array<{ target: string[] }> }

async function axe (page: Page): Promise<Violation[]> {
  // Through the DevTools protocol, as a test harness: the page's own CSP still forbids inline code.
  await page.evaluate(axeSource)
  const result = await page.evaluate<{ violations: Violation[] }>(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] })`)
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

t.test('every page passes axe; keyboard', async (t) => {
  const d = await portalApp(t)
  const browser = await launch(t)
  const who = { actor: 'test' }
  const org = await d.services.organisations.create({ legal_name: 'Contoso Bank', registration_number: 'C-1', country: 'GB', roles: [{ role: 'data-holder', status: 'active' }, { role: 'data-recipient', status: 'active' }], status: 'active' }, who)
  const sw = await d.services.software.create(org.id, { client_name: 'Contoso App', redirect_uris: ['https://contoso.example/cb'], roles: ['data-recipient'], mode: 'live', token_endpoint_auth_method: 'private_key_jwt' }, who)
  const cert = await d.services.authority.issue({ orgId: org.id, softwareId: sw.software_id, type: 'signing', csr: makeCsr(ecKey()) }, who)
  const pending = await d.services.portal.users.invite({ scope: 'organisation', org_id: org.id, email: 'new@contoso.example', role: 'org-viewer' }, who)

  const op = await signedInPerson(d, browser, { scope: 'operator', email: 'ops@example.org', role: 'operator-admin' })
  const p = op.page

  await t.test('keyboard', async (t) => {
    await p.goto(`${d.base}/portal/organisations`)
    await p.keyboard.press('Tab')
    t.equal(await p.evaluate<string>('document.activeElement.textContent'), 'Skip to main content', 'the first tab stop skips to the content')
    await p.getByLabel('Search').focus()
    await p.keyboard.type('contoso')
    await p.keyboard.press('Enter')
    await p.waitForURL(/q=contoso/)
    t.equal(await p.getByRole('link', { name: 'Contoso Bank' }).count(), 1, 'a search by keyboard alone')
    await p.getByRole('link', { name: 'Contoso Bank' }).focus()
    const outline = await p.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle')
    t.equal(outline, 'solid', 'focus is visible')
  })

  await t.test('axe on every page', async (t) => {
    const pages: Array<[string, string, Page]> = [
      ['dashboard', '/portal/', p],
      ['organisations', '/portal/organisations', p],
      ['organisation-new', '/portal/organisations/new', p],
      ['organisation', `/portal/organisations/${org.id}`, p],
      ['status-preview', `/portal/organisations/${org.id}/status?to=revoked`, p],
      ['software-new', `/portal/organisations/${org.id}/software-statements/new`, p],
      ['software', `/portal/organisations/${org.id}/software-statements/${sw.software_id}`, p],
      ['certificate', `/portal/organisations/${org.id}/certificates/${cert.serial}`, p],
      ['certificates', '/portal/certificates', p],
      ['users', '/portal/users', p],
      ['directory', '/portal/directory', p],
      ['audit', '/portal/audit?verify=1', p],
      ['account', '/portal/account', p],
      ['not-found', `/portal/organisations/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`, p],
    ]
    const stranger = await person(browser, { width: 390, height: 844 })
    pages.push(['sign-in', '/portal/login', stranger.page], ['setup', new URL(pending.setup_url).pathname, stranger.page], ['setup-refused', `/portal/setup/${'x'.repeat(43)}`, stranger.page])
    for (const [name, path, page] of pages) {
      await page.goto(d.base + path)
      t.equal(await page.locator('h1').count(), 1, `${name}: one h1`)
      const violations = await axe(page)
      t.same(violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `${name}: no serious or critical violations`)
    }
    // A form showing its problems is checked too.
    await p.goto(`${d.base}/portal/organisations/new`)
    await p.getByRole('button', { name: 'Create organisation' }).click()
    await p.locator('.error-summary:not([hidden])').waitFor()
    t.same((await axe(p)).map((v) => v.id), [], 'a form with errors: no serious or critical violations')
    await screenshot(p, 'form-errors')
    await p.goto(`${d.base}/portal/`)
    await screenshot(p, 'dashboard')
    await stranger.page.goto(`${d.base}/portal/login`)
    await screenshot(stranger.page, 'sign-in-390px')
  })
})
