import { randomUUID } from 'node:crypto'
import type { Actor, AuditLog } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Prisma } from '../db/database.js'
import { NotFound, ValidationFailed } from '../errors.js'
import type { SigningKeys } from '../keys/signing-keys.js'
import type { Delivery, Feed, FeedQuery, Subscription, SubscriptionCreate } from './schemas.js'
import { signSet } from './set.js'
import { checkTargetHost, checkTargetUrl } from './target.js'

export interface EventDeps {
  prisma: Prisma
  audit: AuditLog
  clock: Clock
  keys: SigningKeys
  config: Pick<Config, 'DIRECTORY_ISSUER' | 'EVENTS_ALLOW_PRIVATE_TARGETS'>
}

const maxSubscriptionsPerOrganisation = 20

type SubscriptionRow = { id: string, organisationId: string, url: string, events: string[], createdAt: Date }

/** Subscriptions (RFC 8935 push), their recent deliveries, and the feed of the same SETs (poll). */
export class EventSubscriptions {
  constructor (private readonly d: EventDeps) {}

  async create (orgId: string, input: SubscriptionCreate, who: Actor): Promise<Subscription> {
    const allow = this.d.config.EVENTS_ALLOW_PRIVATE_TARGETS
    const problem = checkTargetUrl(input.url, allow) ?? await checkTargetHost(input.url, allow)
    if (problem) throw ValidationFailed([{ path: 'body.url', message: problem }], 'The push endpoint is not acceptable')
    const id = randomUUID()
    const row = await this.d.prisma.$transaction(async (tx) => {
      const org = await tx.organisation.findUnique({ where: { id: orgId }, select: { id: true } })
      if (!org) throw NotFound(`no organisation ${orgId}`)
      const count = await tx.eventSubscription.count({ where: { organisationId: orgId } })
      if (count >= maxSubscriptionsPerOrganisation) {
        throw ValidationFailed([{ path: 'body', message: `at most ${maxSubscriptionsPerOrganisation} subscriptions per organisation` }], 'Too many subscriptions')
      }
      const created = await tx.eventSubscription.create({
        data: { id, organisationId: orgId, url: input.url, events: input.events, createdBy: who.actor, createdAt: this.d.clock.now() },
      })
      await this.d.audit.append(tx, who, { action: 'event_subscription.create', target: `event_subscription:${id}`, after: { org_id: orgId, url: input.url, events: input.events } })
      return created
    })
    return { ...view(row), pending: 0, failed: 0 }
  }

  /** An organisation's subscriptions, or every one (orgId undefined: the operator). */
  async list (orgId: string | undefined): Promise<Subscription[]> {
    const rows = await this.d.prisma.eventSubscription.findMany({ where: orgId ? { organisationId: orgId } : {}, orderBy: { createdAt: 'asc' } })
    const counts = await this.d.prisma.eventDelivery.groupBy({
      by: ['subscriptionId', 'status'], where: { subscriptionId: { in: rows.map((r) => r.id) }, status: { in: ['pending', 'failed'] } }, _count: true,
    })
    const count = (id: string, status: string): number => counts.find((c) => c.subscriptionId === id && c.status === status)?._count ?? 0
    return rows.map((r) => ({ ...view(r), pending: count(r.id, 'pending'), failed: count(r.id, 'failed') }))
  }

  async get (orgId: string | undefined, id: string): Promise<Subscription> {
    const one = (await this.list(orgId)).find((s) => s.id === id)
    if (!one) throw NotFound(`no event subscription ${id}`)
    return one
  }

  async remove (orgId: string | undefined, id: string, who: Actor): Promise<void> {
    await this.d.prisma.$transaction(async (tx) => {
      const row = await tx.eventSubscription.findUnique({ where: { id } })
      if (!row || (orgId && row.organisationId !== orgId)) throw NotFound(`no event subscription ${id}`)
      await tx.eventSubscription.delete({ where: { id } })
      await this.d.audit.append(tx, who, { action: 'event_subscription.delete', target: `event_subscription:${id}`, before: { org_id: row.organisationId, url: row.url, events: row.events } })
    })
  }

  /** The most recent deliveries first, with their status, so a subscriber can see what reached it. */
  async deliveries (orgId: string | undefined, id: string, q: { limit: number, status?: 'pending' | 'delivered' | 'failed' | undefined }): Promise<Delivery[]> {
    await this.get(orgId, id)
    const rows = await this.d.prisma.eventDelivery.findMany({
      where: { subscriptionId: id, ...(q.status ? { status: q.status } : {}) },
      include: { event: { select: { id: true, type: true, createdAt: true } } },
      orderBy: { eventSeq: 'desc' },
      take: q.limit,
    })
    return rows.map((r) => ({
      jti: r.event.id, seq: r.eventSeq.toString(), type: r.event.type, status: r.status, attempts: r.attempts,
      created_at: r.event.createdAt, last_attempt_at: r.lastAttemptAt, last_status: r.lastStatus, last_error: r.lastError,
      next_attempt_at: r.status === 'pending' ? r.nextAttemptAt : null, delivered_at: r.deliveredAt,
    }))
  }

  /**
   * The feed: SETs for the events after `cursor`, oldest first, addressed to `audience`. The answer's
   * cursor goes into the next request; with no new events it is the one given (RFC 8936's poll, as a
   * cursor instead of acknowledgements, so any number of readers can follow it without state here).
   */
  async feed (audience: string, q: FeedQuery): Promise<Feed> {
    const after = q.cursor !== undefined ? BigInt(q.cursor) : undefined
    const rows = await this.d.prisma.event.findMany({
      where: { ...(after !== undefined ? { seq: { gt: after } } : {}), ...(q.events ? { type: { in: q.events } } : {}) },
      orderBy: { seq: 'asc' },
      take: q.limit + 1,
    })
    const page = rows.slice(0, q.limit)
    const sets = await Promise.all(page.map((e) => signSet(this.d.keys, this.d.config.DIRECTORY_ISSUER, audience, e)))
    const last = page[page.length - 1]
    return { sets, cursor: last ? last.seq.toString() : (q.cursor ?? '0'), more_available: rows.length > q.limit }
  }
}

function view (r: SubscriptionRow): Omit<Subscription, 'pending' | 'failed'> {
  return { id: r.id, org_id: r.organisationId, url: r.url, events: r.events, created_at: r.createdAt }
}
