import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { lookup as dnsLookup } from 'node:dns';
import { createServer, type AddressInfo, type LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, importPKCS8, type JWK } from 'jose';
import { Agent, request } from 'undici';
import { DirectoryClient, DirectoryError, type IssuedCertificate, type ProblemDetails } from '@ecosystem-directory/sdk';

/**
 * The directory side of the ecosystem walk-through, shared by `npm run demo` and test/e2e: the operator onboards
 * organisations through the admin API, a participant enrols with a one-time code, then uses the SDK's
 * `DirectoryClient` (mTLS + `private_key_jwt`, certificate-bound tokens) to register software, obtain certificates for
 * it and fetch its SSA. Everything goes over real HTTP(S) to the directory's two listeners.
 */

/** Where the directory is and how to trust it. */
export interface DirectoryEndpoints {
  /** Public listener: discovery, JWKS, /participants, PKI, enrolment. */
  issuer: string;
  /** mTLS listener: token endpoint, participant and admin API. */
  mtlsBaseUrl: string;
  /** `/pki/ca.pem`: the CA bundle that every TLS party of the ecosystem trusts. */
  caPem: string;
}

/** A client's credentials at the directory: what enrolment (or, for the operator, `init`) produced. */
export interface Credentials {
  clientId: string;
  orgId: string;
  /** PKCS#8 PEM of the `private_key_jwt` key registered at enrolment. */
  signingKeyPem: string;
  signingKid: string;
  transportKeyPem: string;
  /** The enrolment transport certificate, followed by its chain. */
  transportCertPem: string;
}

/**
 * RFC 6761 §6.3: `localhost` and names under `.localhost` are loopback. The ecosystem's servers get DNS names under
 * it (`auth.bank.localhost`) so their directory-issued certificates can name them; the system resolver may not know
 * those names, so every client of theirs resolves them with this.
 */
export const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) {
    if (options.all) (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
    return;
  }
  dnsLookup(hostname, options, callback as never);
};

/** A fresh P-256 key (ES256 for JWS, ECDSA for TLS). */
export function newKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

export function pkcs8(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }) as string;
}

/**
 * A PKCS#10 CSR made with openssl, as a participant would make it. The subject is a placeholder: the directory writes
 * the subject from its registry (O, organizationIdentifier, UID/CN = software id) whatever the CSR says.
 */
