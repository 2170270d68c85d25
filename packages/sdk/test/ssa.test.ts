import t, { type Test } from 'tap';
import { jwtVerify, createLocalJWKSet } from 'jose';
import { DirectoryKeySet } from '../src/jwks.js';
import { ParticipantList } from '../src/participants.js';
import { SoftwareStatementError, verifySoftwareStatement, type SoftwareStatementErrorCode } from '../src/index.js';
import { makeSigningKey, startFakeDirectory } from './helpers/directory.js';

const directory = await startFakeDirectory();
t.teardown(() => directory.close());

const base = { issuer: directory.issuer };
const now = () => Math.floor(Date.now() / 1000);

/** A JWS-shaped string with any header; the signature is junk, for checks that must fire before the signature. */
function craft(header: unknown, payload: unknown = directory.claims(), signature = 'c2ln'): string {
  const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  return `${enc(header)}.${enc(payload)}.${signature}`;
}

async function rejects(t: Test, ssa: string, code: SoftwareStatementErrorCode, options: Partial<Parameters<typeof verifySoftwareStatement>[1]> = {}, claim?: string) {
  const error = await verifySoftwareStatement(ssa, { ...base, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, SoftwareStatementError, `${code}: throws SoftwareStatementError`);
  t.equal((error as SoftwareStatementError).code, code, `${code}: ${(error as Error).message}`);
  if (claim !== undefined) t.equal((error as SoftwareStatementError).claim, claim, `${code} names claim ${claim}`);
}

t.test('accepts directory SSAs signed PS256 and ES256, and jose agrees on them', async (t) => {
  for (const key of [directory.ps256, directory.es256]) {
    const ssa = await directory.signSsa({}, { key });
    const claims = await verifySoftwareStatement(ssa, base);
    t.equal(claims.software_id, directory.softwareId);
    t.same(claims.redirect_uris, ['https://budget.example/cb', 'https://budget.example/cb2']);
    const { payload } = await jwtVerify(ssa, createLocalJWKSet({ keys: directory.published }), { issuer: directory.issuer });
    t.same(payload, claims, `${key.alg}: same claims as jose`);
  }
});

t.test('an empty scope is a well-typed scope', async (t) => {
  const claims = await verifySoftwareStatement(await directory.signSsa({ scope: '' }), base);
  t.equal(claims.scope, '');
});

t.test('absent optional claims are fine', async (t) => {
  const ssa = await directory.signSsa({ client_uri: undefined, logo_uri: undefined });
  const claims = await verifySoftwareStatement(ssa, base);
  t.notOk('client_uri' in claims);
});

t.test('ERR_SSA_MALFORMED', async (t) => {
  const kid = directory.ps256.kid;
  await rejects(t, 'a.b', 'ERR_SSA_MALFORMED');
  await rejects(t, 'a.b.c.d.e', 'ERR_SSA_MALFORMED');
  await rejects(t, `${Buffer.from('{not json').toString('base64url')}.e30.c2ln`, 'ERR_SSA_MALFORMED');
  await rejects(t, craft('[1,2]'), 'ERR_SSA_MALFORMED');
  await rejects(t, craft({ alg: 'PS256', kid }, '"a string"'), 'ERR_SSA_MALFORMED');
  await rejects(t, craft({ alg: 'PS256' }), 'ERR_SSA_MALFORMED');
  await rejects(t, craft({ alg: 'PS256', kid, typ: 'at+jwt' }), 'ERR_SSA_MALFORMED');
  await rejects(t, craft({ alg: 'PS256', kid, crit: ['b64'], b64: false }), 'ERR_SSA_MALFORMED');
  await rejects(t, craft({ alg: 'PS256', kid }, directory.claims(), 'not+base64url'), 'ERR_SSA_MALFORMED');
  // @ts-expect-error a non-string is refused at run time too
  await rejects(t, 42, 'ERR_SSA_MALFORMED');
});

t.test('ERR_SSA_ALG', async (t) => {
  const kid = directory.ps256.kid;
  for (const alg of ['none', 'HS256', 'RS256', 'EdDSA']) {
    await rejects(t, craft({ alg, kid }), 'ERR_SSA_ALG');
  }
  // The key says PS256, the header ES256: refused before any signature maths (RFC 7517 §4.4).
  await rejects(t, await directory.signSsa({}, { key: directory.es256, header: { kid } }), 'ERR_SSA_ALG');
  // An allow-list narrowed by the caller.
  await rejects(t, await directory.signSsa(), 'ERR_SSA_ALG', { algorithms: ['ES256'] });
});

t.test('ERR_SSA_ALG when a JWK without "alg" cannot carry the header alg', async (t) => {
  const rogue = await startFakeDirectory();
  t.teardown(() => rogue.close());
  const { alg: _alg, ...noAlg } = rogue.ps256.publicJwk;
  rogue.published = [noAlg];
  await rejects(t, await rogue.signSsa({}, { key: rogue.es256, header: { kid: rogue.ps256.kid } }), 'ERR_SSA_ALG', { issuer: rogue.issuer });
});

t.test('ERR_SSA_UNKNOWN_KID: a key the directory never published', async (t) => {
  const fresh = await startFakeDirectory();
  t.teardown(() => fresh.close());
  const other = await makeSigningKey('PS256');
  const keySet = new DirectoryKeySet({ jwksUri: fresh.jwksUri });
  await rejects(t, await fresh.signSsa({}, { key: other }), 'ERR_SSA_UNKNOWN_KID', { issuer: fresh.issuer, keySet });
  t.equal(fresh.hits['/jwks'], 1, 'the first use loaded the JWKS; that load counts as the refetch');
  await rejects(t, await fresh.signSsa({}, { key: other }), 'ERR_SSA_UNKNOWN_KID', { issuer: fresh.issuer, keySet });
  t.equal(fresh.hits['/jwks'], 1, 'a second unknown kid inside the cooldown does not refetch');
});

t.test('no cache is shared between calls that were not given one', async (t) => {
  const a = await startFakeDirectory();
  t.teardown(() => a.close());
  await verifySoftwareStatement(await a.signSsa(), { issuer: a.issuer });
  await verifySoftwareStatement(await a.signSsa(), { issuer: a.issuer });
  t.equal(a.hits['/jwks'], 2, 'each call without a keySet fetched the JWKS itself');
  t.equal(a.hits['/participants'], 2, 'and the participant list');
  // A key set built for one caller's rate limit does not decide for another caller with the same URL.
  const rotated = await makeSigningKey('ES256');
  const cached = new DirectoryKeySet({ jwksUri: a.jwksUri, cooldownDuration: 3_600_000 });
  await verifySoftwareStatement(await a.signSsa(), { issuer: a.issuer, keySet: cached });
  a.published = [...a.published, rotated.publicJwk];
  await rejects(t, await a.signSsa({}, { key: rotated }), 'ERR_SSA_UNKNOWN_KID', { issuer: a.issuer, keySet: cached });
  const claims = await verifySoftwareStatement(await a.signSsa({}, { key: rotated }), { issuer: a.issuer });
  t.equal(claims.org_id, a.orgId, 'a caller without that key set sees the rotated key at once');
});

t.test('key rotation: an unknown kid refetches once, never more often than cooldownDuration', async (t) => {
  const rotating = await startFakeDirectory();
  t.teardown(() => rotating.close());
  let clock = 1_000_000;
  const keySet = new DirectoryKeySet({ jwksUri: rotating.jwksUri, cooldownDuration: 60_000, clock: () => clock });
  const options = { issuer: rotating.issuer, keySet };

  await verifySoftwareStatement(await rotating.signSsa(), options);
  t.equal(rotating.hits['/jwks'], 1, 'first use loads the JWKS');
  await verifySoftwareStatement(await rotating.signSsa(), options);
  t.equal(rotating.hits['/jwks'], 1, 'known kid: served from cache');

  const next = await makeSigningKey('ES256');
  rotating.published = [...rotating.published, next.publicJwk];
  clock += 10_000;
  await rejects(t, await rotating.signSsa({}, { key: next }), 'ERR_SSA_UNKNOWN_KID', { issuer: rotating.issuer, keySet });
  t.equal(rotating.hits['/jwks'], 1, 'inside the interval the new kid is not fetched');

  clock += 60_000;
  const claims = await verifySoftwareStatement(await rotating.signSsa({}, { key: next }), options);
  t.equal(claims.iss, rotating.issuer, 'after the interval the rotated key is found');
  t.equal(rotating.hits['/jwks'], 2, 'exactly one refetch');

  const unknown = await makeSigningKey('ES256');
  await rejects(t, await rotating.signSsa({}, { key: unknown }), 'ERR_SSA_UNKNOWN_KID', { issuer: rotating.issuer, keySet });
  t.equal(rotating.hits['/jwks'], 2, 'a burst of unknown kids cannot amplify requests to the directory');
});

t.test('ERR_SSA_SIGNATURE', async (t) => {
  const good = await directory.signSsa();
  const other = await directory.signSsa({ client_name: 'Other App' });
  const [h, p] = good.split('.');
  await rejects(t, `${h}.${p}.${other.split('.')[2]}`, 'ERR_SSA_SIGNATURE');
  // Payload altered after signing.
  const altered = Buffer.from(JSON.stringify({ ...directory.claims(), scope: 'accounts payments admin' })).toString('base64url');
  await rejects(t, `${h}.${altered}.${good.split('.')[2]}`, 'ERR_SSA_SIGNATURE');
  // Signed by an outsider who copied the directory's kid.
  const outsider = await makeSigningKey('PS256');
  await rejects(t, await directory.signSsa({}, { key: outsider, header: { kid: directory.ps256.kid } }), 'ERR_SSA_SIGNATURE');
  const outsiderEc = await makeSigningKey('ES256');
  await rejects(t, await directory.signSsa({}, { key: outsiderEc, header: { kid: directory.es256.kid } }), 'ERR_SSA_SIGNATURE');
});

t.test('ERR_SSA_ISSUER', async (t) => {
  await rejects(t, await directory.signSsa({ iss: 'https://evil.example' }), 'ERR_SSA_ISSUER', {}, 'iss');
  await rejects(t, await directory.signSsa({ iss: `${directory.issuer}/` }), 'ERR_SSA_ISSUER', {}, 'iss');
});

t.test('time claims', async (t) => {
  await rejects(t, await directory.signSsa({ iat: now() - 700, exp: now() - 100 }), 'ERR_SSA_EXPIRED', {}, 'exp');
  await rejects(t, await directory.signSsa({ iat: now() - 400, exp: now() + 200 }), 'ERR_SSA_TOO_OLD', { maxTokenAge: 300 }, 'iat');
  await rejects(t, await directory.signSsa({ iat: now() + 120 }), 'ERR_SSA_NOT_YET_VALID', {}, 'iat');
  await rejects(t, await directory.signSsa({ nbf: now() + 120 }), 'ERR_SSA_NOT_YET_VALID', {}, 'nbf');
  // The verification time is the caller's to set.
  const ssa = await directory.signSsa();
  await rejects(t, ssa, 'ERR_SSA_EXPIRED', { currentDate: new Date(Date.now() + 3_600_000) });
});

t.test('a small clock skew is tolerated', async (t) => {
  const claims = await verifySoftwareStatement(await directory.signSsa({ iat: now() + 5 }), base);
  t.ok(claims.iat > now());
});

t.test('ERR_SSA_CLAIM_MISSING for every required claim', async (t) => {
  const required = [
    'iss', 'iat', 'exp', 'jti', 'software_id', 'software_version', 'software_mode', 'software_roles', 'org_id', 'org_name',
    'org_status', 'org_jwks_uri', 'client_name', 'redirect_uris', 'jwks_uri', 'token_endpoint_auth_method', 'scope',
  ];
  for (const claim of required) {
    await rejects(t, await directory.signSsa({ [claim]: undefined }), 'ERR_SSA_CLAIM_MISSING', {}, claim);
  }
});

t.test('ERR_SSA_CLAIM_TYPE, null included', async (t) => {
  const cases: Array<[string, unknown]> = [
    ['client_name', null],
    ['logo_uri', null],
    ['client_description', null],
    ['software_version', '1'],
    ['software_mode', 'beta'],
    ['software_roles', 'AISP'],
    ['software_roles', [1]],
    ['redirect_uris', 'https://budget.example/cb'],
    ['redirect_uris', ['not a uri']],
    ['jwks_uri', 'keystore'],
    ['token_endpoint_auth_method', 'client_secret_basic'],
    ['scope', ['accounts']],
    ['iat', '1700000000'],
    ['org_status', 'dormant'],
    ['client_name', ''],
  ];
  for (const [claim, value] of cases) {
    await rejects(t, await directory.signSsa({ [claim]: value }), 'ERR_SSA_CLAIM_TYPE', {}, claim);
  }
});

t.test('ERR_PARTICIPANT_INACTIVE from the SSA itself', async (t) => {
  await rejects(t, await directory.signSsa({ org_status: 'suspended' }), 'ERR_PARTICIPANT_INACTIVE', {}, 'org_status');
});

t.test('status is checked by default: the participant list decides, revalidated with If-None-Match', async (t) => {
  const live = await startFakeDirectory();
  t.teardown(() => live.close());
  const participants = new ParticipantList({ participantsUri: live.participantsUri, cacheMaxAge: 0 });
  const options = { issuer: live.issuer, participants };
  const ssa = await live.signSsa();

  await verifySoftwareStatement(ssa, options);
  await verifySoftwareStatement(ssa, options);
  t.equal(live.hits['/participants'], 2, 'revalidated on each call with max age 0');
  t.equal(live.notModified, 1, 'the second revalidation was a 304');

  const org = live.participants[0]!;
  org.software_statements[0]!.status = 'inactive';
  await rejects(t, ssa, 'ERR_SOFTWARE_INACTIVE', options, 'software_id');
  org.software_statements[0]!.status = 'removed';
  await rejects(t, ssa, 'ERR_SOFTWARE_INACTIVE', options);
  org.software_statements[0]!.software_id = 'someone-else';
  await rejects(t, ssa, 'ERR_SOFTWARE_UNKNOWN', options);
  org.software_statements[0]!.software_id = live.softwareId;
  org.software_statements[0]!.status = 'active';
  await verifySoftwareStatement(ssa, options);

  org.status = 'suspended';
  await rejects(t, ssa, 'ERR_PARTICIPANT_INACTIVE', options, 'org_id');
  await rejects(t, ssa, 'ERR_PARTICIPANT_INACTIVE', { issuer: live.issuer }, 'org_id'); // no option at all: checked
  org.status = 'revoked';
  await rejects(t, ssa, 'ERR_PARTICIPANT_INACTIVE', options);
  live.participants = [];
  await rejects(t, ssa, 'ERR_PARTICIPANT_UNKNOWN', options);

  // Only an explicit checkStatus: false skips the list.
  const hits = live.hits['/participants'];
  await verifySoftwareStatement(ssa, { issuer: live.issuer, checkStatus: false });
  t.equal(live.hits['/participants'], hits);
});

t.test('ERR_JWKS_FETCH and ERR_PARTICIPANTS_FETCH', async (t) => {
  const ssa = await directory.signSsa();
  await rejects(t, ssa, 'ERR_JWKS_FETCH', { jwksUri: `${directory.issuer}/no-such-jwks` });
  await rejects(t, ssa, 'ERR_PARTICIPANTS_FETCH', { participantsUri: `${directory.issuer}/nothing-here` });
});

t.test('errors are SoftwareStatementError instances with a message', async (t) => {
  const error = await verifySoftwareStatement('x', base).catch((e: unknown) => e);
  t.ok(error instanceof Error);
  t.match((error as Error).message, /compact JWS/);
});
