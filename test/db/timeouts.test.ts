import { randomUUID } from 'node:crypto'
import t from 'tap'
import { request } from 'undici'
import { loadConfig } from '../../src/config.js'
import { openDatabase, targetFrom } from '../../src/db/database.js'
import { applyMigrations } from '../../src/db/migrations.js'
import { buildTestApp } from '../helpers/app.js'
import { operatorOf, type Response } from '../helpers/participant.js'
import { clusterUnavailable, startCluster } from '../helpers/pg-cluster.js'

// Finding 3: a frozen database (SIGSTOP) must not hold requests or /readyz; every call is bounded, the
// answer is 503 with Retry-After, and the directory recovers by itself when the database answers again.
const why = clusterUnavailable()
if (why) {
  t.plan(0, `a throw-away PostgreSQL cluster is needed: ${why}`)
} else {
  const cluster = await startCluster(t)
  const env = { DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '1500', DB_TRANSACTION_MAX_WAIT_MS: '1000', DB_TRANSACTION_TIMEOUT_MS: '3000', READY_TIMEOUT_MS: '1000' }
  const db = await openDatabase(targetFrom(loadConfig({ DATABASE_URL: cluster.url, ...env })))
  t.teardown(() => db.close().catch(() => {}))
  await applyMigrations(db)
  const ctx = await buildTestApp(t, env, { db: { db, url: cluster.url, fresh: true } })
  const operator = operatorOf(ctx)
  t.teardown(() => operator.close())
  const admin = await operator.token('directory:admin')

  const createOrg = (): Promise<Response> => operator.http.call('POST', '/admin/organisations', {
    token: admin, json: { legal_name: `Frozen ${randomUUID().slice(0, 8)} Ltd`, registration_number: randomUUID().slice(0, 12), country: 'GB', roles: ['data-holder'], status: 'active' },
  })
  const readyz = async (): Promise<{ status: number, ms: number, body: string, retryAfter: unknown }> => {
    const started = performance.now()
    const res = await request(`${ctx.publicUrl}/readyz`)
    return { status: res.statusCode, ms: performance.now() - started, body: await res.body.text(), retryAfter: res.headers['retry-after'] }
  }
  // A request that does not come back at all is the failure this test is about: give up long after the bounds.
  const bounded = <T>(p: Promise<T>, what: string): Promise<T> => Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} still waiting after 15 s`)), 15_000).unref())])

  t.test('before the freeze everything answers', async (t) => {
    t.equal((await readyz()).status, 200)
    t.equal((await createOrg()).status, 201)
  })

  t.test('frozen while requests are in flight: each ends in 503 with Retry-After, /readyz not-ready within 2 s', async (t) => {
    // Writes (transactions) and token requests under way when the database stops answering.
    const inFlight = [
      ...Array.from({ length: 4 }, () => createOrg()),
      operator.tokenResponse({ scope: 'directory:read' }),
      operator.http.call('GET', `/organisations/${ctx.operator.orgId}`, { token: admin }),
    ]
    cluster.freeze()
    t.teardown(() => cluster.thaw())
    const probe = await readyz()
    t.equal(probe.status, 503, probe.body)
    t.ok(probe.ms < 2000, `/readyz answered in ${Math.round(probe.ms)} ms`)
    t.match(JSON.parse(probe.body), { type: 'urn:ecosystem-directory:problem:unavailable', status: 503 })
    t.ok(probe.retryAfter, 'Retry-After on the not-ready answer')

    const later = [createOrg(), operator.tokenResponse({ scope: 'directory:read' })]
    const answers = await bounded(Promise.all([...inFlight, ...later]), 'a request')
    for (const [i, a] of answers.entries()) {
      // A request may have finished before the freeze took hold; none may fail any other way.
      if (a.status < 300) continue
      t.equal(a.status, 503, `request ${i}: ${a.text}`)
      t.ok(a.headers['retry-after'], `request ${i}: Retry-After`)
      if (a.headers['content-type']?.toString().startsWith('application/json')) {
        t.match(a.json(), { error: 'temporarily_unavailable' }, `request ${i}: RFC 6749 at /token`)
      } else {
        t.equal(a.headers['content-type'], 'application/problem+json; charset=utf-8', `request ${i}: problem+json`)
      }
    }
    t.ok(answers.slice(-2).every((a) => a.status === 503), 'requests made during the freeze are refused with 503')
  })

  t.test('thawed: recovers by itself, and no connection is left inside an aborted transaction', async (t) => {
    cluster.thaw()
    let probe = await readyz()
    for (let i = 0; i < 100 && probe.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      probe = await readyz()
    }
    t.equal(probe.status, 200, 'ready again')
    // More writes at once than the pool holds, so each pooled connection is used again.
    const writes = await bounded(Promise.all(Array.from({ length: 14 }, () => createOrg())), 'a write after the thaw')
    t.same(writes.map((w) => w.status), writes.map(() => 201), writes.filter((w) => w.status !== 201).map((w) => w.text).join('\n'))
    const token = await operator.tokenResponse({ scope: 'directory:read' })
    t.equal(token.status, 200, token.status === 200 ? 'a token again' : token.text)
  })
}
