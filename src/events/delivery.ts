import { randomInt } from 'node:crypto'
import type { Agent } from 'undici'
import { request } from 'undici'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Prisma } from '../db/database.js'
import type { SigningKeys } from '../keys/signing-keys.js'
import { signSet } from './set.js'
import { checkTargetUrl, pushAgent } from './target.js'

export interface DeliveryDeps {
  prisma: Prisma
  clock: Clock
  keys: SigningKeys
  config: Pick<Config, 'DIRECTORY_ISSUER' | 'EVENTS_ALLOW_PRIVATE_TARGETS' | 'EVENTS_RETRY_SECONDS' | 'EVENTS_BACKOFF_BASE_MS' | 'EVENTS_BACKOFF_MAX_SECONDS'
    | 'EVENTS_TIMEOUT_MS' | 'EVENTS_POLL_MS' | 'EVENTS_CONCURRENCY'>
  log?: { warn: (obj: object, msg: string) => void }
}

interface Claimed { id: string, url: string, organisation_id: string }
interface Head { event_seq: bigint, attempts: number, next_attempt_at: Date, id: string, type: string, subject: unknown, payload: unknown, created_at: Date }

const maxErrorLength = 300

/**
 * Exponential backoff with jitter (base, 2 × base, 4 × base … up to the cap; each wait between half and all of
 * that), so receivers that failed together are not retried in step.
 */
export function backoffMs (attempts: number, baseMs: number, capSeconds: number): number {
  const ceiling = Math.min(capSeconds * 1000, baseMs * 2 ** Math.min(attempts - 1, 30))
  return ceiling / 2 + randomInt(0, Math.max(1, Math.floor(ceiling / 2)))
}

/**
 * RFC 8935 push delivery. Each subscription's pending deliveries go out one at a time in event order;
 * a worker holds a lease on the subscription while it sends (claimed with FOR UPDATE SKIP LOCKED, so
 * instances sharing a database split the subscriptions and never send one event twice at once).
 * Leases are in database time, so they expire on their own if an instance dies mid-send; the retry
 * schedule is in the service clock, so tests move it instead of waiting.
 */
export class EventDelivery {
  private readonly agent: Agent
  private timer: NodeJS.Timeout | undefined
  private stopped = true
  private ticking = false
  // Subscriptions being sent to now: a slow or hanging receiver occupies only its own slot.
  private readonly inFlight = new Set<Promise<number>>()
  private readonly leaseSeconds: number
  /** SETs this instance has had accepted (202) since it started. */
  delivered = 0
  private log: DeliveryDeps['log']

  constructor (private readonly d: DeliveryDeps) {
    this.log = d.log
    this.agent = pushAgent({ allowPrivate: d.config.EVENTS_ALLOW_PRIVATE_TARGETS, timeoutMs: d.config.EVENTS_TIMEOUT_MS })
    // Longer than one send can take (the request is aborted at the timeout), with room for the database round
    // trips around it; short enough that the events of an instance that died mid-send go out soon after.
    this.leaseSeconds = Math.ceil(d.config.EVENTS_TIMEOUT_MS / 1000) * 2 + 2
  }

  /** Starts the passes; `log` (the server's logger) hears of failed passes and sends. */
  start (log?: DeliveryDeps['log']): void {
    if (log) this.log = log
    if (!this.stopped) return
    this.stopped = false
    this.timer = setInterval(() => { this.tick().catch((err) => this.log?.warn({ err }, 'event delivery pass failed')) }, this.d.config.EVENTS_POLL_MS)
    this.timer.unref()
  }

