import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { SoftwareStatementVerifier, type SoftwareStatementVerifierOptions } from '@ecosystem-directory/sdk';
import { autoConsent, INTERACTION_PATH } from './auto-consent.js';
import { clientCertificateGate, peerCertificate, subjectDn } from './client-certificate.js';
import { softwareStatementValidator, SSA_CLIENT_METADATA } from './registration-policy.js';

/**
 * A third-party FAPI 2.0 authorisation server (a bank's), built with oidc-provider 9, that trusts the ecosystem
 * directory: dynamic client registration requires a directory SSA (verified with the SDK), the client's mTLS
 * certificate must chain to the directory CA, PAR and PKCE S256 are mandatory, clients authenticate with
 * `private_key_jwt` or `tls_client_auth`, and access tokens are JWTs bound to the client certificate
 * (`cnf.x5t#S256`, RFC 8705 §3). For tests and demonstrations: accounts log in and consent automatically.
 */

export interface AuthorisationServerOptions {
  /** The directory issuer: SSAs must carry it as `iss`. */
  directoryIssuer: string;
  /** The directory CA bundle (`/pki/ca.pem`): client certificates must chain to it. */
  caBundlePem: string;
  /** TLS server key and certificate of this authorisation server. */
  serverKeyPem: string;
  serverCertPem: string;
  /** Listen port; default 0 (ephemeral). */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /**
   * Host name in the issuer URL; default `host`. It must be a name the TLS server certificate carries (the directory
   * issues data holders transport certificates with DNS names, e.g. `auth.bank.localhost`), and clients must resolve
   * it to the listen address.
   */
  hostname?: string;
  /** How long the client-certificate gate reuses a verdict (OCSP answer) for the same certificate. Default 60 000 ms. */
  certificateCacheMs?: number;
  /** Told what the AS checked (certificates, SSAs): the demo prints it. */
  log?: (message: string) => void;
  /** Require the organisation and software statement to be active in the directory's participant list. Default true. */
  checkStatus?: boolean;
  /** Ask the directory's OCSP responder about client certificates (registration, PAR, token). Default true. */
  checkOcsp?: boolean;
  /** Overrides for the SDK's SSA verifier (jwksUri, maxTokenAge, dispatcher, refreshInterval…). */
  verifier?: Partial<SoftwareStatementVerifierOptions>;
  /** The resource server this AS issues access tokens for (RFC 8707 resource indicator). */
  resourceServer?: string;
  /** Scopes the resource server understands. Default `accounts payments`. */
  resourceScopes?: string[];
  /** The account every interaction logs in. */
  accountId?: string;
  /** How oidc-provider fetches client `jwks_uri` (the directory keystores). Default: global fetch. */
  fetch?: (url: URL | string, init: RequestInit) => Promise<Response>;
  /**
   * Let oidc-provider fetch keystores from loopback and private addresses. Its outgoing fetches refuse special-use
   * IPs (SSRF protection, through a dispatcher it passes to `fetch`); a directory on 127.0.0.1 needs this. Tests only.
   */
  allowPrivateNetworkFetch?: boolean;
}

export interface AuthorisationServer {
  issuer: string;
  url: string;
  provider: Provider;
  verifier: SoftwareStatementVerifier;
  /** The resource indicator / audience of issued access tokens. */
  resourceServer: string;
  close(): Promise<void>;
}

const ROUTES = { registration: '/reg', token: '/token', par: '/request', jwks: '/jwks' } as const;
const ALGORITHMS = ['PS256', 'ES256'];
const AUTH_METHODS = ['private_key_jwt', 'tls_client_auth'];

function outgoingFetch(options: AuthorisationServerOptions) {
  const base = options.fetch ?? ((url: URL | string, init: RequestInit) => globalThis.fetch(url, init));
  if (!options.allowPrivateNetworkFetch) return base;
  return (url: URL | string, init: RequestInit & { dispatcher?: unknown }) => {
    const { dispatcher: _ssrfGuard, ...rest } = init;
    return base(url, rest);
  };
}

