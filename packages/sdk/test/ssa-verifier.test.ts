import t, { type Test } from 'tap';
import { setTimeout as delay } from 'node:timers/promises';
import { DirectoryKeySet } from '../src/jwks.js';
import { SoftwareStatementError, SoftwareStatementVerifier, type SoftwareStatementErrorCode } from '../src/index.js';
import { makeSigningKey, startFakeDirectory } from './helpers/directory.js';

const directory = await startFakeDirectory();
t.teardown(() => directory.close());
const now = () => Math.floor(Date.now() / 1000);

function rejectsSync(t: Test, verifier: SoftwareStatementVerifier, ssa: string, code: SoftwareStatementErrorCode): SoftwareStatementError {
  let error: unknown;
  try {
    verifier.verifySync(ssa);
  } catch (e) {
    error = e;
  }
  t.type(error, SoftwareStatementError, `${code}: throws SoftwareStatementError`);
  t.equal((error as SoftwareStatementError).code, code, `${code}: ${(error as Error).message}`);
  return error as SoftwareStatementError;
}

t.test('verifySync refuses to run before refresh() has loaded the key set', async (t) => {
  const verifier = new SoftwareStatementVerifier({ issuer: directory.issuer, jwksUri: directory.jwksUri });
  t.teardown(() => verifier.close());
  rejectsSync(t, verifier, await directory.signSsa(), 'ERR_VERIFIER_NOT_READY');
  t.notOk(verifier.ready);
  await verifier.refresh();
  t.ok(verifier.ready);
  t.equal(verifier.verifySync(await directory.signSsa()).software_id, directory.softwareId);
});

t.test('refresh() reports a directory it cannot reach', async (t) => {
  const verifier = new SoftwareStatementVerifier({ issuer: directory.issuer, jwksUri: `${directory.issuer}/missing` });
  t.teardown(() => verifier.close());
  const error = await verifier.refresh().catch((e: unknown) => e);
  t.equal((error as SoftwareStatementError).code, 'ERR_JWKS_FETCH');
  const withList = new SoftwareStatementVerifier({ issuer: directory.issuer, jwksUri: directory.jwksUri, participantsUri: `${directory.issuer}/missing` });
  t.teardown(() => withList.close());
  const listError = await withList.refresh().catch((e: unknown) => e);
  t.equal((listError as SoftwareStatementError).code, 'ERR_PARTICIPANTS_FETCH');
  rejectsSync(t, withList, await directory.signSsa(), 'ERR_VERIFIER_NOT_READY');
});

t.test('verifySync applies every check of the async verifier', async (t) => {
  const verifier = new SoftwareStatementVerifier({ issuer: directory.issuer, jwksUri: directory.jwksUri, maxTokenAge: 300 });
  t.teardown(() => verifier.close());
  await verifier.refresh();
  const outsider = await makeSigningKey('PS256');
  const good = await directory.signSsa();
  const [h, p] = good.split('.');

  t.equal(verifier.verifySync(await directory.signSsa({}, { key: directory.es256 })).org_id, directory.orgId, 'ES256 accepted');
  rejectsSync(t, verifier, 'not.a-jws', 'ERR_SSA_MALFORMED');
  rejectsSync(t, verifier, `${Buffer.from(JSON.stringify({ alg: 'HS256', kid: directory.ps256.kid })).toString('base64url')}.${p}.c2ln`, 'ERR_SSA_ALG');
  rejectsSync(t, verifier, `${h}.${p}.${(await directory.signSsa({ jti: 'x' })).split('.')[2]}`, 'ERR_SSA_SIGNATURE');
  rejectsSync(t, verifier, await directory.signSsa({}, { key: outsider, header: { kid: directory.ps256.kid } }), 'ERR_SSA_SIGNATURE');
  rejectsSync(t, verifier, await directory.signSsa({ iss: 'https://other.example' }), 'ERR_SSA_ISSUER');
  rejectsSync(t, verifier, await directory.signSsa({ iat: now() - 700, exp: now() - 60 }), 'ERR_SSA_EXPIRED');
  rejectsSync(t, verifier, await directory.signSsa({ iat: now() - 400 }), 'ERR_SSA_TOO_OLD');
  rejectsSync(t, verifier, await directory.signSsa({ iat: now() + 300 }), 'ERR_SSA_NOT_YET_VALID');
  t.equal(rejectsSync(t, verifier, await directory.signSsa({ redirect_uris: undefined }), 'ERR_SSA_CLAIM_MISSING').claim, 'redirect_uris');
  t.equal(rejectsSync(t, verifier, await directory.signSsa({ tos_uri: null }), 'ERR_SSA_CLAIM_TYPE').claim, 'tos_uri');
  rejectsSync(t, verifier, await directory.signSsa({ org_status: 'withdrawn' }), 'ERR_PARTICIPANT_INACTIVE');
});

