import t from 'tap'
import { buildTestApp } from '../../helpers/app.js'
import { stopDatabase } from '../../helpers/database.js'

t.test('healthz and readyz answer ok on a migrated database', async (t) => {
  const { app } = await buildTestApp(t)
  t.same((await app.inject('/healthz')).json(), { status: 'ok' })
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)
})

t.test('readyz fails while the database is down; healthz still answers', async (t) => {
  const { app, db, dbUrl } = await buildTestApp(t)
  await stopDatabase(db, dbUrl)
  const res = await app.inject('/readyz')
  t.equal(res.statusCode, 503)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(res.json(), { status: 503, detail: /database unreachable/ })
  t.equal((await app.inject('/healthz')).statusCode, 200)
})

t.test('readyz fails while migrations are pending', async (t) => {
  const { app, db } = await buildTestApp(t)
  await db.prisma.$executeRawUnsafe('DELETE FROM _prisma_migrations')
  const res = await app.inject('/readyz')
  t.equal(res.statusCode, 503)
  t.match(res.json().detail, /migrations not applied/)
})

t.test('the OpenAPI document describes the routes; the UI is served', async (t) => {
  const { app } = await buildTestApp(t)
  const doc = (await app.inject('/openapi.json')).json()
  t.equal(doc.openapi, '3.1.0')
  t.ok(doc.paths['/readyz'])
  const ui = await app.inject('/docs/')
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /text\/html/)
})
