import { createHash } from 'node:crypto'
import type { Sql } from '../db/sql.js'

/** A signed OCSP response produced ahead of the requests that will ask for it (RFC 5019 §2.2, §6.2). */
export interface PreparedOcspResponse {
  der: Buffer
  /** Strong ETag over the response bytes (RFC 5019 §6.2). */
  etag: string
  thisUpdate: Date
  nextUpdate: Date
}

interface Entry extends PreparedOcspResponse {
  /** The participant certificate's serial, or undefined for a CA or listener certificate (never revoked here). */
  serial: string | undefined
  status: 'good' | 'revoked'
  /** The registry version the status was read under. */
  version: bigint
}

/**
 * Pre-produced OCSP responses (RFC 5019) for requests without a nonce about one certificate, keyed by the
 * request's bytes, served from memory until half their validity has passed. A revocation anywhere bites on
 * the next request: every change to certificate status bumps the registry version in its own transaction,
 * and before answering from memory the responder checks that version (no database read unless a local write
 * or the poll marked it stale); when it moved, the cached serials' status is read again in one query and
 * every entry whose status changed is dropped. Unknown certificates are never cached, so requests for made-up
 * serials cannot crowd out real ones.
 */
export class OcspCache {
  private readonly entries = new Map<string, Entry>()
  private version = -1n
  private checking?: Promise<void>

  constructor (private readonly d: { sql: Sql, registryVersion: () => Promise<bigint>, maxEntries?: number }) {}

  /**
   * The current registry version, after any revalidation it called for; undefined when the version kept moving
   * through three revalidations (a stream of writes): that request is then answered afresh, not from memory.
   */
  async current (): Promise<bigint | undefined> {
    let v = await this.d.registryVersion()
    for (let i = 0; i < 3 && v !== this.version; i++) {
      this.checking ??= this.revalidate(v).finally(() => { this.checking = undefined })
      await this.checking
      v = await this.d.registryVersion()
    }
    return v === this.version ? v : undefined
  }

  get (key: string, now: Date): PreparedOcspResponse | undefined {
    const e = this.entries.get(key)
    if (!e) return undefined
    // Refreshed at half-life (RFC 5019 §6.2: a response is good until nextUpdate; make the next one early).
    if (now.getTime() >= e.thisUpdate.getTime() + (e.nextUpdate.getTime() - e.thisUpdate.getTime()) / 2 || now < e.thisUpdate) {
      this.entries.delete(key)
      return undefined
    }
    return e
  }

  /** Keeps a response produced from a status read under `version`; one read under an older version is dropped. */
  put (key: string, response: { der: Buffer, thisUpdate: Date, nextUpdate: Date }, meta: { serial: string | undefined, status: 'good' | 'revoked', version: bigint }): PreparedOcspResponse {
    const prepared = { ...response, etag: `"${createHash('sha256').update(response.der).digest('base64url').slice(0, 27)}"` }
    if (meta.version !== this.version) return prepared
    const max = this.d.maxEntries ?? 20_000
    if (this.entries.size >= max) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, { ...prepared, ...meta })
    return prepared
  }

  /** Forgets what it holds about one certificate (the instance that revoked it calls this at once). */
  forget (serial: string): void {
    for (const [k, e] of this.entries) if (e.serial === serial) this.entries.delete(k)
  }

  private async revalidate (version: bigint): Promise<void> {
    const serials = [...new Set([...this.entries.values()].map((e) => e.serial).filter((s): s is string => s !== undefined))]
    const status = new Map<string, string>()
    if (serials.length > 0) {
      const rows = await this.d.sql.query<{ serial: string, status: string }>(
        'SELECT serial, status::text AS status FROM certificates WHERE serial = ANY($1::text[])', [serials], 'ocsp_revalidate')
      for (const r of rows) status.set(r.serial, r.status === 'revoked' ? 'revoked' : 'good')
    }
    for (const [k, e] of this.entries) {
      if (e.serial !== undefined && status.get(e.serial) !== e.status) this.entries.delete(k)
      else e.version = version
    }
    this.version = version
  }
}
