import t, { type Test } from 'tap';
import { decodeJwt, decodeProtectedHeader, exportJWK, calculateJwkThumbprint, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';
import {
  CertificateVerificationError, DirectoryError, verifyClientCertificate, verifySoftwareStatement, x5tS256,
} from '@ecosystem-directory/sdk';
import { startBank } from '../../scripts/demo/bank.js';
import {
  DirectoryApi, fetchCaBundle, listParticipants, loopbackLookup, obtainCertificate, onboardDataHolder, onboardFintech, waitForParticipant,
  type Fintech, type ListedParticipant,
} from '../../scripts/demo/ecosystem.js';
import { callResource, codeFlow, registerAtBank, registerRaw } from '../../scripts/demo/fapi-client.js';
import { buildTestApp, TestClock } from '../helpers/app.js';

/**
 * The ecosystem end to end, every party real and on 127.0.0.1: the directory (both listeners, its CA, OCSP, JWKS,
 * /participants); a bank whose FAPI 2.0 authorisation server (oidc-provider 9) and resource server serve TLS with
 * certificates from the directory CA and verify SSAs and client certificates with the SDK against the directory; and
 * fintechs that onboard with the operator, talk to the directory with `DirectoryClient` and to the bank with
 * openid-client 6 over mTLS. Then the refusals the ecosystem relies on, each on its own participant.
 */

// The bank and the SDK clients read the real clock: the directory's keeps pace with it.
const ctx = await buildTestApp(t, {}, { clock: new TestClock(true) });
const directory = { issuer: ctx.publicUrl, mtlsBaseUrl: ctx.mtlsUrl, caPem: await fetchCaBundle(ctx.publicUrl) };
const { operator: op } = ctx;
const operator = new DirectoryApi(directory, {
  clientId: op.clientId, orgId: op.orgId, signingKeyPem: op.signingKeyPem, signingKid: op.signingKid,
  transportKeyPem: op.transportKeyPem, transportCertPem: op.transportCertPem,
});
t.teardown(() => operator.close());

const holder = await onboardDataHolder(operator, {
  legalName: 'Example Bank plc', clientName: 'Example Bank open banking', redirectUris: ['https://bank.example/cb'],
});
t.teardown(() => holder.close());
// No verdict cache at the AS's certificate gate: a revocation must show at the next request.
const bank = await startBank({ directory, holder, certificateCacheMs: 0 });
t.teardown(() => bank.close());

// The user's browser: trusts the ecosystem CA (the bank's TLS certificate), presents no client certificate.
const browser = new Agent({ connect: { ca: directory.caPem, lookup: loopbackLookup } });
t.teardown(() => browser.close());

const REDIRECT_URI = 'https://budget.example/cb';
let fintechCount = 0;
/**
 * A data recipient onboarded by the operator, enrolled, with software and its certificates. The AS learns of new
 * participants when its verifier refreshes the participant list (every 60 s, or on an unknown participant, see the
 * last test); here it refreshes at once, as if the fintech had come a minute ago.
 */
async function fintech(name: string, { refreshAs = true } = {}): Promise<Fintech> {
  fintechCount += 1;
  const f = await onboardFintech(operator, { legalName: `${name} Ltd ${fintechCount}`, clientName: name, redirectUris: [REDIRECT_URI] });
  t.teardown(() => f.close());
  await published(f.organisation.id, (p) => p?.software_statements.some((s) => s.software_id === f.software.software_id) ?? false);
  if (refreshAs) await bank.as.verifier.refresh();
  return f;
}

function agentFor(cert: { keyPem: string; certPem: string }): Agent {
  const agent = new Agent({ connect: { key: cert.keyPem, cert: cert.certPem, ca: directory.caPem, lookup: loopbackLookup } });
  t.teardown(() => agent.close());
  return agent;
}

async function refusedRegistration(t: Test, agent: Agent, body: Record<string, unknown>, error: string, detail: RegExp) {
  const { status, body: answer } = await registerRaw(bank.as.issuer, agent, body);
  t.equal(status, 400, `${error}: HTTP 400`);
  t.equal(answer.error, error, `${error}: ${String(answer.error_description)}`);
  t.match(String(answer.error_description), detail);
}

/**
 * Waits for /participants to show a registry change before the AS refreshes. (Read-your-writes is meant to hold on one
 * directory instance, but a request racing with another's revalidation can be served the previous list: see the
 * issue note on DocumentCache.version().)
 */
const published = (orgId: string, check: (p: ListedParticipant | undefined) => boolean) => waitForParticipant(directory.issuer, orgId, check);

const ssaOf = (f: Fintech) => f.api.client.getSoftwareStatementAssertion(f.software.software_id);

t.test('enrol → directory token → SSA → DCR at the bank → PAR → consent → code + PKCE → bound token → resource server', async (t) => {
  const f = await fintech('Budget App');

  // Enrolment: the operator's organisation and one-time code, the fintech's CSR over the public listener.
  const enrolled = f.enrolment.response;
  t.equal(enrolled.org_id, f.organisation.id, 'enrolled into the organisation the operator created');
  const enrolmentCert = await verifyClientCertificate(enrolled.certificate, { caBundleUrl: `${directory.issuer}/pki/ca.pem`, checkOcsp: true });
  t.equal(enrolmentCert.status, 'good', 'the enrolment certificate chains to /pki/ca.pem and OCSP says good');
  t.match(enrolmentCert.certificate.subject, new RegExp(`CN=${enrolled.client_id}`), 'its CN is the client id');

  // The directory's token endpoint: mTLS + private_key_jwt → a token bound to the enrolment certificate.
  const directoryToken = decodeJwt(await f.api.client.getAccessToken('directory:software'));
  t.match(directoryToken, { client_id: enrolled.client_id, org_id: f.organisation.id, scope: 'directory:software' });
  t.same(directoryToken.cnf, { 'x5t#S256': x5tS256(enrolled.certificate) }, 'directory token bound to the enrolment certificate');

  // Software statement and its certificates (DirectoryClient.submitCsr): CN and UID are the software id.
  const softwareId = f.software.software_id;
  t.match(f.software, { status: 'active', version: 1, redirect_uris: [REDIRECT_URI], roles: ['data-recipient'] });
  const transport = await verifyClientCertificate(f.transport.certPem, { caBundlePem: directory.caPem, checkOcsp: true });
  t.equal(transport.status, 'good');
  t.match(transport.certificate.subject, new RegExp(`UID=${softwareId}\\nCN=${softwareId}`), 'transport certificate names the software');
  const keystore = await (await request(f.software.jwks_uri)).body.json() as { keys: Array<Record<string, unknown>> };
  t.match(keystore.keys.find((k) => k.kid === f.signing.kid), { use: 'sig', 'x5t#S256': f.signing.kid }, 'signing key published in the software keystore');

  // The SSA, fetched with DirectoryClient and verified with the SDK against the real /jwks and /participants.
  const ssa = await ssaOf(f);
  t.equal(decodeProtectedHeader(ssa).typ, 'JWT');
  const claims = await verifySoftwareStatement(ssa, { issuer: directory.issuer, checkStatus: true });
  t.match(claims, {
    iss: directory.issuer, software_id: softwareId, org_id: f.organisation.id, org_status: 'active', client_name: 'Budget App',
    redirect_uris: [REDIRECT_URI], jwks_uri: f.software.jwks_uri, token_endpoint_auth_method: 'private_key_jwt', scope: 'openid accounts consents',
  });

  // The fintech finds the bank's AS in the directory.
  const listed = (await listParticipants(directory.issuer, '?role=data-holder')).find((p) => p.org_id === holder.organisation.id);
  t.equal(listed?.authorisation_servers?.[0]?.issuer, bank.as.issuer, '/participants lists the bank\'s authorisation server');
  t.equal(listed?.authorisation_servers?.[0]?.api_resources?.[0]?.base_url, bank.rs.url);

  // The bank's TLS certificate comes from the directory CA, for a DNS name of the bank's data-holder software.
  const asCert = await verifyClientCertificate(bank.asCertificate.certPem, { caBundlePem: directory.caPem, purpose: 'any' });
  t.match(asCert.certificate.subjectAltName, /DNS:auth\.bank\.localhost/);
  t.match(asCert.certificate.subject, new RegExp(`CN=${holder.software.software_id}`));

  // DCR: openid-client over mTLS with the software's transport certificate; the SSA decides the metadata.
  const config = await registerAtBank(bank.as.issuer, f, ssa, { client_name: 'A spoofed name: the SSA wins' } as Partial<oidc.ClientMetadata>);
  const metadata = config.clientMetadata();
  t.match(metadata, {
    client_name: 'Budget App', software_id: softwareId, org_id: f.organisation.id, jwks_uri: f.software.jwks_uri,
    token_endpoint_auth_method: 'private_key_jwt', tls_client_certificate_bound_access_tokens: true, redirect_uris: [REDIRECT_URI],
  });
  const server = config.serverMetadata();
  t.equal(server.require_pushed_authorization_requests, true, 'PAR required');
  t.same(server.code_challenge_methods_supported, ['S256'], 'PKCE S256 only');
  t.equal(server.tls_client_certificate_bound_access_tokens, true);

  // PAR → user agent (auto-consent) → code + PKCE verifier → access token.
  const flow = await codeFlow(config, { redirectUri: REDIRECT_URI, scope: 'openid accounts', browser });
  t.same([...flow.authorizationUrl.searchParams.keys()].sort(), ['client_id', 'request_uri'], 'only client_id and request_uri pass through the browser');
  t.ok(flow.callback.searchParams.get('code'), 'authorisation code returned to the redirect URI');
  t.equal(flow.callback.searchParams.get('iss'), bank.as.issuer, 'RFC 9207 iss in the authorisation response');
  t.ok(flow.tokens.claims()?.sub, 'an ID token, validated by openid-client');
  const accessToken = decodeJwt(flow.tokens.access_token);
  t.match(accessToken, { iss: bank.as.issuer, aud: bank.as.resourceServer, client_id: metadata.client_id, scope: /\baccounts\b/ });
  t.same(accessToken.cnf, { 'x5t#S256': x5tS256(f.transport.certPem) }, 'bound to the software transport certificate');

  // The resource server: signature, iss, aud, exp, scope and cnf against this connection's certificate.
  const answer = await callResource(f.agent, bank.rs.accountsUrl, flow.tokens.access_token);
  t.equal(answer.status, 200, JSON.stringify(answer.body));
  t.equal(answer.body.client_id, metadata.client_id);
  const expired = await callResource(f.agent, bank.rs.accountsUrl, `${flow.tokens.access_token.slice(0, -4)}AAAA`);
  t.equal(expired.status, 401, 'a tampered token is refused');
});

t.test('DCR with an SSA signed by another key is refused', async (t) => {
  const f = await fintech('Forgery Target');
  const genuine = await ssaOf(f);
  const { kid: directoryKid } = decodeProtectedHeader(genuine);
  const payload = decodeJwt(genuine);
  const attacker = await generateKeyPair('PS256');
  const attackerKid = await calculateJwkThumbprint(await exportJWK(attacker.publicKey));
  const forge = (kid: string) => new SignJWT(payload).setProtectedHeader({ alg: 'PS256', kid, typ: 'JWT' }).sign(attacker.privateKey);

  await refusedRegistration(t, f.agent, { software_statement: await forge(attackerKid), redirect_uris: [REDIRECT_URI] },
    'invalid_software_statement', /ERR_SSA_UNKNOWN_KID/);
  await refusedRegistration(t, f.agent, { software_statement: await forge(directoryKid!), redirect_uris: [REDIRECT_URI] },
    'invalid_software_statement', /ERR_SSA_SIGNATURE/);
  const { status } = await registerRaw(bank.as.issuer, f.agent, { software_statement: genuine, redirect_uris: [REDIRECT_URI] });
  t.equal(status, 201, 'the genuine SSA with the same claims registers');
});

t.test('DCR with an expired SSA is refused', async (t) => {
  const f = await fintech('Late Loans');
  // An SSA the directory signed SSA_TTL + 60 s ago: its SSA service with the directory clock turned back. (Over HTTP the
  // fintech's certificates, issued just now, would be "not yet valid" at that time.)
  const back = ctx.config.SSA_TTL + 60;
  ctx.clock.advance(-back);
  let ssa: string;
  try {
    ssa = await ctx.services.ssa.issue(f.organisation.id, f.software.software_id, { actor: `client:${f.enrolment.credentials.clientId}` });
  } finally {
    ctx.clock.advance(back);
  }
  t.ok(await verifySoftwareStatement(ssa, { issuer: directory.issuer, currentDate: new Date(Date.now() - back * 1000) }), 'genuine: it verified when it was issued');
  const { iat, exp } = decodeJwt(ssa);
  t.ok(exp! < Date.now() / 1000 - 30, 'exp has passed');
  t.equal(exp! - iat!, ctx.config.SSA_TTL);
  await refusedRegistration(t, f.agent, { software_statement: ssa, redirect_uris: [REDIRECT_URI] }, 'invalid_software_statement', /ERR_SSA_EXPIRED/);
});

t.test('DCR with redirect URIs outside the SSA is refused', async (t) => {
  const f = await fintech('Redirect Rascal');
  const ssa = await ssaOf(f);
  await refusedRegistration(t, f.agent, { software_statement: ssa, redirect_uris: ['https://attacker.example/cb'] },
    'invalid_redirect_uri', /ERR_REDIRECT_URI/);
  await refusedRegistration(t, f.agent, { software_statement: ssa, redirect_uris: [REDIRECT_URI, `${REDIRECT_URI}/extra`] },
    'invalid_redirect_uri', /ERR_REDIRECT_URI/);
});

t.test('a suspended participant\'s fresh SSA is refused by the AS\'s status check', async (t) => {
  const f = await fintech('Suspended Savings');
  const ssa = await ssaOf(f); // signed while the organisation was active: valid signature, org_status "active", 10 minutes to live

  await operator.call('PATCH', `/admin/organisations/${f.organisation.id}`, { scope: 'directory:admin', json: { status: 'suspended' } });
  t.equal((await published(f.organisation.id, (p) => p?.status === 'suspended'))?.status, 'suspended', '/participants says suspended');
  const noMore = await ssaOf(f).catch((e: unknown) => e);
  t.type(noMore, DirectoryError, 'the directory issues no more SSAs (nor tokens) to it');
  t.ok([401, 403].includes((noMore as DirectoryError).status), `refused with HTTP ${(noMore as DirectoryError).status}`);
  const signatureOnly = await verifySoftwareStatement(ssa, { issuer: directory.issuer, checkStatus: false });
  t.equal(signatureOnly.org_status, 'active', 'the SSA alone still looks fine: only the status check can catch this');

  // The AS refreshes its participant list in the background (60 s); refresh now instead of waiting.
  await bank.as.verifier.refresh();
  await refusedRegistration(t, f.agent, { software_statement: ssa, redirect_uris: [REDIRECT_URI] }, 'unapproved_software_statement', /ERR_PARTICIPANT_INACTIVE/);

  await operator.call('PATCH', `/admin/organisations/${f.organisation.id}`, { scope: 'directory:admin', json: { status: 'active' } });
  await published(f.organisation.id, (p) => p?.status === 'active');
  await bank.as.verifier.refresh();
  const reinstated = await registerRaw(bank.as.issuer, f.agent, { software_statement: ssa, redirect_uris: [REDIRECT_URI] });
  t.equal(reinstated.status, 201, 'reinstated: the same SSA registers');
});

t.test('a revoked certificate is refused at the AS by OCSP', async (t) => {
  const f = await fintech('Revoked Rewards');
  const ssa = await ssaOf(f);
  const spare = await obtainCertificate(f.api, f.software.software_id, 'transport');
  const spareAgent = agentFor(spare);
  const withSpare: Fintech = { ...f, agent: spareAgent };

  // With the certificate still good: it registers, and pushes an authorisation request.
  const config = await registerAtBank(bank.as.issuer, withSpare, ssa);
  const par = () => oidc.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: REDIRECT_URI, scope: 'accounts', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
  });
  t.ok(await par(), 'PAR accepted while the certificate is good');

  await f.api.client.revokeCertificate(spare.issued.serial, 'keyCompromise');
  const sdk = await verifyClientCertificate(spare.certPem, { caBundlePem: directory.caPem, checkOcsp: true }).catch((e: unknown) => e);
  t.type(sdk, CertificateVerificationError);
  t.match(sdk, { code: 'ERR_CERT_REVOKED', reason: 'keyCompromise' }, 'the directory\'s OCSP responder says revoked');

  // The TLS handshake still succeeds (the chain is fine); the AS's OCSP check refuses.
  const refusedPar = await par().catch((e: unknown) => e) as { error?: string; error_description?: string };
  t.equal(refusedPar.error, 'invalid_client', 'PAR over the revoked certificate');
  t.match(refusedPar.error_description, /ERR_CERT_REVOKED/);
  await refusedRegistration(t, spareAgent, { software_statement: ssa, redirect_uris: [REDIRECT_URI] }, 'invalid_client_metadata', /ERR_CERT_REVOKED/);
  const { status } = await registerRaw(bank.as.issuer, f.agent, { software_statement: ssa, redirect_uris: [REDIRECT_URI] });
  t.equal(status, 201, 'the software\'s other, unrevoked certificate still registers');
});

