import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { DirectoryClient, DirectoryError, verifySoftwareStatement } from '../src/index.js';
import { createOrganisation, DirectoryApi, fetchCaBundle, makeCsr, newKey, pkcs8, publicJwk } from '../../../scripts/demo/ecosystem.js';
import { buildTestApp, TestClock } from '../../../test/helpers/app.js';

/**
 * `DirectoryClient` against the real directory (both listeners, its CA and token endpoint): enrolment, the
 * organisation, software statements, authorisation servers, certificates (issue, list, revoke) and SSAs, each answer
 * decoded with the wire contract (times as `Date`s), each refusal a `DirectoryError` carrying the problem.
 */

// The SDK's clients read the real clock: the directory's keeps pace with it.
const ctx = await buildTestApp(t, {}, { clock: new TestClock(true) });
const caPem = await fetchCaBundle(ctx.publicUrl);
const operator = new DirectoryApi({ issuer: ctx.publicUrl, mtlsBaseUrl: ctx.mtlsUrl, caPem }, {
  clientId: ctx.operator.clientId, orgId: ctx.operator.orgId, signingKeyPem: ctx.operator.signingKeyPem,
  signingKid: ctx.operator.signingKid, transportKeyPem: ctx.operator.transportKeyPem, transportCertPem: ctx.operator.transportCertPem,
});
t.teardown(() => operator.close());

async function refused(t: Test, promise: Promise<unknown>, status: number): Promise<DirectoryError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  t.type(error, DirectoryError, `HTTP ${status}: a DirectoryError`);
  t.equal((error as DirectoryError).status, status, (error as Error).message);
  return error as DirectoryError;
}

const { organisation, code } = await createOrganisation(operator, { legalName: 'Client API Bank plc', roles: ['data-holder', 'data-recipient'] });
const signingKey = newKey();
const transportKey = newKey();
const jwk = await publicJwk(signingKey);

let client: DirectoryClient;
t.teardown(() => client?.close());

t.test('enrolment: a one-time code, a CSR and public keys give a client id and a transport certificate', async (t) => {
  const enrolment = { issuer: ctx.publicUrl, code, csrPem: makeCsr(transportKey), jwks: { keys: [{ ...jwk, alg: 'ES256', use: 'sig' }] } };
  const result = await DirectoryClient.enrol(enrolment);
  t.equal(result.org_id, organisation.id);
  t.match(result.certificate, /^-----BEGIN CERTIFICATE-----/);
  t.ok(result.chain.length >= 1, 'the issuing CA follows');
  const again = await refused(t, DirectoryClient.enrol(enrolment), 401);
  t.ok(again.problem?.detail, `a used code is refused with a problem: ${again.problem?.detail}`);
  client = new DirectoryClient({
    issuer: ctx.publicUrl, mtlsBaseUrl: ctx.mtlsUrl, clientId: result.client_id, orgId: result.org_id,
    signingKey: pkcs8(signingKey), signingKid: jwk.kid, transportKeyPem: pkcs8(transportKey),
    transportCertPem: result.certificate + result.chain.join(''), caPem,
  });
});

t.test('the organisation and its software statements', async (t) => {
  const org = await client.getOrganisation();
  t.equal(org.id, organisation.id);
  t.ok(org.created_at instanceof Date, 'times decode to Dates');
  t.same(org.roles.map((r) => r.role).sort(), ['data-holder', 'data-recipient']);

  const created = await client.createSoftwareStatement({
    client_name: 'Client API App', redirect_uris: ['https://app.example/cb'], roles: ['data-recipient'],
  });
  t.equal(created.org_id, organisation.id);
  t.equal(created.version, 1);
  t.equal(created.token_endpoint_auth_method, 'private_key_jwt', 'the directory fills in defaults');
  t.same((await client.listSoftwareStatements()).map((s) => s.software_id), [created.software_id]);

  const updated = await client.updateSoftwareStatement(created.software_id, { client_description: 'Budgeting' });
  t.equal(updated.version, 2);
  t.equal(updated.client_description, 'Budgeting');
  const cleared = await client.updateSoftwareStatement(created.software_id, { client_description: null });
  t.notOk('client_description' in cleared, 'null removes an optional field');
  t.equal((await client.getSoftwareStatement(created.software_id)).version, 3);

  const ssa = await client.getSoftwareStatementAssertion(created.software_id);
  const claims = await verifySoftwareStatement(ssa, { issuer: ctx.publicUrl, checkStatus: false });
  t.equal(claims.software_id, created.software_id);
  t.equal(claims.software_version, 3, 'the SSA carries the current version');

  const missing = await refused(t, client.getSoftwareStatement(randomUUID()), 404);
  t.match(missing.problem, { status: 404 });
  const invalid = await refused(t, client.createSoftwareStatement({ client_name: 'Bad', redirect_uris: ['http://app.example/cb'], roles: ['data-recipient'] }), 400);
  t.ok(invalid.problem?.errors?.some((e) => String(e.path).includes('redirect_uris')), 'the problem names the field');
});

t.test('authorisation servers', async (t) => {
  const issuer = `https://as-${randomUUID().slice(0, 8)}.bank.example`;
  const created = await client.createAuthorisationServer({
    issuer, discovery_url: `${issuer}/.well-known/openid-configuration`, customer_friendly_name: 'Client API Bank',
    api_resources: [{ family: 'accounts', version: '4.0', base_url: 'https://api.bank.example/accounts' }],
  });
  t.equal(created.issuer, issuer);
  t.same((await client.listAuthorisationServers()).map((s) => s.id), [created.id]);
  const renamed = await client.updateAuthorisationServer(created.id, { customer_friendly_name: 'Renamed Bank' });
  t.equal(renamed.customer_friendly_name, 'Renamed Bank');
  t.ok(renamed.version > created.version);
  t.equal((await client.getAuthorisationServer(created.id)).customer_friendly_name, 'Renamed Bank');
  await refused(t, client.createAuthorisationServer({ issuer, discovery_url: `${issuer}/x`, customer_friendly_name: 'Twice' }), 409);
});

t.test('certificates: issue, list, revoke', async (t) => {
  const [software] = await client.listSoftwareStatements();
  const issued = await client.submitCsr(software!.software_id, 'transport', makeCsr(newKey()));
  t.equal(issued.type, 'transport');
  t.equal(issued.status, 'active');
  t.ok(issued.not_before instanceof Date && issued.not_after > issued.not_before, 'validity as Dates');

  const listed = await client.listCertificates();
  t.ok(listed.some((c) => c.serial === issued.serial && c.software_id === software!.software_id), 'listed under its software');
  t.ok(listed.some((c) => c.software_id === null), 'and the enrolment certificate, under no software');

  const revoked = await client.revokeCertificate(issued.serial, 'superseded');
  t.equal(revoked.status, 'revoked');
  const after = (await client.listCertificates()).find((c) => c.serial === issued.serial);
  t.equal(after?.revocation_reason, 'superseded');
  t.ok(after?.revoked_at instanceof Date);
  await refused(t, client.revokeCertificate('abcdef0123', 'keyCompromise'), 404);
});
