import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { loadConfig } from '../../src/config.js'
import { openDatabase, targetFrom } from '../../src/db/database.js'
import { applyMigrations } from '../../src/db/migrations.js'
import { buildTestApp } from '../helpers/app.js'
import { ecKey, enrolParticipant, makeCsr, operatorOf, type Response } from '../helpers/participant.js'
import { clusterUnavailable, startCluster } from '../helpers/pg-cluster.js'

// Finding 2: with the database stopped, the directory says so — 503 with Retry-After (RFC 6749
// temporarily_unavailable at /token, OCSP tryLater at the responder) — and keeps serving the public documents
// it has already built (stale-if-error), unchanged, until the database is back.
const why = clusterUnavailable()
if (why) {
  t.plan(0, `a throw-away PostgreSQL cluster is needed: ${why}`)
} else {
  const cluster = await startCluster(t)
  const env = { DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '1500', READY_TIMEOUT_MS: '1000' }
  const db = await openDatabase(targetFrom(loadConfig({ DATABASE_URL: cluster.url, ...env })))
  t.teardown(() => db.close().catch(() => {}))
  await applyMigrations(db)
  const ctx = await buildTestApp(t, env, { db: { db, url: cluster.url, fresh: true } })
  const participant = await enrolParticipant(ctx, { roles: ['data-recipient'] })
  t.teardown(() => participant.close())
  const operator = operatorOf(ctx)
  t.teardown(() => operator.close())
  const token = await participant.token()
  const adminToken = await operator.token('directory:admin')
  const sw = (await participant.http.call('POST', `/organisations/${participant.orgId}/software-statements`, {
    token, json: { client_name: 'Outage App', redirect_uris: ['https://app.example/cb'], roles: ['data-recipient'] },
  })).json()
  const swPath = `/organisations/${participant.orgId}/software-statements/${sw.software_id}`

  const documents = ['/participants', '/jwks', '/pki/ca.pem', '/pki/crl', `/organisations/${participant.orgId}/jwks`, `${swPath}/jwks`]
  const get = async (path: string): Promise<{ status: number, etag: unknown, body: Buffer, type: unknown, retryAfter: unknown }> => {
    const res = await request(ctx.publicUrl + path)
    return { status: res.statusCode, etag: res.headers.etag, body: Buffer.from(await res.body.arrayBuffer()), type: res.headers['content-type'], retryAfter: res.headers['retry-after'] }
  }

  // An OCSP request about the participant's transport certificate, made by openssl.
  const dir = mkdtempSync(join(tmpdir(), 'outage-ocsp-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const [leaf, issuing] = participant.transportCertPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!
  writeFileSync(join(dir, 'leaf.pem'), `${leaf}\n`)
  writeFileSync(join(dir, 'issuing.pem'), `${issuing}\n`)
  execFileSync('openssl', ['ocsp', '-issuer', 'issuing.pem', '-cert', 'leaf.pem', '-no_nonce', '-reqout', 'req.der'], { cwd: dir, stdio: 'pipe' })
  const ocspRequest = readFileSync(join(dir, 'req.der'))

  const before = new Map<string, Awaited<ReturnType<typeof get>>>()
  t.test('before the outage: the documents are built', async (t) => {
    for (const path of documents) {
      const res = await get(path)
      t.equal(res.status, 200, path)
      before.set(path, res)
    }
  })

  const expect503 = (t: Test, res: Response, what: string, format: 'problem' | 'oauth'): void => {
    t.equal(res.status, 503, `${what}: ${res.text}`)
    t.ok(res.headers['retry-after'], `${what}: Retry-After`)
    if (format === 'oauth') {
      t.match(res.json(), { error: 'temporarily_unavailable', error_description: String })
    } else {
      t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', `${what}: problem+json`)
      t.match(res.json(), { type: 'urn:ecosystem-directory:problem:unavailable', status: 503 })
    }
  }

  t.test('database stopped: 503 in each API\'s format, the documents still served', async (t) => {
    cluster.stop()
    for (const path of documents) {
      const res = await get(path)
      t.equal(res.status, 200, `${path} served from the last good copy`)
      t.equal(res.etag, before.get(path)!.etag, `${path}: the same document`)
      t.same(res.body, before.get(path)!.body)
    }
    const never = await get('/participants?role=data-holder')
    t.equal(never.status, 503, 'a document never built cannot be served')
    t.ok(never.retryAfter)
    t.equal(never.type, 'application/problem+json; charset=utf-8')

    expect503(t, await participant.tokenResponse({ scope: 'directory:read' }), 'POST /token', 'oauth')
    expect503(t, await participant.http.call('GET', `${swPath}/ssa`, { token }), 'GET …/ssa', 'problem')
    expect503(t, await participant.http.call('POST', `${swPath}/certificates`, { token, json: { type: 'signing', csr: makeCsr(ecKey()) } }), 'certificate issue', 'problem')
    expect503(t, await operator.http.call('POST', '/admin/organisations', {
      token: adminToken,
      json: { legal_name: 'Away Ltd', registration_number: 'AWAY1', country: 'GB' },
    }), 'admin write', 'problem')

    const ocsp = await request(`${ctx.publicUrl}/pki/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: ocspRequest })
    t.equal(ocsp.statusCode, 503)
    t.equal(ocsp.headers['content-type'], 'application/ocsp-response')
    t.ok(ocsp.headers['retry-after'])
    t.same(Buffer.from(await ocsp.body.arrayBuffer()), Buffer.from('30030a0103', 'hex'), 'OCSPResponse tryLater')

    const ready = await get('/readyz')
    t.equal(ready.status, 503)
  })

  t.test('database back: fresh answers again, changes visible', async (t) => {
    cluster.start()
    let ready = await get('/readyz')
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      ready = await get('/readyz')
    }
    t.equal(ready.status, 200)
    const again = await participant.tokenResponse({ scope: 'directory:read directory:software' })
    t.equal(again.status, 200, again.text)
    const ssa = await participant.http.call('GET', `${swPath}/ssa`, { token: again.json().access_token })
    t.equal(ssa.status, 200, ssa.text)
    // A change after the outage reaches the documents (no stale copy is kept once the database answers).
    const created = await operator.call('POST', '/admin/organisations', {
      scope: 'directory:admin', json: { legal_name: 'After Outage Ltd', registration_number: 'AFTER1', country: 'GB', roles: ['data-holder'], status: 'active' },
    })
    t.equal(created.status, 201, created.text)
    let list = await get('/participants')
    for (let i = 0; i < 50 && !list.body.toString().includes('After Outage Ltd'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      list = await get('/participants')
    }
    t.match(list.body.toString(), 'After Outage Ltd')
  })
}
