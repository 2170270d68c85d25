// Journey 5's shared part: a directory with something on every page, an operator signed in, a stranger
// (no session, 390 px), and axe-core run on a list of pages. Split over two files so each stays well inside
// the runner's per-file timeout on a busy machine.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'
import type { Test } from 'tap'
import { ecKey, makeCsr } from './participant.js'
import { launch, person, portalApp, signedInPerson } from './portal.js'

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

interface Violation { id: string, impact: string | null, help: string, nodes: Array<{ target: string[] }> }

/** Serious and critical violations of WCAG 2.1 A/AA and axe's best practices on the page as it is now. */
export async function axe (page: Page): Promise<string[]> {
  // Through the DevTools protocol, as a test harness: the page's own CSP still forbids inline code.
  await page.evaluate(axeSource)
  const result = await page.evaluate<{ violations: Violation[] }>(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] })`)
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

type T = Test

export async function accessibilitySetup (t: T) {
  const d = await portalApp(t)
  const browser = await launch(t)
  const who = { actor: 'test' }
  const org = await d.services.organisations.create({ legal_name: 'Contoso Bank', registration_number: 'C-1', country: 'GB', roles: [{ role: 'data-holder', status: 'active' }, { role: 'data-recipient', status: 'active' }], status: 'active' }, who)
  const sw = await d.services.software.create(org.id, { client_name: 'Contoso App', redirect_uris: ['https://contoso.example/cb'], roles: ['data-recipient'], mode: 'live', token_endpoint_auth_method: 'private_key_jwt' }, who)
  const cert = await d.services.authority.issue({ orgId: org.id, softwareId: sw.software_id, type: 'signing', csr: makeCsr(ecKey()) }, who)
  await d.services.authorisationServers.create(org.id, { issuer: 'https://auth.contoso.example', discovery_url: 'https://auth.contoso.example/.well-known/openid-configuration', customer_friendly_name: 'Contoso Online', api_resources: [{ family: 'accounts', version: '2.0', base_url: 'https://api.contoso.example/accounts/v2' }] }, who)
  await d.services.portal.contacts.add(org.id, { type: 'technical', name: 'Tech Desk', email: 'tech@contoso.example' }, who)
  const pending = await d.services.portal.users.invite({ scope: 'organisation', org_id: org.id, email: 'new@contoso.example', role: 'org-viewer' }, who)
  const [op, stranger] = await Promise.all([
    signedInPerson(d, browser, { scope: 'operator', email: 'ops@example.org', role: 'operator-admin' }),
    person(browser, { width: 390, height: 844 }),
  ])
  return { d, org, sw, cert, pending, op, stranger }
}

/** Each page: one h1 and no serious or critical axe violation. */
export async function checkPages (t: T, base: string, pages: Array<[string, string, Page]>): Promise<void> {
  for (const [name, path, page] of pages) {
    await page.goto(base + path)
    t.equal(await page.locator('h1').count(), 1, `${name}: one h1`)
    t.same(await axe(page), [], `${name}: no serious or critical violations`)
  }
}