export function makeCsr(key: KeyObject, subject = '/CN=ignored-the-directory-sets-the-subject'): string {
  const dir = mkdtempSync(join(tmpdir(), 'csr-'));
  try {
    writeFileSync(join(dir, 'key.pem'), pkcs8(key), { mode: 0o600 });
    return execFileSync('openssl', ['req', '-new', '-key', join(dir, 'key.pem'), '-subj', subject], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The public JWK of a key with its RFC 7638 thumbprint as `kid`. */
export async function publicJwk(key: KeyObject): Promise<JWK & { kid: string }> {
  const jwk = createPublicKey(key).export({ format: 'jwk' }) as JWK;
  return { ...jwk, kid: await calculateJwkThumbprint(jwk) };
}

export async function fetchCaBundle(issuer: string): Promise<string> {
  const response = await request(`${issuer}/pki/ca.pem`);
  if (response.statusCode !== 200) throw new Error(`${issuer}/pki/ca.pem: HTTP ${response.statusCode}`);
  return response.body.text();
}

/**
 * A party's session with the directory: the SDK's `DirectoryClient` (tokens, SSAs, CSRs, revocation) plus a plain
 * mTLS caller for the API calls the SDK does not wrap (software statements, the admin API). Both present the same
 * transport certificate, so the certificate-bound tokens the client obtains are accepted on either.
 */
export class DirectoryApi {
  readonly client: DirectoryClient;
  readonly #agent: Agent;

  constructor(readonly directory: DirectoryEndpoints, readonly credentials: Credentials) {
    this.client = new DirectoryClient({
      issuer: directory.issuer,
      mtlsBaseUrl: directory.mtlsBaseUrl,
      clientId: credentials.clientId,
      orgId: credentials.orgId,
      signingKey: credentials.signingKeyPem,
      signingKid: credentials.signingKid,
      transportKeyPem: credentials.transportKeyPem,
      transportCertPem: credentials.transportCertPem,
      caPem: directory.caPem,
    });
    this.#agent = new Agent({ connect: { key: credentials.transportKeyPem, cert: credentials.transportCertPem, ca: directory.caPem } });
  }

  get orgId(): string {
    return this.credentials.orgId;
  }

  /** An mTLS call with a certificate-bound token for `scope`; throws the SDK's DirectoryError on a non-2xx answer. */
  async call<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PATCH', path: string, options: { scope?: string; json?: unknown } = {}): Promise<T> {
    const token = await this.client.getAccessToken(options.scope ?? 'directory:software');
    const response = await request(`${this.directory.mtlsBaseUrl}${path}`, {
      method,
      dispatcher: this.#agent,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
    });
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode > 299) {
      let problem: ProblemDetails | undefined;
      try {
        problem = JSON.parse(text) as ProblemDetails;
      } catch {
        problem = undefined;
      }
      throw new DirectoryError(`${method} ${path}: ${problem?.detail ?? problem?.title ?? `HTTP ${response.statusCode}`}`, {
        status: response.statusCode, ...(problem ? { problem } : {}),
      });
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.#agent.close()]);
  }
}

export interface Organisation {
  id: string;
  legal_name: string;
  status: string;
  roles: Array<{ role: string; status: string }>;
  [field: string]: unknown;
}

export interface SoftwareStatement {
  software_id: string;
  org_id: string;
  client_name: string;
  redirect_uris: string[];
  roles: string[];
  status: string;
  version: number;
  jwks_uri: string;
  [field: string]: unknown;
}

/** The operator's side: `POST /admin/organisations`, then `POST /admin/organisations/{id}/enrolment-codes`. */
export async function createOrganisation(
  operator: DirectoryApi,
  input: { legalName: string; roles: string[]; registrationNumber?: string; country?: string },
): Promise<{ organisation: Organisation; code: string; expiresAt: string }> {
  const organisation = await operator.call<Organisation>('POST', '/admin/organisations', {
    scope: 'directory:admin',
    json: {
      legal_name: input.legalName,
      registration_number: input.registrationNumber ?? randomUUID().slice(0, 8).toUpperCase(),
      country: input.country ?? 'GB',
      roles: input.roles,
      status: 'active',
    },
  });
  const enrolment = await operator.call<{ code: string; expires_at: string }>('POST', `/admin/organisations/${organisation.id}/enrolment-codes`, { scope: 'directory:admin' });
  return { organisation, code: enrolment.code, expiresAt: enrolment.expires_at };
}

export interface Enrolment {
  credentials: Credentials;
  /** The directory's answer: client id, organisation, certificate and chain. */
  response: { client_id: string; org_id: string; certificate: string; chain: string[] };
}

/**
 * The participant's side of enrolment: make a transport key and CSR and a `private_key_jwt` key, and post them with
 * the one-time code to the public listener (`POST /enrol`). No credentials are needed yet: the code is the proof.
 */
export async function enrol(directory: DirectoryEndpoints, code: string): Promise<Enrolment> {
  const signingKey = newKey();
  const transportKey = newKey();
  const jwk = await publicJwk(signingKey);
  const response = await request(`${directory.issuer}/enrol`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, csr: makeCsr(transportKey), jwks: { keys: [{ ...jwk, alg: 'ES256', use: 'sig' }] } }),
  });
  const text = await response.body.text();
  if (response.statusCode !== 201) throw new Error(`POST /enrol: HTTP ${response.statusCode} ${text}`);
  const answer = JSON.parse(text) as Enrolment['response'];
  return {
    response: answer,
    credentials: {
      clientId: answer.client_id,
      orgId: answer.org_id,
      signingKeyPem: pkcs8(signingKey),
      signingKid: jwk.kid,
      transportKeyPem: pkcs8(transportKey),
      transportCertPem: answer.certificate + answer.chain.join(''),
    },
  };
}

/** `POST /organisations/{orgId}/software-statements` (scope `directory:software`). */
export function registerSoftware(
  api: DirectoryApi,
  input: { client_name: string; redirect_uris: string[]; roles: string[]; client_uri?: string; client_description?: string },
): Promise<SoftwareStatement> {
  return api.call<SoftwareStatement>('POST', `/organisations/${api.orgId}/software-statements`, { json: input });
}

/** A key and the certificate the directory issued for it. */
export interface KeyAndCertificate {
  key: KeyObject;
  keyPem: string;
  /** Certificate then chain, PEM: what a TLS client or server presents. */
  certPem: string;
  issued: IssuedCertificate;
}

/** A new key, a CSR for it, and `DirectoryClient.submitCsr` for the software statement. */
export async function obtainCertificate(
  api: DirectoryApi,
  softwareId: string,
  type: 'transport' | 'signing',
  options: { dnsNames?: string[] } = {},
): Promise<KeyAndCertificate> {
  const key = newKey();
  const issued = await api.client.submitCsr(softwareId, type, makeCsr(key), options);
  return { key, keyPem: pkcs8(key), certPem: issued.certificate + issued.chain.join(''), issued };
}

