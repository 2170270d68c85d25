import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  CertificateVerificationError, verifyClientCertificate, x5tS256,
  type CertificateVerificationErrorCode, type VerifyClientCertificateOptions,
} from '../src/index.js';
import { startOcspResponder } from './helpers/ocsp-responder.js';
import { createForeignClient, createTestPki, opensslVerifies, type TestPki } from './helpers/pki.js';

const dir = t.testdir({ pki: {}, foreign: {} });
let pki: TestPki | undefined;
const responder = await startOcspResponder({
  indexPath: () => pki!.indexPath,
  caCertPath: () => pki!.issuing.certPath,
  workDir: dir,
});
t.teardown(() => responder.close());
pki = createTestPki(join(dir, 'pki'), responder.url);
const ocspSigner = pki.issue('ocsp-responder', { subject: '/CN=Test OCSP Responder', profile: 'ocsp' });
responder.signer = ocspSigner;

const client = pki.issue('client', { subject: '/CN=software-1/O=Fintech Ltd' });
const revoked = pki.issue('revoked', { subject: '/CN=software-2/O=Fintech Ltd' });
pki.revoke(revoked, 'keyCompromise');
const expired = pki.issue('expired', { subject: '/CN=software-3', startDate: '20200101000000Z', endDate: '20200201000000Z' });
const future = pki.issue('future', { subject: '/CN=software-4', startDate: '20990101000000Z', endDate: '20990201000000Z' });
const unrecorded = pki.issue('unrecorded', { subject: '/CN=software-5', unrecorded: true });
const serverOnly = pki.issue('server-only', { subject: '/CN=software-6', profile: 'server-only-eku' });
const noAia = pki.issue('no-aia', { subject: '/CN=software-7', profile: 'server' });
const foreign = createForeignClient(join(dir, 'foreign'), 'intruder');
const bundlePath = join(dir, 'bundle.pem');
writeFileSync(bundlePath, pki.caBundlePem);

// The chain checks below do not ask OCSP; the OCSP section (and the default) do.
const base: VerifyClientCertificateOptions = { caBundlePem: pki.caBundlePem, checkOcsp: false };

async function refused(t: Test, cert: string, code: CertificateVerificationErrorCode, options: Partial<VerifyClientCertificateOptions> = {}) {
  const error = await verifyClientCertificate(cert, { ...base, ...options }).then(() => undefined, (e: unknown) => e);
  t.type(error, CertificateVerificationError, `${code}: throws CertificateVerificationError`);
  t.equal((error as CertificateVerificationError).code, code, `${code}: ${(error as Error)?.message}`);
  return error as CertificateVerificationError;
}

