// The portal in a real browser: Debian's Chromium through playwright-core, one browser per test file,
// one context (own cookies, own CDP virtual authenticator) per person.
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { buildTestApp, freePort, type TestApp } from './app.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export const screenshotDir = join(process.cwd(), 'test-results', 'portal')

let built = false
/** The portal's script and stylesheet, built once per test process. */
export function buildPortalAssets (): void {
  if (built) return
  execFileSync(process.execPath, ['scripts/build-portal.mjs'])
  built = true
}

/** The directory on http://localhost:<port> (WebAuthn needs a domain as relying party id). */
export async function portalApp (t: Teardown, env: Record<string, string> = {}): Promise<TestApp & { base: string }> {
  buildPortalAssets()
  const port = await freePort()
  const d = await buildTestApp(t, { PUBLIC_PORT: String(port), DIRECTORY_ISSUER: `http://localhost:${port}`, ...env })
  return Object.assign(d, { base: `http://localhost:${port}` })
}

export async function launch (t: Teardown): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
  t.teardown(() => browser.close())
  return browser
}

export interface Person { context: BrowserContext, page: Page }

/** A person's own browser context with a platform authenticator that holds resident keys. */
export async function person (browser: Browser, viewport = { width: 1280, height: 900 }): Promise<Person> {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  })
  return { context, page }
}

/** Follows a setup link and creates the passkey: the person lands on the dashboard, signed in. */
export async function setUp (p: Person, setupUrl: string): Promise<void> {
  await p.page.goto(setupUrl)
  await p.page.getByRole('heading', { level: 1, name: 'Set up your passkey' }).waitFor()
  await p.page.getByRole('button', { name: 'Create passkey' }).click()
  await p.page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor()
}

/** A person with an account, a passkey and a session. */
export async function signedInPerson (d: TestApp, browser: Browser, invite: Parameters<TestApp['services']['portal']['users']['invite']>[0]): Promise<Person & { userId: string }> {
  const link = await d.services.portal.users.invite(invite, { actor: 'test' }, { reissue: true })
  const p = await person(browser)
  await setUp(p, link.setup_url)
  return { ...p, userId: link.user_id }
}

export async function screenshot (page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true })
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true })
}

/** A JSON call from inside the page, as its script makes them (same origin, the session cookie, the CSRF header unless left out). */
export async function pageFetch (page: Page, method: string, url: string, body?: unknown, opts: { csrf?: boolean } = {}): Promise<{ status: number, json: any }> {
  return page.evaluate(async ({ method, url, body, csrf }) => {
    // Runs in the page (tests have no DOM types).
    const token: string = (globalThis as any).document.querySelector('meta[name="csrf-token"]')?.content ?? ''
    const res = await fetch(url, {
      method, credentials: 'same-origin',
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(csrf ? { 'x-csrf-token': token } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    let json: unknown = text
    try { json = JSON.parse(text) } catch {}
    return { status: res.status, json }
  }, { method, url, body, csrf: opts.csrf !== false })
}