/** Everything a data recipient (fintech) holds once onboarded for one piece of software. */
export interface Fintech {
  api: DirectoryApi;
  organisation: Organisation;
  enrolment: Enrolment;
  software: SoftwareStatement;
  /** mTLS at the banks: CN and UID are the software id, which the AS matches against the SSA. */
  transport: KeyAndCertificate;
  /**
   * `private_key_jwt` at the banks: the key of the software's signing certificate, published in its keystore (the
   * SSA's jwks_uri) with `kid` = the certificate's x5t#S256; `cryptoKey` is the same key for openid-client.
   */
  signing: KeyAndCertificate & { kid: string; cryptoKey: CryptoKey };
  /** An undici Agent presenting the transport certificate to the ecosystem's servers. */
  agent: Agent;
  close(): Promise<void>;
}

export interface FintechOptions {
  legalName: string;
  clientName: string;
  redirectUris: string[];
  roles?: string[];
}

/** Operator creates the organisation and code; the fintech enrols, registers its software and gets its certificates. */
export async function onboardFintech(operator: DirectoryApi, options: FintechOptions): Promise<Fintech> {
  const roles = options.roles ?? ['data-recipient'];
  const { organisation, code } = await createOrganisation(operator, { legalName: options.legalName, roles });
  const enrolment = await enrol(operator.directory, code);
  const api = new DirectoryApi(operator.directory, enrolment.credentials);
  try {
    const software = await registerSoftware(api, { client_name: options.clientName, redirect_uris: options.redirectUris, roles });
    const transport = await obtainCertificate(api, software.software_id, 'transport');
    const signing = await obtainCertificate(api, software.software_id, 'signing');
    const agent = new Agent({ connect: { key: transport.keyPem, cert: transport.certPem, ca: operator.directory.caPem, lookup: loopbackLookup } });
    return {
      api, organisation, enrolment, software, transport, agent,
      signing: { ...signing, kid: signing.issued['x5t#S256'], cryptoKey: await importPKCS8(signing.keyPem, 'ES256') },
      close: async () => { await Promise.all([api.close(), agent.close()]); },
    };
  } catch (error) {
    await api.close();
    throw error;
  }
}

/** A data holder (bank) onboarded with software for its servers. */
export interface DataHolder {
  api: DirectoryApi;
  organisation: Organisation;
  software: SoftwareStatement;
  close(): Promise<void>;
}

export async function onboardDataHolder(operator: DirectoryApi, options: { legalName: string; clientName: string; redirectUris: string[] }): Promise<DataHolder> {
  const { organisation, code } = await createOrganisation(operator, { legalName: options.legalName, roles: ['data-holder'] });
  const { credentials } = await enrol(operator.directory, code);
  const api = new DirectoryApi(operator.directory, credentials);
  try {
    const software = await registerSoftware(api, { client_name: options.clientName, redirect_uris: options.redirectUris, roles: ['data-holder'] });
    return { api, organisation, software, close: () => api.close() };
  } catch (error) {
    await api.close();
    throw error;
  }
}

/** A free TCP port on 127.0.0.1 (for servers whose URL must be known before they start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One organisation as `GET /participants` lists it. */
export interface ListedParticipant {
  org_id: string;
  legal_name: string;
  status: string;
  roles: Array<{ role: string; status: string }>;
  authorisation_servers: Array<{ issuer: string; discovery_url: string; customer_friendly_name: string; api_resources: Array<{ family: string; version: string; base_url: string }> }>;
  software_statements: Array<{ software_id: string; client_name: string; status: string; jwks_uri: string }>;
}

export async function listParticipants(issuer: string, query = ''): Promise<ListedParticipant[]> {
  const response = await request(`${issuer}/participants${query}`, { headers: { accept: 'application/json' } });
  if (response.statusCode !== 200) throw new Error(`${issuer}/participants: HTTP ${response.statusCode}`);
  return await response.body.json() as ListedParticipant[];
}

/**
 * Waits until the directory's public participant list shows what `check` expects of an organisation. The directory
 * publishes registry changes through a document cache that every instance revalidates within its poll interval, so a
 * reader that must act on a change (an AS about to refresh) confirms it is published first.
 */
export async function waitForParticipant(issuer: string, orgId: string, check: (p: ListedParticipant | undefined) => boolean, timeoutMs = 5_000): Promise<ListedParticipant | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listed = (await listParticipants(issuer)).find((p) => p.org_id === orgId);
    if (check(listed)) return listed;
    if (Date.now() > deadline) throw new Error(`organisation ${orgId} did not reach the expected state in ${issuer}/participants`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
