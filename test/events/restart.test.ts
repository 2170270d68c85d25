import { spawn, type ChildProcess } from 'node:child_process'
import { createPrivateKey } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { eventTypes } from '../../src/events/types.js'
import { freePort, type TestApp } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'
import { Participant } from '../helpers/participant.js'
import { Receiver } from '../helpers/receiver.js'

const statusChanged = eventTypes.organisationStatusChanged

/** The directory as its own process (src/server.ts), so it can be killed with SIGKILL like a crashed host. */
async function startDirectory (env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess, exited: Promise<unknown>, output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr!.on('data', (b: Buffer) => { out += b.toString() })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const deadline = Date.now() + 90_000
  while (!/health: +http/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`the directory did not start:\n${out}`) }
    await new Promise((r) => setTimeout(r, 100))
  }
  return { child, exited, output: () => out }
}

t.test('kill -9 of the directory between commit and delivery loses nothing: the events go out after the restart, in order', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'directory-restart-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  let database: NodeJS.ProcessEnv = {}
  if (process.env.DATABASE_URL) {
    const { db, url } = await testDatabase(t)
    await db.close()
    database = { DATABASE_URL: url }
  }
  const [publicPort, mtlsPort] = [await freePort(), await freePort()]
  const publicUrl = `http://127.0.0.1:${publicPort}`
  const mtlsUrl = `https://127.0.0.1:${mtlsPort}`
  const env: NodeJS.ProcessEnv = {
    ...process.env, DATABASE_URL: undefined, ...database, DATA_DIR: dataDir, HOST: '127.0.0.1', LOG_LEVEL: 'warn',
    PUBLIC_PORT: String(publicPort), MTLS_PORT: String(mtlsPort), DIRECTORY_ISSUER: publicUrl, MTLS_BASE_URL: mtlsUrl,
    EVENTS_ALLOW_PRIVATE_TARGETS: 'true', EVENTS_POLL_MS: '50', EVENTS_TIMEOUT_MS: '1000', EVENTS_BACKOFF_BASE_MS: '50', EVENTS_BACKOFF_MAX_SECONDS: '1',
  }
  const began = Date.now()
  let running = await startDirectory(env)
  t.comment(`started in ${Date.now() - began} ms`)
  t.teardown(async () => { if (running.child.exitCode === null) { running.child.kill('SIGTERM'); await running.exited } })

  // The operator, from the credentials init wrote.
  const dir = join(dataDir, 'operator')
  const client = JSON.parse(await readFile(join(dir, 'client.json'), 'utf8'))
  const caPem = await readFile(join(dir, 'ca.pem'), 'utf8')
  const ctx = { clock: { now: () => new Date() }, mtlsUrl, services: { authority: { caBundlePem: () => caPem } } } as unknown as TestApp
  const operator = new Participant(ctx, client.client_id, client.org_id, createPrivateKey(await readFile(join(dir, 'signing.key'), 'utf8')), client.signing_kid,
    await readFile(join(dir, 'transport.key'), 'utf8'), await readFile(join(dir, 'transport.pem'), 'utf8'))
  t.teardown(() => operator.close())
  const token = await operator.token('directory:admin')
  const call = async (method: string, path: string, json?: unknown) => {
    const res = await operator.call(method, path, { token, ...(json !== undefined ? { json } : {}) })
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`)
    return res.json()
  }

  const receiver = await Receiver.start()
  t.teardown(() => receiver.down())
  receiver.behaviour = 'hang'
  const sub = await call('POST', '/admin/event-subscriptions', { url: receiver.url, events: [statusChanged] })
  const org = await call('POST', '/admin/organisations', { legal_name: 'Crash Test Ltd', registration_number: 'CRASH-1', country: 'GB', status: 'active' })
  await call('PATCH', `/admin/organisations/${org.id}`, { status: 'suspended' })
  // The first event is being sent (the receiver holds the request); the second waits behind it.
  for (const deadline = Date.now() + 20_000; receiver.attempts === 0;) {
    if (Date.now() > deadline) throw new Error('no delivery attempt')
    await new Promise((r) => setTimeout(r, 20))
  }
  await call('PATCH', `/admin/organisations/${org.id}`, { status: 'active' })
  running.child.kill('SIGKILL')
  t.equal(await running.exited, null, 'killed')
  t.equal(receiver.sets.length, 0, 'nothing was delivered before the crash')

  receiver.behaviour = 'accept'
  const restart = Date.now()
  running = await startDirectory(env)
  t.comment(`restarted in ${Date.now() - restart} ms`)
  await receiver.received(2, 30_000)
  t.comment(`delivered ${Date.now() - restart} ms after the restart began`)
  const jwks = createRemoteJWKSet(new URL(`${publicUrl}/jwks`))
  const claims = await Promise.all(receiver.sets.map(async (s) => (await jwtVerify(s, jwks, { issuer: publicUrl, audience: client.org_id, typ: 'secevent+jwt' })).payload))
  t.same(claims.map((c) => (c.events as Record<string, { status: string }>)[statusChanged]!.status), ['suspended', 'active'], 'both changes, in order')
  t.equal(new Set(claims.map((c) => c.jti)).size, 2)
  const deliveries = await call('GET', `/admin/event-subscriptions/${sub.id}/deliveries`)
  t.same(deliveries.map((d: { status: string }) => d.status), ['delivered', 'delivered'])
  t.notMatch(running.output(), /event delivery (pass )?failed/, 'no delivery errors logged')
})
