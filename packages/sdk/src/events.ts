import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { FetchOptions } from './http.js';
import { DirectoryKeySet } from './jwks.js';

/**
 * Receiving the directory's change events: Security Event Tokens (RFC 8417) pushed to your endpoint (RFC 8935) or read
 * from its feed. A SET is verified against the directory's JWKS — signature, `typ` `secevent+jwt`, `iss`, `aud`,
 * `iat` inside a window — and deduplicated by `jti`, because delivery is at-least-once.
 */

/** RFC 8935 §2.3 error codes, as a receiver answers a push it refuses. */
export type SetErrorCode = 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience' | 'authentication_failed' | 'access_denied';

export type SecurityEventErrorCode =
  /** Not a compact JWS, undecodable, `typ` is not `secevent+jwt`, or a required claim (`jti`, `iat`, `events`) is absent or mistyped. */
  | 'ERR_SET_MALFORMED'
  /** The JWS `alg` is outside the allow-list (PS256, ES256 by default). */
  | 'ERR_SET_ALG'
  /** No directory key with the SET's `kid`, even after refreshing the JWKS. */
  | 'ERR_SET_UNKNOWN_KID'
  /** The signature does not verify with the directory key. */
  | 'ERR_SET_SIGNATURE'
  /** `iss` is not the directory issuer. */
  | 'ERR_SET_ISSUER'
  /** `aud` is not this receiver. */
  | 'ERR_SET_AUDIENCE'
  /** `iat` is older than `maxTokenAge`: outside the window in which `jti`s are remembered, so a replay could not be told apart. */
  | 'ERR_SET_TOO_OLD'
  /** `iat` is in the future beyond the clock tolerance. */
  | 'ERR_SET_NOT_YET_VALID';

const setErrorOf: Record<SecurityEventErrorCode, SetErrorCode> = {
  ERR_SET_MALFORMED: 'invalid_request',
  ERR_SET_ALG: 'invalid_request',
  ERR_SET_UNKNOWN_KID: 'invalid_key',
  ERR_SET_SIGNATURE: 'authentication_failed',
  ERR_SET_ISSUER: 'invalid_issuer',
  ERR_SET_AUDIENCE: 'invalid_audience',
  ERR_SET_TOO_OLD: 'invalid_request',
  ERR_SET_NOT_YET_VALID: 'invalid_request',
};

/** Why a SET was refused; `setError` is the RFC 8935 code a push receiver answers with. */
export class SecurityEventError extends Error {
  override readonly name = 'SecurityEventError';
  readonly code: SecurityEventErrorCode;
  readonly setError: SetErrorCode;

  constructor(code: SecurityEventErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.setError = setErrorOf[code];
  }
}

/** One verified change event. */
export interface SecurityEvent {
  /** The event's id: the same on every retry of it. */
  jti: string;
  iss: string;
  /** Seconds since the epoch: when the change was made. */
  iat: number;
  /** The event type URI (`urn:ecosystem-directory:event:…`), the one member of `events`. */
  type: string;
  /** The event's payload (`events[type]`). */
  event: Record<string, unknown>;
  /** RFC 9493 subject identifier of what changed. */
  subject: { format: string; id?: string; [member: string]: unknown } | undefined;
  /** The directory's event sequence (decimal string): each subscription receives its events in this order. */
  seq: string | undefined;
  claims: JWTPayload;
}

/**
 * Where seen `jti`s are kept. `add` must be atomic (check and record in one step, as Redis `SET NX` or a unique key in a
 * database), so that several receiver processes sharing the store accept a SET once.
 */
export interface JtiStore {
  /** Records `jti` until `expiresAt` (ms since the epoch); false when it was recorded already (a duplicate). */
  add(jti: string, expiresAt: number): boolean | Promise<boolean>;
  /** Forgets `jti`: called when handling the event failed, so the directory's retry is handled again. */
  delete?(jti: string): void | Promise<void>;
}

/** A `JtiStore` in this process's memory, pruned of expired entries; for one receiver process. */
export class MemoryJtiStore implements JtiStore {
  readonly #seen = new Map<string, number>();
  readonly #clock: () => number;
  readonly #maxEntries: number;