t.test('status is checked unless turned off explicitly; verify() is the async form over the same caches', async (t) => {
  const live = await startFakeDirectory();
  t.teardown(() => live.close());
  const ssa = await live.signSsa();
  live.participants[0]!.status = 'suspended';
  const checking = new SoftwareStatementVerifier({ issuer: live.issuer });
  t.teardown(() => checking.close());
  await checking.refresh();
  t.equal(live.hits['/participants'], 1, 'the default verifier loaded {issuer}/participants');
  rejectsSync(t, checking, ssa, 'ERR_PARTICIPANT_INACTIVE');
  const error = await checking.verify(ssa).catch((e: unknown) => e);
  t.equal((error as SoftwareStatementError).code, 'ERR_PARTICIPANT_INACTIVE', 'verify() refuses it too');

  const unchecked = new SoftwareStatementVerifier({ issuer: live.issuer, checkStatus: false });
  t.teardown(() => unchecked.close());
  await unchecked.refresh();
  t.equal(live.hits['/participants'], 1, 'checkStatus: false never fetches the list');
  t.equal(unchecked.verifySync(ssa).org_id, live.orgId);
  t.equal((await unchecked.verify(ssa)).org_id, live.orgId);

  live.participants[0]!.status = 'active';
  const fresh = new SoftwareStatementVerifier({ issuer: live.issuer, participantsCacheMaxAge: 0 });
  t.teardown(() => fresh.close());
  const jwksBefore = live.hits['/jwks'] ?? 0;
  t.equal((await fresh.verify(ssa)).org_id, live.orgId, 'verify() loads what it lacks without refresh()');
  t.equal(live.hits['/jwks'], jwksBefore + 1);
});

t.test('verifySync checks the participant list it last loaded', async (t) => {
  const live = await startFakeDirectory();
  t.teardown(() => live.close());
  const verifier = new SoftwareStatementVerifier({ issuer: live.issuer, jwksUri: live.jwksUri, participantsUri: live.participantsUri });
  t.teardown(() => verifier.close());
  await verifier.refresh();
  const ssa = await live.signSsa();
  t.ok(verifier.verifySync(ssa));

  const org = live.participants[0]!;
  org.status = 'suspended';
  t.ok(verifier.verifySync(ssa), 'no I/O in verifySync: the change is not seen before a refresh');
  await verifier.refresh();
  rejectsSync(t, verifier, ssa, 'ERR_PARTICIPANT_INACTIVE');

  org.status = 'active';
  org.software_statements[0]!.status = 'inactive';
  await verifier.refresh();
  rejectsSync(t, verifier, ssa, 'ERR_SOFTWARE_INACTIVE');

  org.software_statements = [];
  await verifier.refresh();
  rejectsSync(t, verifier, ssa, 'ERR_SOFTWARE_UNKNOWN');

  live.participants = [];
  await verifier.refresh();
  rejectsSync(t, verifier, ssa, 'ERR_PARTICIPANT_UNKNOWN');
  t.ok(live.notModified === 0, 'every change was a 200 with a new ETag');
  await verifier.refresh();
  t.equal(live.notModified, 1, 'an unchanged list is revalidated with a 304');
});

