// Journey 1 in a real browser (Debian's Chromium through playwright-core, a CDP virtual authenticator):
// the first operator's setup link → passkey → dashboard; the used link and a bad link are refused.
import { execFileSync } from 'node:child_process'
import t from 'tap'
import { chromium } from 'playwright-core'
import { buildTestApp, freePort } from '../helpers/app.js'

execFileSync(process.execPath, ['scripts/build-portal.mjs'])

t.test('first operator: setup link → passkey → dashboard; the used link is refused', async (t) => {
  const port = await freePort()
  // WebAuthn needs a domain as relying party id: the portal runs on http://localhost.
  const d = await buildTestApp(t, { PUBLIC_PORT: String(port), DIRECTORY_ISSUER: `http://localhost:${port}` })
  const link = await d.services.portal.users.invite({ scope: 'operator', email: 'first@example.org', role: 'operator-admin' }, { actor: 'test' }, { reissue: true })
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
  t.teardown(() => browser.close())
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } })

  const res = await page.goto(link.setup_url)
  t.equal(res?.headers()['content-security-policy']?.includes("script-src 'self'"), true, 'strict CSP')
  await page.getByRole('heading', { level: 1, name: 'Set up your passkey' }).waitFor()
  await page.getByLabel('Passkey name').fill('Test laptop')
  await page.getByRole('button', { name: 'Create passkey' }).click()
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor()
  const cookies = await context.cookies()
  const session = cookies.find((c) => c.name === '__Host-directory-session')
  t.ok(session?.httpOnly && session.secure && session.sameSite === 'Strict', 'session cookie is __Host-, HttpOnly, Secure, SameSite=Strict')
  const audit = await d.db.prisma.auditEvent.findMany({ where: { action: { in: ['passkey.register', 'session.create'] } } })
  t.equal(audit.length, 2, 'passkey registration and sign-in are audited')
  t.ok(audit.every((e) => e.actor === `user:${link.user_id}`), 'with the actor user:<id>')

  // Sign out, sign in again with the passkey.
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor()
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click()
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor()

  const again = await page.goto(link.setup_url)
  t.equal(again?.status(), 410)
  await page.getByRole('heading', { level: 1, name: 'This setup link cannot be used' }).waitFor()
  t.match(await page.locator('main').innerText(), /used already/)
  const bogus = await page.goto(`http://localhost:${port}/portal/setup/${'x'.repeat(43)}`)
  t.equal(bogus?.status(), 410)
  t.match(await page.locator('main').innerText(), /not valid/)
  d.clock.advance(0)
})
