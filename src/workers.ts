import cluster, { type Worker } from 'node:cluster'

/** What a worker tells the primary once both of its listeners accept connections. */
export interface WorkerReady { type: 'directory:ready', urls: { public: string, mtls: string } }

export function isWorkerReady (m: unknown): m is WorkerReady {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'directory:ready'
}

export interface Supervisor {
  /** The URLs the first worker reported (every worker shares the same listeners). */
  urls: { public: string, mtls: string }
  /** Asks every worker to finish its requests and exit; resolves when all have. */
  close: () => Promise<void>
}

/**
 * The primary of `WORKERS` > 1 (PostgreSQL only): forks the workers, which share both listeners through
 * node:cluster, and replaces any that dies. Each worker has its own services — document cache, signing
 * keys, CA material — kept current by the registry version it polls, so a change made through one
 * worker reaches the others exactly as it reaches another instance. Startup fails as a whole: if a worker
 * exits before all are ready, the others are stopped and the promise rejects.
 */
export function superviseWorkers (count: number, log: (line: string) => void): Promise<Supervisor> {
  let closing = false
  let started = false
  const restarts: number[] = []
  const fork = (): Worker => cluster.fork()

  return new Promise((resolve, reject) => {
    let ready = 0
    let urls: WorkerReady['urls'] | undefined
    cluster.on('message', (_worker, message) => {
      if (started || !isWorkerReady(message)) return
      urls ??= message.urls
      if (++ready === count) {
        started = true
        resolve({ urls, close })
      }
    })
    cluster.on('exit', (worker, code, signal) => {
      if (closing) return
      if (!started) {
        closing = true
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM')
        reject(new Error(`worker ${worker.process.pid} exited during startup (${signal ?? `code ${code}`})`))
        return
      }
      // A worker that keeps dying (bad database, full disk) must not turn into a fork loop.
      const now = Date.now()
      while (restarts.length > 0 && restarts[0]! < now - 60_000) restarts.shift()
      restarts.push(now)
      const delay = restarts.length > 5 ? 5_000 : 0
      log(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another${delay ? ` in ${delay / 1000} s` : ''}`)
      setTimeout(() => { if (!closing) fork() }, delay).unref()
    })
    for (let i = 0; i < count; i++) fork()
  })

  async function close (): Promise<void> {
    closing = true
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead())
    await Promise.all(alive.map((w) => new Promise<void>((resolve) => {
      w.once('exit', () => resolve())
      // Each worker's close-with-grace closes its listeners, waits for in-flight requests, then exits.
      w.process.kill('SIGTERM')
    })))
  }
}
