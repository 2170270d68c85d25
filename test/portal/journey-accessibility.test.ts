// Journey 5 in a real browser (part 1 of 2): axe-core on the organisation, software statement and certificate
// pages (WCAG 2.1 A/AA and best practices), no serious or critical violations; keyboard use.
import t from 'tap'
import { accessibilitySetup, checkPages } from '../helpers/accessibility.js'

t.test('registry pages pass axe; keyboard', async (t) => {
  const { d, org, sw, cert, op } = await accessibilitySetup(t)
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
    t.equal(await p.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle'), 'solid', 'focus is visible')
  })

  await t.test('axe', async (t) => {
    const o = `/portal/organisations/${org.id}`
    await checkPages(t, d.base, [
      ['organisations', '/portal/organisations', p],
      ['organisation-new', '/portal/organisations/new', p],
      ['organisation', o, p],
      ['status-preview', `${o}/status?to=revoked`, p],
      ['software-new', `${o}/software-statements/new`, p],
      ['software', `${o}/software-statements/${sw.software_id}`, p],
      ['certificate', `${o}/certificates/${cert.serial}`, p],
      ['certificates', '/portal/certificates', p],
    ])
  })
})
