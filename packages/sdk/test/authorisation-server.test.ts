import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch, request } from 'undici';
import { x5tS256 } from '../src/index.js';
import { startAuthorisationServer } from '../../../scripts/demo/authorisation-server.js';
import { startResourceServer } from '../../../scripts/demo/resource-server.js';
import { startFakeDirectory, makeSigningKey } from './helpers/directory.js';
import { startOcspResponder } from './helpers/ocsp-responder.js';
import { createForeignClient, createTestPki, type KeyAndCert, type TestPki } from './helpers/pki.js';
import { userAgent } from '../../../scripts/demo/fapi-client.js';

/**
 * The seed's flows end to end against a third-party authorisation server (oidc-provider 9, FAPI 2.0) that trusts the
 * directory through the SDK, driven by a third-party client (openid-client 6): DCR with an SSA → PAR → authorisation
 * (auto-consent) → code + PKCE → certificate-bound token → resource server; and the refusals that matter.
 */

const dir = t.testdir({ pki: {}, foreign: {} });
let pki: TestPki | undefined;
const responder = await startOcspResponder({ indexPath: () => pki!.indexPath, caCertPath: () => pki!.issuing.certPath, workDir: dir });
t.teardown(() => responder.close());
pki = createTestPki(join(dir, 'pki'), responder.url);
responder.signer = pki.issue('ocsp', { subject: '/CN=OCSP Responder', profile: 'ocsp' });

const directory = await startFakeDirectory();
t.teardown(() => directory.close());
const softwareId = directory.softwareId;
const tlsSoftwareId = randomUUID();
directory.participants[0]!.software_statements.push({
  software_id: tlsSoftwareId, client_name: 'Payments App', status: 'active', roles: ['PISP'], mode: 'live', version: 1,
  jwks_uri: directory.keystoreUri(tlsSoftwareId),
});

const asCert = pki.issue('as-server', { subject: '/CN=localhost', profile: 'server' });
const rsCert = pki.issue('rs-server', { subject: '/CN=localhost', profile: 'server' });
const clientCert = pki.issue('client-a', { subject: `/CN=${softwareId}/UID=${softwareId}/O=Fintech Ltd` });
const tlsClientCert = pki.issue('client-tls', { subject: `/CN=${tlsSoftwareId}/UID=${tlsSoftwareId}/O=Fintech Ltd` });
const otherCert = pki.issue('client-b', { subject: `/CN=${randomUUID()}/O=Another Fintech` });
const revokedCert = pki.issue('client-revoked', { subject: `/CN=${softwareId}/O=Fintech Ltd` });
pki.revoke(revokedCert, 'keyCompromise');
const foreignCert = createForeignClient(join(dir, 'foreign'), softwareId);

// The client's private_key_jwt key, published in its directory keystore (the SSA's jwks_uri).
const clientKeys = await generateKeyPair('PS256');
const clientJwk = await exportJWK(clientKeys.publicKey);
const clientKid = await calculateJwkThumbprint(clientJwk);
directory.keystores.set(softwareId, { keys: [{ ...clientJwk, kid: clientKid, use: 'sig', alg: 'PS256' }] });
directory.keystores.set(tlsSoftwareId, { keys: [] });

const as = await startAuthorisationServer({
  directoryIssuer: directory.issuer,
  caBundlePem: pki.caBundlePem,
  serverKeyPem: asCert.keyPem,
  serverCertPem: asCert.certPem,
  checkStatus: true,
  checkOcsp: true,
  allowPrivateNetworkFetch: true, // the stand-in directory's keystores are on 127.0.0.1
});
t.teardown(() => as.close());
const rs = await startResourceServer({
  authorisationServer: as,
  caBundlePem: pki.caBundlePem,
  serverKeyPem: rsCert.keyPem,
  serverCertPem: rsCert.certPem,
});
t.teardown(() => rs.close());

