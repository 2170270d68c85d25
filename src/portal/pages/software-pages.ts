import { z } from 'zod'
import type { App } from '../../app.js'
import { NotFound } from '../../errors.js'
import { revocationReasons } from '../../pki/reasons.js'
import { softwareStatuses } from '../../registry/lifecycle.js'
import type { SoftwareStatement } from '../../registry/schemas.js'
import { assertManage, assertRead, canManage, isOperator } from '../access.js'
import { html, type Html } from '../html.js'
import { certificateOf, searchCertificates } from '../queries.js'
import { signedIn, sendPage } from './guard.js'
import { apiForm, checkboxes, page, pager, selectField, statusTag, summary, table, textArea, textField } from './layout.js'
import { stoppedNotice } from './organisation-pages.js'

// Software statements (create, edit, status, certificates by CSR) and certificates (filtered list,
// detail, download with chain, revocation).

const orgParams = z.object({ orgId: z.uuid() })
const softwareParams = z.object({ orgId: z.uuid(), softwareId: z.uuid() })
const certParams = z.object({ orgId: z.uuid(), serial: z.string().regex(/^[0-9a-fA-F]{1,64}$/) })
const certQuery = z.object({
  type: z.enum(['transport', 'signing']).optional().catch(undefined),
  status: z.enum(['active', 'revoked']).optional().catch(undefined),
  expiring: z.coerce.number().int().min(1).max(3650).optional().catch(undefined),
  org: z.uuid().optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100000).catch(1).default(1),
})

/** The fields of a software statement, as the create and edit forms show them. */
function softwareFields (roles: string[], sw?: SoftwareStatement): Html[] {
  return [
    textField('client_name', 'Client name', { value: sw?.client_name ?? '' }),
    textField('client_description', 'Client description', { value: sw?.client_description ?? '', hint: 'Optional.' }),
    textArea('redirect_uris', 'Redirect URIs', { lines: true, value: sw?.redirect_uris.join('\n') ?? '', hint: 'One per line; https (http://localhost only in test mode).' }),
    checkboxes('roles', 'Roles', roles.map((r) => [r, r]), sw?.roles ?? []),
    selectField('mode', 'Mode', [['live', 'live'], ['test', 'test']], { value: sw?.mode ?? 'live' }),
    selectField('token_endpoint_auth_method', 'Token endpoint auth method', [['private_key_jwt', 'private_key_jwt'], ['tls_client_auth', 'tls_client_auth']], { value: sw?.token_endpoint_auth_method ?? 'private_key_jwt' }),
    textField('client_uri', 'Client URI', { value: sw?.client_uri ?? '', hint: 'Optional.' }),
    textField('logo_uri', 'Logo URI', { value: sw?.logo_uri ?? '', hint: 'Optional.' }),
    textField('tos_uri', 'Terms of service URI', { value: sw?.tos_uri ?? '', hint: 'Optional.' }),
    textField('policy_uri', 'Policy URI', { value: sw?.policy_uri ?? '', hint: 'Optional.' }),
  ]
}

