import { z } from 'zod'
import type { App } from '../../app.js'
import { NotFound } from '../../errors.js'
import { organisationStatuses, revokesCertificates, type OrganisationStatus } from '../../registry/lifecycle.js'
import { assertOperatorAdmin, assertRead, canManage, isOperator, isOperatorAdmin } from '../access.js'
import { contactTypes } from '../contacts.js'
import { html, type Html } from '../html.js'
import { cascadePreview, searchOrganisations } from '../queries.js'
import { signedIn, sendPage } from './guard.js'
import { apiForm, checkboxes, notice, onceRegion, page, pager, selectField, statusTag, summary, table, textArea, textField } from './layout.js'

// Organisations: the list (search, filters, pages), creation, the detail page with everything an
// organisation has, and status changes with their cascade shown first.

const orgParams = z.object({ orgId: z.uuid() })
const listQuery = z.object({
  q: z.string().max(200).optional().catch(undefined),
  status: z.enum(organisationStatuses).optional().catch(undefined),
  role: z.string().max(64).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100000).catch(1).default(1),
})

/** Allowed next statuses (DESIGN.md §6), as the status form offers them. */
const moves: Record<OrganisationStatus, OrganisationStatus[]> = {
  pending: ['active', 'withdrawn'], active: ['suspended', 'revoked', 'withdrawn'], suspended: ['active', 'revoked', 'withdrawn'], revoked: ['active'], withdrawn: [],
}
const verbs: Record<OrganisationStatus, string> = { pending: 'Set pending', active: 'Activate', suspended: 'Suspend', revoked: 'Revoke', withdrawn: 'Withdraw' }

export const stoppedNotice = (status: string): Html | '' => status === 'suspended'
  ? notice('This organisation is suspended: its software statements and API credentials do not work until an operator reactivates it. Certificates stay valid.')
  : status === 'revoked' || status === 'withdrawn'
    ? notice(`This organisation is ${status}: its certificates are revoked and its software statements and API credentials do not work.`)
    : ''