export async function startAuthorisationServer(options: AuthorisationServerOptions): Promise<AuthorisationServer> {
  const verifier = new SoftwareStatementVerifier({
    issuer: options.directoryIssuer,
    checkStatus: options.checkStatus ?? true,
    ...options.verifier,
  });
  // verifySync needs the directory documents before the first registration.
  await verifier.refresh();

  let handler: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) | undefined;
  // requestCert without rejectUnauthorized: the user agent reaches the authorisation endpoint without a certificate;
  // the endpoints that need one check it themselves (clientCertificateGate, oidc-provider's mTLS hooks).
  const server: Server = createServer({
    key: options.serverKeyPem,
    cert: options.serverCertPem,
    ca: options.caBundlePem,
    requestCert: true,
    rejectUnauthorized: false,
  }, (req, res) => handler!(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `https://${options.hostname ?? options.host ?? '127.0.0.1'}:${port}`;
  const resourceServer = options.resourceServer ?? 'https://rs.example/';
  const resourceScopes = options.resourceScopes ?? ['accounts', 'payments'];
  const accountId = options.accountId ?? 'test-account';

  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: [],
    jwks: { keys: [{ ...signingKey, kid: 'as-ps256', alg: 'PS256', use: 'sig' }] },
    routes: ROUTES,
    scopes: ['openid', ...resourceScopes],
    responseTypes: ['code'],
    clientAuthMethods: AUTH_METHODS,
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      id_token_signed_response_alg: 'PS256',
      authorization_signed_response_alg: 'PS256',
      tls_client_certificate_bound_access_tokens: true,
    },
    enabledJWA: {
      clientAuthSigningAlgValues: ALGORITHMS,
      idTokenSigningAlgValues: ALGORITHMS,
      requestObjectSigningAlgValues: ALGORITHMS,
      authorizationSigningAlgValues: ALGORITHMS,
      userinfoSigningAlgValues: ALGORITHMS,
      introspectionSigningAlgValues: ALGORITHMS,
    },
    pkce: { required: () => true },
    features: {
      fapi: { enabled: true, profile: '2.0' },
      devInteractions: { enabled: false },
      // FAPI 2.0 §5.3.2.2: PAR required (the authorization endpoint refuses request parameters not pushed).
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: false },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        getCertificate: (ctx: KoaContextWithOIDC) => peerCertificate(ctx),
        // The TLS layer verified the chain against the directory CA (the `ca` option); clientCertificateGate has
        // also asked OCSP before the request reached oidc-provider.
        certificateAuthorized: (ctx: KoaContextWithOIDC) => Boolean((ctx.req.socket as { authorized?: boolean }).authorized),
        certificateSubjectMatches: (ctx: KoaContextWithOIDC, property: string, expected: string) => {
          const cert = peerCertificate(ctx);
          return property === 'tls_client_auth_subject_dn' && cert !== undefined && subjectDn(cert) === expected;
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resourceServer,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: resourceScopes.join(' '),
          audience: resourceServer,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'PS256' } },
        }),
      },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
    },
    extraClientMetadata: {
      properties: [...SSA_CLIENT_METADATA],
      validator: softwareStatementValidator({ verifier, allowedAuthMethods: AUTH_METHODS, supportedScopes: ['openid', ...resourceScopes], ...(options.log ? { log: options.log } : {}) }),
    },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `${INTERACTION_PATH}${interaction.uid}`,
    },
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: { AccessToken: 300, AuthorizationCode: 60, IdToken: 300, Interaction: 600, Session: 3600, Grant: 3600 },
    ...(options.fetch || options.allowPrivateNetworkFetch ? { fetch: outgoingFetch(options) } : {}),
  });
  provider.use(clientCertificateGate({
    caBundlePem: options.caBundlePem,
    checkOcsp: options.checkOcsp ?? true,
    paths: ROUTES,
    ...(options.certificateCacheMs !== undefined ? { cacheMs: options.certificateCacheMs } : {}),
    ...(options.log ? { log: options.log } : {}),
  }));

  const callback = provider.callback();
  handler = (req, res) => {
    if (req.method === 'GET' && req.url?.startsWith(INTERACTION_PATH)) {
      autoConsent(provider, req, res, accountId).catch((error: unknown) => {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`interaction failed: ${(error as Error).message}`);
      });
      return;
    }
    callback(req, res);
  };

  return {
    issuer,
    url: issuer,
    provider,
    verifier,
    resourceServer,
    close: () => new Promise<void>((resolve) => {
      verifier.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
