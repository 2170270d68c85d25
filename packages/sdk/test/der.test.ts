import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BasicOCSPResponse, CertID } from '@peculiar/asn1-ocsp';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { AuthorityInfoAccessSyntax, CRLReason, ExtendedKeyUsage, Extension, KeyUsage, Time } from '@peculiar/asn1-x509';
import { decodeDer, DerError } from '../src/asn1.js';
import { CertificateVerificationError } from '../src/errors.js';
import { extendedKeyUsage, parseCertificateFields } from '../src/x509.js';

/**
 * Negative DER tables for the SDK's parsing (X.690 §10): every row is one rule broken in an otherwise valid encoding,
 * and each table starts with the valid encoding it was made from, which must be accepted.
 */

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const generalizedTime = (s: string) => `18 ${s.length.toString(16).padStart(2, '0')} ${ascii(s)}`;
const utcTime = (s: string) => `17 ${s.length.toString(16).padStart(2, '0')} ${ascii(s)}`;

type Row = [name: string, der: string];

function table(t: Test, schema: new () => unknown, valid: string, rows: Row[]): void {
  t.doesNotThrow(() => decodeDer(hex(valid), schema, 'valid'), `${schema.name}: the valid encoding is accepted`);
  for (const [name, der] of rows) {
    t.throws(() => decodeDer(hex(der), schema, name), DerError, `${schema.name}: ${name} is refused`);
  }
}

// clientAuth: 2b 06 01 05 05 07 03 02
t.test('OBJECT IDENTIFIER (extended key usage)', async (t) => {
  table(t, ExtendedKeyUsage, '30 0a 06 08 2b 06 01 05 05 07 03 02', [
    ['truncated OID (2a 86 is not 1.2)', '30 04 06 02 2a 86'],
    ['truncated last arc', '30 0a 06 08 2b 06 01 05 05 07 03 82'],
    ['non-minimal arc (leading 0x80)', '30 0b 06 09 2b 06 01 05 05 07 03 80 02'],
    ['non-minimal first arc', '30 05 06 03 80 2a 01'],
    ['empty OID', '30 02 06 00'],
    ['arc above 2^53', '30 0d 06 0b 2b 90 80 80 80 80 80 80 80 80 01'],
    ['non-minimal length of the OID', '30 0b 06 81 08 2b 06 01 05 05 07 03 02'],
    ['non-minimal length of the SEQUENCE', '30 81 0a 06 08 2b 06 01 05 05 07 03 02'],
    ['length with a leading zero octet', '30 82 00 0a 06 08 2b 06 01 05 05 07 03 02'],
    ['indefinite length (BER)', '30 80 06 08 2b 06 01 05 05 07 03 02 00 00'],
    ['trailing bytes', '30 0a 06 08 2b 06 01 05 05 07 03 02 00'],
    ['length past the end', '30 0b 06 08 2b 06 01 05 05 07 03 02'],
    ['wrong tag (UTF8String for OID)', '30 0a 0c 08 2b 06 01 05 05 07 03 02'],
  ]);
});

t.test('INTEGER and ENUMERATED', async (t) => {
  // CertID's serialNumber is kept as bytes: minimality is checked on the encoding itself.
  const certId = (serial: string) => {
    const body = `30 09 06 05 2b 0e 03 02 1a 05 00 04 01 00 04 01 00 ${serial}`;
    return `30 ${(hex(body).length).toString(16)} ${body}`;
  };
  table(t, CertID, certId('02 02 00 80'), [
    ['serial with a redundant leading 00', certId('02 02 00 01')],
    ['serial with a redundant leading ff', certId('02 02 ff 80')],
    ['serial with no contents', certId('02 00')],
  ]);
  table(t, CRLReason, '0a 01 01', [
    ['reason code above 2^53', '0a 09 01 00 00 00 00 00 00 00 01'],
    ['reason code with a redundant leading 00', '0a 02 00 01'],
  ]);
  // RSASSA-PSS-params saltLength [2] INTEGER: a number past 2^53 cannot be represented, so it must not be read.
  table(t, RsaSaPssParams, '30 05 a2 03 02 01 20', [
    ['saltLength above 2^53', '30 0d a2 0b 02 09 01 00 00 00 00 00 00 00 01'],
    ['saltLength with a redundant leading 00', '30 06 a2 04 02 02 00 20'],
  ]);
});

