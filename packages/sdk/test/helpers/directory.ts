import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { Participant } from '../../src/participants.js';

/**
 * A stand-in for the directory's public listener (the real one is built in parallel): `/jwks`, `/participants` with
 * ETag and 304, software keystores, and an SSA signer using jose — an independent JWS implementation from the SDK's
 * node:crypto verifier.
 */

export interface SigningKey {
  alg: 'PS256' | 'ES256';
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeSigningKey(alg: 'PS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { alg, kid, privateKey, publicJwk: { ...publicJwk, kid, use: 'sig', alg } };
}

export interface FakeDirectory {
  issuer: string;
  jwksUri: string;
  participantsUri: string;
  ps256: SigningKey;
  es256: SigningKey;
  /** Keys published at /jwks; replace to simulate rotation. */
  published: JWK[];
  participants: Participant[];
  /** Keystores served at `/organisations/{org}/software-statements/{id}/jwks`. */
  keystores: Map<string, { keys: JWK[] }>;
  hits: Record<string, number>;
  notModified: number;
  orgId: string;
  softwareId: string;
  keystoreUri(softwareId: string): string;
  claims(overrides?: Record<string, unknown>): Record<string, unknown>;
  signSsa(overrides?: Record<string, unknown>, options?: { key?: SigningKey; header?: Record<string, unknown> }): Promise<string>;
  close(): Promise<void>;
}

export async function startFakeDirectory(): Promise<FakeDirectory> {
  const ps256 = await makeSigningKey('PS256');
  const es256 = await makeSigningKey('ES256');
  const orgId = randomUUID();
  const softwareId = randomUUID();
  const hits: Record<string, number> = {};

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits[path] = (hits[path] ?? 0) + 1;
    if (path === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: directory.published }));
      return;
    }
    if (path === '/participants') {
      const body = JSON.stringify(directory.participants);
      const etag = `"${createHash('sha256').update(body).digest('base64url')}"`;
      if (req.headers['if-none-match'] === etag) {
        directory.notModified += 1;
        res.writeHead(304, { etag, 'cache-control': 'max-age=60' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', etag, 'cache-control': 'max-age=60' }).end(body);
      return;
    }
    const keystore = /^\/organisations\/[^/]+\/software-statements\/([^/]+)\/jwks$/.exec(path);
    if (keystore && directory.keystores.has(keystore[1]!)) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(directory.keystores.get(keystore[1]!)));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ title: 'Not Found', status: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const directory: FakeDirectory = {
    issuer,
    jwksUri: `${issuer}/jwks`,
    participantsUri: `${issuer}/participants`,
    ps256,
    es256,
    published: [ps256.publicJwk, es256.publicJwk],
    participants: [{
      org_id: orgId,
      legal_name: 'Fintech Ltd',
      updated_at: new Date().toISOString(),
      registration_number: '12345678',
      country: 'GB',
      status: 'active',
      roles: [{ role: 'AISP', status: 'active' }],
      jwks_uri: `${issuer}/organisations/${orgId}/jwks`,
      authorisation_servers: [],
      software_statements: [{
        software_id: softwareId,
        client_name: 'Budget App',
        status: 'active',
        roles: ['AISP'],
        mode: 'live',
        version: 1,
        jwks_uri: `${issuer}/organisations/${orgId}/software-statements/${softwareId}/jwks`,
      }],
    }],
    keystores: new Map(),
    hits,
    notModified: 0,
    orgId,
    softwareId,
    keystoreUri: (id) => `${issuer}/organisations/${orgId}/software-statements/${id}/jwks`,
    claims(overrides = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims: Record<string, unknown> = {
        iss: issuer,
        iat: now,
        exp: now + 600,
        jti: randomUUID(),
        software_id: softwareId,
        software_version: 1,
        software_mode: 'live',
        software_roles: ['AISP'],
        org_id: orgId,
        org_name: 'Fintech Ltd',
        org_status: 'active',
        org_jwks_uri: `${issuer}/organisations/${orgId}/jwks`,
        client_name: 'Budget App',
        client_uri: 'https://budget.example/',
        redirect_uris: ['https://budget.example/cb', 'https://budget.example/cb2'],
        jwks_uri: `${issuer}/organisations/${orgId}/software-statements/${softwareId}/jwks`,
        token_endpoint_auth_method: 'private_key_jwt',
        scope: 'accounts payments openid',
        ...overrides,
      };
      for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete claims[name];
      return claims;
    },
    async signSsa(overrides = {}, options = {}) {
      const key = options.key ?? ps256;
      return new SignJWT(directory.claims(overrides))
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header })
        .sign(key.privateKey);
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return directory;
}
