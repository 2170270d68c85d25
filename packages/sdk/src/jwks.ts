import { createPublicKey, type JsonWebKeyInput, type KeyObject } from 'node:crypto';
import { SoftwareStatementError } from './errors.js';
import { fetchDocument, type FetchOptions } from './http.js';

export interface DirectoryKeySetOptions extends FetchOptions {
  /** The directory's JWKS (`{issuer}/jwks`). */
  jwksUri: string;
  /**
   * Never fetch the JWKS more often than this many milliseconds, whatever `kid`s arrive (as jose's
   * `cooldownDuration`): an attacker sending SSAs with random `kid`s must not turn the verifier into a request
   * amplifier against the directory. Default 30 000.
   */
  cooldownDuration?: number;
  /**
   * Refetch a key set older than this many milliseconds before using it (as jose's `cacheMaxAge`). Default 600 000
   * (the directory's rotation overlap is longer).
   */
  cacheMaxAge?: number;
  /** Milliseconds since the epoch; tests set it instead of sleeping. */
  clock?: () => number;
}

export interface DirectoryKey {
  kid: string;
  /** The `alg` the JWK declares, when it declares one. */
  alg: string | undefined;
  key: KeyObject;
}

/**
 * The directory's public signing keys, fetched from its JWKS and indexed by `kid` (RFC 7638 thumbprint).
 * Holds the last good key set: a failed refresh keeps serving it, so a directory outage does not stop registrations
 * signed with keys already known.
 */
export class DirectoryKeySet {
  readonly jwksUri: string;
  readonly #options: DirectoryKeySetOptions;
  readonly #clock: () => number;
  readonly #cooldownDuration: number;
  readonly #cacheMaxAge: number;
  #keys: Map<string, DirectoryKey> | undefined;
  #loadedAt = Number.NEGATIVE_INFINITY;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;

  constructor(options: DirectoryKeySetOptions) {
    this.jwksUri = options.jwksUri;
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#cooldownDuration = options.cooldownDuration ?? 30_000;
    this.#cacheMaxAge = options.cacheMaxAge ?? 600_000;
  }

  /** True once a key set has been loaded. */
  get loaded(): boolean {
    return this.#keys !== undefined;
  }

  /** True while a fetch is in flight. */
  get refreshing(): boolean {
    return this.#inflight !== undefined;
  }

  /** Whether the rate limit allows a fetch now. */
  get mayRefresh(): boolean {
    return this.#clock() - this.#lastAttemptAt >= this.#cooldownDuration;
  }

  /** Fetches the JWKS now (one request at a time); throws ERR_JWKS_FETCH and keeps the previous keys on failure. */
  refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** The key for `kid` from the keys already loaded, without I/O. */
  getKeySync(kid: string): DirectoryKey | undefined {
    return this.#keys?.get(kid);
  }

  /**
   * The key for `kid`, loading the set if it is absent or stale, and refetching once when the `kid` is unknown
   * (the directory may have rotated) unless a fetch happened less than `cooldownDuration` ago.
   */
  async getKey(kid: string): Promise<DirectoryKey | undefined> {
    if (this.#keys === undefined || this.#clock() - this.#loadedAt > this.#cacheMaxAge) {
      if (this.mayRefresh || this.#keys === undefined) {
        await this.#refreshKeepingStale();
      }
    }
    let found = this.#keys?.get(kid);
    if (found === undefined && this.mayRefresh) {
      await this.#refreshKeepingStale();
      found = this.#keys?.get(kid);
    }
    return found;
  }

  /** Refresh; when an older key set exists, a failure is not fatal (stale-if-error). */
  async #refreshKeepingStale(): Promise<void> {
    try {
      await this.refresh();
    } catch (error) {
      if (this.#keys === undefined) throw error;
    }
  }

  async #fetch(): Promise<void> {
    this.#lastAttemptAt = this.#clock();
    let document: unknown;
    try {
      const response = await fetchDocument(this.jwksUri, { ...this.#options, headers: { accept: 'application/json' } });
      if (response.status !== 200) {
        throw new Error(`HTTP ${response.status}`);
      }
      document = JSON.parse(response.body.toString('utf8'));
    } catch (cause) {
      throw new SoftwareStatementError('ERR_JWKS_FETCH', `directory JWKS ${this.jwksUri} could not be loaded: ${(cause as Error).message}`, { cause });
    }
    const keys = (document as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) {
      throw new SoftwareStatementError('ERR_JWKS_FETCH', `directory JWKS ${this.jwksUri} has no "keys" array`);
    }
    const indexed = new Map<string, DirectoryKey>();
    for (const jwk of keys as Array<Record<string, unknown>>) {
      // Only public signature keys with a kid can verify an SSA; anything else is skipped, not fatal, so one odd key
      // in the set (an encryption key, a future key type) does not take the whole ecosystem down.
      if (typeof jwk !== 'object' || jwk === null || typeof jwk.kid !== 'string') continue;
      if (jwk.use !== undefined && jwk.use !== 'sig') continue;
      if ('d' in jwk) continue; // a private key published by mistake is not something to trust
      try {
        const key = createPublicKey({ key: jwk as JsonWebKeyInput['key'], format: 'jwk' });
        indexed.set(jwk.kid, { kid: jwk.kid, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined, key });
      } catch {
        continue;
      }
    }
    this.#keys = indexed;
    this.#loadedAt = this.#clock();
  }
}
