// Loaded into the directory's process by the benchmarks (`node --import tsx --import ./bench/lib/probe.ts
// src/server.ts`), never by the service itself. It counts database round trips (PGlite queries and execs,
// node-postgres queries), samples event-loop delay, and answers on 127.0.0.1:$BENCH_PROBE_PORT:
//   GET  /probe        {queries, memory: process.memoryUsage(), cpu: process.cpuUsage() (µs), eld: {p50, p99, max, mean} in ms}
//   POST /probe/reset  clears the event-loop-delay histogram
//   GET  /probe/ping   204 at once: the pinger's trivial request
// With WORKERS > 1 (node:cluster) every process loads this file: the primary listens and asks each worker
// over the cluster IPC channel, then answers the sums (queries, CPU, memory) and the worst loop delay.
import cluster from 'node:cluster'
import { createServer } from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'

let queries = 0

// PGlite runs every query, exec and the statements of a transaction through _runExclusiveQuery.
type AnyFn = (...args: unknown[]) => unknown
for (let proto: object | null = PGlite.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
  const desc = Object.getOwnPropertyDescriptor(proto, '_runExclusiveQuery')
  if (desc && typeof desc.value === 'function') {
    const original = desc.value as AnyFn
    Object.defineProperty(proto, '_runExclusiveQuery', {
      ...desc,
      value: function (this: unknown, ...args: unknown[]) { queries++; return original.apply(this, args) },
    })
    break
  }
}
{
  const original = pg.Client.prototype.query as AnyFn
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) { queries++; return original.apply(this, args) } as never
}

const eld = monitorEventLoopDelay({ resolution: 5 })
eld.enable()

const ms = (ns: number): number => Math.round(ns / 1e4) / 100
type Report = { pid: number, queries: number, memory: NodeJS.MemoryUsage, cpu: NodeJS.CpuUsage, eld: { p50: number, p99: number, max: number, mean: number, samples: number }, workers?: number }
const local = (): Report => ({
  pid: process.pid,
  queries,
  memory: process.memoryUsage(),
  cpu: process.cpuUsage(),
  eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max), mean: ms(eld.mean), samples: eld.count },
})

if (cluster.isWorker) {
  process.on('message', (m: { type?: string, id?: number, reset?: boolean }) => {
    if (m?.type !== 'bench:probe') return
    if (m.reset) eld.reset()
    process.send?.({ type: 'bench:probe-reply', id: m.id, report: local() })
  })
}

let asks = 0
async function report (reset: boolean): Promise<Report> {
  if (reset) eld.reset()
  const own = local()
  const workers = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead())
  if (workers.length === 0) return own
  const id = ++asks
  const replies = await Promise.all(workers.map((w) => new Promise<Report | undefined>((resolve) => {
    const timer = setTimeout(() => { w!.off('message', on); resolve(undefined) }, 2000)
    const on = (m: { type?: string, id?: number, report?: Report }): void => {
      if (m?.type === 'bench:probe-reply' && m.id === id) { clearTimeout(timer); w!.off('message', on); resolve(m.report) }
    }
    w!.on('message', on)
    w!.send({ type: 'bench:probe', id, reset })
  })))
  const all = [own, ...replies.filter((r): r is Report => r !== undefined)]
  const sum = (f: (r: Report) => number): number => all.reduce((a, r) => a + f(r), 0)
  return {
    pid: process.pid,
    workers: all.length - 1,
    queries: sum((r) => r.queries),
    memory: { ...own.memory, rss: sum((r) => r.memory.rss), heapUsed: sum((r) => r.memory.heapUsed), heapTotal: sum((r) => r.memory.heapTotal), external: sum((r) => r.memory.external) },
    cpu: { user: sum((r) => r.cpu.user), system: sum((r) => r.cpu.system) },
    // The workers' loops are the ones serving: the worst of them.
    eld: all.slice(1).reduce((a, r) => ({ p50: Math.max(a.p50, r.eld.p50), p99: Math.max(a.p99, r.eld.p99), max: Math.max(a.max, r.eld.max), mean: Math.max(a.mean, r.eld.mean), samples: a.samples + r.eld.samples }),
      { p50: 0, p99: 0, max: 0, mean: 0, samples: 0 }),
  }
}

const port = Number(process.env.BENCH_PROBE_PORT)
if (port > 0 && cluster.isPrimary) {
  createServer((req, res) => {
    // The pinger's trivial request: answered by this loop without building a report (memoryUsage reads /proc).
    if (req.url === '/probe/ping') { res.writeHead(204).end(); return }
    report(req.url === '/probe/reset' && req.method === 'POST').then((r) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r))
    }, (err: Error) => { res.writeHead(500).end(err.message) })
  }).listen(port, '127.0.0.1').unref()
}
