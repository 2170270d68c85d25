import { z } from 'zod'
import type { App } from '../../app.js'
import { assertOperator, isOperatorAdmin } from '../access.js'
import { html } from '../html.js'
import { searchAudit, signingKeys } from '../queries.js'
import { operatorRoles } from '../users.js'
import { signedIn, sendPage } from './guard.js'
import { apiForm, onceRegion, page, selectField, statusTag, summary, table, textField } from './layout.js'

// The directory itself (signing keys, CA, CRL), the audit log, and the operators' people page.

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/)
const auditQuery = z.object({
  actor: z.string().max(200).optional().catch(undefined),
  action: z.string().max(100).optional().catch(undefined),
  org: z.uuid().optional().catch(undefined),
  from: day.optional().catch(undefined),
  to: day.optional().catch(undefined),
  before: z.string().regex(/^\d{1,19}$/).optional().catch(undefined),
  verify: z.literal('1').optional().catch(undefined),
})

export default async function directoryPages (app: App): Promise<void> {
  const s = app.services

  app.get('/directory', { schema: { hide: true } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    assertOperator(me.user)
    const keys = await signingKeys(s.db.prisma)
    return sendPage(reply, page(me.ctx, 'Directory', html`
      <section aria-labelledby="h-keys"><h2 id="h-keys">Signing keys</h2>
        <p>The directory signs software statement assertions, access tokens and events with the active key. The next key is
        published ahead of use; retired keys stay published for the overlap so what they signed still verifies.</p>
        ${table('Signing keys', ['Key ID', 'Algorithm', 'State', 'Created', 'Activated', 'Retired'], keys.map((k) => [
          html`<code>${k.kid}</code>`, html`${k.alg}`, statusTag(k.state), html`${k.createdAt}`, html`${k.activatedAt ?? '—'}`, html`${k.retiredAt ?? '—'}`]))}
        ${isOperatorAdmin(me.user) ? html`<div class="danger-zone"><h3>Rotate</h3>
          <p>The next key becomes active, the active one retires, a new next key is made. You will be asked to confirm with your passkey.</p>
          ${apiForm({ api: '/portal/api/keys/rotate', label: 'Rotate signing keys', button: 'danger' }, [], 'Rotate signing keys')}</div>` : ''}
        <p><a href="/jwks">Published key set (JWKS)</a></p>
      </section>
      <section aria-labelledby="h-ca"><h2 id="h-ca">Certificate authority</h2>
        <ul class="plain">
          <li><a href="/pki/ca.pem">CA certificates, issuing and root (PEM)</a></li>
          <li><a href="/pki/issuing-ca.cer">Issuing CA certificate (DER)</a></li>
          <li><a href="/pki/root-ca.cer">Root CA certificate (DER)</a></li>
          <li><a href="/pki/crl">Certificate revocation list of the issuing CA (DER)</a></li>
          <li><a href="/pki/root.crl">Certificate revocation list of the root CA (DER)</a></li>
        </ul>
        <p>The CRLs are signed fresh on each request and valid for ${Math.round(s.config.CRL_VALIDITY_SECONDS / 3600)} hours; OCSP answers at <code>/pki/ocsp</code>.</p>
      </section>`))
  })

  app.get('/audit', { schema: { hide: true, querystring: auditQuery } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    assertOperator(me.user)
    const q = request.query
    const to = q.to ? new Date(`${q.to}T00:00:00Z`) : undefined
    const [result, check] = await Promise.all([
      searchAudit(s.db.prisma, {
        actor: q.actor, action: q.action, orgId: q.org, from: q.from ? new Date(`${q.from}T00:00:00Z`) : undefined,
        to: to ? new Date(to.getTime() + 86_400_000) : undefined, before: q.before ? BigInt(q.before) : undefined,
      }),
      q.verify ? s.audit.verify(s.db.prisma) : Promise.resolve(undefined),
    ])
    const keep = Object.entries({ actor: q.actor, action: q.action, org: q.org, from: q.from, to: q.to }).filter((e): e is [string, string] => !!e[1])
    const nextHref = result.next ? `/portal/audit?${new URLSearchParams([...keep, ['before', result.next]]).toString()}` : undefined
    return sendPage(reply, page(me.ctx, 'Audit log', html`
      <p>Every change, who made it and when. Each event carries a SHA-256 hash over the one before it, so an edited or deleted event breaks the chain.</p>
      <form method="get" action="/portal/audit" class="filters" aria-label="Verify the audit chain">
        <input type="hidden" name="verify" value="1"><button type="submit" class="secondary">Verify the chain</button>
      </form>
      ${check ? html`<div class="${check.ok ? 'once' : 'error-summary'}" role="status"><h2>${check.ok ? 'The chain is intact' : 'The chain is broken'}</h2>
        <p>${check.ok ? `${check.events} events verified.` : `At event ${check.seq} (after ${check.events} events): ${check.problem}.`}</p></div>` : ''}
      <form method="get" action="/portal/audit" class="filters" aria-label="Filter the audit log">
        ${textField('actor', 'Actor', { value: q.actor ?? '', hint: 'Exactly, e.g. user:<id>' })}
        ${textField('action', 'Action', { value: q.action ?? '', hint: 'Or its start, e.g. organisation.' })}
        ${textField('org', 'Organisation ID', { value: q.org ?? '' })}
        ${textField('from', 'From', { type: 'date', value: q.from ?? '' })}
        ${textField('to', 'To', { type: 'date', value: q.to ?? '' })}
        <button type="submit">Filter</button>
      </form>
      ${table('Audit events', ['#', 'When', 'Actor', 'Action', 'Target'], result.events.map((e) => [
        html`${e.seq}`, html`${e.at}`, html`<code>${e.actor}</code>`, html`${e.action}`, html`<code>${e.target}</code>`]), 'none match.')}
      ${nextHref ? html`<nav class="pager" aria-label="Audit log pages"><ul><li><a href="${nextHref}" rel="next">Older events</a></li></ul></nav>` : ''}`))
  })

  app.get('/users', { schema: { hide: true } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    assertOperator(me.user)
    const users = await s.portal.users.list({})
    return sendPage(reply, page(me.ctx, 'Users', html`
      ${table('Users', ['Email', 'Name', 'Operator role', 'Organisations', 'Passkeys'], users.map((u) => [
        html`${u.email}`, html`${u.name ?? '—'}`, html`${u.operator_role ?? '—'}`,
        html`${u.memberships.length ? u.memberships.map((m, i) => html`${i ? ', ' : ''}<a href="/portal/organisations/${m.org_id}">${m.legal_name ?? m.org_id}</a> (${m.role})`) : '—'}`,
        html`${u.passkeys ? u.passkeys : 'not set up yet'}`]))}
      ${isOperatorAdmin(me.user) ? html`<section aria-labelledby="h-invite"><h2 id="h-invite">Invite an operator</h2>
        <p>Organisation users are invited from their organisation's page. Adding an operator asks you to confirm with your passkey.</p>
        ${apiForm({ api: '/portal/api/invitations', result: 'operator-invite', label: 'Invite an operator' }, [
          textField('email', 'Email', { type: 'email' }), textField('name', 'Name', { hint: 'Optional.' }),
          selectField('role', 'Role', operatorRoles.map((r): [string, string] => [r, r])),
        ], 'Invite operator')}
        ${onceRegion('operator-invite', 'Setup link', [['setup_url', 'Setup link']], 'Shown once: give it to the person yourself. It works once and expires.')}
      </section>` : ''}
      ${summary([['Users', users.length]])}`))
  })
}
