// Event subscriptions in the portal, in a real browser against a real push receiver: the operator
// subscribes (a bad URL is refused beside its field), suspends an organisation, and sees the delivery
// listed as delivered; an org-viewer reads its organisation's page and its forged changes are refused.
import t from 'tap'
import { eventTypes } from '../../src/events/types.js'
import { axe } from '../helpers/accessibility.js'
import { launch, pageFetch, portalApp, screenshot, signedInPerson } from '../helpers/portal.js'
import { Receiver } from '../helpers/receiver.js'

t.test('operator subscribes, a status change is delivered and listed; an org-viewer changes nothing', async (t) => {
  const d = await portalApp(t, { EVENTS_ALLOW_PRIVATE_TARGETS: 'true', EVENTS_POLL_MS: '30', EVENTS_TIMEOUT_MS: '3000' })
  const receiver = await Receiver.start()
  t.teardown(() => receiver.down())
  d.services.delivery.start()
  t.teardown(() => d.services.delivery.stop())
  const browser = await launch(t)
  const org = await d.services.organisations.create({ legal_name: 'Harbour Bank', registration_number: 'HB1', country: 'GB', roles: [{ role: 'data-recipient', status: 'active' }], status: 'active' }, { actor: 'test' })

  const [operator, viewer] = await Promise.all([
    signedInPerson(d, browser, { scope: 'operator', email: 'ops@example.org', role: 'operator-admin' }),
    signedInPerson(d, browser, { scope: 'organisation', email: 'viewer@harbour.example', role: 'org-viewer', org_id: org.id }),
  ])
  const op = operator.page
  await op.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Event subscriptions' }).click()
  await op.getByRole('heading', { level: 1, name: 'Event subscriptions' }).waitFor()
  const form = op.getByRole('form', { name: 'Create an event subscription' })

  // The service's refusal appears beside the URL field, and nothing is created.
  await form.getByLabel('Push endpoint URL').fill('ftp://receiver.example/events')
  await form.getByLabel('Organisation status changed').check()
  await form.getByRole('button', { name: 'Create subscription' }).click()
  const urlError = form.locator('[data-field="url"] .field-error')
  await urlError.waitFor({ state: 'visible' })
  t.ok((await urlError.innerText()).length > 0, 'the URL problem is shown beside the field')
  t.equal(await d.db.prisma.eventSubscription.count(), 0)

  await form.getByLabel('Push endpoint URL').fill(receiver.url)
  await form.getByRole('button', { name: 'Create subscription' }).click()
  await op.getByRole('heading', { level: 2, name: receiver.url }).waitFor()
  const [sub] = await d.services.events.list(undefined)
  t.same(sub?.events, [eventTypes.organisationStatusChanged])
  t.equal(sub?.org_id, d.operator.orgId, 'the operator\'s subscription belongs to the operator organisation')
  const created = await d.db.prisma.auditEvent.findFirstOrThrow({ where: { action: 'event_subscription.create' } })
  t.equal(created.actor, `user:${operator.userId}`)

  // Suspend the organisation through the portal; the receiver gets the SET; the page lists it delivered.
  await op.goto(`${d.base}/portal/organisations/${org.id}`)
  await op.getByLabel('New status').selectOption('suspended')
  await op.getByRole('button', { name: 'Preview the change' }).click()
  await op.getByRole('button', { name: 'Suspend Harbour Bank' }).click()
  await op.getByRole('heading', { level: 1, name: 'Harbour Bank' }).waitFor()
  await receiver.received(1)
  t.same(receiver.types, [eventTypes.organisationStatusChanged])
  let listed = ''
  for (let i = 0; i < 40 && !/delivered/.test(listed); i++) {
    await op.goto(`${d.base}/portal/event-subscriptions`)
    listed = await op.getByRole('table', { name: `Recent deliveries to ${receiver.url}` }).innerText().catch(() => '')
    if (!/delivered/.test(listed)) await new Promise((r) => setTimeout(r, 100))
  }
  t.match(listed, /Organisation status changed/)
  t.match(listed, /delivered/, 'the delivery is listed as delivered')
  t.same(await axe(op), [], 'the page passes axe: no serious or critical violations')
  await screenshot(op, 'event-subscriptions')

  // The org-viewer reads its organisation's page, is offered no form, and its forged calls change nothing.
  const v = viewer.page
  const mine = await d.services.events.create(org.id, { url: receiver.url, events: [eventTypes.certificateRevoked] }, { actor: 'test' })
  await v.goto(`${d.base}/portal/organisations/${org.id}/event-subscriptions`)
  await v.getByRole('heading', { level: 2, name: receiver.url }).waitFor()
  t.equal(await v.getByRole('form', { name: 'Create an event subscription' }).count(), 0, 'no create form for a viewer')
  t.equal(await v.getByRole('button', { name: /Delete/ }).count(), 0, 'no delete button for a viewer')
  const before = await d.db.prisma.auditEvent.count()
  const forged = await pageFetch(v, 'POST', `/portal/api/organisations/${org.id}/event-subscriptions`, { url: receiver.url, events: [eventTypes.organisationCreated] })
  t.equal(forged.status, 403)
  t.match(forged.json, { type: 'urn:ecosystem-directory:problem:forbidden' })
  t.equal((await pageFetch(v, 'DELETE', `/portal/api/organisations/${org.id}/event-subscriptions/${mine.id}`)).status, 403)
  t.equal((await pageFetch(v, 'DELETE', `/portal/api/event-subscriptions/${sub!.id}`)).status, 403)
  t.equal(await d.db.prisma.eventSubscription.count(), 2, 'no subscription created or removed')
  t.equal(await d.db.prisma.auditEvent.count(), before, 'nothing audited')

  // The operator deletes its subscription from the page.
  await op.getByRole('button', { name: `Delete subscription to ${receiver.url}` }).first().click()
  let removed = null
  for (let i = 0; i < 50 && !removed; i++) {
    removed = await d.db.prisma.auditEvent.findFirst({ where: { action: 'event_subscription.delete' } })
    if (!removed) await new Promise((r) => setTimeout(r, 100))
  }
  t.equal(removed?.actor, `user:${operator.userId}`, 'the delete is audited as the operator')
  t.equal(await d.db.prisma.eventSubscription.count(), 1)
})
