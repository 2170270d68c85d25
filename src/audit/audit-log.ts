import { createHash, randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Prisma, Tx } from '../db/database.js'
import { outboxCall } from '../events/outbox.js'
import { eventsFor, type PendingEvent } from '../events/types.js'
import { canonicalJson } from './canonical.js'

/** Who asked for a change, and under which request id: every service call that changes state takes one. */
export interface Actor { actor: string, requestId?: string | undefined }

export interface AuditEntry {
  action: string
  target: string
  before?: unknown
  after?: unknown
}

export interface AuditEvent {
  id: string
  seq: string
  at: Date
  actor: string
  action: string
  target: string
  before: unknown
  after: unknown
  request_id: string | null
  hash: string
}

export type ChainCheck =
  | { ok: true, events: number }
  | { ok: false, events: number, seq: string, problem: string }

const genesis = '0'.repeat(64)

interface Row { id: string, at: Date, actor: string, action: string, target: string, before: unknown, after: unknown, requestId: string | null }

// What the hash covers besides the previous hash: the event's fields as canonical JSON.
function bodyOf (r: Row): string {
  return canonicalJson({
    id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target,
    before: r.before ?? null, after: r.after ?? null, request_id: r.requestId ?? null,
  })
}

// audit_append (migration 20261202041500) computes the same in SQL: sha256_hex(prev_hash || '\n' || body).
function hashOf (prevHash: string, r: Row): string {
  return createHash('sha256').update(prevHash).update('\n').update(bodyOf(r)).digest('hex')
}

/** Append-only, hash-chained audit log (each event carries SHA-256 over its predecessor's hash). */
export class AuditLog {
  constructor (private readonly clock: Clock) {}

  /**
   * Appends inside the caller's transaction, so the event commits (or not) with the change. Every change passes
   * through here: the events it announces go to the outbox in the same statement. One round trip.
   */
  async append (tx: Tx, who: Actor, entry: AuditEntry): Promise<void> {
    const call = this.appendCall(who, entry, 1, await eventsFor(tx, entry))
    await tx.$queryRawUnsafe(`SELECT ${call.sql}`, ...call.values)
  }

  /**
   * The `audit_append(…)` call for one event, with parameters numbered from `$first`, and their values: for a
   * statement that writes a change and its event together (the whole statement is then one transaction).
   * The function takes the chain's lock, links to the last event and inserts this one; with `events`, the
   * outbox append follows in the same select list (src/events/outbox.ts), in the order every change takes locks.
   */
  appendCall (who: Actor, entry: AuditEntry, first: number, events: PendingEvent[] = []): { sql: string, values: unknown[] } {
    const row: Row = {
      id: randomUUID(), at: this.clock.now(), actor: who.actor, action: entry.action, target: entry.target,
      before: jsonSafe(entry.before), after: jsonSafe(entry.after), requestId: who.requestId ?? null,
    }
    const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v))
    const $ = (i: number): string => `$${first + i}`
    const audit = {
      sql: `audit_append(${$(0)}::uuid, ${$(1)}::timestamptz, ${$(2)}, ${$(3)}, ${$(4)}, ${$(5)}::jsonb, ${$(6)}::jsonb, ${$(7)}, ${$(8)})`,
      values: [row.id, row.at, row.actor, row.action, row.target, json(row.before), json(row.after), row.requestId, bodyOf(row)],
    }
    const outbox = outboxCall(events, row.at, first + audit.values.length)
    return outbox ? { sql: `${audit.sql}, ${outbox.sql}`, values: [...audit.values, ...outbox.values] } : audit
  }

  async list (prisma: Prisma, { limit, cursor, target }: { limit: number, cursor?: string | undefined, target?: string | undefined }):
  Promise<{ events: AuditEvent[], next_cursor: string | null }> {
    const rows = await prisma.auditEvent.findMany({
      where: { ...(cursor ? { seq: { lt: BigInt(cursor) } } : {}), ...(target ? { target } : {}) },
      orderBy: { seq: 'desc' },
      take: limit + 1,
    })
    const page = rows.slice(0, limit)
    return {
      events: page.map((r) => ({
        id: r.id, seq: r.seq.toString(), at: r.at, actor: r.actor, action: r.action, target: r.target,
        before: r.before ?? null, after: r.after ?? null, request_id: r.requestId, hash: r.hash,
      })),
      next_cursor: rows.length > limit ? page[page.length - 1]!.seq.toString() : null,
    }
  }

  /** Recomputes the chain: an edited row breaks its own hash, a deleted one breaks its successor's link. */
  async verify (prisma: Prisma, batch = 1000): Promise<ChainCheck> {
    let prevHash = genesis
    let after: bigint | undefined
    let events = 0
    for (;;) {
      const rows = await prisma.auditEvent.findMany({
        where: after !== undefined ? { seq: { gt: after } } : {}, orderBy: { seq: 'asc' }, take: batch,
      })
      for (const r of rows) {
        events++
        if (r.prevHash !== prevHash) return { ok: false, events, seq: r.seq.toString(), problem: 'does not link to the event before it (an event was deleted or reordered)' }
        if (hashOf(prevHash, r) !== r.hash) return { ok: false, events, seq: r.seq.toString(), problem: 'content does not match its hash (the event was edited)' }
        prevHash = r.hash
      }
      if (rows.length < batch) return { ok: true, events }
      after = rows[rows.length - 1]!.seq
    }
  }
}

// Dates as RFC 3339 strings and no undefined: what goes into jsonb is what the hash covers.
function jsonSafe (v: unknown): unknown {
  return v === undefined ? null : JSON.parse(JSON.stringify(v))
}
