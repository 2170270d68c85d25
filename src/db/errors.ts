// What a database error means for the caller: a unique constraint that another write won (a race the
// service's own check could not see), or the database being away (down, frozen, out of connections).
// Both come from Prisma, the driver adapter or the driver itself, each in its own shape.

/** A composite unique index, named by PostgreSQL (which reports only the index name), → its fields. */
const compositeIndexes: Record<string, string[]> = {
  organisations_country_registration_number_key: ['country', 'registration_number'],
}

// PostgreSQL SQLSTATE classes that mean "not now" rather than "not this": connection exceptions (08),
// insufficient resources (53), operator intervention (57: shutdown, cancel on statement_timeout).
const unavailableStates = /^(08|53|57)/
const unavailableKinds = new Set(['DatabaseNotReachable', 'DatabaseDoesNotExist', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TlsConnectionError'])
// Prisma: P1001 cannot reach, P1002 timed out, P1008 operation timed out, P1017 connection closed,
// P2024 pool timeout, P2028 transaction could not start or expired.
const unavailableCodes = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028'])
// node-postgres and PGlite errors that carry no code.
const unavailableMessages = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|ECONNREFUSED|ECONNRESET|EPIPE|PGlite is closed|Client has encountered a connection error|Connection closed/i

interface AdapterCause { kind?: string, originalCode?: string, constraint?: { fields?: string[], index?: string }, table?: string }

function causeOf (err: unknown): AdapterCause | undefined {
  const meta = (err as { meta?: { driverAdapterError?: { cause?: AdapterCause } } } | null)?.meta
  return meta?.driverAdapterError?.cause
}

/** The fields of a violated unique constraint, or undefined when `err` is not a unique violation. */
export function uniqueViolation (err: unknown): string[] | undefined {
  const e = err as { code?: string, meta?: { target?: unknown } } | null
  const cause = causeOf(err)
  if (e?.code !== 'P2002' && cause?.kind !== 'UniqueConstraintViolation' && cause?.originalCode !== '23505') return undefined
  if (cause?.constraint?.fields?.length) return cause.constraint.fields
  if (Array.isArray(e?.meta?.target)) return e.meta.target.map(String)
  const index = cause?.constraint?.index
  if (!index) return []
  if (compositeIndexes[index]) return compositeIndexes[index]
  // Prisma names single-column indexes <table>_<column>_key.
  const column = cause?.table && index.startsWith(`${cause.table}_`) ? index.slice(cause.table.length + 1) : index
  return [column.replace(/_key$/, '')]
}

/** True when the error says the database is unreachable, frozen or overloaded: worth retrying later. */
export function databaseUnavailable (err: unknown): boolean {
  if (!err || typeof err !== 'object') return false
  const e = err as { code?: unknown, message?: unknown, cause?: unknown }
  if (typeof e.code === 'string' && unavailableCodes.has(e.code)) return true
  const cause = causeOf(err)
  if (cause?.kind && unavailableKinds.has(cause.kind)) return true
  if (cause?.originalCode && unavailableStates.test(cause.originalCode)) return true
  if (typeof e.code === 'string' && /^(08|53|57)[0-9A-Z]{3}$/.test(e.code)) return true
  if (typeof e.message === 'string' && unavailableMessages.test(e.message)) return true
  return e.cause !== undefined && e.cause !== err && databaseUnavailable(e.cause)
}
