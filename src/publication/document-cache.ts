import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'

const brotliAsync = promisify(brotliCompress)
const gzipAsync = promisify(gzip)
import type { Prisma } from '../db/database.js'
import { databaseUnavailable } from '../db/errors.js'

/** A serialized public document, ready to send: bytes, a strong ETag, and lazily compressed variants. */
export class Document {
  readonly etag: string
  private gz?: Promise<Buffer>
  private br?: Promise<Buffer>
  constructor (readonly body: Buffer, readonly contentType: string, readonly version: bigint, readonly validUntil?: Date) {
    this.etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
  }

  /**
   * The representation for an Accept-Encoding header; each has its own strong ETag (RFC 9110 §8.8.3).
   * Compression runs on the thread pool, once per document and encoding, off the event loop.
   */
  async variant (acceptEncoding: string | undefined): Promise<{ body: Buffer, etag: string, encoding?: 'br' | 'gzip' }> {
    if (this.body.length < 1024 || !acceptEncoding) return { body: this.body, etag: this.etag }
    if (/\bbr\b/.test(acceptEncoding)) {
      this.br ??= brotliAsync(this.body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: this.body.length } })
      return { body: await this.br, etag: this.etag.replace(/"$/, '-br"'), encoding: 'br' }
    }
    if (/\bgzip\b/.test(acceptEncoding)) {
      this.gz ??= gzipAsync(this.body, { level: 6 })
      return { body: await this.gz, etag: this.etag.replace(/"$/, '-gz"'), encoding: 'gzip' }
    }
    return { body: this.body, etag: this.etag }
  }
}

export interface DocumentCacheOptions {
  pollMs?: number
  maxEntries?: number
  /** Told when a document is served from the last good copy because the database is away. */
  onStale?: (key: string) => void
}

/**
 * Documents built once per registry version. Every registry change bumps a counter in the database
 * (same transaction); each instance polls it, so a change made anywhere is served everywhere within
 * one poll interval, and an unchanged document is answered — 304 included — from memory.
 *
 * stale-if-error (RFC 5861's idea, on the server): while the database is away, the last document built
 * for a key is served as it was, so authorisation servers keep their trust anchors (participants, JWKS,
 * keystores, CA bundle, last CRL) through an outage. Once one read has failed, requests do not wait for the
 * database again until a poll finds it back.
 */
export class DocumentCache {
  private current: bigint = -1n
  private stale = true
  private reading?: Promise<bigint> | undefined
  private readonly entries = new Map<string, Document>()
  /** The last document built for each key, whatever its version: what an outage serves. */
  private readonly lastGood = new Map<string, Document>()
  private unavailable = false
  private readonly onStale: ((key: string) => void) | undefined
  private readonly building = new Map<string, Promise<Document>>()
  private timer?: NodeJS.Timeout
  private readonly listeners: Array<() => unknown> = []
  private readonly pollMs: number
  private readonly maxEntries: number

  constructor (private readonly prisma: Prisma, opts: DocumentCacheOptions = {}) {
    this.pollMs = opts.pollMs ?? 250
    this.maxEntries = opts.maxEntries ?? 10_000
    this.onStale = opts.onStale
  }

  /** True while the last version read failed because the database was away. */
  get databaseAway (): boolean { return this.unavailable }

  start (): void {
    // Poll even when idle, so listeners (signing-key reload) hear of changes made elsewhere.
    this.timer ??= setInterval(() => { this.stale = true; this.version().catch(() => { this.stale = true }) }, this.pollMs).unref()
  }

  stop (): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  onVersionChange (listener: () => unknown): void { this.listeners.push(listener) }

  /** The registry version: no database read unless a local change or the poll marked it stale. */
  registryVersion (): Promise<bigint> { return this.version() }

  /** After a local change: the next read checks the version at once (read-your-writes on this instance). */
  markStale (): void { this.stale = true }

  /**
   * The registry version, read again when stale. Callers arriving while a read is in flight wait for
   * that read: it began after the last markStale(), so its answer includes every change they could
   * have made. A markStale() during the read makes the next caller read again.
   */
  private version (): Promise<bigint> {
    if (!this.stale) return this.reading ?? Promise.resolve(this.current)
    this.stale = false
    const read: Promise<bigint> = this.prisma.counter.findUnique({ where: { name: 'registry' } }).then((row) => {
      this.unavailable = false
      const v = row?.value ?? 0n
      if (v !== this.current) {
        const first = this.current === -1n
        this.current = v
        this.entries.clear()
        if (!first) for (const l of this.listeners) l()
      }
      return this.current
    }, (err: unknown) => {
      this.stale = true
      if (databaseUnavailable(err)) this.unavailable = true
      throw err
    }).finally(() => { if (this.reading === read) this.reading = undefined })
    this.reading = read
    return read
  }

  /**
   * The cached document for `key`, rebuilt (once, however many requests wait) when the registry changed;
   * the last good one while the database is away.
   */
  async get (key: string, build: () => Promise<{ body: Buffer | string, contentType: string, validUntil?: Date }>, now = new Date()): Promise<Document> {
    const last = this.lastGood.get(key)
    if (last && this.unavailable) {
      // The poll keeps trying; this request does not wait for it.
      this.onStale?.(key)
      return last
    }
    try {
      return await this.fresh(key, build, now)
    } catch (err) {
      const fallback = this.lastGood.get(key)
      if (!fallback || !databaseUnavailable(err)) throw err
      this.onStale?.(key)
      return fallback
    }
  }

  private async fresh (key: string, build: () => Promise<{ body: Buffer | string, contentType: string, validUntil?: Date }>, now: Date): Promise<Document> {
    const version = await this.version()
    const hit = this.entries.get(key)
    if (hit && hit.version === version && (!hit.validUntil || hit.validUntil > now)) return hit
    const inFlight = this.building.get(key)
    if (inFlight) return inFlight
    const promise = (async () => {
      const built = await build()
      const doc = new Document(Buffer.isBuffer(built.body) ? built.body : Buffer.from(built.body), built.contentType, version, built.validUntil)
      if (version === this.current) {
        if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
        this.entries.set(key, doc)
      }
      this.lastGood.delete(key)
      if (this.lastGood.size >= this.maxEntries) this.lastGood.delete(this.lastGood.keys().next().value!)
      this.lastGood.set(key, doc)
      return doc
    })().finally(() => this.building.delete(key))
    this.building.set(key, promise)
    return promise
  }
}