t.test('UTCTime and GeneralizedTime', async (t) => {
  table(t, Time, utcTime('251231235959Z'), [
    ['month 13', utcTime('251301000000Z')],
    ['month 00', utcTime('250001000000Z')],
    ['day 32', utcTime('250132000000Z')],
    ['30 February', utcTime('250230000000Z')],
    ['29 February of a common year', utcTime('250229000000Z')],
    ['hour 24', utcTime('250101240000Z')],
    ['second 60', utcTime('250101235960Z')],
    ['no seconds', utcTime('2501012359Z')],
    ['local time (no Z)', utcTime('250101235959')],
    ['offset instead of Z', utcTime('250101235959+0100')],
  ]);
  table(t, Time, generalizedTime('20500101000000Z'), [
    ['month 13', generalizedTime('20501301000000Z')],
    ['day 31 of April', generalizedTime('20500431000000Z')],
    ['fraction with a trailing zero', generalizedTime('20500101000000.50Z')],
    ['empty fraction', generalizedTime('20500101000000.Z')],
    ['comma as the decimal sign', generalizedTime('20500101000000,5Z')],
  ]);
  t.doesNotThrow(() => decodeDer(hex(utcTime('240229120000Z')), Time, '29 February of a leap year'), '29 February 2024 is a date');
});

t.test('BOOLEAN, DEFAULT and constructed strings (extensions)', async (t) => {
  // keyUsage extension, extnValue 03 02 07 80 (digitalSignature)
  table(t, Extension, '30 0e 06 03 55 1d 0f 01 01 ff 04 04 03 02 07 80', [
    ['BOOLEAN TRUE as 0x01', '30 0e 06 03 55 1d 0f 01 01 01 04 04 03 02 07 80'],
    ['critical FALSE encoded (a DEFAULT value)', '30 0e 06 03 55 1d 0f 01 01 00 04 04 03 02 07 80'],
    ['constructed OCTET STRING', '30 10 06 03 55 1d 0f 01 01 ff 24 06 04 04 03 02 07 80'],
  ]);
  table(t, KeyUsage, '03 02 07 80', [
    ['non-minimal length', '03 81 02 07 80'],
  ]);
  table(t, AuthorityInfoAccessSyntax, `30 19 30 17 06 08 2b 06 01 05 05 07 30 01 86 0b ${ascii('http://x/oc')}`, [
    ['truncated access method OID', `30 19 30 17 06 08 2b 06 01 05 05 07 30 81 86 0b ${ascii('http://x/oc')}`],
    ['URI length past the end', `30 19 30 17 06 08 2b 06 01 05 05 07 30 01 86 0c ${ascii('http://x/oc')}`],
  ]);
});

t.test('OCSP BasicOCSPResponse trailing data and lengths', async (t) => {
  t.throws(() => decodeDer(hex('30 00'), BasicOCSPResponse, 'empty'), DerError, 'an empty SEQUENCE is not a BasicOCSPResponse');
  t.throws(() => decodeDer(hex(''), BasicOCSPResponse, 'nothing'), DerError, 'no bytes at all');
});

t.test('certificates: a real certificate is accepted, each damaged copy refused with ERR_CERT_MALFORMED', async (t) => {
  const dir = t.testdir();
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'),
    '-subj', '/CN=DER test/O=Fintech Ltd', '-days', '30', '-addext', 'extendedKeyUsage=clientAuth',
    '-addext', 'authorityInfoAccess=OCSP;URI:http://127.0.0.1/pki/ocsp', '-outform', 'DER', '-out', join(dir, 'c.der'),
  ], { stdio: 'ignore' });
  const der = readFileSync(join(dir, 'c.der'));
  const fields = parseCertificateFields(der);
  t.same(extendedKeyUsage(fields), ['1.3.6.1.5.5.7.3.2'], 'the valid certificate decodes');

  const utc = der.indexOf(Buffer.from([0x17, 0x0d])) + 2; // notBefore's UTCTime contents
  const damaged: Array<[string, Buffer]> = [
    ['notBefore month 13', Buffer.concat([der.subarray(0, utc + 2), Buffer.from('13'), der.subarray(utc + 4)])],
    ['notBefore day 32', Buffer.concat([der.subarray(0, utc + 4), Buffer.from('32'), der.subarray(utc + 6)])],
    ['trailing byte', Buffer.concat([der, Buffer.from([0])])],
    ['truncated', der.subarray(0, der.length - 1)],
    // 30 82 LL LL → 30 83 00 LL LL: the same length in a longer form
    ['non-minimal outer length', Buffer.concat([Buffer.from([0x30, 0x83, 0x00]), der.subarray(2)])],
  ];
  t.equal(der[1], 0x82, 'the certificate uses a two-octet length');
  for (const [name, bytes] of damaged) {
    const error = (() => {
      try {
        parseCertificateFields(bytes);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    t.type(error, CertificateVerificationError, name);
    t.equal((error as CertificateVerificationError).code, 'ERR_CERT_MALFORMED', `${name}: ${(error as Error).message}`);
  }
});