t.test('a certificate-bound token is refused over another certificate', async (t) => {
  const f = await fintech('Stolen Token Victim');
  const other = await fintech('Token Thief');
  const config = await registerAtBank(bank.as.issuer, f, await ssaOf(f));
  const { tokens } = await codeFlow(config, { redirectUri: REDIRECT_URI, scope: 'accounts', browser });
  t.equal((await callResource(f.agent, bank.rs.accountsUrl, tokens.access_token)).status, 200, 'accepted over the certificate it is bound to');

  const sameOrg = agentFor({ keyPem: f.enrolment.credentials.transportKeyPem, certPem: f.enrolment.credentials.transportCertPem });
  for (const [what, agent] of [['another certificate of the same organisation', sameOrg], ['another participant\'s certificate', other.agent]] as const) {
    const answer = await callResource(agent, bank.rs.accountsUrl, tokens.access_token);
    t.equal(answer.status, 401, what);
    t.equal(answer.body.error, 'invalid_token');
    t.match(answer.challenge, /Bearer error="invalid_token"/);
  }
  const noCertificate = await request(bank.rs.accountsUrl, { dispatcher: browser, headers: { authorization: `Bearer ${tokens.access_token}` } })
    .then((r) => r.body.dump().then(() => r.statusCode), (e: unknown) => e);
  t.type(noCertificate, Error, 'without a client certificate the resource server does not even complete the handshake');
});

t.test('a participant onboarded after the AS last refreshed is refused as unknown, then registers on retry', async (t) => {
  const f = await fintech('Newcomer', { refreshAs: false });
  const ssa = await ssaOf(f);
  const body = { software_statement: ssa, redirect_uris: [REDIRECT_URI] };
  await refusedRegistration(t, f.agent, body, 'unapproved_software_statement', /ERR_PARTICIPANT_UNKNOWN/);
  // verifySync cannot wait for I/O; it scheduled a refetch of /participants (rate-limited), so a retry succeeds.
  let status = 0;
  for (let attempt = 0; attempt < 50 && status !== 201; attempt += 1) {
    await delay(20);
    status = (await registerRaw(bank.as.issuer, f.agent, body)).status;
  }
  t.equal(status, 201, 'registered once the verifier had refetched the participant list');
});
