// Runs wrk (Debian package `wrk`) and parses its --latency report.
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface WrkOptions {
  url: string
  threads?: number
  connections?: number
  durationSec?: number
  headers?: Record<string, string>
  /** A Lua script (wrk.method/body/headers, request()). */
  lua?: string
}

export interface WrkResult {
  command: string
  rate: number
  requests: number
  seconds: number
  latencyMs: { p50: number, p75: number, p90: number, p99: number, avg: number, max: number }
  non2xx3xx: number
  socketErrors: string | null
  transferPerSec: string
  raw: string
}

export async function hasWrk (): Promise<boolean> {
  try { await run('wrk', ['--version']); return true } catch (e) { return (e as { code?: unknown }).code !== 'ENOENT' }
}

export async function runWrk (o: WrkOptions): Promise<WrkResult> {
  const args = ['-t', String(o.threads ?? 2), '-c', String(o.connections ?? 32), '-d', `${o.durationSec ?? 10}s`, '--latency', '--timeout', '10s']
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`)
  let dir: string | undefined
  if (o.lua) {
    dir = await mkdtemp(join(tmpdir(), 'bench-wrk-'))
    const file = join(dir, 'script.lua')
    await writeFile(file, o.lua)
    args.push('-s', file)
  }
  args.push(o.url)
  try {
    const { stdout } = await run('wrk', args, { maxBuffer: 1 << 20, timeout: ((o.durationSec ?? 10) + 60) * 1000 })
    return parse(stdout, `wrk ${args.map((a) => a.includes(' ') ? JSON.stringify(a) : a).join(' ')}`)
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true })
  }
}

function toMs (v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim())
  if (!m) return NaN
  const n = Number(m[1])
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000
}

function parse (out: string, command: string): WrkResult {
  const pct = (p: string): number => toMs(new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '')
  const lat = /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(out)
  const total = /(\d+) requests in ([\d.]+)(\w+)/.exec(out)
  const secs = total ? (total[3] === 'ms' ? Number(total[2]) / 1000 : total[3] === 'm' ? Number(total[2]) * 60 : Number(total[2])) : NaN
  return {
    command,
    rate: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    requests: Number(total?.[1] ?? NaN),
    seconds: secs,
    latencyMs: { p50: pct('50'), p75: pct('75'), p90: pct('90'), p99: pct('99'), avg: toMs(lat?.[1] ?? ''), max: toMs(lat?.[3] ?? '') },
    non2xx3xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: /Socket errors:.*$/m.exec(out)?.[0] ?? null,
    transferPerSec: /Transfer\/sec:\s+(\S+)/.exec(out)?.[1] ?? '',
    raw: out,
  }
}
