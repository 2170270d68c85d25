import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './app.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** A throw-away PostgreSQL cluster of the test's own: it may be stopped, frozen and restarted at will. */
export interface Cluster {
  url: string
  port: number
  /** pg_ctl stop -m immediate: every connection drops at once. */
  stop: () => void
  start: () => void
  /** SIGSTOP / SIGCONT to the postmaster and every backend: connections stay open but nothing answers. */
  freeze: () => void
  thaw: () => void
}

function binDir (): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
  return versions[0] ? join(root, versions[0], 'bin') : undefined
}

/** Why a cluster cannot be made here (no PostgreSQL binaries, or not root/postgres), or undefined. */
export function clusterUnavailable (): string | undefined {
  if (!binDir()) return 'no PostgreSQL server binaries under /usr/lib/postgresql'
  const uid = process.getuid?.()
  if (uid !== 0 && spawnSync('id', ['-un']).stdout.toString().trim() !== 'postgres') return 'initdb must run as root (via runuser) or as postgres'
  return undefined
}

export async function startCluster (t: Teardown): Promise<Cluster> {
  const bin = binDir()!
  const asPostgres = (cmd: string, args: string[]): void => {
    const full = join(bin, cmd)
    if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', full, ...args], { stdio: 'pipe' })
    else execFileSync(full, args, { stdio: 'pipe' })
  }
  const dir = mkdtempSync(join(tmpdir(), 'directory-pg-'))
  chmodSync(dir, 0o700)
  if (process.getuid?.() === 0) {
    const pw = spawnSync('id', ['-u', 'postgres']).stdout.toString().trim()
    const gr = spawnSync('id', ['-g', 'postgres']).stdout.toString().trim()
    chownSync(dir, Number(pw), Number(gr))
  }
  const data = join(dir, 'data')
  const port = await freePort()
  asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'])
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40`
  const start = (): void => asPostgres('pg_ctl', ['-D', data, '-o', opts, '-w', '-s', '-l', join(dir, 'log'), 'start'])
  const stop = (): void => { try { asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-s', 'stop']) } catch { /* already stopped */ } }
  const pids = (): number[] => {
    const main = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
    const children = spawnSync('pgrep', ['-P', String(main)]).stdout.toString().split('\n').filter(Boolean).map(Number)
    return [main, ...children]
  }
  start()
  let frozen = false
  t.teardown(() => {
    if (frozen) for (const p of pids()) { try { process.kill(p, 'SIGCONT') } catch { /* gone */ } }
    stop()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    freeze: () => { frozen = true; for (const p of pids()) process.kill(p, 'SIGSTOP') },
    thaw: () => { frozen = false; for (const p of pids()) { try { process.kill(p, 'SIGCONT') } catch { /* gone */ } } },
  }
}
