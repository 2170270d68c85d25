import { spawnSync } from 'node:child_process'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

t.test('defaults are the embedded mode', async (t) => {
  const c = loadConfig({})
  t.equal(c.DATABASE_URL, undefined)
  t.equal(c.DATA_DIR, './data')
  t.equal(c.HOST, '0.0.0.0')
  t.equal(c.PUBLIC_PORT, 8080)
  t.equal(c.MTLS_PORT, 8443)
  t.equal(c.DIRECTORY_ISSUER, 'http://localhost:8080')
  t.equal(c.MTLS_BASE_URL, 'https://localhost:8443')
  t.equal(c.BODY_LIMIT, 1024 * 1024)
  t.same(Object.keys(c.ROLES).sort(), ['data-holder', 'data-recipient', 'payment-initiator'])
})

t.test('the issuer follows the public port unless set', async (t) => {
  t.equal(loadConfig({ PUBLIC_PORT: '9000' }).DIRECTORY_ISSUER, 'http://localhost:9000')
  t.equal(loadConfig({ DIRECTORY_ISSUER: 'https://directory.example/' }).DIRECTORY_ISSUER, 'https://directory.example')
})

t.test('WORKERS: one process on PGlite, auto or a number on PostgreSQL', async (t) => {
  t.equal(loadConfig({}).WORKERS, 1)
  t.equal(loadConfig({ WORKERS: 'auto' }).WORKERS, 1, 'auto on PGlite is one process')
  const pg = { DATABASE_URL: 'postgres://db/directory' }
  t.equal(loadConfig({ ...pg, WORKERS: '3' }).WORKERS, 3)
  t.ok(loadConfig({ ...pg, WORKERS: 'auto' }).WORKERS >= 1)
  t.throws(() => loadConfig({ WORKERS: '2' }), { name: 'ConfigError', message: /WORKERS: more than one worker needs PostgreSQL/ })
  t.throws(() => loadConfig({ ...pg, WORKERS: '0' }), { name: 'ConfigError', message: /WORKERS/ })
  t.throws(() => loadConfig({ ...pg, WORKERS: 'many' }), { name: 'ConfigError', message: /WORKERS/ })
})

t.test('each bad value is named', async (t) => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ PUBLIC_PORT: 'eighty' }, /PUBLIC_PORT/],
    [{ MTLS_PORT: '70000' }, /MTLS_PORT/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ DIRECTORY_ISSUER: 'ftp://x' }, /DIRECTORY_ISSUER/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ DIRECTORY_MASTER_KEY: 'c2hvcnQ=' }, /DIRECTORY_MASTER_KEY: must be 32 bytes/],
    [{ ROLES: '{not json' }, /ROLES/],
    [{ ROLES: '{"Bad Role": []}' }, /ROLES/],
  ]
  for (const [env, re] of bad) t.throws(() => loadConfig(env), { name: 'ConfigError', message: re }, JSON.stringify(env))
  t.ok((() => { try { loadConfig({ PUBLIC_PORT: 'x' }) } catch (e) { return e instanceof ConfigError } })())
})

t.test('the server refuses to start on bad configuration, with one line and a non-zero exit', async (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, PUBLIC_PORT: 'eighty', DATABASE_URL: '' },
    encoding: 'utf8',
    timeout: 60_000,
  })
  t.equal(r.status, 2)
  const lines = r.stderr.trim().split('\n').filter((l) => !/ExperimentalWarning|--trace-warnings/.test(l))
  t.equal(lines.length, 1, r.stderr)
  t.match(lines[0], /PUBLIC_PORT/)
})
