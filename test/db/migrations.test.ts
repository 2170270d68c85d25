import t from 'tap'
import { applyMigrations, pendingMigrations, readMigrations } from '../../src/db/migrations.js'
import { testDatabase } from '../helpers/database.js'

t.test('migrations apply once, then again without effect', async (t) => {
  const { db } = await testDatabase(t, { migrate: false })
  const all = (await readMigrations()).migrationDirectories.map((d) => d.path)
  t.ok(all.length > 0)
  t.same(await pendingMigrations(db), all, 'a fresh database has every migration pending')
  t.same(await applyMigrations(db), all)
  t.same(await applyMigrations(db), [], 'the second run applies nothing')
  t.same(await pendingMigrations(db), [])
  const rows = await db.prisma.$queryRawUnsafe<Array<{ n: bigint }>>('SELECT count(*)::bigint AS n FROM _prisma_migrations')
  t.equal(Number(rows[0]!.n), all.length, "Prisma's own history table records each once")
})
