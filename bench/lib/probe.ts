// Loaded into the directory's process by the benchmarks (`node --import tsx --import ./bench/lib/probe.ts
// src/server.ts`), never by the service itself. It counts database round trips (PGlite queries and execs,
// node-postgres queries), samples event-loop delay, and answers on 127.0.0.1:$BENCH_PROBE_PORT:
//   GET  /probe        {queries, memory: process.memoryUsage(), cpu: process.cpuUsage() (µs), eld: {p50, p99, max, mean} in ms}
//   POST /probe/reset  clears the event-loop-delay histogram
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

const port = Number(process.env.BENCH_PROBE_PORT)
if (port > 0) {
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100
  createServer((req, res) => {
    if (req.url === '/probe/reset' && req.method === 'POST') eld.reset()
    const body = JSON.stringify({
      pid: process.pid,
      queries,
      memory: process.memoryUsage(),
      cpu: process.cpuUsage(),
      eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max), mean: ms(eld.mean), samples: eld.count },
    })
    res.writeHead(200, { 'content-type': 'application/json' }).end(body)
  }).listen(port, '127.0.0.1').unref()
}
