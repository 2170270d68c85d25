import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { x5tS256 } from '@ecosystem-directory/sdk';

/**
 * A resource server (a bank's API) for the demo: mTLS with certificates from the directory CA, one protected
 * endpoint, and the checks of the seed's "Using Credentials": the access token is a valid JWT from the authorisation
 * server (signature, `iss`, `aud`, `exp`), carries the needed scope, and is bound to the certificate of this very
 * connection (`cnf.x5t#S256`, RFC 8705 §3).
 */

export interface ResourceServerOptions {
  /** The authorisation server whose JWT access tokens are accepted. */
  authorisationServer: { issuer: string; resourceServer: string; jwksUri?: string };
  /** The directory CA bundle: only ecosystem certificates may connect. */
  caBundlePem: string;
  serverKeyPem: string;
  serverCertPem: string;
  /** CA that issued the authorisation server's TLS certificate. Default: `caBundlePem`. */
  authorisationServerCaPem?: string;
  /** Scope the protected endpoint requires. Default `accounts`. */
  requiredScope?: string;
  port?: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Host name in the resource server's URL (one its TLS certificate carries); default `host`. */
  hostname?: string;
  /** Name resolution for reaching the authorisation server (its JWKS), e.g. to map `*.localhost` to loopback. */
  lookup?: LookupFunction;
  /** Told each verdict (the demo prints them). */
  log?: (message: string) => void;
}

export interface ResourceServer {
  url: string;
  /** The protected endpoint. */
  accountsUrl: string;
  close(): Promise<void>;
}

type Verdict = { status: 200; claims: JWTPayload } | { status: 401 | 403; error: string; description: string };

/** RFC 6750 §3: errors in WWW-Authenticate, 401 for token problems, 403 for insufficient scope. */
function answer(res: ServerResponse, verdict: Verdict, body?: unknown): void {
  if (verdict.status === 200) {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    return;
  }
  const challenge = `Bearer error="${verdict.error}", error_description="${verdict.description.replace(/["\\]/g, '')}"`;
  res.writeHead(verdict.status, { 'www-authenticate': challenge, 'content-type': 'application/json' })
    .end(JSON.stringify({ error: verdict.error, error_description: verdict.description }));
}

export async function startResourceServer(options: ResourceServerOptions): Promise<ResourceServer> {
  const { issuer, resourceServer: audience } = options.authorisationServer;
  const agent = new Agent({
    connect: { ca: options.authorisationServerCaPem ?? options.caBundlePem, ...(options.lookup ? { lookup: options.lookup } : {}) },
  });
  const jwks = createRemoteJWKSet(new URL(options.authorisationServer.jwksUri ?? `${issuer}/jwks`), {
    [customFetch]: (url, init) => undiciFetch(url, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>,
  });
  const requiredScope = options.requiredScope ?? 'accounts';

  async function check(authorization: string | undefined, socket: TLSSocket): Promise<Verdict> {
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? '')?.[1];
    if (token === undefined) return { status: 401, error: 'invalid_request', description: 'bearer access token required' };
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, jwks, {
        issuer, audience, algorithms: ['PS256', 'ES256'], typ: 'at+jwt', requiredClaims: ['exp', 'client_id'],
      }));
    } catch (error) {
      return { status: 401, error: 'invalid_token', description: (error as Error).message };
    }
    const bound = (claims.cnf as Record<string, unknown> | undefined)?.['x5t#S256'];
    const cert = socket.getPeerX509Certificate();
    if (typeof bound !== 'string' || cert === undefined || bound !== x5tS256(cert)) {
      return { status: 401, error: 'invalid_token', description: 'access token is not bound to the certificate of this connection' };
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (!scopes.includes(requiredScope)) {
      return { status: 403, error: 'insufficient_scope', description: `scope ${requiredScope} required` };
    }
    return { status: 200, claims };
  }

  const server: Server = createServer({
    key: options.serverKeyPem,
    cert: options.serverCertPem,
    ca: options.caBundlePem,
    requestCert: true,
    rejectUnauthorized: true,
  }, (req, res) => {
    if (req.method !== 'GET' || new URL(req.url ?? '/', 'https://rs').pathname !== '/accounts') {
      res.writeHead(404).end();
      return;
    }
    check(req.headers.authorization, req.socket as TLSSocket).then((verdict) => {
      options.log?.(verdict.status === 200
        ? `access token accepted: signature (AS /jwks), iss ${String(verdict.claims.iss)}, aud ${String(verdict.claims.aud)}, ` +
          `exp in ${Number(verdict.claims.exp) - Math.floor(Date.now() / 1000)} s, scope "${String(verdict.claims.scope)}" includes ${requiredScope}, ` +
          'cnf.x5t#S256 = this connection\'s client certificate'
        : `HTTP ${verdict.status} ${verdict.error}: ${verdict.description}`);
      answer(res, verdict, verdict.status === 200
        ? { client_id: verdict.claims.client_id, subject: verdict.claims.sub, accounts: [{ id: 'acc-1', currency: 'GBP' }] }
        : undefined);
    }, (error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const url = `https://${options.hostname ?? options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  return {
    url,
    accountsUrl: `${url}/accounts`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        agent.close().finally(resolve);
      });
    }),
  };
}