t.test('a participant list the verifier could not refresh for too long is not trusted', async (t) => {
  const live = await startFakeDirectory();
  let clock = Date.now();
  const verifier = new SoftwareStatementVerifier({
    issuer: live.issuer, jwksUri: live.jwksUri, participantsUri: live.participantsUri, participantsCacheMaxAge: 120_000, clock: () => clock,
  });
  t.teardown(() => verifier.close());
  await verifier.refresh();
  const ssa = await live.signSsa();
  clock += 60_000;
  t.ok(verifier.verifySync(ssa), 'within the bound');
  await live.close(); // the directory goes away
  const failed = await verifier.refresh().catch((e: SoftwareStatementError) => e.code);
  t.match(failed, /^ERR_(JWKS|PARTICIPANTS)_FETCH$/, 'the refresh reports the outage');
  clock += 61_000;
  rejectsSync(t, verifier, ssa, 'ERR_PARTICIPANTS_FETCH');
});

t.test('an unknown kid schedules one background refetch, rate-limited', async (t) => {
  const rotating = await startFakeDirectory();
  t.teardown(() => rotating.close());
  let clock = Date.now();
  const keySet = new DirectoryKeySet({ jwksUri: rotating.jwksUri, cooldownDuration: 60_000, clock: () => clock });
  const verifier = new SoftwareStatementVerifier({ issuer: rotating.issuer, jwksUri: rotating.jwksUri, keySet, clock: () => clock });
  t.teardown(() => verifier.close());
  await verifier.refresh();

  const next = await makeSigningKey('ES256');
  rotating.published = [...rotating.published, next.publicJwk];
  const rotated = await rotating.signSsa({}, { key: next });

  rejectsSync(t, verifier, rotated, 'ERR_SSA_UNKNOWN_KID');
  t.notOk(keySet.refreshing, 'inside cooldownDuration of the last load: nothing scheduled');

  clock += 61_000;
  rejectsSync(t, verifier, rotated, 'ERR_SSA_UNKNOWN_KID');
  t.ok(keySet.refreshing, 'past the interval: a refetch was scheduled');
  rejectsSync(t, verifier, await rotating.signSsa({}, { key: await makeSigningKey('PS256') }), 'ERR_SSA_UNKNOWN_KID');
  while (keySet.refreshing) await delay(5);
  t.equal(rotating.hits['/jwks'], 2, 'one load and one refetch, however many unknown kids arrived');
  t.equal(verifier.verifySync(rotated).iss, rotating.issuer, 'a retry after the refetch succeeds');
  const noisy = await rotating.signSsa({}, { key: await makeSigningKey('PS256') });
  rejectsSync(t, verifier, noisy, 'ERR_SSA_UNKNOWN_KID');
  t.notOk(keySet.refreshing, 'rate limit applies again after the refetch');
});

t.test('the background timer picks up a suspension without any call', async (t) => {
  const live = await startFakeDirectory();
  t.teardown(() => live.close());
  const verifier = new SoftwareStatementVerifier({
    issuer: live.issuer, jwksUri: live.jwksUri, participantsUri: live.participantsUri, refreshInterval: 20,
  });
  t.teardown(() => verifier.close());
  await verifier.refresh();
  const ssa = await live.signSsa();
  t.ok(verifier.verifySync(ssa));
  live.participants[0]!.status = 'suspended';
  let code: string | undefined;
  for (let i = 0; i < 500 && code === undefined; i += 1) {
    await delay(10);
    try {
      verifier.verifySync(ssa);
    } catch (error) {
      code = (error as SoftwareStatementError).code;
    }
  }
  t.equal(code, 'ERR_PARTICIPANT_INACTIVE');
  verifier.close();
  const hits = live.hits['/participants'];
  await delay(100);
  t.equal(live.hits['/participants'], hits, 'close() stops the timer');
});