export default async function softwarePages (app: App): Promise<void> {
  const s = app.services

  app.get('/organisations/:orgId/software-statements/new', { schema: { hide: true, params: orgParams } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    const { orgId } = request.params
    assertManage(me.user, orgId)
    const o = await s.organisations.get(orgId)
    const roles = o.roles.filter((r) => r.status === 'active').map((r) => r.role)
    return sendPage(reply, page(me.ctx, 'Create a software statement', html`
      <p>For <a href="/portal/organisations/${orgId}">${o.legal_name}</a>. Its roles can only be among the organisation's active roles.</p>
      ${apiForm({ api: `/portal/api/organisations/${orgId}/software-statements`, next: `/portal/organisations/${orgId}/software-statements/{software_id}` },
        softwareFields(roles), 'Create software statement')}`))
  })

  app.get('/organisations/:orgId/software-statements/:softwareId', { schema: { hide: true, params: softwareParams } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    const { orgId, softwareId } = request.params
    assertRead(me.user, orgId)
    const [o, sw, certs] = await Promise.all([s.organisations.get(orgId), s.software.get(orgId, softwareId), s.authority.list(orgId)])
    const manage = canManage(me.user, orgId) && sw.status !== 'removed'
    const base = `/portal/organisations/${orgId}`
    const roles = o.roles.filter((r) => r.status === 'active').map((r) => r.role)
    const mine = certs.filter((c) => c.software_id === softwareId)
    const nextStatuses = softwareStatuses.filter((x) => x !== sw.status && (sw.status !== 'removed'))
    return sendPage(reply, page(me.ctx, sw.client_name, html`
      <p>Software statement of <a href="${base}">${o.legal_name}</a>.</p>
      ${stoppedNotice(o.status)}
      ${summary([['Status', statusTag(sw.status)], ['Software ID', html`<code>${sw.software_id}</code>`], ['Roles', sw.roles.join(', ')],
        ['Redirect URIs', html`<ul class="plain">${sw.redirect_uris.map((u) => html`<li><code>${u}</code></li>`)}</ul>`], ['Mode', sw.mode],
        ['Token endpoint auth method', sw.token_endpoint_auth_method], ['Key set (JWKS)', html`<code>${sw.jwks_uri}</code>`], ['Version', sw.version]])}

      <section aria-labelledby="h-certs"><h2 id="h-certs">Certificates</h2>
        ${table('Certificates of this software statement', ['Serial', 'Type', 'Status', 'Expires'], mine.map((c) => [
          html`<a href="${base}/certificates/${c.serial}"><code>${c.serial.slice(0, 16)}…</code></a>`, html`${c.type}`, statusTag(c.status), html`${c.not_after}`]))}
        ${manage && sw.status === 'active' ? html`<h3>Request a certificate</h3>
          <p>Make a key pair and a certificate signing request (CSR) yourself, for example
          <code>openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -subj /CN=x</code>;
          the private key never leaves you. The directory fills in the subject from the registry.</p>
          ${apiForm({ api: `/portal/api/organisations/${orgId}/software-statements/${softwareId}/certificates`, next: `${base}/certificates/{serial}`, label: 'Request a certificate' }, [
            selectField('type', 'Certificate type', [['transport', 'transport (mTLS)'], ['signing', 'signing']]),
            textArea('csr', 'Certificate signing request (PEM)', {
              id: 'csr-text', rows: 8, hint: 'Paste the CSR, or choose its file below.',
              after: html`<label for="csr-file" class="file-label">CSR file</label><input type="file" id="csr-file" accept=".pem,.csr,.txt" data-into="csr-text">`,
            }),
            textArea('dns_names', 'DNS names', { lines: true, rows: 2, hint: 'Optional, one per line: only for data holders\' transport certificates that also serve TLS.' }),
          ], 'Request certificate')}` : ''}
      </section>

      ${manage ? html`<section aria-labelledby="h-edit"><h2 id="h-edit">Edit</h2>
        ${apiForm({ api: `/portal/api/organisations/${orgId}/software-statements/${softwareId}`, method: 'PATCH', label: 'Edit the software statement' }, softwareFields(roles, sw), 'Save changes')}
        <h3>Status</h3>
        <p>Inactive stops tokens and SSAs until reactivated; removed is final and revokes its certificates.</p>
        ${apiForm({ api: `/portal/api/organisations/${orgId}/software-statements/${softwareId}`, method: 'PATCH', label: 'Change the status' },
          selectField('status', 'New status', nextStatuses.map((x): [string, string] => [x, x])), 'Change status')}
      </section>` : ''}`))
  })

  app.get('/certificates', { schema: { hide: true, querystring: certQuery } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    const q = request.query
    const operator = isOperator(me.user)
    if (q.org) assertRead(me.user, q.org)
    const orgIds = operator ? undefined : me.user.memberships.map((m) => m.org_id)
    const result = await searchCertificates(s.db.prisma, s.clock, { ...q, orgId: q.org, orgIds })
    return sendPage(reply, page(me.ctx, 'Certificates', html`
      <form method="get" action="/portal/certificates" class="filters" aria-label="Filter certificates">
        ${q.org ? html`<input type="hidden" name="org" value="${q.org}">` : ''}
        ${selectField('type', 'Type', [['', 'Any type'], ['transport', 'transport'], ['signing', 'signing']], { value: q.type ?? '' })}
        ${selectField('status', 'Status', [['', 'Any status'], ['active', 'active'], ['revoked', 'revoked']], { value: q.status ?? '' })}
        ${selectField('expiring', 'Expiry', [['', 'Any expiry'], ['30', 'Expiring within 30 days'], ['90', 'Expiring within 90 days']], { value: q.expiring ? String(q.expiring) : '' })}
        <button type="submit">Filter</button>
      </form>
      ${q.org ? html`<p>One organisation only. <a href="/portal/certificates">Show all</a></p>` : ''}
      <p>${result.total} certificate${result.total === 1 ? '' : 's'}</p>
      ${table('Certificates', ['Serial', 'Organisation', 'Software statement', 'Type', 'Status', 'Expires'], result.items.map((c) => [
        html`<a href="/portal/organisations/${c.org_id}/certificates/${c.serial}"><code>${c.serial.slice(0, 16)}…</code></a>`, html`${c.legal_name}`,
        html`${c.client_name ?? 'enrolment'}`, html`${c.type}`, statusTag(c.status), html`${c.not_after}`]), 'none match.')}
      ${pager('/portal/certificates', { type: q.type, status: q.status, expiring: q.expiring ? String(q.expiring) : undefined, org: q.org }, result.page, result.pages, 'Certificates')}`))
  })

  app.get('/organisations/:orgId/certificates/:serial', { schema: { hide: true, params: certParams } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    const { orgId, serial } = request.params
    assertRead(me.user, orgId)
    const [o, c] = await Promise.all([s.organisations.get(orgId), certificateOf(s.db.prisma, orgId, serial)])
    if (!c) throw NotFound(`no certificate ${serial}`)
    const base = `/portal/organisations/${orgId}`
    return sendPage(reply, page(me.ctx, 'Certificate', html`
      <p>Of <a href="${base}">${o.legal_name}</a>${c.softwareStatementId ? html`, software statement <a href="${base}/software-statements/${c.softwareStatementId}">${c.softwareStatement?.clientName ?? c.softwareStatementId}</a>` : ''}.</p>
      ${summary([['Status', statusTag(c.status)], ['Serial', html`<code>${c.serial}</code>`], ['Type', c.type], ['Not before', html`${c.notBefore}`], ['Not after', html`${c.notAfter}`],
        ['Thumbprint (x5t#S256)', html`<code>${c.x5tS256}</code>`],
        ...(c.revokedAt ? [['Revoked', html`${c.revokedAt} (${c.revocationReason ?? 'unspecified'})`] as [string, Html]] : [])])}
      <p class="actions"><a class="button-link" href="${base}/certificates/${c.serial}/download" download="${c.serial}.pem">Download certificate and chain (PEM)</a>
        <a class="button-link" href="/pki/ca.pem">Download the CA certificates</a></p>
      ${canManage(me.user, orgId) && c.status === 'active' ? html`<section aria-labelledby="h-revoke" class="danger-zone"><h2 id="h-revoke">Revoke</h2>
        <p>Revocation is final: the CRL and OCSP report it at once. You will be asked to confirm with your passkey.</p>
        ${apiForm({ api: `/portal/api/organisations/${orgId}/certificates/${c.serial}/revoke`, label: 'Revoke the certificate', button: 'danger' },
          selectField('reason', 'Reason', revocationReasons.filter((r) => r !== 'removeFromCRL' && r !== 'certificateHold' && r !== 'cACompromise' && r !== 'aACompromise').map((r): [string, string] => [r, r]), { value: 'unspecified' }),
          'Revoke certificate')}
      </section>` : ''}`))
  })

  // The certificate followed by the issuing CA: what a TLS client presents.
  app.get('/organisations/:orgId/certificates/:serial/download', { schema: { hide: true, params: certParams } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    const { orgId, serial } = request.params
    assertRead(me.user, orgId)
    const c = await certificateOf(s.db.prisma, orgId, serial)
    if (!c) throw NotFound(`no certificate ${serial}`)
    const v = s.authority.view(c)
    return reply.type('application/x-pem-file').header('content-disposition', `attachment; filename="${c.serial}.pem"`)
      .send(v.certificate + v.chain.join(''))
  })
}