function mtls(cert: KeyAndCert): Agent {
  const agent = new Agent({ connect: { key: cert.keyPem, cert: cert.certPem, ca: pki!.caBundlePem } });
  t.teardown(() => agent.close());
  return agent;
}
const agentA = mtls(clientCert);
const agentB = mtls(otherCert);
const browser = new Agent({ connect: { ca: pki.caBundlePem } });
t.teardown(() => browser.close());

function fetchWith(agent: Agent): oidc.CustomFetch {
  return (url, options) => undiciFetch(url, { ...options, dispatcher: agent } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
}

/** The user agent: the demo's, following the AS's redirects with its cookies to the client's redirect_uri. */
const authorize = (url: URL): Promise<URL> => userAgent(url, browser);

async function registerRaw(agent: Agent, body: Record<string, unknown>) {
  const response = await request(`${as.issuer}/reg`, {
    method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: response.statusCode, body: await response.body.json() as Record<string, unknown> };
}

async function refusedRegistration(t: Test, agent: Agent, body: Record<string, unknown>, error: string, detail: RegExp) {
  const { status, body: answer } = await registerRaw(agent, body);
  t.equal(status, 400, `${error}: HTTP 400`);
  t.equal(answer.error, error, `${error}: ${String(answer.error_description)}`);
  t.match(String(answer.error_description), detail);
}

async function callResource(agent: Agent, token: string) {
  const response = await request(rs.accountsUrl, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
  return { status: response.statusCode, challenge: response.headers['www-authenticate'], body: await response.body.json() as Record<string, unknown> };
}

async function codeFlow(config: oidc.Configuration, scope: string) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const authUrl = await oidc.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: 'https://budget.example/cb',
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const callback = await authorize(authUrl);
  return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
}

let registered: oidc.Configuration | undefined;

t.test('DCR with a directory SSA, then PAR → consent → code + PKCE → bound token → resource server', async (t) => {
  const ssa = await directory.signSsa({ software_id: softwareId });
  registered = await oidc.dynamicClientRegistration(new URL(as.issuer), {
    software_statement: ssa,
    redirect_uris: ['https://budget.example/cb'],
    client_name: 'Spoofed name, the SSA wins',
  } as Partial<oidc.ClientMetadata>, oidc.PrivateKeyJwt({ key: clientKeys.privateKey, kid: clientKid }), {
    [oidc.customFetch]: fetchWith(agentA),
  });
  const metadata = registered.clientMetadata();
  t.equal(metadata.client_name, 'Budget App', 'client_name from the SSA');
  t.equal(metadata.jwks_uri, directory.keystoreUri(softwareId), 'keys from the directory keystore');
  t.equal(metadata.token_endpoint_auth_method, 'private_key_jwt');
  t.equal(metadata.tls_client_certificate_bound_access_tokens, true);
  t.equal(metadata.software_id, softwareId);
  t.same(metadata.redirect_uris, ['https://budget.example/cb']);

  const server = registered.serverMetadata();
  t.equal(server.require_pushed_authorization_requests, true, 'PAR required');
  t.same(server.code_challenge_methods_supported, ['S256']);
  t.equal(server.tls_client_certificate_bound_access_tokens, true);

  const tokens = await codeFlow(registered, 'openid accounts');
  t.equal(tokens.token_type.toLowerCase(), 'bearer');
  const claims = decodeJwt(tokens.access_token);
  t.same(claims.cnf, { 'x5t#S256': x5tS256(clientCert.certPem) }, 'token bound to the client certificate');
  t.equal(claims.aud, as.resourceServer);
  t.match(String(claims.scope), /accounts/);
  t.ok(tokens.claims()?.sub, 'an ID token was validated by openid-client');

  const ok = await callResource(agentA, tokens.access_token);
  t.equal(ok.status, 200);
  t.equal(ok.body.client_id, metadata.client_id);

  // The seed's sender constraint: the same token over another participant's certificate is refused.
  const stolen = await callResource(agentB, tokens.access_token);
  t.equal(stolen.status, 401);
  t.equal(stolen.body.error, 'invalid_token');
  t.match(String(stolen.challenge), /invalid_token/);

  const forged = await callResource(agentA, `${tokens.access_token.slice(0, -4)}AAAA`);
  t.equal(forged.status, 401, 'a tampered token is refused');
});

t.test('the resource server checks the scope', async (t) => {
  t.ok(registered, 'needs the registered client');
  const tokens = await codeFlow(registered!, 'payments');
  const answer = await callResource(agentA, tokens.access_token);
  t.equal(answer.status, 403);
  t.equal(answer.body.error, 'insufficient_scope');
});

t.test('PAR is required and PKCE S256 enforced', async (t) => {
  const clientId = registered!.clientMetadata().client_id;
  const direct = await request(`${as.issuer}/auth?client_id=${clientId}&response_type=code&scope=accounts&redirect_uri=${encodeURIComponent('https://budget.example/cb')}&code_challenge=abc&code_challenge_method=S256`, { dispatcher: browser });
  const location = direct.headers.location;
  await direct.body.dump();
  const refusal = new URL(String(location), as.issuer).searchParams;
  t.equal(refusal.get('error'), 'invalid_request', 'an unpushed authorisation request is refused');
  t.match(refusal.get('error_description'), /pushed/i);
  const plain = await oidc.buildAuthorizationUrlWithPAR(registered!, {
    redirect_uri: 'https://budget.example/cb', scope: 'accounts', code_challenge: 'x'.repeat(43), code_challenge_method: 'plain',
  }).catch((e: unknown) => e);
  t.equal((plain as { error?: string }).error, 'invalid_request', 'plain PKCE refused at PAR');
  t.match((plain as { error_description?: string }).error_description, /code_challenge_method/);
});

t.test('a tls_client_auth client registers and gets a token bound to its certificate', async (t) => {
  const agentTls = mtls(tlsClientCert);
  const ssa = await directory.signSsa({
    software_id: tlsSoftwareId, client_name: 'Payments App', token_endpoint_auth_method: 'tls_client_auth',
    jwks_uri: directory.keystoreUri(tlsSoftwareId), software_roles: ['PISP'],
  });
  const config = await oidc.dynamicClientRegistration(new URL(as.issuer), {
    software_statement: ssa, redirect_uris: ['https://budget.example/cb'],
  } as Partial<oidc.ClientMetadata>, oidc.TlsClientAuth(), { [oidc.customFetch]: fetchWith(agentTls) });
  t.equal(config.clientMetadata().token_endpoint_auth_method, 'tls_client_auth');
  t.match(String(config.clientMetadata().tls_client_auth_subject_dn), new RegExp(`^CN=${tlsSoftwareId}`));
  const tokens = await codeFlow(config, 'accounts');
  t.equal((decodeJwt(tokens.access_token).cnf as Record<string, string>)['x5t#S256'], x5tS256(tlsClientCert.certPem));
  t.equal((await callResource(agentTls, tokens.access_token)).status, 200);

  // The same client id without its certificate, or with another participant's valid one: tls_client_auth refuses.
  const sameClient = (agent: Agent) => {
    const impostor = new oidc.Configuration(config.serverMetadata(), config.clientMetadata().client_id, config.clientMetadata(), oidc.TlsClientAuth());
    impostor[oidc.customFetch] = fetchWith(agent);
    return oidc.buildAuthorizationUrlWithPAR(impostor, {
      redirect_uri: 'https://budget.example/cb', scope: 'accounts', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
    }).then(() => undefined, (e: { error?: string; status?: number }) => e);
  };
  const noCert = await sameClient(browser);
  t.equal(noCert?.error, 'invalid_client', 'PAR without a client certificate');
  const otherCertAnswer = await sameClient(agentA);
  t.equal(otherCertAnswer?.error, 'invalid_client', 'PAR with another participant\'s certificate (subject DN differs)');
});

t.test('DCR refusals', async (t) => {
  const valid = { redirect_uris: ['https://budget.example/cb'] };

  t.test('SSA signed by another key', async (t) => {
    const outsider = await makeSigningKey('PS256');
    await refusedRegistration(t, agentA, { ...valid, software_statement: await directory.signSsa({}, { key: outsider }) },
      'invalid_software_statement', /ERR_SSA_UNKNOWN_KID/);
    await refusedRegistration(t, agentA, { ...valid, software_statement: await directory.signSsa({}, { key: outsider, header: { kid: directory.ps256.kid } }) },
      'invalid_software_statement', /ERR_SSA_SIGNATURE/);
  });

  t.test('expired SSA', async (t) => {
    const now = Math.floor(Date.now() / 1000);
    await refusedRegistration(t, agentA, { ...valid, software_statement: await directory.signSsa({ iat: now - 900, exp: now - 300 }) },
      'invalid_software_statement', /ERR_SSA_EXPIRED/);
  });

  t.test('redirect_uris outside the SSA', async (t) => {
    await refusedRegistration(t, agentA, { redirect_uris: ['https://attacker.example/cb'], software_statement: await directory.signSsa() },
      'invalid_redirect_uri', /ERR_REDIRECT_URI/);
  });

  t.test('other metadata beyond the SSA', async (t) => {
    const ssa = await directory.signSsa();
    await refusedRegistration(t, agentA, { ...valid, scope: 'accounts admin', software_statement: ssa }, 'invalid_client_metadata', /ERR_SCOPE/);
    await refusedRegistration(t, agentA, { ...valid, jwks_uri: 'https://attacker.example/jwks', software_statement: ssa }, 'invalid_client_metadata', /ERR_JWKS_URI/);
    await refusedRegistration(t, agentA, { ...valid, token_endpoint_auth_method: 'client_secret_basic', software_statement: ssa }, 'invalid_client_metadata', /ERR_AUTH_METHOD/);
  });

  t.test('no SSA at all', async (t) => {
    await refusedRegistration(t, agentA, valid, 'invalid_software_statement', /software_statement is required/);
  });

  t.test('an SSA presented with another software\'s certificate', async (t) => {
    await refusedRegistration(t, agentB, { ...valid, software_statement: await directory.signSsa() },
      'invalid_software_statement', /not issued to software/);
  });

  t.test('a certificate from another CA, or revoked', async (t) => {
    const ssa = await directory.signSsa();
    await refusedRegistration(t, mtls(foreignCert), { ...valid, software_statement: ssa }, 'invalid_client_metadata', /ERR_CERT_CHAIN/);
    await refusedRegistration(t, mtls(revokedCert), { ...valid, software_statement: ssa }, 'invalid_client_metadata', /ERR_CERT_REVOKED/);
    await refusedRegistration(t, browser, { ...valid, software_statement: ssa }, 'invalid_client_metadata', /requires the client's directory-issued mTLS certificate/);
  });

  t.test('a suspended organisation', async (t) => {
    const org = directory.participants[0]!;
    org.status = 'suspended';
    await as.verifier.refresh();
    await refusedRegistration(t, agentA, { ...valid, software_statement: await directory.signSsa() },
      'unapproved_software_statement', /ERR_PARTICIPANT_INACTIVE/);
    org.status = 'active';
    await as.verifier.refresh();
    t.equal((await registerRaw(agentA, { ...valid, software_statement: await directory.signSsa() })).status, 201, 'reinstated');
  });
});

t.test('a registered client outlives its SSA: oidc-provider reloads it without re-verifying', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const shortLived = await directory.signSsa({ iat: now - 595, exp: now + 2 });
  const config = await oidc.dynamicClientRegistration(new URL(as.issuer), {
    software_statement: shortLived, redirect_uris: ['https://budget.example/cb'],
  } as Partial<oidc.ClientMetadata>, oidc.PrivateKeyJwt({ key: clientKeys.privateKey, kid: clientKid }), {
    [oidc.customFetch]: fetchWith(agentA),
  });
  await delay(3_000); // past the SSA's exp (and oidc-provider's clock tolerance is not involved: no re-verification)
  const tokens = await codeFlow(config, 'accounts');
  t.equal((await callResource(agentA, tokens.access_token)).status, 200);
});
