import { closeSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs'
import { createConnection, createServer, type Server } from 'node:net'
import { hostname } from 'node:os'
import { relative, resolve } from 'node:path'

// One process owns an embedded database: two PGlite instances on one directory each keep their own writes
// and lose the other's. The lock is a Unix socket the owner listens on: the kernel tells whether its owner is
// alive (a connection is accepted or refused), across PID namespaces and after kill -9, and the owner answers
// a contender with who it is. A socket left by a dead owner is stale and taken over.

export interface LockHolder {
  pid: number
  host: string
  /** What the holder runs: the server, or a CLI command. */
  command: string
  since: string
  /** The holder's listeners, once a server has them. */
  urls?: Record<string, string>
}

export class DataDirLocked extends Error {
  override name = 'DataDirLocked'
  constructor (readonly dir: string, readonly holder?: LockHolder, lockFile = `${dir}/pglite.lock`) {
    super(holder
      ? `${dir} is in use by process ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.since}` +
        `${holder.urls ? `, ${Object.values(holder.urls).join(' ')}` : ''}). The embedded database has one owner: stop that ` +
        'process first, or with the server running use the admin API (npm run directory -- operator:token, then curl) instead of the CLI'
      : `${dir} is in use by another process that does not answer (lock ${lockFile}); stop it first`)
  }
}

export interface DataDirLock {
  readonly holder: LockHolder
  /** Adds what a contender should be told (the server's URLs, once it listens). */
  describe: (extra: Partial<LockHolder>) => void
  release: () => Promise<void>
}

type Probe = { holder: LockHolder } | 'gone' | 'silent'

/** Asks whoever listens on `path` who it is; 'gone' when nobody listens (a stale socket file, or none). */
function probe (path: string): Promise<Probe> {
  return new Promise((done) => {
    const socket = createConnection(path)
    let text = ''
    const timer = setTimeout(() => { socket.destroy(); done('silent') }, 2000)
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { text += chunk })
    socket.on('end', () => {
      clearTimeout(timer)
      try { done({ holder: JSON.parse(text) as LockHolder }) } catch { done('silent') }
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'gone' : 'silent')
    })
  })
}

function listen (server: Server, path: string): Promise<void> {
  return new Promise((done, fail) => {
    server.once('error', fail)
    server.listen(path, () => { server.off('error', fail); done() })
  })
}

/** A socket path short enough for sockaddr_un (about 107 bytes): relative to the working directory if need be. */
function socketPath (file: string): string {
  const absolute = resolve(file)
  if (absolute.length <= 100) return absolute
  const rel = relative(process.cwd(), absolute)
  if (rel.length <= 100) return rel
  throw new Error(`${file}: the path is too long for the embedded database's lock socket (100 bytes at most); use a shorter DATA_DIR`)
}

/**
 * Takes the lock `<database dir>.lock` for this process's life (released by release(), and by the kernel
 * when the process dies). Throws DataDirLocked naming the holder when a live process has it.
 */
export async function lockDatabaseDir (databaseDir: string, command: string): Promise<DataDirLock> {
  const file = `${databaseDir}.lock`
  mkdirSync(resolve(databaseDir, '..'), { recursive: true, mode: 0o700 })
  const path = socketPath(file)
  const holder: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() }
  const server = createServer((socket) => { socket.end(JSON.stringify(holder)) })
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await listen(server, path)
      server.unref()
      return {
        holder,
        describe: (extra) => { Object.assign(holder, extra) },
        release: () => new Promise((done) => server.close(() => { try { unlinkSync(path) } catch { /* gone */ } done() })),
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    }
    const seen = await probe(path)
    if (seen === 'silent') throw new DataDirLocked(resolve(databaseDir, '..'), undefined, file)
    if (seen !== 'gone') throw new DataDirLocked(resolve(databaseDir, '..'), seen.holder)
    // The owner died without removing its socket. Only one contender removes it: the one holding the
    // takeover guard, and only if nobody listens by then.
    const guard = `${path}.takeover`
    let fd: number
    try {
      fd = openSync(guard, 'wx', 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      try { if (Date.now() - statSync(guard).mtimeMs > 10_000) unlinkSync(guard) } catch { /* taken meanwhile */ }
      await new Promise((r) => setTimeout(r, 50))
      continue
    }
    try {
      if (await probe(path) === 'gone') { try { unlinkSync(path) } catch { /* gone */ } }
    } finally {
      closeSync(fd)
      unlinkSync(guard)
    }
  }
  throw new DataDirLocked(resolve(databaseDir, '..'), undefined, file)
}
