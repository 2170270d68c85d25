import t from 'tap';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { DirectoryClient, DirectoryError, x5tS256 } from '../src/index.js';
import { createTestPki } from './helpers/pki.js';

/**
 * A stand-in for the directory's mTLS listener, checking what the contract demands of a participant: a client
 * certificate from the CA, a `private_key_jwt` assertion (iss = sub = client id, aud = token endpoint, exp, single-use
 * jti) and certificate-bound bearer tokens on the participant API.
 */
const dir = t.testdir({ pki: {} });
const pki = createTestPki(join(dir, 'pki'), 'http://127.0.0.1:9/unused');
const serverCert = pki.issue('directory-server', { subject: '/CN=localhost', profile: 'server' });
const transport = pki.issue('transport', { subject: '/CN=software-1/O=Fintech Ltd' });

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const clientId = randomUUID();
const orgId = randomUUID();

interface Issued { thumbprint: string; scope: string }
const state = {
  publicKey: rsa.publicKey as KeyObject,
  tokenRequests: 0,
  assertions: [] as Array<{ header: Record<string, unknown>; payload: Record<string, unknown> }>,
  seenJti: new Set<string>(),
  tokens: new Map<string, Issued>(),
  expiresIn: 300,
  rejectNextApiCall: false,
  tokenError: undefined as undefined | { status: number; body: Record<string, unknown> },
  revocations: [] as string[],
};

/** The directory's issued-certificate answer, as its contract defines it. */
function issuedAnswer(type: string, status: 'active' | 'revoked') {
  return {
    serial: '0a1b', type, certificate: transport.certPem, chain: [pki.issuing.certPem],
    'x5t#S256': x5tS256(transport.certPem), not_before: '2026-01-01T00:00:00.000Z', not_after: '2026-02-01T00:00:00.000Z', status,
  };
}

function send(res: import('node:http').ServerResponse, status: number, type: string, body: unknown) {
  res.writeHead(status, { 'content-type': type }).end(typeof body === 'string' ? body : JSON.stringify(body));
}

const server: Server = createServer({
  key: serverCert.keyPem, cert: serverCert.certPem, ca: pki.caBundlePem, requestCert: true, rejectUnauthorized: true,
}, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => void (async () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', origin);
    const peer = (req.socket as TLSSocket).getPeerX509Certificate();
    if (url.pathname === '/token' && req.method === 'POST') {
      state.tokenRequests += 1;
      if (state.tokenError) {
        send(res, state.tokenError.status, 'application/json', state.tokenError.body);
        return;
      }
      const form = new URLSearchParams(body);
      try {
        if (form.get('grant_type') !== 'client_credentials') throw new Error('grant_type');
        if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') throw new Error('assertion type');
        const { payload, protectedHeader } = await jwtVerify(form.get('client_assertion') ?? '', state.publicKey, {
          issuer: clientId, subject: clientId, audience: `${origin}/token`, algorithms: ['PS256', 'ES256'], requiredClaims: ['exp', 'jti', 'iat'],
        });
        if (state.seenJti.has(payload.jti!)) throw new Error('jti replayed');
        state.seenJti.add(payload.jti!);
        state.assertions.push({ header: protectedHeader as Record<string, unknown>, payload: payload as Record<string, unknown> });
      } catch (error) {
        send(res, 401, 'application/json', { error: 'invalid_client', error_description: (error as Error).message });
        return;
      }
      const token = randomUUID();
      const scope = form.get('scope') ?? '';
      state.tokens.set(token, { thumbprint: x5tS256(peer!), scope });
      send(res, 200, 'application/json', { access_token: token, token_type: 'Bearer', expires_in: state.expiresIn, scope });
      return;
    }
    // Participant API: certificate-bound bearer token (RFC 8705 §3).
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const issued = bearer ? state.tokens.get(bearer) : undefined;
    if (state.rejectNextApiCall || !issued || issued.thumbprint !== x5tS256(peer!)) {
      state.rejectNextApiCall = false;
      send(res, 401, 'application/problem+json', { type: 'https://directory.example/problems/invalid-token', title: 'Unauthorized', status: 401, detail: 'token not accepted' });
      return;
    }
    const prefix = `/organisations/${orgId}`;
    let match: RegExpExecArray | null;
    if ((match = new RegExp(`^${prefix}/software-statements/([^/]+)/ssa$`).exec(url.pathname)) && req.method === 'GET') {
      if (match[1] === 'suspended') {
        send(res, 403, 'application/problem+json', { type: 'https://directory.example/problems/inactive', title: 'Forbidden', status: 403, detail: 'software statement is inactive' });
        return;
      }
      if (match[1] === 'wrong-type') {
        send(res, 200, 'application/json', { ssa: 'x' });
        return;
      }
      send(res, 200, 'application/jwt', `eyJhbGciOiJQUzI1NiJ9.${Buffer.from(JSON.stringify({ software_id: match[1] })).toString('base64url')}.c2ln\n`);
      return;
    }
    if ((match = new RegExp(`^${prefix}/software-statements/([^/]+)/certificates$`).exec(url.pathname)) && req.method === 'POST') {
      const request = JSON.parse(body) as { type: string; csr: string };
      if (!request.csr.includes('CERTIFICATE REQUEST')) {
        send(res, 400, 'application/problem+json', { type: 'about:blank', title: 'Bad Request', status: 400, detail: 'csr is not a PKCS#10 request', errors: [{ path: '/csr', message: 'not a CSR' }] });
        return;
      }
      send(res, 201, 'application/json', issuedAnswer(request.type, 'active'));
      return;
    }
    if ((match = new RegExp(`^${prefix}/certificates/([^/]+)/revoke$`).exec(url.pathname)) && req.method === 'POST') {
      state.revocations.push((JSON.parse(body) as { reason: string }).reason);
      send(res, 200, 'application/json', issuedAnswer('transport', 'revoked'));
      return;
    }
    if (url.pathname === `${prefix}/certificates`) {
      // Shapes the real directory never sends: the client must refuse them rather than hand them on.
      send(res, 200, 'application/json', [{ serial: '0bad', status: 'gone' }]);
      return;
    }
    send(res, 404, 'application/problem+json', { title: 'Not Found', status: 404 });
  })());
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
t.teardown(() => new Promise<void>((resolve) => {
  server.closeAllConnections();
  server.close(() => resolve());
}));

