import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { DataDirLocked, lockDatabaseDir } from '../../src/db/data-dir-lock.js'
import { openDatabase, targetFrom } from '../../src/db/database.js'
import { applyMigrations } from '../../src/db/migrations.js'
import { initDirectory } from '../../src/init.js'
import { systemClock } from '../../src/clock.js'
import { serve } from '../../src/server.js'
import { freePort } from '../helpers/app.js'

// Finding 1: one process owns an embedded database. A second server refuses to start naming the holder, the
// CLI's data commands refuse while the server runs, a lock left by a killed process is taken over, and
// operator:token follows the configuration in force (not the URLs written at first start).
const root = resolve(import.meta.dirname, '../..')
const dataDir = mkdtempSync(join(tmpdir(), 'directory-lock-'))
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))

const envFor = (publicPort: number, mtlsPort: number): NodeJS.ProcessEnv => ({
  ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, HOST: '127.0.0.1', PUBLIC_PORT: String(publicPort), MTLS_PORT: String(mtlsPort),
  LOG_LEVEL: 'warn', PORTAL_ENABLED: 'false', CA_ROOT_KEY: 'ec-p256', SIGNING_ALG: 'ES256', TLS_SERVER_NAMES: 'localhost,127.0.0.1',
})

// The first start's work (migrations, CA, keys, operator) done here, so each server below only opens the database.
{
  const config = loadConfig(envFor(1, 2) as Record<string, string>)
  const db = await openDatabase(targetFrom(config), { owner: 'test setup' })
  await applyMigrations(db)
  await initDirectory(config, db, systemClock)
  await db.close()
}
// Asynchronous, so that this process (the holder in the first test) can answer the lock's probe meanwhile.
function run (file: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ status: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000)
  return new Promise((done) => child.on('close', (status) => { clearTimeout(timer); done({ status, stdout, stderr }) }))
}
const cli = (env: NodeJS.ProcessEnv, args: string[]) => run('src/cli/index.ts', env, args)

t.setTimeout(400_000)
t.test('in one process: a second lock on the same directory names the holder', async (t) => {
  const dir = join(dataDir, 'unit', 'pglite')
  const lock = await lockDatabaseDir(dir, 'test holder')
  lock.describe({ urls: { public: 'http://127.0.0.1:1' } })
  const err = await lockDatabaseDir(dir, 'contender').then(() => undefined, (e: unknown) => e)
  t.type(err, DataDirLocked)
  t.match((err as DataDirLocked).holder, { pid: process.pid, command: 'test holder', urls: { public: 'http://127.0.0.1:1' } })
  t.match((err as Error).message, new RegExp(`in use by process ${process.pid} .*test holder`))
  await lock.release()
  t.notOk(existsSync(`${dir}.lock`), 'released: the socket is gone')
  const again = await lockDatabaseDir(dir, 'next')
  await again.release()
})

t.test('a second server refuses naming the holder, the CLI refuses, operator:token follows the current ports', async (t) => {
  // The holder: the real server, in this process, on other ports than those init wrote to client.json.
  const [publicPort, mtlsPort] = [await freePort(), await freePort()]
  const running = await serve(loadConfig(envFor(publicPort, mtlsPort) as Record<string, string>))
  let closed = false
  t.teardown(() => closed ? undefined : running.close())
  const holder = new RegExp(`in use by process ${process.pid} .*\\(server, since .*http://(localhost|127\\.0\\.0\\.1):${publicPort}`)

  const second = await run('src/server.ts', envFor(await freePort(), await freePort()), [])
  t.not(second.status, 0, 'a second server on the same DATA_DIR does not start')
  t.match(second.stderr, holder, 'it names the holder')

  const refused = await cli(envFor(publicPort, mtlsPort), ['org:create', '--name', 'Lost Writes Ltd', '--registration', 'LW1', '--country', 'GB'])
  t.not(refused.status, 0, 'the CLI refuses a data command while the server runs')
  t.match(refused.stderr, holder)
  t.match(refused.stderr, /operator:token/, 'and says what to do instead')

  const token = await cli(envFor(publicPort, mtlsPort), ['operator:token', '--scope', 'directory:admin'])
  t.equal(token.status, 0, `operator:token follows the current MTLS_PORT: ${token.stderr}`)
  t.match(token.stdout.trim(), /^ey[\w-]+\.[\w-]+\.[\w-]+$/)

  await running.close()
  closed = true
  t.notOk(existsSync(join(dataDir, 'pglite.lock')), 'the lock is released when the server closes')
})

t.test('a lock left by a killed process is stale and taken over', async (t) => {
  const dir = join(dataDir, 'pglite')
  const script = `import('./src/db/data-dir-lock.ts').then((m) => m.lockDatabaseDir(${JSON.stringify(dir)}, 'doomed')).then(() => { console.log('locked'); setInterval(() => {}, 1000) })`
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  await new Promise<void>((done) => child.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('locked')) done() }))
  const refused = await lockDatabaseDir(dir, 'contender').then(() => undefined, (e: unknown) => e)
  t.match((refused as DataDirLocked).holder, { pid: child.pid, command: 'doomed' }, 'held while the process lives')
  child.kill('SIGKILL')
  await new Promise((done) => child.on('exit', done))
  t.ok(existsSync(`${dir}.lock`), 'kill -9 leaves the socket file behind')
  const lock = await lockDatabaseDir(dir, 'next owner')
  t.equal(lock.holder.pid, process.pid, 'taken over')
  await lock.release()
})
