// Summarises a V8 .cpuprofile (node --cpu-prof): where the directory's CPU went, by self time, grouped by
// package (node_modules/<name>), our own src/ files, node internals and V8's own buckets. The benchmarks print
// this for a row that misses its aim, so the table says where the time goes.
//
//   npx tsx bench/lib/cpuprofile.ts <file.cpuprofile> [--top 25] [--last <seconds>]
// --last keeps only the samples of the profile's last seconds: the load, not the start-up.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }
interface Profile { nodes: Node[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

export interface ProfileSummary {
  /** Sampled time that was not idle, ms. */
  busyMs: number
  /** Share of busy time by group, largest first. */
  groups: Array<{ group: string, ms: number, share: number }>
  /** Share of busy time by function (self time), largest first. */
  functions: Array<{ fn: string, group: string, ms: number, share: number }>
}

/** node_modules/<pkg>, src/<dir>, node:<internal>, or V8's buckets: (garbage collector), (program). */
export function groupOf (url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)'
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nm) return nm[1]!
  if (url.startsWith('node:')) return url
  const src = /\/(src|bench|packages)\/(.+?)(?:\/[^/]+)?$/.exec(url)
  if (src) return `${src[1]}/${src[2]}`
  return url
}

export function summarise (profile: Profile, top = 25, lastSeconds?: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  const from = lastSeconds === undefined ? -Infinity : profile.endTime - lastSeconds * 1e6
  let t = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    t += profile.timeDeltas[i] ?? 0
    if (t < from) continue
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const groups = new Map<string, number>()
  const fns = new Map<string, { group: string, us: number }>()
  let busy = 0
  for (const [id, us] of self) {
    const n = byId.get(id)!
    const fn = n.callFrame.functionName || '(anonymous)'
    if (fn === '(idle)') continue
    busy += us
    const g = groupOf(n.callFrame.url, fn)
    groups.set(g, (groups.get(g) ?? 0) + us)
    const key = `${fn} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}:${n.callFrame.lineNumber + 1}`
    const f = fns.get(key) ?? { group: g, us: 0 }
    f.us += us
    fns.set(key, f)
  }
  const ms = (us: number): number => Math.round(us / 100) / 10
  const share = (us: number): number => Math.round((us / busy) * 1000) / 10
  return {
    busyMs: ms(busy),
    groups: [...groups].sort((a, b) => b[1] - a[1]).slice(0, top).map(([group, us]) => ({ group, ms: ms(us), share: share(us) })),
    functions: [...fns].sort((a, b) => b[1].us - a[1].us).slice(0, top).map(([fn, f]) => ({ fn, group: f.group, ms: ms(f.us), share: share(f.us) })),
  }
}

export function summariseFile (file: string, top = 25, lastSeconds?: number): ProfileSummary {
  return summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, top, lastSeconds)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2]
  if (!file) throw new Error('usage: npx tsx bench/lib/cpuprofile.ts <file.cpuprofile> [--top 25]')
  const arg = (name: string): number | undefined => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : undefined }
  const s = summariseFile(file, arg('--top') ?? 25, arg('--last'))
  console.log(`busy ${s.busyMs} ms`)
  for (const g of s.groups) console.log(`${String(g.share).padStart(5)} %  ${String(g.ms).padStart(8)} ms  ${g.group}`)
  console.log('')
  for (const f of s.functions) console.log(`${String(f.share).padStart(5)} %  ${String(f.ms).padStart(8)} ms  ${f.fn}`)
}
