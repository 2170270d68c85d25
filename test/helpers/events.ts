// Shared harness of the push-delivery tests: settings that make retries short, and the operator calls they repeat.
import { decodeJwt } from 'jose'
import { eventTypes } from '../../src/events/types.js'
import type { TestApp } from './app.js'
import { operatorOf, type Participant } from './participant.js'
import type { Receiver } from './receiver.js'

// Tests move the service clock past each backoff instead of waiting for it; requests time out in real time.
export const env = {
  EVENTS_ALLOW_PRIVATE_TARGETS: 'true', EVENTS_POLL_MS: '30', EVENTS_TIMEOUT_MS: '3000',
  EVENTS_BACKOFF_BASE_MS: '100', EVENTS_BACKOFF_MAX_SECONDS: '1',
}
export const admin = 'directory:admin'
export const statusChanged = eventTypes.organisationStatusChanged

export async function until (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** The operator with one admin token for the whole test (the clock only moves forward by seconds). */
export async function operatorWithToken (t: { teardown: (fn: () => unknown) => void }, ctx: TestApp): Promise<{ op: Participant, call: (method: string, path: string, json?: unknown) => ReturnType<Participant['call']> }> {
  const op = operatorOf(ctx)
  t.teardown(() => op.close())
  const token = await op.token(`${admin} directory:events`)
  return { op, call: (method, path, json) => op.call(method, path, { token, ...(json !== undefined ? { json } : {}) }) }
}

export async function subscribe (call: Awaited<ReturnType<typeof operatorWithToken>>['call'], url: string, events: string[] = [statusChanged]): Promise<string> {
  const res = await call('POST', '/admin/event-subscriptions', { url, events })
  if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${res.text}`)
  return res.json().id
}

export async function newOrganisation (call: Awaited<ReturnType<typeof operatorWithToken>>['call']): Promise<string> {
  const res = await call('POST', '/admin/organisations', { legal_name: `Org ${Math.random().toString(36).slice(2, 8)} Ltd`, registration_number: `R-${Math.random().toString(36).slice(2, 10)}`, country: 'GB', status: 'active' })
  if (res.status !== 201) throw new Error(`organisation: ${res.status} ${res.text}`)
  return res.json().id
}

/** n status changes of one organisation (suspended, active, suspended …): n SETs of one type, in a known order. */
export async function toggle (call: Awaited<ReturnType<typeof operatorWithToken>>['call'], orgId: string, n: number): Promise<string[]> {
  const made: string[] = []
  for (let i = 0; i < n; i++) {
    const status = i % 2 === 0 ? 'suspended' : 'active'
    const res = await call('PATCH', `/admin/organisations/${orgId}`, { status })
    if (res.status !== 200) throw new Error(`status: ${res.status} ${res.text}`)
    made.push(status)
  }
  return made
}

export const statusesOf = (r: Receiver): string[] => r.sets.map((s) => ((decodeJwt(s).events as Record<string, { status: string }>)[statusChanged]!).status)
export const seqsOf = (r: Receiver): bigint[] => r.sets.map((s) => BigInt(decodeJwt(s).seq as string))
export const ascending = (xs: bigint[]): boolean => xs.every((x, i) => i === 0 || x > xs[i - 1]!)

export async function deliveryRows (ctx: TestApp, subscriptionId: string) {
  return ctx.db.prisma.eventDelivery.findMany({ where: { subscriptionId }, orderBy: { eventSeq: 'asc' } })
}
