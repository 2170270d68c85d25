import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { testDatabase } from './helpers/database.js'

// node:cluster workers need PostgreSQL (PGlite is one process; config.test.ts covers that refusal).
const server = process.env.DATABASE_URL

function childrenOf (pid: number): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid (after the parenthesised command name).
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(d)] : []
    } catch { return [] }
  })
}

t.test('WORKERS=2 on PostgreSQL: two worker processes share both listeners and stop with the primary', { skip: server ? false : 'needs DATABASE_URL (PostgreSQL)' }, async (t) => {
  const { db, url } = await testDatabase(t)
  await db.close()
  const dataDir = await mkdtemp(join(tmpdir(), 'directory-workers-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, DATABASE_URL: url, DATA_DIR: dataDir, WORKERS: '2', HOST: '127.0.0.1', PUBLIC_PORT: '0', MTLS_PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr.on('data', (b: Buffer) => { out += b.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const deadline = Date.now() + 60_000
  while (!/health: +http/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) { t.fail(`the directory did not start:\n${out}`); return }
    await new Promise((r) => setTimeout(r, 100))
  }
  t.match(out, /PostgreSQL, 2 workers/)
  t.match(out, /created the root CA/, 'the primary ran init once')
  const workers = childrenOf(child.pid!)
  t.equal(workers.length, 2, 'two worker processes')

  const publicUrl = /public: +(http:\/\/\S+)/.exec(out)![1]!
  for (let i = 0; i < 6; i++) {
    // A new connection each time: node:cluster hands connections to the workers in turn.
    const res = await fetch(`${publicUrl}/readyz`, { headers: { connection: 'close' } })
    t.equal(res.status, 200)
  }
  const jwks = await (await fetch(`${publicUrl}/jwks`, { headers: { connection: 'close' } })).json() as { keys: unknown[] }
  const again = await (await fetch(`${publicUrl}/jwks`, { headers: { connection: 'close' } })).json() as { keys: unknown[] }
  t.same(again, jwks, 'both workers serve the same signing keys')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'the primary exits cleanly after its workers')
  t.same(workers.filter((pid) => { try { process.kill(pid, 0); return true } catch { return false } }), [], 'no worker outlives the primary')
})
