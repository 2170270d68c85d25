import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { Agent, request } from 'undici';
import type { z } from 'zod';
import {
  authorisationServerRecord, certificateListItem, enrolmentResult, issuedCertificate, organisationRecord,
  softwareStatementRecord, type AuthorisationServerRecord, type CertificateListItem, type EnrolmentResult,
  type IssuedCertificate, type OrganisationRecord, type RevocationReason, type SoftwareStatementRecord,
} from './contract.js';
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
  /** Access-token scope of the participant API calls. Default `directory:read directory:software`. */
  defaultScope?: string;
  /** Milliseconds since the epoch; tests set it instead of sleeping. */
  clock?: () => number;
  /** Request timeout in milliseconds (jose's `timeoutDuration`). Default 30 000. */
  timeoutDuration?: number;
}

export type { IssuedCertificate, CertificateListItem, RevocationReason } from './contract.js';

/** Fields of a new software statement (`POST …/software-statements`); the directory fills in ids and versions. */
export interface SoftwareStatementCreate {
  client_name: string;
  client_description?: string;
  client_uri?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  redirect_uris: string[];
  roles: string[];
  mode?: 'live' | 'test';
  token_endpoint_auth_method?: 'private_key_jwt' | 'tls_client_auth';
  environment?: string;
  on_behalf_of?: string;
}

/** A change to a software statement (`PATCH`); `null` removes an optional field. */
export type SoftwareStatementPatch = {
  [K in keyof SoftwareStatementCreate]?: SoftwareStatementCreate[K] | (undefined extends SoftwareStatementCreate[K] ? null : never);
} & { status?: 'active' | 'inactive' | 'removed' };

export interface AuthorisationServerCreate {
  issuer: string;
  discovery_url: string;
  customer_friendly_name: string;
  logo_uri?: string;
  api_resources?: Array<{ family: string; version: string; base_url: string; discovery_endpoints?: string[] }>;
}

export type AuthorisationServerPatch = Partial<Omit<AuthorisationServerCreate, 'issuer' | 'logo_uri'>> & { logo_uri?: string | null };

