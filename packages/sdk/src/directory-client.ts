import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { DirectoryError, type OAuthErrorResponse, type ProblemDetails } from './errors.js';

export interface DirectoryClientOptions {
  /** The directory issuer URL (public listener). */
  issuer: string;
  /** Base URL of the directory's mTLS listener: the token endpoint and the participant API live under it. */
  mtlsBaseUrl: string;
  /** This participant's client id at the directory (from enrolment). */
  clientId: string;
  /** The organisation the client belongs to. */
  orgId: string;
  /** Private key for `private_key_jwt` client assertions: a KeyObject or a PKCS#8 PEM. */
  signingKey: KeyObject | string;
  /** `kid` of the signing key as registered at the directory (put in the assertion header). */
  signingKid?: string;
  /** Assertion algorithm. Default: PS256 for RSA keys, ES256 for P-256 keys. */
  signingAlg?: 'PS256' | 'ES256';
  /** mTLS client key (PEM) issued with the transport certificate. */
  transportKeyPem: string;
  /** mTLS client certificate (PEM, optionally followed by its chain). */
  transportCertPem: string;
  /** CA certificate(s) to trust for the directory's TLS server certificate. */
  caPem: string;
  /** Access-token scope used when a method needs one and none is given. Default `directory:software`. */
  defaultScope?: string;
  /** Milliseconds since the epoch; tests set it instead of sleeping. */
  clock?: () => number;
  /** Request timeout in milliseconds (jose's `timeoutDuration`). Default 30 000. */
  timeoutDuration?: number;
}

/** `POST …/certificates` answer (DESIGN §6). */
export interface IssuedCertificate {
  serial: string;
  type: 'transport' | 'signing';
  /** The issued certificate, PEM. */
  certificate: string;
  /** The issuing CA certificate(s) that follow it, one PEM string each (append them to serve a full chain). */
  chain: string[];
  'x5t#S256': string;
  not_before: string;
  not_after: string;
  status: string;
  [field: string]: unknown;
}

/** RFC 5280 §5.3.1 revocation reasons the directory accepts. */
export type RevocationReason =
  | 'unspecified' | 'keyCompromise' | 'affiliationChanged' | 'superseded' | 'cessationOfOperation' | 'privilegeWithdrawn';

interface CachedToken {
  value: string;
  /** Epoch ms after which the token is not used any more (30 s before its expiry). */
  refreshAt: number;
}

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Do not hand out a token that could expire in flight. */
const EXPIRY_MARGIN_MS = 30_000;
/** RFC 7523 §3: the assertion must expire; a minute is enough to cross the network once. */
const ASSERTION_LIFETIME_S = 60;

function signingAlgFor(key: KeyObject): 'PS256' | 'ES256' {
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return 'PS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new TypeError(`signing key type ${key.asymmetricKeyType} is not usable for PS256 or ES256`);
}

/**
 * A participant's client for the directory (DESIGN §5–§6): mutual TLS with the transport certificate on every call,
 * `private_key_jwt` client authentication (RFC 7523) at the token endpoint, and certificate-bound access tokens
 * (RFC 8705) cached per scope until 30 s before they expire.
 */
export class DirectoryClient {
  readonly issuer: string;
  readonly mtlsBaseUrl: string;
  readonly clientId: string;
  readonly orgId: string;
  readonly tokenEndpoint: string;
  readonly #signingKey: KeyObject;
  readonly #signingAlg: 'PS256' | 'ES256';
  readonly #signingKid: string | undefined;
  readonly #agent: Agent;
  readonly #clock: () => number;
  readonly #timeoutMs: number;
  readonly #defaultScope: string;
  readonly #tokens = new Map<string, CachedToken>();
  readonly #pending = new Map<string, Promise<string>>();

