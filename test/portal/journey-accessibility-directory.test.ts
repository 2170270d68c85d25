// Journey 5 in a real browser (part 2 of 2): axe-core on the dashboard, people, directory, audit, account and
// signed-out pages, and on a form showing its problems: no serious or critical violations. Saves screenshots.
import t from 'tap'
import { accessibilitySetup, axe, checkPages } from '../helpers/accessibility.js'
import { screenshot } from '../helpers/portal.js'

t.test('dashboard, directory, people and signed-out pages pass axe', async (t) => {
  const { d, pending, op, stranger } = await accessibilitySetup(t)
  const p = op.page
  await checkPages(t, d.base, [
    ['dashboard', '/portal/', p],
    ['users', '/portal/users', p],
    ['directory', '/portal/directory', p],
    ['audit', '/portal/audit?verify=1', p],
    ['account', '/portal/account', p],
    ['not-found', `/portal/organisations/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`, p],
    ['sign-in', '/portal/login', stranger.page],
    ['setup', new URL(pending.setup_url).pathname, stranger.page],
    ['setup-refused', `/portal/setup/${'x'.repeat(43)}`, stranger.page],
  ])
  await p.goto(`${d.base}/portal/organisations/new`)
  await p.getByRole('button', { name: 'Create organisation' }).click()
  await p.locator('.error-summary:not([hidden])').waitFor()
  t.same(await axe(p), [], 'a form showing its problems: no serious or critical violations')
  await screenshot(p, 'form-errors')
  await p.goto(`${d.base}/portal/`)
  await screenshot(p, 'dashboard')
  await stranger.page.goto(`${d.base}/portal/login`)
  await screenshot(stranger.page, 'sign-in-390px')
})