  constructor(options: { clock?: () => number; maxEntries?: number } = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  get size(): number {
    return this.#seen.size;
  }

  add(jti: string, expiresAt: number): boolean {
    const now = this.#clock();
    const known = this.#seen.get(jti);
    if (known !== undefined && known > now) return false;
    if (this.#seen.size >= this.#maxEntries) this.#prune(now);
    // Still full of live entries: forget the oldest rather than grow without bound (the iat window still refuses
    // anything older than maxTokenAge).
    if (this.#seen.size >= this.#maxEntries) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(jti, expiresAt);
    return true;
  }

  delete(jti: string): void {
    this.#seen.delete(jti);
  }

  #prune(now: number): void {
    for (const [jti, expiresAt] of this.#seen) if (expiresAt <= now) this.#seen.delete(jti);
  }
}

export interface SecurityEventReceiverOptions extends FetchOptions {
  /** The directory's issuer (`iss` of its SETs), e.g. `https://directory.example`. */
  issuer: string;
  /** This receiver: your organisation id, the `aud` of the SETs the directory sends you. */
  audience: string;
  /** The directory JWKS. Default `{issuer}/jwks`. */
  jwksUri?: string;
  /** A key set to share with other verifiers (the SSA verifier); made from `jwksUri` when absent. */
  keySet?: DirectoryKeySet;
  /**
   * Refuse SETs whose `iat` is older than this, and remember `jti`s this long. The directory retries a delivery for a
   * day by default and a SET's `iat` is the time of the change, so keep it longer than the directory's retry window.
   * Default 172 800 s (2 days).
   */
  maxTokenAge?: number;
  /** Allowed clock skew for `iat` in the future. Default 60 s. */
  clockTolerance?: number;
  /** Allowed JWS algorithms. Default PS256 and ES256 (the directory's). */
  algorithms?: string[];
  /** Where seen `jti`s are kept. Default a {@link MemoryJtiStore}. */
  jtiStore?: JtiStore;
  /** Milliseconds since the epoch; tests set it instead of sleeping. */
  clock?: () => number;
}

/** What a push endpoint answers (RFC 8935 §2.2, §2.3). */
export interface PushAnswer {
  status: 202 | 400 | 500 | 503;
  body?: { err: string; description: string };
  /** The verified event, when the SET verified (a duplicate included). */
  event?: SecurityEvent;
  duplicate?: boolean;
}

export type SecurityEventHandler = (event: SecurityEvent) => unknown;

const MAX_SET_BYTES = 64 * 1024;
const SET_MEDIA_TYPE = 'application/secevent+jwt';

/**
 * Verifies the directory's SETs and deduplicates them by `jti`; {@link nodeHandler} and {@link fastifyPlugin} make
 * an RFC 8935 push endpoint of it for `node:http` and Fastify.
 */
export class SecurityEventReceiver {
  readonly keySet: DirectoryKeySet;
  readonly #options: SecurityEventReceiverOptions;
  readonly #store: JtiStore;
  readonly #clock: () => number;
  readonly #maxAge: number;
  readonly #tolerance: number;
  readonly #algorithms: string[];

  constructor(options: SecurityEventReceiverOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    // The transport options (dispatcher, timeout) pass through to the key set as they are.
    this.keySet = options.keySet ?? new DirectoryKeySet({
      ...options, jwksUri: options.jwksUri ?? `${options.issuer.replace(/\/$/, '')}/jwks`, clock: this.#clock,
    });
    this.#store = options.jtiStore ?? new MemoryJtiStore({ clock: this.#clock });
    this.#maxAge = options.maxTokenAge ?? 172_800;
    this.#tolerance = options.clockTolerance ?? 60;
    this.#algorithms = options.algorithms ?? ['PS256', 'ES256'];
  }

  /**
   * Verifies one SET: signature against the directory JWKS, `typ`, `alg`, `iss`, `aud`, `iat` window, `jti` and
   * `events`. Throws {@link SecurityEventError}; a JWKS that cannot be loaded throws the key set's `ERR_JWKS_FETCH`.
   * Does not deduplicate: {@link receive} does.
   */
  async verify(set: string): Promise<SecurityEvent> {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(set);
    } catch (cause) {
      throw new SecurityEventError('ERR_SET_MALFORMED', 'not a compact JWS with a decodable header', { cause });
    }
    // RFC 8417 §2.3: "secevent+jwt", the "application/" prefix omitted (RFC 7515 §4.1.9 allows it, case-insensitively).
    if (typeof header.typ !== 'string' || header.typ.toLowerCase().replace(/^application\//, '') !== 'secevent+jwt') {
      throw new SecurityEventError('ERR_SET_MALFORMED', `typ must be "secevent+jwt", got ${JSON.stringify(header.typ)}`);
    }
    if (typeof header.alg !== 'string' || !this.#algorithms.includes(header.alg)) {
      throw new SecurityEventError('ERR_SET_ALG', `alg ${JSON.stringify(header.alg)} is not allowed (${this.#algorithms.join(', ')})`);
    }
    if (typeof header.kid !== 'string') throw new SecurityEventError('ERR_SET_MALFORMED', 'the header has no kid');
    const key = await this.keySet.getKey(header.kid);
    if (!key) throw new SecurityEventError('ERR_SET_UNKNOWN_KID', `no directory key with kid ${header.kid}`);
    if (key.alg !== undefined && key.alg !== header.alg) {
      throw new SecurityEventError('ERR_SET_ALG', `alg ${header.alg} does not match the key's ${key.alg}`);
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(set, key.key, {
        issuer: this.#options.issuer, audience: this.#options.audience, algorithms: this.#algorithms,
        currentDate: new Date(this.#clock()), clockTolerance: this.#tolerance,
      }));
    } catch (cause) {
      throw joseFailure(cause);
    }
    const now = Math.floor(this.#clock() / 1000);
    if (typeof claims.iat !== 'number') throw new SecurityEventError('ERR_SET_MALFORMED', 'iat is missing or not a number');
    if (claims.iat > now + this.#tolerance) throw new SecurityEventError('ERR_SET_NOT_YET_VALID', `iat ${claims.iat} is in the future`);
    if (now - claims.iat > this.#maxAge) throw new SecurityEventError('ERR_SET_TOO_OLD', `iat ${claims.iat} is older than ${this.#maxAge} s`);
    if (typeof claims.jti !== 'string' || claims.jti === '') throw new SecurityEventError('ERR_SET_MALFORMED', 'jti is missing');
    const events = claims.events;
    if (typeof events !== 'object' || events === null || Array.isArray(events)) throw new SecurityEventError('ERR_SET_MALFORMED', 'events is missing or not an object');
    const types = Object.keys(events);
    if (types.length !== 1) throw new SecurityEventError('ERR_SET_MALFORMED', `events must hold one event, it holds ${types.length}`);
    const type = types[0]!;
    const event = (events as Record<string, unknown>)[type];
    if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new SecurityEventError('ERR_SET_MALFORMED', `events["${type}"] is not an object`);
    const subject = claims.sub_id;
    return {
      jti: claims.jti, iss: claims.iss!, iat: claims.iat, type, event: event as Record<string, unknown>,
      subject: typeof subject === 'object' && subject !== null && typeof (subject as { format?: unknown }).format === 'string'
        ? subject as SecurityEvent['subject'] : undefined,
      seq: typeof claims.seq === 'string' ? claims.seq : undefined,
      claims,
    };
  }

  /**
   * Verifies, deduplicates and hands a pushed SET to `onEvent`, and says what to answer: 202 when accepted (a duplicate
   * is acknowledged without calling `onEvent` again); 400 with the RFC 8935 error when refused; 503 when the JWKS
   * cannot be loaded and 500 when `onEvent` throws, so the directory retries.
   */
  async receive(set: string, onEvent: SecurityEventHandler): Promise<PushAnswer> {
    let event: SecurityEvent;
    try {
      event = await this.verify(set.trim());
    } catch (error) {
      if (error instanceof SecurityEventError) return { status: 400, body: { err: error.setError, description: error.message } };
      return { status: 503, body: { err: 'temporarily_unavailable', description: 'the directory keys could not be loaded' } };
    }
    const expiresAt = (event.iat + this.#maxAge + this.#tolerance) * 1000;
    if (!(await this.#store.add(event.jti, expiresAt))) return { status: 202, event, duplicate: true };
    try {
      await onEvent(event);
    } catch {
      await this.#store.delete?.(event.jti);
      return { status: 500, body: { err: 'internal_error', description: 'the event could not be handled' } };
    }
    return { status: 202, event, duplicate: false };
  }

  /** A `node:http` request listener for the push endpoint: POST `application/secevent+jwt`, at most 64 KiB. */
  nodeHandler(onEvent: SecurityEventHandler): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      const answer = (a: Pick<PushAnswer, 'status' | 'body'>): void => {
        if (!a.body) {
          res.writeHead(a.status).end();
          return;
        }
        res.writeHead(a.status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(a.body));
      };
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        answer({ status: 400, body: { err: 'invalid_request', description: 'POST a SET' } });
        req.resume();
        return;
      }
      if ((req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() !== SET_MEDIA_TYPE) {
        answer({ status: 400, body: { err: 'invalid_request', description: `Content-Type must be ${SET_MEDIA_TYPE}` } });
        req.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_SET_BYTES && !refused) {
          refused = true;
          answer({ status: 400, body: { err: 'invalid_request', description: `a SET is at most ${MAX_SET_BYTES} bytes` } });
          req.destroy();
        } else if (!refused) chunks.push(chunk);
      });
      req.on('end', () => {
        if (refused) return;
        this.receive(Buffer.concat(chunks).toString('utf8'), onEvent).then(answer, () => answer({ status: 500, body: { err: 'internal_error', description: 'the event could not be handled' } }));
      });
    };
  }

  /**
   * A Fastify plugin serving the push endpoint at `path` (POST `application/secevent+jwt`):
   * `app.register(receiver.fastifyPlugin({ path: '/events', onEvent }))`. The SET content type is parsed only inside
   * the plugin's own context.
   */
  fastifyPlugin(options: { path: string; onEvent: SecurityEventHandler }): (app: FastifyLike) => Promise<void> {
    return async (app) => {
      app.addContentTypeParser(SET_MEDIA_TYPE, { parseAs: 'string', bodyLimit: MAX_SET_BYTES }, (_request, body, done) => done(null, body));
      app.post(options.path, async (request, reply) => {
        const result = await this.receive(typeof request.body === 'string' ? request.body : '', options.onEvent);
        reply.code(result.status);
        if (!result.body) return reply.send();
        reply.header('cache-control', 'no-store');
        return reply.send(result.body);
      });
    };
  }
}

/** The part of a Fastify instance the plugin uses (the SDK does not depend on Fastify). */
export interface FastifyLike {
  addContentTypeParser(
    contentType: string,
    options: { parseAs: 'string'; bodyLimit: number },
    parser: (request: unknown, body: string, done: (error: Error | null, body?: unknown) => void) => void,
  ): void;
  post(path: string, handler: (request: { body: unknown }, reply: FastifyReplyLike) => Promise<unknown>): unknown;
}

export interface FastifyReplyLike {
  code(status: number): unknown;
  header(name: string, value: string): unknown;
  send(body?: unknown): unknown;
}

function joseFailure(cause: unknown): SecurityEventError {
  if (cause instanceof joseErrors.JWSSignatureVerificationFailed) return new SecurityEventError('ERR_SET_SIGNATURE', 'the signature does not verify', { cause });
  if (cause instanceof joseErrors.JOSEAlgNotAllowed) return new SecurityEventError('ERR_SET_ALG', (cause as Error).message, { cause });
  if (cause instanceof joseErrors.JWTClaimValidationFailed) {
    if (cause.claim === 'iss') return new SecurityEventError('ERR_SET_ISSUER', `iss ${JSON.stringify(cause.payload.iss)} is not the directory`, { cause });
    if (cause.claim === 'aud') return new SecurityEventError('ERR_SET_AUDIENCE', `aud ${JSON.stringify(cause.payload.aud)} is not this receiver`, { cause });
    if (cause.claim === 'iat') return new SecurityEventError('ERR_SET_NOT_YET_VALID', cause.message, { cause });
  }
  return new SecurityEventError('ERR_SET_MALFORMED', `the SET does not verify: ${(cause as Error).message}`, { cause });
}
