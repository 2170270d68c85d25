import { randomUUID } from 'node:crypto'
import type { AuditEntry } from '../audit/audit-log.js'
import type { Tx } from '../db/database.js'
import { eventsFor } from './types.js'

// Outbox appends from every instance take their turn under this lock, held to commit: an event's seq
// is then never smaller than one committed before it, so a reader after cursor N misses nothing.
const outboxLock = 0x65766e74

/**
 * The transactional outbox (DESIGN.md §10): the events a change announces are written in the change's
 * own transaction, with one pending delivery per matching subscription, so a crash after commit loses
 * nothing and a rollback announces nothing. Called by the audit log, which every change passes through.
 */
export async function recordEvents (tx: Tx, entry: AuditEntry, now: Date): Promise<void> {
  const events = await eventsFor(tx, entry)
  if (events.length === 0) return
  await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${outboxLock})`)
  for (const e of events) {
    const rows = await tx.$queryRawUnsafe<Array<{ seq: bigint }>>(
      'INSERT INTO events (id, type, subject, payload, created_at) VALUES ($1::uuid, $2, $3::jsonb, $4::jsonb, $5) RETURNING seq',
      randomUUID(), e.type, JSON.stringify(e.subject), JSON.stringify(e.payload), now)
    await tx.$executeRawUnsafe(
      `INSERT INTO event_deliveries (subscription_id, event_seq, next_attempt_at)
       SELECT id, $1, $2 FROM event_subscriptions WHERE $3 = ANY (events)`,
      rows[0]!.seq, now, e.type)
  }
}
