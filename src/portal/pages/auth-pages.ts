import { z } from 'zod'
import type { App } from '../../app.js'
import { Problem } from '../../errors.js'
import { isOperator } from '../access.js'
import { html } from '../html.js'
import { overview } from '../overview.js'
import { signedIn, sendPage } from './guard.js'
import { page, statusTag, table, textField } from './layout.js'

const safeNext = (next: unknown): string => typeof next === 'string' && /^\/portal\/[A-Za-z0-9/_-]*$/.test(next) ? next : '/portal/'

export default async function authPages (app: App): Promise<void> {
  const s = app.services

  app.get('/login', { schema: { hide: true } }, async (request, reply) => {
    const next = safeNext((request.query as { next?: unknown }).next)
    if (request.portal) return reply.redirect(next)
    return sendPage(reply, page({ path: '/portal/login' }, 'Sign in', html`
      <p>Sign in with the passkey you created from your setup link (on this device, your phone or a security key).</p>
      <div class="error-summary" role="alert" hidden><h2>There is a problem</h2><ul></ul></div>
      <button type="button" data-passkey="login" data-next="${next}">Sign in with a passkey</button>
      <p class="hint">No passkey yet? Use the one-time setup link an administrator gave you.</p>`))
  })

  app.get('/setup/:token', { schema: { hide: true, params: z.object({ token: z.string().max(200) }) } }, async (request, reply) => {
    let user
    try {
      ({ user } = await s.portal.users.setupLinkUser(request.params.token))
    } catch (err) {
      if (err instanceof Problem && err.status === 410) {
        return sendPage(reply, page({ path: '' }, 'This setup link cannot be used', html`<p class="notice">${err.detail}</p><p><a href="/portal/login">Go to sign in</a></p>`), 410)
      }
      throw err
    }
    return sendPage(reply, page({ path: '' }, 'Set up your passkey', html`
      <p>Welcome${user.name ? html`, ${user.name}` : ''}. This link sets up the account <strong>${user.email}</strong>.
      Create a passkey: your device keeps its private part, the directory only its public key. There is no password.</p>
      <form data-passkey="setup" data-token="${request.params.token}" data-next="/portal/" novalidate>
        <div class="error-summary" role="alert" hidden><h2>There is a problem</h2><ul></ul></div>
        ${textField('name', 'Passkey name', { hint: 'So you can tell your passkeys apart, for example "Work laptop".', value: 'Passkey' })}
        <button type="submit">Create passkey</button>
      </form>`))
  })

  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    const operator = isOperator(me.user)
    const o = await overview(s.db.prisma, s.clock, operator ? undefined : me.user.memberships.map((m) => m.org_id))
    const counts = (c: Record<string, number>) => html`<dl class="counts">${Object.entries(c).map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`
    const health = operator ? html`<section aria-labelledby="h-health"><h2 id="h-health">Health</h2><ul class="plain">
        <li>Database: reachable</li>
        <li>Signing keys: ${s.readiness() ?? 'loaded'} (active <code>${s.keys.ready ? s.keys.current().kid : '—'}</code>)</li>
        <li>CRL: signed fresh on every request, valid for ${Math.round(s.config.CRL_VALIDITY_SECONDS / 3600)} h — <a href="/pki/crl">download</a></li>
      </ul></section>` : ''
    return sendPage(reply, page(me.ctx, 'Dashboard', html`
      <div class="grid">
        <section aria-labelledby="h-orgs"><h2 id="h-orgs">Organisations by status</h2>${Object.keys(o.organisations).length ? counts(o.organisations) : html`<p>None yet.</p>`}</section>
        <section aria-labelledby="h-sw"><h2 id="h-sw">Software statements by status</h2>${Object.keys(o.software_statements).length ? counts(o.software_statements) : html`<p>None yet.</p>`}</section>
        <section aria-labelledby="h-certs"><h2 id="h-certs">Certificates</h2><p>${o.certificates_active} active</p></section>
      </div>
      ${health}
      <section aria-labelledby="h-exp"><h2 id="h-exp">Certificates expiring within 30 days</h2>
        ${table('Expiring certificates', ['Organisation', 'Type', 'Serial', 'Expires'], o.certificates_expiring.map((c) => [
          html`<a href="/portal/organisations/${c.org_id}">${c.legal_name}</a>`, html`${c.type}`, html`<code>${c.serial}</code>`, html`${c.not_after}`]), 'none.')}
      </section>
      ${operator ? html`<section aria-labelledby="h-audit"><h2 id="h-audit">Recent audit events</h2>
        ${table('Recent audit events', ['When', 'Actor', 'Action', 'Target'], o.recent_events.map((e) => [html`${e.at}`, html`<code>${e.actor}</code>`, html`${e.action}`, html`<code>${e.target}</code>`]))}
</section>` : html`<section aria-labelledby="h-mine"><h2 id="h-mine">Your organisations</h2>
        <ul>${me.user.memberships.map((m) => html`<li><a href="/portal/organisations/${m.org_id}">${m.legal_name ?? m.org_id}</a> (${m.role})</li>`)}</ul></section>`}`))
  })

  app.get('/account', { schema: { hide: true } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    const keys = await s.portal.passkeys.list(me.user.id)
    return sendPage(reply, page(me.ctx, 'Account', html`
      <dl class="summary"><div><dt>Email</dt><dd>${me.user.email}</dd></div>
        <div><dt>Operator role</dt><dd>${me.user.operator_role ?? 'none'}</dd></div>
        <div><dt>Organisations</dt><dd>${me.user.memberships.length ? me.user.memberships.map((m) => html`${m.legal_name ?? m.org_id} (${m.role}) `) : 'none'}</dd></div></dl>
      <section aria-labelledby="h-keys"><h2 id="h-keys">Passkeys</h2>
        ${table('Your passkeys', ['Name', 'Created', 'Last used', ''], keys.map((k) => [html`${k.name}`, html`${k.created_at}`, html`${k.last_used_at ?? 'never'}`,
          html`<form data-api="/portal/api/passkeys/${encodeURIComponent(k.id)}" data-method="DELETE" class="inline"><button type="submit" class="secondary" aria-label="Remove passkey ${k.name}">Remove</button></form>`]))}
        <form data-passkey="add" novalidate>
          <div class="error-summary" role="alert" hidden><h2>There is a problem</h2><ul></ul></div>
          ${textField('name', 'Passkey name', { hint: 'For example "Phone" or "Security key".' })}
          <button type="submit">Add a passkey</button>
        </form>
      </section>
      <section aria-labelledby="h-sessions"><h2 id="h-sessions">Sessions</h2>
        <p>Signing out everywhere ends this session and every other one you have, on every device.</p>
        <form data-api="/portal/api/logout-everywhere" data-next="/portal/login" novalidate><button type="submit" class="secondary">Sign out everywhere</button></form>
      </section>`))
  })
  void statusTag
}