t.test('x5tS256 matches openssl\'s SHA-256 fingerprint, from PEM, DER or X509Certificate', async (t) => {
  const out = execFileSync('openssl', ['x509', '-in', client.certPath, '-noout', '-fingerprint', '-sha256']).toString();
  const hex = out.split('=')[1]!.trim().replace(/:/g, '');
  const expected = Buffer.from(hex, 'hex').toString('base64url');
  t.equal(x5tS256(client.certPem), expected);
  const der = Buffer.from(client.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  t.equal(x5tS256(der), expected);
});

t.test('a directory-issued client certificate chains to the bundle', async (t) => {
  t.ok(opensslVerifies(dir, bundlePath, client.certPath), 'openssl verify agrees');
  const result = await verifyClientCertificate(client.certPem, base);
  t.equal(result.status, 'not_checked');
  t.equal(result.chain.length, 3, 'leaf, issuing CA, root');
  t.equal(result.x5tS256, x5tS256(client.certPem));
});

t.test('ERR_CERT_CHAIN: a certificate from another CA', async (t) => {
  t.notOk(opensslVerifies(dir, bundlePath, foreign.certPath), 'openssl verify agrees');
  await refused(t, foreign.certPem, 'ERR_CERT_CHAIN');
  // The foreign CA certificate itself, presented as a client certificate.
  await refused(t, foreign.caPem, 'ERR_CERT_CHAIN');
  // A bundle holding only the root: the issuing CA is missing, no path.
  await refused(t, client.certPem, 'ERR_CERT_CHAIN', { caBundlePem: pki!.root.certPem });
});

t.test('ERR_CERT_EXPIRED and ERR_CERT_NOT_YET_VALID', async (t) => {
  await refused(t, expired.certPem, 'ERR_CERT_EXPIRED');
  await refused(t, future.certPem, 'ERR_CERT_NOT_YET_VALID');
  // The verification time is the caller's: the good certificate is expired a year from now.
  await refused(t, client.certPem, 'ERR_CERT_CHAIN', { currentDate: new Date(Date.now() + 365 * 86_400_000) });
  t.ok((await verifyClientCertificate(expired.certPem, { ...base, currentDate: new Date('2020-01-15T00:00:00Z') }).catch((e: CertificateVerificationError) => e.code)) === 'ERR_CERT_CHAIN',
    'in 2020 the leaf was valid but the CA did not exist yet');
});

t.test('ERR_CERT_PURPOSE: CA certificates and certificates not for client auth', async (t) => {
  await refused(t, serverOnly.certPem, 'ERR_CERT_PURPOSE');
  await refused(t, pki!.issuing.certPem, 'ERR_CERT_PURPOSE');
  t.equal((await verifyClientCertificate(serverOnly.certPem, { ...base, purpose: 'any' })).status, 'not_checked');
});

t.test('ERR_CERT_MALFORMED', async (t) => {
  await refused(t, 'not a certificate', 'ERR_CERT_MALFORMED');
  await refused(t, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'ERR_CERT_MALFORMED');
  await refused(t, client.certPem, 'ERR_CERT_MALFORMED', { caBundlePem: 'nothing' });
});

t.test('the bundle can be fetched, and a failed fetch is reported', async (t) => {
  const server = createServer((req, res) => {
    if (req.url === '/pki/ca.pem') res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(pki!.caBundlePem);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const result = await verifyClientCertificate(client.certPem, { caBundleUrl: `${origin}/pki/ca.pem` });
  t.equal(result.chain.length, 3);
  await refused(t, client.certPem, 'ERR_CA_BUNDLE_FETCH', { caBundlePem: undefined, caBundleUrl: `${origin}/elsewhere` });
});

t.test('OCSP', async (t) => {
  t.beforeEach(() => {
    responder.signer = ocspSigner;
    responder.byKey = false;
    responder.tamper = 'none';
  });
  const ocsp = { checkOcsp: true } as const;

  t.test('OCSP is asked unless turned off explicitly (fail closed)', async (t) => {
    const before = responder.requests;
    const result = await verifyClientCertificate(client.certPem, { caBundlePem: pki!.caBundlePem });
    t.equal(result.status, 'good');
    t.equal(responder.requests, before + 1, 'no option: the responder was asked');
    await refused(t, revoked.certPem, 'ERR_CERT_REVOKED', { checkOcsp: undefined });
  });

  t.test('good, answered by a delegated responder (byName) at the AIA URL', async (t) => {
    const before = responder.requests;
    const result = await verifyClientCertificate(client.certPem, { ...base, ...ocsp });
    t.equal(result.status, 'good');
    t.ok(result.ocsp?.nextUpdate, 'openssl -ndays 1 sets nextUpdate');
    t.equal(responder.requests, before + 1, 'the AIA URL was used');
  });

  t.test('good, answered by the issuing CA itself, byKey', async (t) => {
    responder.signer = { certPath: pki!.issuing.certPath, keyPath: pki!.issuing.keyPath };
    responder.byKey = true;
    t.equal((await verifyClientCertificate(client.certPem, { ...base, ...ocsp })).status, 'good');
  });

  t.test('revoked: ERR_CERT_REVOKED with time and reason, or the status when asked not to throw', async (t) => {
    const error = await refused(t, revoked.certPem, 'ERR_CERT_REVOKED', ocsp);
    t.equal(error.reason, 'keyCompromise');
    t.ok(error.revokedAt instanceof Date && Math.abs(error.revokedAt.getTime() - Date.now()) < 86_400_000);
    const result = await verifyClientCertificate(revoked.certPem, { ...base, ...ocsp, rejectRevoked: false });
    t.equal(result.status, 'revoked');
    t.equal(result.reason, 'keyCompromise');
  });

  t.test('unknown: a certificate the responder never issued', async (t) => {
    const result = await verifyClientCertificate(unrecorded.certPem, { ...base, ...ocsp });
    t.equal(result.status, 'unknown');
  });

  t.test('ERR_OCSP_NONCE: nonce changed or dropped', async (t) => {
    responder.tamper = 'nonce';
    await refused(t, client.certPem, 'ERR_OCSP_NONCE', ocsp);
    responder.tamper = 'drop-nonce';
    await refused(t, client.certPem, 'ERR_OCSP_NONCE', ocsp);
    t.equal((await verifyClientCertificate(client.certPem, { ...base, ...ocsp, requireNonce: false })).status, 'good',
      'a responder that cannot echo nonces is accepted only when the caller opts out');
  });

  t.test('ERR_OCSP_SIGNATURE: altered response, or a signer without OCSP authority', async (t) => {
    responder.tamper = 'signed-data';
    await refused(t, client.certPem, 'ERR_OCSP_SIGNATURE', ocsp);
    responder.tamper = 'none';
    responder.signer = client; // issued by the CA but without id-kp-OCSPSigning
    await refused(t, client.certPem, 'ERR_OCSP_SIGNATURE', ocsp);
    responder.signer = foreign; // another CA's certificate
    await refused(t, client.certPem, 'ERR_OCSP_SIGNATURE', ocsp);
    responder.signer = { certPath: pki!.root.certPath, keyPath: pki!.root.keyPath }; // the root, not the issuer
    await refused(t, client.certPem, 'ERR_OCSP_SIGNATURE', ocsp);
  });

  t.test('ERR_OCSP_RESPONSE: transport and protocol failures', async (t) => {
    for (const tamper of ['http-500', 'garbage', 'try-later', 'wrong-content-type'] as const) {
      responder.tamper = tamper;
      await refused(t, client.certPem, 'ERR_OCSP_RESPONSE', ocsp);
    }
    for (const tamper of ['month-13', 'long-length'] as const) {
      responder.tamper = tamper;
      const error = await refused(t, client.certPem, 'ERR_OCSP_RESPONSE', ocsp);
      t.match(error.message, tamper === 'month-13' ? /not a calendar date/ : /not the DER encoding/, `${tamper}: refused as not DER`);
    }
    responder.tamper = 'serial';
    const mismatch = await refused(t, client.certPem, 'ERR_OCSP_RESPONSE', ocsp);
    t.match(mismatch.message, /CertID/);
    responder.tamper = 'none';
    // Stale: two days on, past openssl's nextUpdate (1 day), while the certificates are still valid.
    await refused(t, client.certPem, 'ERR_OCSP_RESPONSE', { ...ocsp, currentDate: new Date(Date.now() + 2 * 86_400_000) });
    await refused(t, client.certPem, 'ERR_OCSP_RESPONSE', { ...ocsp, ocspUrl: 'http://127.0.0.1:1/pki/ocsp' });
  });

  t.test('ERR_OCSP_NO_RESPONDER, and the URL override', async (t) => {
    await refused(t, noAia.certPem, 'ERR_OCSP_NO_RESPONDER', ocsp);
    t.equal((await verifyClientCertificate(noAia.certPem, { ...base, ...ocsp, ocspUrl: responder.url })).status, 'good');
  });
});