export default async function organisationPages (app: App): Promise<void> {
  const s = app.services
  const roleOptions = (): Array<[string, string]> => Object.keys(s.config.ROLES).map((r) => [r, r])

  app.get('/organisations', { schema: { hide: true, querystring: listQuery } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    const q = request.query
    const operator = isOperator(me.user)
    const result = await searchOrganisations(s.db.prisma, { ...q, ...(operator ? {} : { orgIds: me.user.memberships.map((m) => m.org_id) }) })
    return sendPage(reply, page(me.ctx, 'Organisations', html`
      ${isOperatorAdmin(me.user) ? html`<p class="actions"><a class="button-link" href="/portal/organisations/new">Create an organisation</a></p>` : ''}
      <form method="get" action="/portal/organisations" class="filters" role="search" aria-label="Find organisations">
        ${textField('q', 'Search', { value: q.q ?? '', hint: 'Legal name or registration number', type: 'search' })}
        ${selectField('status', 'Status', [['', 'Any status'], ...organisationStatuses.map((x): [string, string] => [x, x])], { value: q.status ?? '' })}
        ${selectField('role', 'Role', [['', 'Any role'], ...roleOptions()], { value: q.role ?? '' })}
        <button type="submit">Filter</button>
      </form>
      <p>${result.total} organisation${result.total === 1 ? '' : 's'}</p>
      ${table('Organisations', ['Legal name', 'Registration number', 'Country', 'Status', 'Roles'], result.items.map((o) => [
        html`<a href="/portal/organisations/${o.id}">${o.legal_name}</a>`, html`${o.registration_number}`, html`${o.country}`, statusTag(o.status),
        html`${o.roles.map((r) => r.role).join(', ')}`]), 'none match.')}
      ${pager('/portal/organisations', { q: q.q, status: q.status, role: q.role }, result.page, result.pages, 'Organisations')}`))
  })

  app.get('/organisations/new', { schema: { hide: true } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    assertOperatorAdmin(me.user)
    return sendPage(reply, page(me.ctx, 'Create an organisation', apiForm({ api: '/portal/api/organisations', next: '/portal/organisations/{id}' }, [
      textField('legal_name', 'Legal name', { hint: 'As registered; it becomes the O attribute of the organisation\'s certificates (at most 64 characters).' }),
      textField('registration_number', 'Registration number'),
      textField('country', 'Country', { hint: 'Two-letter ISO 3166 code, for example GB or BR.' }),
      checkboxes('roles', 'Roles', roleOptions()),
      selectField('status', 'Status', [['pending', 'pending'], ['active', 'active']]),
      textField('company_register', 'Company register', { hint: 'Optional: the register the number belongs to.' }),
    ], 'Create organisation')))
  })

  app.get('/organisations/:orgId', { schema: { hide: true, params: orgParams } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    const orgId = request.params.orgId
    assertRead(me.user, orgId)
    const [o, contacts, users, software, servers, certs] = await Promise.all([
      s.organisations.get(orgId), s.portal.contacts.list(orgId), s.portal.users.list({ orgId }), s.software.list(orgId),
      s.authorisationServers.list(orgId), s.authority.list(orgId),
    ])
    const manage = canManage(me.user, orgId)
    const admin = isOperatorAdmin(me.user)
    const base = `/portal/organisations/${orgId}`
    const activeRoles = o.roles.filter((r) => r.status === 'active').map((r) => r.role)
    return sendPage(reply, page(me.ctx, o.legal_name, html`
      ${stoppedNotice(o.status)}
      ${summary([['Status', statusTag(o.status)], ['Registration number', o.registration_number], ['Country', o.country],
        ['Roles', o.roles.map((r) => `${r.role}${r.status === 'active' ? '' : ` (${r.status})`}`).join(', ') || 'none'],
        ['Company register', o.company_register], ['Organisation ID', html`<code>${o.id}</code>`], ['Version', o.version]])}

      ${admin ? html`<section aria-labelledby="h-status"><h2 id="h-status">Status</h2>
        ${moves[o.status].length
          ? html`<form method="get" action="${base}/status" class="filters">
              ${selectField('to', 'New status', moves[o.status].map((m): [string, string] => [m, m]))}
              <button type="submit">Preview the change</button></form>`
          : html`<p>${o.status} is final: the status cannot change.</p>`}
        <h3>Roles</h3>
        ${apiForm({ api: `/portal/api/organisations/${orgId}`, method: 'PATCH', label: 'Change roles' }, checkboxes('roles', 'Roles', roleOptions(), activeRoles), 'Save roles')}
        <h3>Enrolment code</h3>
        <p>A one-time code the organisation trades, with a CSR and its public keys, for its first API credentials at <code>/enrol</code>.</p>
        ${apiForm({ api: `/portal/api/organisations/${orgId}/enrolment-codes`, result: 'enrolment-code', label: 'Create an enrolment code' }, [], 'Create an enrolment code')}
        ${onceRegion('enrolment-code', 'Enrolment code', [['code', 'Code']], 'Shown once: copy it now and give it to the organisation over a trusted channel. It expires and works once.')}
      </section>` : ''}

      <section aria-labelledby="h-software"><h2 id="h-software">Software statements</h2>
        ${manage ? html`<p class="actions"><a class="button-link" href="${base}/software-statements/new">Create a software statement</a></p>` : ''}
        ${table('Software statements', ['Client name', 'Roles', 'Mode', 'Status'], software.map((x) => [
          html`<a href="${base}/software-statements/${x.software_id}">${x.client_name}</a>`, html`${x.roles.join(', ')}`, html`${x.mode}`, statusTag(x.status)]))}
      </section>

      <section aria-labelledby="h-certs"><h2 id="h-certs">Certificates</h2>
        ${table('Certificates', ['Serial', 'Type', 'Software statement', 'Status', 'Expires'], certs.map((c) => [
          html`<a href="${base}/certificates/${c.serial}"><code>${c.serial.slice(0, 16)}…</code></a>`, html`${c.type}`,
          html`${software.find((x) => x.software_id === c.software_id)?.client_name ?? (c.software_id ? c.software_id : 'enrolment')}`, statusTag(c.status), html`${c.not_after}`]))}
        <p><a href="/portal/certificates?org=${orgId}">Filter this organisation's certificates</a></p>
      </section>

      <section aria-labelledby="h-servers"><h2 id="h-servers">Authorisation servers</h2>
        ${table('Authorisation servers', ['Customer friendly name', 'Issuer', 'API resources'], servers.map((x) => [
          html`${x.customer_friendly_name}`, html`<code>${x.issuer}</code>`,
          html`${x.api_resources.length ? html`<ul class="plain">${x.api_resources.map((a) => html`<li>${a.family} ${a.version}: <code>${a.base_url}</code></li>`)}</ul>` : 'none'}`]))}
        ${manage && o.status !== 'revoked' && o.status !== 'withdrawn' ? html`<details><summary>Add an authorisation server</summary>
          ${apiForm({ api: `/portal/api/organisations/${orgId}/authorisation-servers`, label: 'Add an authorisation server' }, [
            textField('customer_friendly_name', 'Customer friendly name'),
            textField('issuer', 'Issuer', { hint: 'https URL, exactly as in the server\'s metadata.' }),
            textField('discovery_url', 'Discovery URL', { hint: 'Its /.well-known/openid-configuration.' }),
            textField('logo_uri', 'Logo URI', { hint: 'Optional.' }),
            textArea('api_resources', 'API resources', { lines: true, hint: 'One per line: family version base URL, for example "accounts 2.0 https://api.example.com/accounts/v2".' }),
          ], 'Add authorisation server')}</details>` : ''}
      </section>

      <section aria-labelledby="h-events"><h2 id="h-events">Event subscriptions</h2>
        <p><a href="${base}/event-subscriptions">Event subscriptions</a>: signed change events pushed to this organisation's endpoints.</p>
      </section>

      <section aria-labelledby="h-contacts"><h2 id="h-contacts">Contacts</h2>
        ${table('Contacts', ['Type', 'Name', 'Email', 'Phone', ...(manage ? [''] : [])], contacts.map((c) => [
          html`${c.type}`, html`${c.name}`, html`${c.email}`, html`${c.phone ?? '—'}`,
          ...(manage ? [html`<form data-api="/portal/api/organisations/${orgId}/contacts/${c.id}" data-method="DELETE" class="inline"><button type="submit" class="secondary" aria-label="Remove contact ${c.name}">Remove</button></form>`] : [])]))}
        ${manage ? html`<details><summary>Add a contact</summary>
          ${apiForm({ api: `/portal/api/organisations/${orgId}/contacts`, label: 'Add a contact' }, [
            selectField('type', 'Contact type', contactTypes.map((t): [string, string] => [t, t])),
            textField('name', 'Name'), textField('email', 'Email', { type: 'email' }), textField('phone', 'Phone', { hint: 'Optional, international format.', type: 'tel' }),
          ], 'Add contact')}</details>` : ''}
      </section>

      <section aria-labelledby="h-users"><h2 id="h-users">Users</h2>
        ${table('Users', ['Email', 'Name', 'Role', 'Passkeys', ...(manage ? [''] : [])], users.map((u) => [
          html`${u.email}`, html`${u.name ?? '—'}`, html`${u.memberships.find((m) => m.org_id === orgId)?.role ?? ''}`, html`${u.passkeys ? u.passkeys : 'not set up yet'}`,
          ...(manage ? [html`<form data-api="/portal/api/organisations/${orgId}/users/${u.id}" data-method="DELETE" class="inline"><button type="submit" class="secondary" aria-label="Remove ${u.email} from the organisation">Remove</button></form>`] : [])]))}
        ${manage ? html`<h3>Invite a user</h3>
          ${apiForm({ api: `/portal/api/organisations/${orgId}/invitations`, result: 'org-invite', label: 'Invite a user' }, [
            textField('email', 'Email', { type: 'email' }), textField('name', 'Name', { hint: 'Optional.' }),
            selectField('role', 'Role', [['org-admin', 'org-admin (manages the organisation)'], ['org-viewer', 'org-viewer (reads only)']]),
          ], 'Invite user')}
          ${onceRegion('org-invite', 'Setup link', [['setup_url', 'Setup link']], 'Shown once: give it to the person yourself. It works once and expires; with it they create their passkey.')}` : ''}
      </section>`))
  })

  app.get('/organisations/:orgId/status', { schema: { hide: true, params: orgParams, querystring: z.object({ to: z.enum(organisationStatuses) }) } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    assertOperatorAdmin(me.user)
    const o = await s.organisations.get(request.params.orgId)
    const to = request.query.to
    if (!moves[o.status].includes(to)) throw NotFound(`${o.legal_name} cannot move from ${o.status} to ${to}`)
    const c = await cascadePreview(s.db.prisma, s.clock, o.id, o.status, to)
    const revoking = revokesCertificates(to)
    const base = `/portal/organisations/${o.id}`
    return sendPage(reply, page(me.ctx, 'Change organisation status', html`
      <p><strong>${o.legal_name}</strong> goes from ${statusTag(o.status)} to ${statusTag(to)}. This is what happens:</p>
      <section aria-labelledby="h-cascade" class="${revoking ? 'danger-zone' : 'card'}"><h2 id="h-cascade">What the change does</h2>
        ${c.software_stopping.length
          ? html`<p>These software statements stop working (no tokens, no software statement assertions, no new certificates):</p>
            <ul>${c.software_stopping.map((x) => html`<li>${x.client_name}</li>`)}</ul>`
          : html`<p>No software statement stops.</p>`}
        <p>${revoking ? html`<strong>${c.certificates_revoked} certificate${c.certificates_revoked === 1 ? '' : 's'} will be revoked</strong>, at once and for good (the CRL and OCSP say so).` : 'No certificate is revoked.'}</p>
        ${c.clients_refused ? html`<p>${c.clients_refused} API client${c.clients_refused === 1 ? ' is' : 's are'} refused from the next request.</p>` : ''}
      </section>
      ${apiForm({ api: `/portal/api/organisations/${o.id}/status`, next: base, label: 'Confirm the status change', ...(revoking ? { button: 'danger' } : {}) }, [
        html`<input type="hidden" name="status" value="${to}">`,
        revoking ? html`<div class="field" data-field="confirm_name"><label for="confirm-name">Type the organisation's legal name to confirm</label>
          <p class="hint" id="confirm-name-hint">${o.legal_name}</p><p class="field-error" id="confirm-name-error" hidden></p>
          <input id="confirm-name" name="confirm_name" type="text" autocomplete="off" data-confirm="${o.legal_name}" aria-describedby="confirm-name-hint"></div>
          <p>You will be asked to confirm with your passkey.</p>` : html``,
      ], `${verbs[to]} ${o.legal_name}`)}
      <p><a href="${base}">Cancel</a></p>`))
  })
}
