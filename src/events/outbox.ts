import { randomUUID } from 'node:crypto'
import type { PendingEvent } from './types.js'

/**
 * The transactional outbox (DESIGN.md §10): the events a change announces are written in the change's
 * own transaction, with one pending delivery per matching subscription, so a crash after commit loses
 * nothing and a rollback announces nothing. The audit log, which every change passes through, puts this
 * call beside its own append in one statement.
 *
 * `outbox_append` (migration 20261202074500) takes the outbox lock, held to commit, so an event's seq is
 * never smaller than one committed before it and a reader after cursor N misses nothing; then it inserts
 * each event and its deliveries. Parameters are numbered from `$first`.
 */
export function outboxCall (events: PendingEvent[], now: Date, first: number): { sql: string, values: unknown[] } | undefined {
  if (events.length === 0) return undefined
  const rows = events.map((e) => ({ id: randomUUID(), type: e.type, subject: e.subject, payload: e.payload }))
  return { sql: `outbox_append($${first}::jsonb, $${first + 1}::timestamptz)`, values: [JSON.stringify(rows), now] }
}