function client(overrides: Partial<ConstructorParameters<typeof DirectoryClient>[0]> = {}) {
  const c = new DirectoryClient({
    issuer: 'http://127.0.0.1:1',
    mtlsBaseUrl: origin,
    clientId,
    orgId,
    signingKey: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    signingKid: 'rsa-1',
    transportKeyPem: transport.keyPem,
    transportCertPem: transport.certPem,
    caPem: pki.caBundlePem,
    ...overrides,
  });
  t.teardown(() => c.close());
  return c;
}

t.beforeEach(() => {
  state.publicKey = rsa.publicKey;
  state.tokenError = undefined;
  state.expiresIn = 300;
});

t.test('private_key_jwt over mTLS: the assertion the directory expects', async (t) => {
  const c = client();
  const token = await c.getAccessToken('directory:read');
  t.ok(state.tokens.has(token));
  t.equal(state.tokens.get(token)!.thumbprint, x5tS256(transport.certPem), 'token bound to the transport certificate');
  const { header, payload } = state.assertions.at(-1)!;
  t.equal(header.alg, 'PS256', 'RSA key → PS256');
  t.equal(header.kid, 'rsa-1');
  t.equal(payload.aud, `${origin}/token`);
  t.ok((payload.exp as number) - (payload.iat as number) <= 300, 'short-lived assertion');
});

t.test('an EC KeyObject signs ES256', async (t) => {
  state.publicKey = ec.publicKey;
  const c = client({ signingKey: ec.privateKey, signingKid: undefined });
  await c.getAccessToken();
  t.equal(state.assertions.at(-1)!.header.alg, 'ES256');
  t.notOk('kid' in state.assertions.at(-1)!.header);
});

