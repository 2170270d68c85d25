import t from 'tap'
import { AuditLog } from '../../src/audit/audit-log.js'
import { TestClock } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'

async function seeded (t: { teardown: (f: () => unknown) => void }) {
  const { db } = await testDatabase(t)
  const log = new AuditLog(new TestClock())
  for (let i = 0; i < 5; i++) {
    await db.prisma.$transaction((tx) => log.append(tx, { actor: 'test', requestId: `r${i}` }, { action: 'thing.change', target: `thing:${i}`, before: { n: i }, after: { n: i + 1, nested: { b: 1, a: [1, 2] } } }))
  }
  return { db, log }
}

t.test('an intact chain verifies', async (t) => {
  const { db, log } = await seeded(t)
  t.same(await log.verify(db.prisma), { ok: true, events: 5 })
  t.same(await log.verify(db.prisma, 2), { ok: true, events: 5 }, 'across batch boundaries')
})

t.test('an edited event is detected', async (t) => {
  const { db, log } = await seeded(t)
  await db.prisma.$executeRawUnsafe(`UPDATE audit_events SET after = '{"n": 999}' WHERE target = 'thing:2'`)
  const result = await log.verify(db.prisma)
  t.match(result, { ok: false, problem: /edited/ })
})

t.test('a deleted event is detected', async (t) => {
  const { db, log } = await seeded(t)
  await db.prisma.$executeRawUnsafe(`DELETE FROM audit_events WHERE target = 'thing:1'`)
  t.match(await log.verify(db.prisma), { ok: false, problem: /deleted or reordered/ })
})

t.test('an edited hash to cover an edit is detected at the next link', async (t) => {
  const { db, log } = await seeded(t)
  await db.prisma.$executeRawUnsafe(`UPDATE audit_events SET actor = 'mallory', hash = repeat('a', 64) WHERE target = 'thing:3'`)
  t.match(await log.verify(db.prisma), { ok: false })
})

t.test('list pages newest first with a cursor', async (t) => {
  const { db, log } = await seeded(t)
  const page = await log.list(db.prisma, { limit: 3 })
  t.equal(page.events.length, 3)
  t.equal(page.events[0]!.target, 'thing:4')
  const next = await log.list(db.prisma, { limit: 3, cursor: page.next_cursor! })
  t.same(next.events.map((e) => e.target), ['thing:1', 'thing:0'])
  t.equal(next.next_cursor, null)
})

t.test('concurrent appends, in transactions and in single statements, still form one chain', async (t) => {
  const { db } = await testDatabase(t)
  const log = new AuditLog(new TestClock())
  const who = { actor: 'test' }
  await Promise.all(Array.from({ length: 24 }, (_, i) => i % 2 === 0
    ? db.prisma.$transaction((tx) => log.append(tx, who, { action: 'thing.change', target: `thing:${i}`, after: { i } }))
    : (() => {
        // A change and its event in one statement, as certificate issuance writes them.
        const call = log.appendCall(who, { action: 'thing.change', target: `thing:${i}`, after: { i, at: new Date(0) } }, 1)
        return db.prisma.$queryRawUnsafe(`SELECT ${call.sql}`, ...call.values)
      })()))
  t.same(await log.verify(db.prisma, 5), { ok: true, events: 24 })
  const hashes = await db.prisma.auditEvent.findMany({ select: { prevHash: true } })
  t.equal(new Set(hashes.map((h) => h.prevHash)).size, 24, 'no two events link to the same predecessor')
})
