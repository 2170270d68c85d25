import { z } from 'zod'
import type { App } from '../../app.js'
import type { Subscription } from '../../events/schemas.js'
import { allEventTypes, eventTypes, type EventType } from '../../events/types.js'
import { assertOperator, assertRead, canManage, isOperatorAdmin } from '../access.js'
import { html, type Html } from '../html.js'
import { signedIn, sendPage } from './guard.js'
import { apiForm, checkboxes, page, statusTag, table, textField, type PageContext } from './layout.js'

// Event subscriptions (RFC 8935 push): the operator's view of every subscription and an organisation's
// view of its own, with their recent deliveries; creation and removal go through the portal API.

const orgParams = z.object({ orgId: z.uuid() })
const recent = 5

/** Plain names for the event type URIs. */
const labels: Record<EventType, string> = {
  [eventTypes.organisationCreated]: 'Organisation created',
  [eventTypes.organisationStatusChanged]: 'Organisation status changed',
  [eventTypes.organisationRolesChanged]: 'Organisation roles changed',
  [eventTypes.softwareStatementCreated]: 'Software statement created',
  [eventTypes.softwareStatementUpdated]: 'Software statement updated',
  [eventTypes.softwareStatementStatusChanged]: 'Software statement status changed',
  [eventTypes.certificateIssued]: 'Certificate issued',
  [eventTypes.certificateRevoked]: 'Certificate revoked',
  [eventTypes.crlUpdated]: 'Certificate revocation list updated',
  [eventTypes.authorisationServerCreated]: 'Authorisation server created',
  [eventTypes.authorisationServerUpdated]: 'Authorisation server updated',
  [eventTypes.signingKeyRotated]: 'Directory signing key rotated',
  [eventTypes.caChanged]: 'Certificate authority changed',
}
const label = (uri: string): string => labels[uri as EventType] ?? uri

export default async function eventPages (app: App): Promise<void> {
  const s = app.services

  /** The list with each subscription's recent deliveries, the removal buttons and the creation form. */
  async function render (ctx: PageContext, title: string, subs: Subscription[], orgScope: string | undefined, manage: boolean, api: string, intro: Html): Promise<string> {
    const deliveries = await Promise.all(subs.map((x) => s.events.deliveries(orgScope, x.id, { limit: recent })))
    return page(ctx, title, html`
      ${intro}
      ${subs.length === 0 ? html`<p class="empty">No event subscriptions yet.</p>` : subs.map((x, i) => html`
        <section aria-labelledby="h-sub-${x.id}" class="card"><h2 id="h-sub-${x.id}"><code>${x.url}</code></h2>
          <dl class="summary">
            <div><dt>Event types</dt><dd><ul class="plain">${x.events.map((e) => html`<li>${label(e)}</li>`)}</ul></dd></div>
            <div><dt>Status</dt><dd>${statusTag(x.failed > 0 ? 'failing' : 'active')}</dd></div>
            <div><dt>Pending deliveries</dt><dd>${x.pending}</dd></div>
            <div><dt>Failed deliveries</dt><dd>${x.failed}</dd></div>
            <div><dt>Created</dt><dd>${x.created_at}</dd></div>
          </dl>
          ${table(`Recent deliveries to ${x.url}`, ['Event', 'Status', 'Attempts', 'Last answer', 'Delivered'], (deliveries[i] ?? []).map((d) => [
            html`${label(d.type)}`, statusTag(d.status), html`${d.attempts}`,
            html`${d.last_status ?? d.last_error ?? '—'}`, html`${d.delivered_at ?? '—'}`]), 'nothing delivered yet.')}
          ${manage ? html`<form data-api="${api}/${x.id}" data-method="DELETE" class="inline"><button type="submit" class="secondary" aria-label="Delete subscription to ${x.url}">Delete subscription</button></form>` : ''}
        </section>`)}
      ${manage ? html`<section aria-labelledby="h-new"><h2 id="h-new">Create a subscription</h2>
        ${apiForm({ api, label: 'Create an event subscription' }, [
          textField('url', 'Push endpoint URL', { hint: 'https URL that answers 202 to a POST of application/secevent+jwt.', type: 'url' }),
          checkboxes('events', 'Event types', allEventTypes.map((e): [string, string] => [e, label(e)])),
        ], 'Create subscription')}</section>` : ''}`)
  }

  app.get('/event-subscriptions', { schema: { hide: true } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    assertOperator(me.user)
    const subs = await s.events.list(undefined)
    return sendPage(reply, await render(me.ctx, 'Event subscriptions', subs, undefined, isOperatorAdmin(me.user), '/portal/api/event-subscriptions',
      html`<p>Every organisation's push subscriptions. Those created here are the operator's: signed change events sent to your endpoint.</p>`))
  })

  app.get('/organisations/:orgId/event-subscriptions', { schema: { hide: true, params: orgParams } }, async (request, reply) => {
    const me = signedIn(request, reply)
    if (!me) return reply
    const orgId = request.params.orgId
    assertRead(me.user, orgId)
    const o = await s.organisations.get(orgId)
    const subs = await s.events.list(orgId)
    return sendPage(reply, await render(me.ctx, 'Event subscriptions', subs, orgId, canManage(me.user, orgId), `/portal/api/organisations/${orgId}/event-subscriptions`,
      html`<p>Signed change events pushed to <a href="/portal/organisations/${orgId}">${o.legal_name}</a>'s endpoints.</p>`))
  })
}
