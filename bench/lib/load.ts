// A small closed-loop HTTP load generator on undici: `concurrency` requests in flight over a keep-alive
// pool, bounded by time and by count, latency measured from send to the last body byte. Used where wrk
// cannot go (client certificates) and, for a like-for-like baseline, against the reference servers too.
import type { Dispatcher } from 'undici'
import { percentile, round } from './common.js'

export interface RequestSpec {
  path: string
  method?: 'GET' | 'POST' | 'PATCH'
  headers?: Record<string, string>
  body?: string
}

export interface LoadOptions {
  dispatcher: Dispatcher
  /** The request to send as number `i` (0-based, across all workers). */
  next: (i: number) => RequestSpec
  concurrency: number
  durationMs: number
  maxRequests?: number
  /** Requests not counted, sent first at the same concurrency (JIT, TLS sessions, caches). */
  warmup?: number
  /** Status codes that count as success (default 2xx). */
  ok?: (status: number) => boolean
}

export interface LoadResult {
  requests: number
  ok: number
  errors: number
  statuses: Record<string, number>
  seconds: number
  /** Successful requests per second. */
  rate: number
  latencyMs: { p50: number, p90: number, p99: number, max: number, mean: number }
  firstError?: string
}

export async function runLoad (o: LoadOptions): Promise<LoadResult> {
  const ok = o.ok ?? ((s: number) => s >= 200 && s < 300)
  if (o.warmup) await drive({ ...o, maxRequests: o.warmup, durationMs: 60_000 }, ok, 0)
  return drive(o, ok, o.warmup ?? 0)
}

async function drive (o: LoadOptions, ok: (s: number) => boolean, offset: number): Promise<LoadResult> {
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  let issued = 0
  let good = 0
  let errors = 0
  let firstError: string | undefined
  const max = o.maxRequests ?? Infinity
  const start = performance.now()
  const end = start + o.durationMs
  const worker = async (): Promise<void> => {
    while (issued < max && performance.now() < end) {
      const spec = o.next(offset + issued++)
      const t0 = performance.now()
      try {
        const res = await o.dispatcher.request({ path: spec.path, method: spec.method ?? 'GET', headers: spec.headers, body: spec.body })
        const text = await res.body.text()
        latencies.push(performance.now() - t0)
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1
        if (ok(res.statusCode)) good++
        else { errors++; firstError ??= `${res.statusCode} ${text.slice(0, 300)}` }
      } catch (e) {
        errors++
        statuses.error = (statuses.error ?? 0) + 1
        firstError ??= String(e)
      }
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, worker))
  const seconds = (performance.now() - start) / 1000
  const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)
  return {
    requests: good + errors, ok: good, errors, statuses, seconds: round(seconds, 3), rate: round(good / seconds, 1),
    latencyMs: {
      p50: round(percentile(latencies, 50)), p90: round(percentile(latencies, 90)), p99: round(percentile(latencies, 99)),
      max: round(Math.max(...latencies)), mean: round(mean),
    },
    ...(firstError ? { firstError } : {}),
  }
}
