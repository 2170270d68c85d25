import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import $RefParser from '@apidevtools/json-schema-ref-parser'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { parse } from 'yaml'

// The official OpenAPI documents live in shared/specs beside the repository (CI clones it there).
// From a worktree nested deeper, the nearest ancestor that has shared/specs is used.
const repoRoot = resolve(import.meta.dirname, '../..')
function specsDir (): string {
  for (let dir = dirname(repoRoot); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'specs')
    if (existsSync(candidate)) return candidate
    if (dirname(dir) === dir) throw new Error(`no shared/specs beside ${repoRoot} or above it`)
  }
}

type Json = Record<string, any>

/** A response to check against one operation of a specification. */
export interface Observed { status: number, headers: Record<string, unknown>, body?: string }

/**
 * One official OpenAPI 3.0 document, dereferenced, with ajv compiling the schemas of the responses.
 * OpenAPI 3.0's `nullable` is understood by ajv itself; `example` and `x-*` annotations are ignored.
 */
export class Spec {
  private readonly cache = new Map<object, ValidateFunction>()
  private readonly ajv: Ajv
  constructor (readonly name: string, readonly doc: Json) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true })
    addFormats.default(this.ajv)
    for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password']) this.ajv.addFormat(f, true)
  }

  private validator (schema: object): ValidateFunction {
    let v = this.cache.get(schema)
    if (!v) { v = this.ajv.compile(schema); this.cache.set(schema, v) }
    return v
  }

  operation (path: string, method: string): Json {
    const item = this.doc.paths?.[path]
    if (!item) throw new Error(`${this.name}: no path ${path}`)
    const op = item[method.toLowerCase()]
    if (!op) throw new Error(`${this.name}: no ${method} ${path}`)
    return { ...op, parameters: [...(item.parameters ?? []), ...(op.parameters ?? [])] }
  }

  /** Every way the response departs from the document: status, required headers, header and body schemas. */
  problems (path: string, method: string, res: Observed): string[] {
    const op = this.operation(path, method)
    const declared = op.responses?.[String(res.status)] ?? op.responses?.default
    if (!declared) return [`status ${res.status} is not declared for ${method.toUpperCase()} ${path} (declared: ${Object.keys(op.responses ?? {}).join(', ')})`]
    const out: string[] = []
    for (const [name, h] of Object.entries<Json>(declared.headers ?? {})) {
      const value = res.headers[name.toLowerCase()]
      if (value === undefined) {
        if (h.required) out.push(`header ${name} is required`)
        continue
      }
      const schema = h.schema ?? {}
      const typed = schema.type === 'integer' || schema.type === 'number' ? Number(value) : value
      const v = this.validator(schema)
      if (!v(typed)) out.push(`header ${name}=${String(value)}: ${this.ajv.errorsText(v.errors)}`)
    }
    const content = declared.content as Json | undefined
    if (!content) return out
    const type = String(res.headers['content-type'] ?? '').split(';')[0]!.trim()
    const media = content[type]
    if (!media) return [...out, `content-type ${type || '(none)'} is not declared (declared: ${Object.keys(content).join(', ')})`]
    if (!media.schema) return out
    let body: unknown = res.body
    if (/json/.test(type) && media.schema.type !== 'string') {
      try { body = JSON.parse(res.body ?? '') } catch { return [...out, 'body is not JSON'] }
    }
    const v = this.validator(media.schema)
    if (!v(body)) out.push(...(v.errors ?? []).map((e) => `body${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`))
    return out
  }
}

const loaded = new Map<string, Promise<Spec>>()

/** Loads and dereferences shared/specs/<file> once per process. */
export function loadSpec (file: string): Promise<Spec> {
  let p = loaded.get(file)
  if (!p) {
    p = (async () => {
      const raw = parse(readFileSync(join(specsDir(), file), 'utf8')) as Json
      const doc = await $RefParser.dereference(raw, { dereference: { circular: 'ignore' } }) as Json
      return new Spec(file, doc)
    })()
    loaded.set(file, p)
  }
  return p
}

/** A response from app.inject or undici, in the shape the checker reads. */
export const observed = (r: { statusCode?: number, status?: number, headers: Record<string, unknown>, body?: string, text?: string }): Observed =>
  ({ status: r.statusCode ?? r.status!, headers: r.headers, body: r.body ?? r.text ?? '' })