  constructor(options: DirectoryClientOptions) {
    this.issuer = options.issuer;
    this.mtlsBaseUrl = options.mtlsBaseUrl.replace(/\/+$/, '');
    this.clientId = options.clientId;
    this.orgId = options.orgId;
    this.tokenEndpoint = `${this.mtlsBaseUrl}/token`;
    this.#signingKey = typeof options.signingKey === 'string' ? createPrivateKey(options.signingKey) : options.signingKey;
    if (this.#signingKey.type !== 'private') throw new TypeError('signingKey must be a private key');
    this.#signingAlg = options.signingAlg ?? signingAlgFor(this.#signingKey);
    this.#signingKid = options.signingKid;
    this.#clock = options.clock ?? Date.now;
    this.#timeoutMs = options.timeoutDuration ?? 30_000;
    this.#defaultScope = options.defaultScope ?? 'directory:software';
    this.#agent = new Agent({
      connect: { key: options.transportKeyPem, cert: options.transportCertPem, ca: options.caPem },
    });
  }

  /**
   * A certificate-bound access token for `scope`, from the cache while it has more than 30 s left, else from the
   * token endpoint (client credentials grant, `private_key_jwt`, over mTLS). Concurrent callers share one request.
   *
   * @throws {DirectoryError} with the RFC 6749 `{error, error_description}` the token endpoint answered.
   */
  async getAccessToken(scope: string = this.#defaultScope): Promise<string> {
    const cached = this.#tokens.get(scope);
    if (cached !== undefined && this.#clock() < cached.refreshAt) return cached.value;
    let pending = this.#pending.get(scope);
    if (pending === undefined) {
      pending = this.#requestToken(scope).finally(() => this.#pending.delete(scope));
      this.#pending.set(scope, pending);
    }
    return pending;
  }

  /** The SSA of one of this organisation's software statements (compact JWS, `application/jwt`). */
  async getSoftwareStatementAssertion(softwareId: string): Promise<string> {
    const response = await this.#api('GET', `/organisations/${enc(this.orgId)}/software-statements/${enc(softwareId)}/ssa`, undefined, 'application/jwt');
    if (response.mediaType !== 'application/jwt') {
      throw new DirectoryError(`SSA endpoint answered ${response.mediaType || 'no content type'}, expected application/jwt`, { status: response.status });
    }
    return response.body.toString('utf8').trim();
  }

  /**
   * Submits a PKCS#10 CSR; the directory issues a transport or signing certificate for the software statement.
   * `dnsNames` (transport only, organisations with the active data-holder role) adds DNS subject alternative names and
   * the serverAuth extended key usage, so the certificate can also serve TLS (an authorisation or resource server).
   */
  async submitCsr(softwareId: string, type: 'transport' | 'signing', csrPem: string, options: { dnsNames?: string[] } = {}): Promise<IssuedCertificate> {
    const body = { type, csr: csrPem, ...(options.dnsNames !== undefined ? { dns_names: options.dnsNames } : {}) };
    const response = await this.#api('POST', `/organisations/${enc(this.orgId)}/software-statements/${enc(softwareId)}/certificates`, body);
    return response.json() as IssuedCertificate;
  }

  /** Revokes one of the organisation's certificates by serial (hex). */
  async revokeCertificate(serial: string, reason: RevocationReason): Promise<Record<string, unknown> | undefined> {
    const response = await this.#api('POST', `/organisations/${enc(this.orgId)}/certificates/${enc(serial)}/revoke`, { reason });
    return response.body.length === 0 ? undefined : response.json() as Record<string, unknown>;
  }

  /** Forgets cached tokens and closes the mTLS connections. */
  async close(): Promise<void> {
    this.#tokens.clear();
    await this.#agent.close();
  }

  async #clientAssertion(): Promise<string> {
    const now = Math.floor(this.#clock() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: this.#signingAlg, ...(this.#signingKid ? { kid: this.#signingKid } : {}) })
      .setIssuer(this.clientId)
      .setSubject(this.clientId)
      // DESIGN §5 accepts the issuer or the token endpoint; the endpoint URL is the unambiguous one (RFC 7523 §3).
      .setAudience(this.tokenEndpoint)
      .setIssuedAt(now)
      .setExpirationTime(now + ASSERTION_LIFETIME_S)
      .setJti(randomUUID()) // single use: the directory refuses a replayed jti
      .sign(this.#signingKey);
  }

  async #requestToken(scope: string): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await this.#clientAssertion(),
      scope,
    });
    const requestedAt = this.#clock();
    const response = await this.#send('POST', this.tokenEndpoint, {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    }, form.toString());
    if (response.status !== 200) throw errorFrom(response, 'token request');
    const body = response.json() as { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string' || typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
      throw new DirectoryError('token endpoint answer has no Bearer access_token', { status: response.status });
    }
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 0;
    // Measured from when the request was sent, so a slow answer does not stretch the token's life.
    this.#tokens.set(scope, { value: body.access_token, refreshAt: requestedAt + expiresIn * 1000 - EXPIRY_MARGIN_MS });
    return body.access_token;
  }

  async #api(method: 'GET' | 'POST', path: string, json?: unknown, accept = 'application/json'): Promise<RawResponse> {
    const scope = this.#defaultScope;
    for (let attempt = 0; ; attempt += 1) {
      const token = await this.getAccessToken(scope);
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept };
      if (json !== undefined) headers['content-type'] = 'application/json';
      const response = await this.#send(method, `${this.mtlsBaseUrl}${path}`, headers, json === undefined ? undefined : JSON.stringify(json));
      // A 401 means the token is no longer accepted (keys rotated, token revoked): get a fresh one, once.
      if (response.status === 401 && attempt === 0) {
        this.#tokens.delete(scope);
        continue;
      }
      if (response.status < 200 || response.status > 299) throw errorFrom(response, `${method} ${path}`);
      return response;
    }
  }

  async #send(method: 'GET' | 'POST', url: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
    const response = await request(url, {
      method,
      headers,
      body,
      dispatcher: this.#agent,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
    const buffer = Buffer.from(await response.body.arrayBuffer());
    const contentType = response.headers['content-type'];
    const type = ((Array.isArray(contentType) ? contentType[0] : contentType) ?? '').split(';')[0]!.trim().toLowerCase();
    return {
      status: response.statusCode,
      mediaType: type,
      body: buffer,
      json: () => {
        try {
          return JSON.parse(buffer.toString('utf8')) as unknown;
        } catch (cause) {
          throw new DirectoryError(`${method} ${url}: answer is not JSON`, { status: response.statusCode, cause });
        }
      },
    };
  }
}

interface RawResponse {
  status: number;
  mediaType: string;
  body: Buffer;
  json(): unknown;
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function errorFrom(response: RawResponse, what: string): DirectoryError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const object = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Record<string, unknown> : undefined;
  if (response.mediaType === 'application/problem+json' && object) {
    const problem = object as ProblemDetails;
    return new DirectoryError(`${what}: ${problem.detail ?? problem.title ?? `HTTP ${response.status}`}`, { status: response.status, problem });
  }
  if (object && typeof object.error === 'string') {
    const oauthError = object as OAuthErrorResponse;
    return new DirectoryError(`${what}: ${oauthError.error}${oauthError.error_description ? ` (${oauthError.error_description})` : ''}`, { status: response.status, oauthError });
  }
  return new DirectoryError(`${what}: HTTP ${response.status}`, { status: response.status });
}
