// Shared helpers for the benchmarks: paths, ports, statistics, tables and the JSON result files.
import { execFileSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const resultsDir = join(repoRoot, 'bench', 'results')

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export async function freePort (): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => resolvePort(typeof a === 'object' && a ? a.port : 0))
    })
  })
}

/** Percentile (0–100) of an unsorted sample, by nearest rank. */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

export const median = (values: number[]): number => percentile(values, 50)

export const round = (n: number, digits = 2): number => Number.isFinite(n) ? Number(n.toFixed(digits)) : n

/** Command-line flags: `--name value` or `--name=value`; bare `--flag` is "true". */
export function flags (argv = process.argv.slice(2)): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) continue
    const eq = a.indexOf('=')
    if (eq > 0) { out[a.slice(2, eq)] = a.slice(eq + 1); continue }
    const next = argv[i + 1]
    if (next !== undefined && !next.startsWith('--')) { out[a.slice(2)] = next; i++ } else out[a.slice(2)] = 'true'
  }
  return out
}

export function numberFlag (f: Record<string, string>, name: string, fallback: number): number {
  const v = f[name]
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`)
  return n
}

/** A plain-text table for the terminal (and the README). */
export function table (headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => typeof c === 'number' ? fmt(c) : c))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)))
  const line = (r: Array<string | number>): string => '| ' + r.map((c, i) => String(c).padEnd(widths[i]!)).join(' | ') + ' |'
  return [line(cells[0]!), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.slice(1).map(line)].join('\n')
}

export function fmt (n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US')
  if (Math.abs(n) >= 10) return n.toFixed(1)
  return n.toFixed(2)
}

/** Where the run happened, so numbers in results/ can be compared with care. */
export function machine (): Record<string, unknown> {
  const c = cpus()
  return { node: process.version, cpus: c.length, cpu: c[0]?.model, loadavg: loadavg().map((x) => round(x)), at: new Date().toISOString(), commit: commit() }
}

/** The commit measured, and whether src/ differed from it. */
function commit (): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'prisma'], { cwd: repoRoot, encoding: 'utf8' }).trim()
    return dirty ? `${head}+uncommitted src changes` : head
  } catch { return 'unknown' }
}

/** bench/results/<name>.json, or <name>-postgresql.json when the run used DATABASE_URL. */
export async function writeResult (name: string, data: Record<string, unknown>): Promise<string> {
  await mkdir(resultsDir, { recursive: true })
  const file = join(resultsDir, `${name}${process.env.DATABASE_URL ? '-postgresql' : ''}.json`)
  await writeFile(file, JSON.stringify({ name, machine: machine(), ...data }, (_, v) => typeof v === 'bigint' ? v.toString() : v, 2) + '\n')
  return file
}

export const log = (...parts: unknown[]): void => { process.stderr.write(parts.join(' ') + '\n') }