/** What a participant brings to `POST {issuer}/enrol`: the one-time code, a transport CSR and its public keys. */
export interface EnrolmentRequest {
  /** The directory issuer URL (public listener). */
  issuer: string;
  /** The one-time enrolment code the operator handed over. */
  code: string;
  /** PKCS#10 CSR (PEM) for the transport certificate. */
  csrPem: string;
  /** The public keys (JWKS) the client will sign `private_key_jwt` assertions with. */
  jwks: { keys: Array<Record<string, unknown>> };
  /** CA certificate(s) to trust when the issuer URL is https. */
  caPem?: string;
  /** Request timeout in milliseconds. Default 30 000. */
  timeoutDuration?: number;
}

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
    this.#defaultScope = options.defaultScope ?? 'directory:read directory:software';
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
   * Enrolment (DESIGN §5), before a participant has any credentials: trades the one-time code, a transport CSR and the
   * client's public keys for its client id and first transport certificate, on the public listener.
   *
   * @throws {DirectoryError} with the problem+json the directory answered (an unknown, used or expired code is 4xx).
   */
  static async enrol(enrolment: EnrolmentRequest): Promise<EnrolmentResult> {
    const agent = enrolment.caPem ? new Agent({ connect: { ca: enrolment.caPem } }) : undefined;
    const timeout = enrolment.timeoutDuration ?? 30_000;
    try {
      const url = `${enrolment.issuer.replace(/\/+$/, '')}/enrol`;
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ code: enrolment.code, csr: enrolment.csrPem, jwks: enrolment.jwks }),
        headersTimeout: timeout,
        bodyTimeout: timeout,
        ...(agent ? { dispatcher: agent } : {}),
      });
      const raw = toRaw(response.statusCode, response.headers['content-type'], Buffer.from(await response.body.arrayBuffer()), 'POST', url);
      if (raw.status !== 201) throw errorFrom(raw, 'POST /enrol');
      return decode(enrolmentResult, raw, 'POST /enrol');
    } finally {
      await agent?.close();
    }
  }

  /** This participant's organisation record. */
  async getOrganisation(): Promise<OrganisationRecord> {
    return this.#json('GET', this.#org(''), organisationRecord);
  }

  async listSoftwareStatements(): Promise<SoftwareStatementRecord[]> {
    return this.#json('GET', this.#org('/software-statements'), softwareStatementRecord.array());
  }

  /** Registers a software statement; the directory answers with its `software_id` and keystore `jwks_uri`. */
  async createSoftwareStatement(fields: SoftwareStatementCreate): Promise<SoftwareStatementRecord> {
    return this.#json('POST', this.#org('/software-statements'), softwareStatementRecord, fields);
  }

  async getSoftwareStatement(softwareId: string): Promise<SoftwareStatementRecord> {
    return this.#json('GET', this.#org(`/software-statements/${enc(softwareId)}`), softwareStatementRecord);
  }

  /** Changes a software statement (each change bumps its `version`, which the next SSA carries). */
  async updateSoftwareStatement(softwareId: string, patch: SoftwareStatementPatch): Promise<SoftwareStatementRecord> {
    return this.#json('PATCH', this.#org(`/software-statements/${enc(softwareId)}`), softwareStatementRecord, patch);
  }

  async listAuthorisationServers(): Promise<AuthorisationServerRecord[]> {
    return this.#json('GET', this.#org('/authorisation-servers'), authorisationServerRecord.array());
  }

  /** Publishes an authorisation server (organisations with the data-holder role) in `/participants`. */
  async createAuthorisationServer(fields: AuthorisationServerCreate): Promise<AuthorisationServerRecord> {
    return this.#json('POST', this.#org('/authorisation-servers'), authorisationServerRecord, fields);
  }

  async getAuthorisationServer(serverId: string): Promise<AuthorisationServerRecord> {
    return this.#json('GET', this.#org(`/authorisation-servers/${enc(serverId)}`), authorisationServerRecord);
  }

  async updateAuthorisationServer(serverId: string, patch: AuthorisationServerPatch): Promise<AuthorisationServerRecord> {
    return this.#json('PATCH', this.#org(`/authorisation-servers/${enc(serverId)}`), authorisationServerRecord, patch);
  }

  /**
   * Submits a PKCS#10 CSR; the directory issues a transport or signing certificate for the software statement.
   * `dnsNames` (transport only, organisations with the active data-holder role) adds DNS subject alternative names and
   * the serverAuth extended key usage, so the certificate can also serve TLS (an authorisation or resource server).
   */
  async submitCsr(softwareId: string, type: 'transport' | 'signing', csrPem: string, options: { dnsNames?: string[] } = {}): Promise<IssuedCertificate> {
    const body = { type, csr: csrPem, ...(options.dnsNames !== undefined ? { dns_names: options.dnsNames } : {}) };
    return this.#json('POST', this.#org(`/software-statements/${enc(softwareId)}/certificates`), issuedCertificate, body);
  }

  /** Every certificate of the organisation (enrolment, transport, signing), revoked ones with time and reason. */
  async listCertificates(): Promise<CertificateListItem[]> {
    return this.#json('GET', this.#org('/certificates'), certificateListItem.array());
  }

  /** Revokes one of the organisation's certificates by serial (hex); the answer is the certificate, now revoked. */
  async revokeCertificate(serial: string, reason: RevocationReason): Promise<IssuedCertificate> {
    return this.#json('POST', this.#org(`/certificates/${enc(serial)}/revoke`), issuedCertificate, { reason });
  }

  /** Forgets cached tokens and closes the mTLS connections. */
  async close(): Promise<void> {
    this.#tokens.clear();
    await this.#agent.close();
  }

  #org(path: string): string {
    return `/organisations/${enc(this.orgId)}${path}`;
  }

  async #json<S extends z.ZodType>(method: 'GET' | 'POST' | 'PATCH', path: string, schema: S, body?: unknown): Promise<z.output<S>> {
    return decode(schema, await this.#api(method, path, body), `${method} ${path}`);
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

  async #api(method: 'GET' | 'POST' | 'PATCH', path: string, json?: unknown, accept = 'application/json'): Promise<RawResponse> {
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

  async #send(method: 'GET' | 'POST' | 'PATCH', url: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
    const response = await request(url, {
      method,
      headers,
      body,
      dispatcher: this.#agent,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
    return toRaw(response.statusCode, response.headers['content-type'], Buffer.from(await response.body.arrayBuffer()), method, url);
  }
}

function toRaw(status: number, contentType: string | string[] | undefined, buffer: Buffer, method: string, url: string): RawResponse {
  const type = ((Array.isArray(contentType) ? contentType[0] : contentType) ?? '').split(';')[0]!.trim().toLowerCase();
  return {
    status,
    mediaType: type,
    body: buffer,
    json: () => {
      try {
        return JSON.parse(buffer.toString('utf8')) as unknown;
      } catch (cause) {
        throw new DirectoryError(`${method} ${url}: answer is not JSON`, { status, cause });
      }
    },
  };
}

/**
 * The answer decoded with the wire contract's schema (times become `Date`s). An answer outside the contract is a
 * DirectoryError with code `invalid_response`, never a value of the wrong shape.
 */
function decode<S extends z.ZodType>(schema: S, response: RawResponse, what: string): z.output<S> {
  const result = schema.safeParse(response.json());
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new DirectoryError(`${what}: the answer does not match the directory contract (${issue?.path.join('.') || '(root)'}: ${issue?.message})`, {
      status: response.status, code: 'invalid_response', cause: result.error,
    });
  }
  return result.data;
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
