/**
 * `npm run demo`: the whole ecosystem on this machine, walked through step by step.
 *
 * Starts the directory (`serve(loadConfig(...))`: both listeners, embedded PGlite in a temporary DATA_DIR; PostgreSQL
 * only when DEMO_DATABASE_URL names an empty database, so a DATABASE_URL meant for something else is never touched),
 * onboards a bank that runs a FAPI 2.0 authorisation server and an accounts API with TLS certificates from the
 * directory CA, onboards a fintech that registers at the bank with its SSA and reads an account through PAR, PKCE and
 * a certificate-bound token; then shows three things the ecosystem refuses. Prints who calls whom and what was
 * checked; exits 0 on success, 1 on failure; removes its servers and files either way.
 *
 * Environment: DEMO_DATABASE_URL (optional PostgreSQL), DEMO_LOG_LEVEL (directory log level, default silent).
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, importPKCS8 } from 'jose';
import * as oidc from 'openid-client';
import { Agent } from 'undici';
import { CertificateVerificationError, DirectoryError, verifyClientCertificate } from '@ecosystem-directory/sdk';
import { loadConfig } from '../../src/config.js';
import { serve } from '../../src/server.js';
import { startBank } from './bank.js';
import {
  createOrganisation, DirectoryApi, enrol, fetchCaBundle, freePort, listParticipants, loopbackLookup, obtainCertificate,
  registerSoftware, waitForParticipant, type Credentials, type DirectoryEndpoints, type Fintech,
} from './ecosystem.js';
import { callResource, registerAtBank, registerRaw, userAgent } from './fapi-client.js';

const started = performance.now();
const cleanups: Array<() => unknown> = [];
const tty = process.stdout.isTTY === true && !process.env.NO_COLOR;
const style = (code: string) => (text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = style('1');
const dim = style('2');
const green = style('32');
const red = style('31');

let stepNo = 0;
function section(title: string): void {
  process.stdout.write(`\n${bold(`── ${title}`)}\n`);
}
function step(from: string, to: string, what: string): void {
  stepNo += 1;
  process.stdout.write(`${String(stepNo).padStart(2)}  ${bold(from)} → ${bold(to)}  ${what}\n`);
}
function detail(text: string): void {
  process.stdout.write(`      ${text}\n`);
}
function checked(who: string) {
  return (message: string) => process.stdout.write(`      ${dim(`${who} checked:`)} ${message}\n`);
}
function refused(text: string): void {
  process.stdout.write(`      ${green('refused as it should be:')} ${text}\n`);
}
const cn = (pem: string) => /CN=([^\n]+)/.exec(new X509Certificate(pem).subject)?.[1] ?? '?';
const issuerCn = (pem: string) => /CN=([^\n]+)/.exec(new X509Certificate(pem).issuer)?.[1] ?? '?';
const short = (value: string) => (value.length > 16 ? `${value.slice(0, 8)}…` : value);

async function readOperator(dataDir: string): Promise<Credentials> {
  const dir = join(dataDir, 'operator');
  const client = JSON.parse(await readFile(join(dir, 'client.json'), 'utf8')) as { client_id: string; org_id: string; signing_kid: string };
  return {
    clientId: client.client_id,
    orgId: client.org_id,
    signingKid: client.signing_kid,
    signingKeyPem: await readFile(join(dir, 'signing.key'), 'utf8'),
    transportKeyPem: await readFile(join(dir, 'transport.key'), 'utf8'),
    transportCertPem: await readFile(join(dir, 'transport.pem'), 'utf8'),
  };
}

async function main(): Promise<void> {
  process.stdout.write(`${bold('Ecosystem Directory — end-to-end demo')}\n` +
    'A directory (the central authority), a bank (data holder: FAPI 2.0 authorisation server and accounts API) and a\n' +
    'fintech (data recipient), all on this machine. Every call is real HTTP(S); every TLS certificate, server or client,\n' +
    'comes from the directory\'s CA.\n');

  // ── The directory ───────────────────────────────────────────────────────────────────────────────────────────────
  section('The directory');
  const dataDir = await mkdtemp(join(tmpdir(), 'ecosystem-demo-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const [publicPort, mtlsPort] = [await freePort(), await freePort()];
  const databaseUrl = process.env.DEMO_DATABASE_URL;
  const config = loadConfig({
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PUBLIC_PORT: String(publicPort),
    MTLS_PORT: String(mtlsPort),
    DIRECTORY_ISSUER: `http://127.0.0.1:${publicPort}`,
    MTLS_BASE_URL: `https://127.0.0.1:${mtlsPort}`,
    TLS_SERVER_NAMES: 'localhost,127.0.0.1',
    LOG_LEVEL: process.env.DEMO_LOG_LEVEL ?? 'silent',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const running = await serve(config).catch((error: unknown) => {
    throw databaseUrl
      ? new Error(`the directory did not start on DEMO_DATABASE_URL (it must name an empty database): ${(error as Error).message}`, { cause: error })
      : error;
  });
  cleanups.push(() => running.close());
  detail(`database  ${databaseUrl
    ? `PostgreSQL from DEMO_DATABASE_URL (${new URL(databaseUrl).host}${new URL(databaseUrl).pathname})`
    : `embedded PGlite in ${dataDir}${process.env.DATABASE_URL ? ' (DATABASE_URL left alone: set DEMO_DATABASE_URL to use PostgreSQL)' : ''}`}`);
  for (const message of running.init) detail(`init      ${message}`);
  detail(`public    ${config.DIRECTORY_ISSUER}   JWKS, /participants, CA bundle, CRL, OCSP, enrolment`);
  detail(`mTLS      ${config.MTLS_BASE_URL}  token endpoint, participant and admin API`);
  const directory: DirectoryEndpoints = {
    issuer: config.DIRECTORY_ISSUER, mtlsBaseUrl: config.MTLS_BASE_URL, caPem: await fetchCaBundle(config.DIRECTORY_ISSUER),
  };
  const operator = new DirectoryApi(directory, await readOperator(dataDir));
  cleanups.push(() => operator.close());

  // ── The bank ────────────────────────────────────────────────────────────────────────────────────────────────────
  section('Onboarding the bank (data holder)');
  step('operator', 'directory', 'POST /admin/organisations, POST /admin/organisations/{id}/enrolment-codes  (mTLS, admin token)');
  const bankOrg = await createOrganisation(operator, { legalName: 'Example Bank plc', roles: ['data-holder'] });
  detail(`organisation "${bankOrg.organisation.legal_name}" ${dim(bankOrg.organisation.id)}, role data-holder; a one-time enrolment code, valid until ${bankOrg.expiresAt}`);

  step('bank', 'directory', 'POST /enrol  (public listener: the code, a transport CSR made with openssl, its public signing key)');
  const bankEnrolment = await enrol(directory, bankOrg.code);
  detail(`client id ${bankEnrolment.response.client_id}; certificate CN=${cn(bankEnrolment.response.certificate)} issued by "${issuerCn(bankEnrolment.response.certificate)}"`);
  const bankApi = new DirectoryApi(directory, bankEnrolment.credentials);
  cleanups.push(() => bankApi.close());

  step('bank', 'directory', 'POST /token, POST /organisations/{org}/software-statements  (DirectoryClient: mTLS + private_key_jwt)');
  const bankToken = decodeJwt(await bankApi.client.getAccessToken());
  detail(`access token for ${String(bankToken.scope)}, bound to the enrolment certificate (cnf.x5t#S256 ${short((bankToken.cnf as Record<string, string>)['x5t#S256']!)})`);
  const bankSoftware = await registerSoftware(bankApi, { client_name: 'Example Bank open banking', redirect_uris: ['https://bank.example/cb'], roles: ['data-holder'] });
  detail(`software statement "${bankSoftware.client_name}" ${dim(bankSoftware.software_id)}`);

  step('bank', 'directory', 'POST …/software-statements/{id}/certificates ×2  (transport CSRs with dns_names)');
  const bank = await startBank({
    directory,
    holder: { api: bankApi, organisation: bankOrg.organisation, software: bankSoftware, close: () => bankApi.close() },
    log: { as: checked('AS'), rs: checked('RS') },
  });
  cleanups.push(() => bank.close());
  for (const [what, cert] of [['authorisation server', bank.asCertificate], ['resource server', bank.rsCertificate]] as const) {
    const x509 = new X509Certificate(cert.issued.certificate);
    detail(`${what}: ${x509.subjectAltName}, CN=${cn(cert.issued.certificate)}, serverAuth + clientAuth, issued by "${issuerCn(cert.issued.certificate)}"`);
  }

  step('bank', 'bank', 'starts its servers with those certificates');
  detail(`authorisation server ${bank.as.issuer}  oidc-provider 9, FAPI 2.0: PAR and PKCE S256 required, private_key_jwt or tls_client_auth, mTLS-bound JWT access tokens`);
  detail(`                     dynamic client registration requires a directory SSA; status checked against ${directory.issuer}/participants`);
  detail(`resource server      ${bank.rs.accountsUrl}  mTLS with directory certificates only`);
  detail(`(*.localhost names resolve to 127.0.0.1 here, RFC 6761; the AS loaded the directory's /jwks and /participants)`);

  step('bank', 'directory', 'POST /organisations/{org}/authorisation-servers  (publishes the AS in /participants)');
  detail(`issuer ${bank.as.issuer}, API accounts 1.0 at ${bank.rs.url}`);

  // ── The fintech ─────────────────────────────────────────────────────────────────────────────────────────────────
  section('Onboarding the fintech (data recipient)');
  step('operator', 'directory', 'POST /admin/organisations, POST …/enrolment-codes');
  const fintechOrg = await createOrganisation(operator, { legalName: 'Budget Fintech Ltd', roles: ['data-recipient'] });
  detail(`organisation "${fintechOrg.organisation.legal_name}" ${dim(fintechOrg.organisation.id)}, role data-recipient`);

  step('fintech', 'directory', 'POST /enrol');
  const fintechEnrolment = await enrol(directory, fintechOrg.code);
  detail(`client id ${fintechEnrolment.response.client_id}; enrolment certificate CN=${cn(fintechEnrolment.response.certificate)}`);
  const fintechApi = new DirectoryApi(directory, fintechEnrolment.credentials);
  cleanups.push(() => fintechApi.close());

  step('fintech', 'directory', 'POST /token, then POST …/software-statements  (DirectoryClient)');
  const software = await registerSoftware(fintechApi, { client_name: 'Budget App', redirect_uris: ['https://budget.example/cb'], roles: ['data-recipient'] });
  detail(`software statement "${software.client_name}" ${dim(software.software_id)}, redirect URI ${software.redirect_uris.join(', ')}`);

  step('fintech', 'directory', 'POST …/certificates {type: "transport"} and {type: "signing"}  (DirectoryClient.submitCsr)');
  const transport = await obtainCertificate(fintechApi, software.software_id, 'transport');
  const signing = await obtainCertificate(fintechApi, software.software_id, 'signing');
  detail(`transport certificate CN=UID=${cn(transport.issued.certificate)} (the software id): the fintech's mTLS identity at banks`);
  detail(`signing certificate, key published in the software keystore with kid ${short(signing.issued['x5t#S256'])}: its private_key_jwt key at banks`);
  const agent = new Agent({ connect: { key: transport.keyPem, cert: transport.certPem, ca: directory.caPem, lookup: loopbackLookup } });
  cleanups.push(() => agent.close());
  const fintech: Fintech = {
    api: fintechApi, organisation: fintechOrg.organisation, enrolment: fintechEnrolment, software, transport, agent,
    signing: { ...signing, kid: signing.issued['x5t#S256'], cryptoKey: await importPKCS8(signing.keyPem, 'ES256') },
    close: async () => {},
  };

  step('fintech', 'directory', 'GET …/software-statements/{id}/ssa  (DirectoryClient.getSoftwareStatementAssertion)');
  const ssa = await fintechApi.client.getSoftwareStatementAssertion(software.software_id);
  const ssaHeader = decodeProtectedHeader(ssa);
  const ssaClaims = decodeJwt(ssa);
  detail(`SSA: ${ssaHeader.alg} JWS, kid ${short(String(ssaHeader.kid))}, valid ${Number(ssaClaims.exp) - Number(ssaClaims.iat)} s`);
  detail(`claims: software_id, org_id, org_status "${String(ssaClaims.org_status)}", client_name "${String(ssaClaims.client_name)}", redirect_uris, jwks_uri (the keystore), scope "${String(ssaClaims.scope)}"`);

  step('fintech', 'directory', 'GET /participants?role=data-holder  (public)');
  await waitForParticipant(directory.issuer, fintechOrg.organisation.id, (p) => p?.software_statements.some((s) => s.software_id === software.software_id) ?? false);
  const banks = await listParticipants(directory.issuer, '?role=data-holder');
  const listed = banks.find((p) => p.org_id === bankOrg.organisation.id);
  if (listed?.authorisation_servers[0]?.issuer !== bank.as.issuer) throw new Error('the bank\'s authorisation server is not in /participants');
  detail(`found "${listed.legal_name}": authorisation server ${listed.authorisation_servers[0].issuer}`);
  // The AS's verifier refreshes /participants every 60 s and on an unknown participant; the fintech is a minute old now.
  await bank.as.verifier.refresh();

  // ── The FAPI 2.0 flow ───────────────────────────────────────────────────────────────────────────────────────────
  section('The fintech reads an account at the bank (FAPI 2.0)');
  step('fintech', 'bank AS', 'POST /reg  (dynamic client registration: openid-client 6, mTLS with the transport certificate, the SSA)');
  const config2 = await registerAtBank(bank.as.issuer, fintech, ssa, {});
  const metadata = config2.clientMetadata();
  detail(`registered: client_id ${short(metadata.client_id)}, "${String(metadata.client_name)}", ${String(metadata.token_endpoint_auth_method)}, jwks_uri = the directory keystore, scope "${String(metadata.scope)}"`);

  step('fintech', 'bank AS', 'POST /request  (PAR over mTLS: client assertion, PKCE S256 challenge, scope, redirect_uri)');
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const authorizationUrl = await oidc.buildAuthorizationUrlWithPAR(config2, {
    redirect_uri: 'https://budget.example/cb', scope: 'openid accounts', state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  detail(`request_uri issued; the browser will carry only ${[...authorizationUrl.searchParams.keys()].join(' and ')}`);

  step('user', 'bank AS', 'GET /auth?client_id&request_uri  (login and consent: automatic in this demo)');
  const callback = await userAgent(authorizationUrl, await browserAgent(directory));
  detail(`redirected to ${callback.origin}${callback.pathname} with a code, state and iss=${callback.searchParams.get('iss')}`);

  step('fintech', 'bank AS', 'POST /token  (code + PKCE verifier, client assertion, over mTLS)');
  const tokens = await oidc.authorizationCodeGrant(config2, callback, { pkceCodeVerifier: verifier, expectedState: state });
  const accessToken = decodeJwt(tokens.access_token);
  detail(`access token: JWT for ${String(accessToken.aud)}, scope "${String(accessToken.scope)}", expires in ${tokens.expires_in} s, ` +
    `cnf.x5t#S256 ${short((accessToken.cnf as Record<string, string>)['x5t#S256']!)} = the fintech's transport certificate; ID token validated by openid-client`);

  step('fintech', 'bank RS', `GET /accounts  (mTLS + bearer token)`);
  const answer = await callResource(agent, bank.rs.accountsUrl, tokens.access_token);
  if (answer.status !== 200) throw new Error(`the resource server answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  detail(`HTTP 200 ${JSON.stringify(answer.body.accounts)}`);

  // ── Refusals ────────────────────────────────────────────────────────────────────────────────────────────────────
  section('What the ecosystem refuses');
  step('thief', 'bank RS', 'GET /accounts with the fintech\'s token over another certificate (the fintech\'s enrolment one)');
  const thiefAgent = new Agent({ connect: { key: fintechEnrolment.credentials.transportKeyPem, cert: fintechEnrolment.credentials.transportCertPem, ca: directory.caPem, lookup: loopbackLookup } });
  cleanups.push(() => thiefAgent.close());
  const stolen = await callResource(thiefAgent, bank.rs.accountsUrl, tokens.access_token);
  if (stolen.status !== 401) throw new Error(`a token over another certificate was answered ${stolen.status}`);
  refused(`HTTP 401 ${String(stolen.body.error)}`);

  step('fintech', 'directory', 'POST /organisations/{org}/certificates/{serial}/revoke {reason: keyCompromise}, then registers with that certificate');
  const spare = await obtainCertificate(fintechApi, software.software_id, 'transport');
  await fintechApi.client.revokeCertificate(spare.issued.serial, 'keyCompromise');
  const spareAgent = new Agent({ connect: { key: spare.keyPem, cert: spare.certPem, ca: directory.caPem, lookup: loopbackLookup } });
  cleanups.push(() => spareAgent.close());
  const ocsp = await verifyClientCertificate(spare.certPem, { caBundlePem: directory.caPem, checkOcsp: true }).catch((error: unknown) => error);
  if (!(ocsp instanceof CertificateVerificationError) || ocsp.code !== 'ERR_CERT_REVOKED') throw new Error('OCSP did not report the revocation');
  detail(`directory OCSP responder: revoked (${ocsp.reason})`);
  const revokedRegistration = await registerRaw(bank.as.issuer, spareAgent, { software_statement: ssa, redirect_uris: software.redirect_uris });
  if (revokedRegistration.status !== 400) throw new Error(`registration with a revoked certificate answered ${revokedRegistration.status}`);
  refused(`HTTP 400 ${String(revokedRegistration.body.error)}`);

  step('operator', 'directory', `PATCH /admin/organisations/{id} {status: "suspended"}; the fintech presents its SSA (still unexpired) to the bank`);
  await operator.call('PATCH', `/admin/organisations/${fintechOrg.organisation.id}`, { scope: 'directory:admin', json: { status: 'suspended' } });
  const noSsa = await fintechApi.client.getSoftwareStatementAssertion(software.software_id).catch((error: unknown) => error);
  if (!(noSsa instanceof DirectoryError)) throw new Error('the directory issued an SSA to a suspended organisation');
  detail(`the directory refuses it a new SSA or token: HTTP ${noSsa.status}`);
  await waitForParticipant(directory.issuer, fintechOrg.organisation.id, (p) => p?.status === 'suspended');
  await bank.as.verifier.refresh();
  detail('the AS refreshed /participants (it would within 60 s anyway)');
  const suspended = await registerRaw(bank.as.issuer, agent, { software_statement: ssa, redirect_uris: software.redirect_uris });
  if (suspended.status !== 400) throw new Error(`registration of a suspended organisation answered ${suspended.status}`);
  refused(`HTTP 400 ${String(suspended.body.error)}`);
}

async function browserAgent(directory: DirectoryEndpoints): Promise<Agent> {
  const browser = new Agent({ connect: { ca: directory.caPem, lookup: loopbackLookup } });
  cleanups.push(() => browser.close());
  return browser;
}

let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  process.stdout.write(`\n${red('demo failed:')} ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
} finally {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      process.stdout.write(`${dim(`cleanup: ${(error as Error).message}`)}\n`);
    }
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(failed
  ? `\n${red('✗')} failed after ${seconds} s; servers stopped, temporary files removed\n`
  : `\n${green('✓')} the ecosystem worked end to end in ${seconds} s; servers stopped, temporary files removed\n`);
// oidc-provider and undici may keep timers; everything is closed, so leave now with the verdict.
process.exit(failed ? 1 : 0);
