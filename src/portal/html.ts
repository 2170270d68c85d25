// Server-rendered HTML. Every interpolated value is escaped unless it is itself an Html fragment, so
// text from the registry (an organisation called "<img onerror=…>") always renders as text.

export class Html {
  constructor (readonly value: string) {}
  toString (): string { return this.value }
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
export const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => entities[c]!)

type Part = Html | string | number | boolean | null | undefined | Date | Part[]

function render (v: Part): string {
  if (v === null || v === undefined || v === false || v === true) return ''
  if (v instanceof Html) return v.value
  if (Array.isArray(v)) return v.map(render).join('')
  if (v instanceof Date) return escape(v.toISOString().replace('T', ' ').slice(0, 16) + ' UTC')
  return escape(String(v))
}

export function html (strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!
  values.forEach((v, i) => { out += render(v) + strings[i + 1]! })
  return new Html(out)
}

export const raw = (s: string): Html => new Html(s)