t.test('tokens are cached per scope until 30 s before expiry, and concurrent callers share one request', async (t) => {
  let clock = Date.now();
  const c = client({ clock: () => clock });
  const before = state.tokenRequests;
  const [a, b] = await Promise.all([c.getAccessToken('directory:read'), c.getAccessToken('directory:read')]);
  t.equal(a, b);
  t.equal(state.tokenRequests, before + 1, 'one request for two concurrent callers');
  t.equal(await c.getAccessToken('directory:read'), a, 'cached');
  const other = await c.getAccessToken('directory:software');
  t.not(other, a, 'another scope, another token');
  t.equal(state.tokenRequests, before + 2);

  clock += 269_000; // 31 s left of 300
  t.equal(await c.getAccessToken('directory:read'), a, 'still more than 30 s to live');
  clock += 2_000; // 29 s left
  const renewed = await c.getAccessToken('directory:read');
  t.not(renewed, a, 'renewed inside the last 30 s');
  t.equal(state.tokenRequests, before + 3);
  t.equal(new Set(state.assertions.map((x) => x.payload.jti)).size, state.assertions.length, 'every assertion has its own jti');
});

t.test('participant API calls', async (t) => {
  const c = client();
  const ssa = await c.getSoftwareStatementAssertion('sw-1');
  t.equal(JSON.parse(Buffer.from(ssa.split('.')[1]!, 'base64url').toString()).software_id, 'sw-1');
  t.notMatch(ssa, /\n/, 'trailing newline trimmed');
  const issued = await c.submitCsr('sw-1', 'transport', '-----BEGIN CERTIFICATE REQUEST-----\n...\n-----END CERTIFICATE REQUEST-----\n');
  t.equal(issued.type, 'transport');
  t.equal(issued['x5t#S256'], x5tS256(transport.certPem));
  t.same(issued.not_before, new Date('2026-01-01T00:00:00.000Z'), 'times decode to Dates');
  const revoked = await c.revokeCertificate('0a1b', 'keyCompromise');
  t.equal(revoked.status, 'revoked');
  t.same(state.revocations, ['keyCompromise']);
  const error = await c.listCertificates().then(() => undefined, (e: unknown) => e);
  t.type(error, DirectoryError, 'an answer outside the contract is an error, not a value');
  t.equal((error as DirectoryError).code, 'invalid_response', (error as Error).message);
});

t.test('a 401 from the API renews the token once and retries', async (t) => {
  const c = client();
  await c.getSoftwareStatementAssertion('sw-1');
  const before = state.tokenRequests;
  state.rejectNextApiCall = true;
  await c.getSoftwareStatementAssertion('sw-1');
  t.equal(state.tokenRequests, before + 1, 'a fresh token was fetched');
});

t.test('DirectoryError carries the problem+json body', async (t) => {
  const c = client();
  const error = await c.getSoftwareStatementAssertion('suspended').catch((e: unknown) => e);
  t.type(error, DirectoryError);
  t.equal((error as DirectoryError).status, 403);
  t.equal((error as DirectoryError).problem?.detail, 'software statement is inactive');
  t.equal((error as DirectoryError).code, 'https://directory.example/problems/inactive');
  const invalid = await c.submitCsr('sw-1', 'signing', 'nonsense').catch((e: unknown) => e) as DirectoryError;
  t.equal(invalid.status, 400);
  t.same(invalid.problem?.errors, [{ path: '/csr', message: 'not a CSR' }]);
  const wrongType = await c.getSoftwareStatementAssertion('wrong-type').catch((e: unknown) => e) as DirectoryError;
  t.type(wrongType, DirectoryError);
  t.match(wrongType.message, /application\/jwt/);
});

t.test('DirectoryError carries the OAuth error of the token endpoint', async (t) => {
  state.publicKey = ec.publicKey; // the directory knows another key for this client
  const c = client();
  const error = await c.getAccessToken().catch((e: unknown) => e) as DirectoryError;
  t.type(error, DirectoryError);
  t.equal(error.status, 401);
  t.equal(error.oauthError?.error, 'invalid_client');
  t.equal(error.code, 'invalid_client');
  state.tokenError = { status: 400, body: { error: 'invalid_scope', error_description: 'directory:admin is operator only' } };
  const scopeError = await c.getAccessToken('directory:admin').catch((e: unknown) => e) as DirectoryError;
  t.equal(scopeError.code, 'invalid_scope');
  t.match(scopeError.message, /operator only/);
});

t.test('configuration errors surface at construction', async (t) => {
  t.throws(() => client({ signingKey: rsa.publicKey }), TypeError);
  const ed = generateKeyPairSync('ed25519');
  t.throws(() => client({ signingKey: ed.privateKey }), /not usable/);
});