  /** Stops claiming and waits for the sends under way (each ends within the request timeout). */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    await this.idle()
    await this.agent.close().catch(() => {})
  }

  /** Claims the subscriptions whose next event is due, up to the free slots, and starts sending to each. */
  async tick (): Promise<void> {
    if (this.ticking) return
    this.ticking = true
    try {
      const free = this.d.config.EVENTS_CONCURRENCY - this.inFlight.size
      if (free <= 0) return
      for (const s of await this.claim(free)) {
        const p: Promise<number> = this.drain(s)
          .catch((err) => { this.log?.warn({ err, subscription: s.id }, 'event delivery failed'); return 0 })
          .finally(() => this.inFlight.delete(p))
        this.inFlight.add(p)
      }
    } finally { this.ticking = false }
  }

  /** Waits until the sends under way have finished. */
  async idle (): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight])
  }

  private async claim (limit: number): Promise<Claimed[]> {
    return this.d.prisma.$queryRawUnsafe<Claimed[]>(
      `UPDATE event_subscriptions SET lease_until = now() + make_interval(secs => $1)
       WHERE id IN (
         SELECT s.id FROM event_subscriptions s
         WHERE (s.lease_until IS NULL OR s.lease_until < now())
           AND (SELECT d.next_attempt_at FROM event_deliveries d
                WHERE d.subscription_id = s.id AND d.status = 'pending' ORDER BY d.event_seq LIMIT 1) <= $2
         ORDER BY s.lease_until NULLS FIRST
         LIMIT $3
         FOR UPDATE SKIP LOCKED)
       RETURNING id::text, url, organisation_id::text`,
      this.leaseSeconds, this.d.clock.now(), limit)
  }

  /** Sends the subscription's due events in order until one fails or none is due, then lets go. */
  private async drain (s: Claimed): Promise<number> {
    let sent = 0
    try {
      for (;;) {
        const [head] = await this.d.prisma.$queryRawUnsafe<Head[]>(
          `SELECT d.event_seq, d.attempts, d.next_attempt_at, e.id::text, e.type, e.subject, e.payload, e.created_at
           FROM event_deliveries d JOIN events e ON e.seq = d.event_seq
           WHERE d.subscription_id = $1::uuid AND d.status = 'pending' ORDER BY d.event_seq LIMIT 1`, s.id)
        const now = this.d.clock.now()
        if (!head || head.next_attempt_at > now) return sent
        const outcome = await this.send(s, head)
        const attempts = head.attempts + 1
        if (outcome.ok) {
          await this.settle(s.id, head.event_seq, { status: 'delivered', attempts, lastStatus: outcome.status, lastError: null, deliveredAt: this.d.clock.now() })
          sent++
          this.delivered++
          continue
        }
        const giveUp = now.getTime() - head.created_at.getTime() >= this.d.config.EVENTS_RETRY_SECONDS * 1000
        const next = new Date(now.getTime() + backoffMs(attempts, this.d.config.EVENTS_BACKOFF_BASE_MS, this.d.config.EVENTS_BACKOFF_MAX_SECONDS))
        await this.settle(s.id, head.event_seq, {
          status: giveUp ? 'failed' : 'pending', attempts, lastStatus: outcome.status ?? null, lastError: outcome.error.slice(0, maxErrorLength), nextAttemptAt: next,
        })
        // A failed event no longer holds back the ones after it; a pending one does (ordering).
        if (!giveUp) return sent
      }
    } finally {
      await this.d.prisma.$executeRawUnsafe('UPDATE event_subscriptions SET lease_until = NULL WHERE id = $1::uuid', s.id).catch(() => {})
    }
  }

  private async settle (subscriptionId: string, seq: bigint, data: {
    status: 'pending' | 'delivered' | 'failed', attempts: number, lastStatus: number | null, lastError: string | null, deliveredAt?: Date, nextAttemptAt?: Date,
  }): Promise<void> {
    await this.d.prisma.eventDelivery.update({
      where: { subscriptionId_eventSeq: { subscriptionId, eventSeq: seq } },
      data: { ...data, lastAttemptAt: this.d.clock.now() },
    })
    // Keep the lease while this subscription still has work.
    await this.d.prisma.$executeRawUnsafe('UPDATE event_subscriptions SET lease_until = now() + make_interval(secs => $2) WHERE id = $1::uuid', subscriptionId, this.leaseSeconds)
  }

  /** One POST of one SET (RFC 8935 §2): 202 is success; anything else, or no answer in time, is retried. */
  private async send (s: Claimed, e: Head): Promise<{ ok: true, status: number } | { ok: false, status?: number, error: string }> {
    const refused = checkTargetUrl(s.url, this.d.config.EVENTS_ALLOW_PRIVATE_TARGETS)
    if (refused) return { ok: false, error: `target refused: ${refused}` }
    const set = await signSet(this.d.keys, this.d.config.DIRECTORY_ISSUER, s.organisation_id,
      { seq: e.event_seq, id: e.id, type: e.type, subject: e.subject, payload: e.payload, createdAt: e.created_at })
    try {
      const res = await request(s.url, {
        method: 'POST',
        headers: { 'content-type': 'application/secevent+jwt', accept: 'application/json' },
        body: set,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.d.config.EVENTS_TIMEOUT_MS),
      })
      const text = res.statusCode === 202 ? '' : await readSome(res.body)
      if (res.statusCode === 202) { await res.body.dump(); return { ok: true, status: 202 } }
      return { ok: false, status: res.statusCode, error: `HTTP ${res.statusCode}${text ? `: ${text}` : ''}` }
    } catch (err) {
      const e = err as Error & { code?: string, cause?: { code?: string, message?: string } }
      return { ok: false, error: [e.code ?? e.name, e.message, e.cause?.message].filter(Boolean).join(': ') }
    }
  }
}

// The receiver's error body (RFC 8935 §2.3 `err`, `description`) helps the subscriber; only a little is kept.
async function readSome (body: { text: () => Promise<string> }): Promise<string> {
  const text = await body.text().catch(() => '')
  return text.replace(/\s+/g, ' ').trim().slice(0, 200)
}
