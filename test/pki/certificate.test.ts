import { spawnSync } from 'node:child_process'
import { X509Certificate, createHash, verify } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import {
  createIssuer, describeCertificate, issueCertificate, newSerial, x5tS256, type CertificateTemplate, type NameAttribute,
} from '../../src/pki/certificate.js'
import { generateKeyPair, keyTypeOf, signatureAlgorithm, spkiOf, type KeyType } from '../../src/pki/keys.js'
import { fromPem, isPem, toPem } from '../../src/pki/pem.js'

function openssl (args: string[], cwd: string): { status: number | null, out: string } {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}
const text = (dir: string, file: string): string => {
  const r = openssl(['x509', '-in', file, '-text', '-noout'], dir)
  if (r.status !== 0) throw new Error(r.out)
  return r.out
}
/** The lines of an `openssl x509 -text` extension block, joined by spaces. */
function extension (txt: string, name: string): string | undefined {
  const m = new RegExp(`\\n\\s*${name.replace(/[()]/g, '\\$&')}:( critical)?\\s*\\n((?:\\s{16,}.*\\n)+)`).exec(txt)
  return m === null ? undefined : (m[1] ?? '') + ' ' + m[2]!.trim().split(/\s*\n\s*/).join(' ')
}

const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
const inDays = (d: number): Date => new Date(now.getTime() + d * 86_400_000)
const urls = { crlUrl: 'https://directory.example/pki/crl', ocspUrl: 'https://directory.example/pki/ocsp', caIssuersUrl: 'https://directory.example/pki/ca.pem' }

function chain (issuingType: KeyType) {
  const root = generateKeyPair('ec-p384')
  const rootDer = issueCertificate({
    serial: newSerial(), subject: [{ type: 'C', value: 'GB' }, { type: 'O', value: 'Ecosystem' }, { type: 'CN', value: 'Ecosystem Root CA' }],
    publicKey: spkiOf(root.publicKey), notBefore: now, notAfter: inDays(3650), profile: 'root-ca',
  }, { selfSigned: root.privateKey })
  const issuing = generateKeyPair(issuingType)
  const issuingDer = issueCertificate({
    serial: newSerial(), subject: [{ type: 'C', value: 'GB' }, { type: 'O', value: 'Ecosystem' }, { type: 'CN', value: `Ecosystem Issuing CA ${issuingType}` }],
    publicKey: spkiOf(issuing.publicKey), notBefore: now, notAfter: inDays(1825), profile: 'issuing-ca', crlUrl: 'https://directory.example/pki/root.crl',
  }, createIssuer(rootDer, root.privateKey))
  return { root, rootDer, issuing, issuingDer, issuer: createIssuer(issuingDer, issuing.privateKey) }
}

const participant: NameAttribute[] = [
  { type: 'C', value: 'GB' },
  { type: 'O', value: 'Fintech Ltd — Ünïcode' },
  { type: 'organizationIdentifier', value: '7f1b0c1e-3c2a-4f5e-9b1d-0a1b2c3d4e5f' },
  { type: 'UID', value: 'c0ffee00-1111-4222-8333-444455556666' },
  { type: 'CN', value: 'c0ffee00-1111-4222-8333-444455556666' },
]

t.test('keys: generation, algorithm identifiers and X.509 signature values', async (t) => {
  const expect: Record<KeyType, string> = {
    'ec-p256': 'ecdsa-with-SHA256', 'ec-p384': 'ecdsa-with-SHA384', 'rsa-2048': 'sha256WithRSAEncryption',
    'rsa-3072': 'sha256WithRSAEncryption', 'rsa-4096': 'sha256WithRSAEncryption',
  }
  for (const type of Object.keys(expect) as KeyType[]) {
    const k = generateKeyPair(type)
    t.equal(keyTypeOf(k.privateKey), type)
    t.equal(keyTypeOf(k.publicKey), type)
    if (type.startsWith('rsa')) t.equal(k.publicKey.asymmetricKeyDetails?.publicExponent, 65537n)
    const alg = signatureAlgorithm(k.privateKey)
    t.equal(alg.name, expect[type])
    const data = Buffer.from('to be signed')
    const sig = alg.sign(data)
    if (type.startsWith('ec')) t.equal(sig[0], 0x30, 'ECDSA signature is a DER SEQUENCE')
    t.ok(verify(alg.hash, data, k.publicKey, sig), `${type} signature verifies`)
  }
  t.same([...signatureAlgorithm(generateKeyPair('ec-p256').privateKey).algorithmIdentifier], [0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])
  t.throws(() => signatureAlgorithm(generateKeyPair('ec-p256').publicKey), /private key/)
})

t.test('PEM round trip, read by openssl', async (t) => {
  const dir = t.testdir()
  const k = generateKeyPair('ec-p256')
  const der = spkiOf(k.publicKey)
  const pem = toPem(der, 'PUBLIC KEY')
  t.ok(isPem(pem))
  t.notOk(isPem('hello'))
  t.ok(pem.split('\n').every((l) => l.length <= 64))
  t.ok(fromPem(pem, 'PUBLIC KEY')[0]!.equals(der))
  t.same(fromPem(pem, 'CERTIFICATE'), [])
  t.equal(fromPem(pem + 'text between\n' + pem).length, 2)
  writeFileSync(join(dir, 'k.pem'), pem)
  const r = openssl(['pkey', '-pubin', '-in', 'k.pem', '-outform', 'DER'], dir)
  t.equal(r.status, 0)
})

t.test('serials: 16 octets, positive, no leading zero nibble, distinct', async (t) => {
  const serials = Array.from({ length: 2000 }, () => newSerial())
  t.same(serials.filter((s) => s.length !== 16), [], 'all 16 octets')
  t.same(serials.filter((s) => s[0]! < 0x10 || s[0]! > 0x7f), [], 'first octet in [0x10, 0x7f]')
  t.equal(new Set(serials.map((s) => s.toString('hex'))).size, 2000)
  t.ok(serials.some((s) => s[0]! >= 0x40) && serials.some((s) => s[0]! < 0x40), 'the first octet varies')
})

for (const issuingType of ['ec-p256', 'rsa-2048'] as const) {
  t.test(`chain with a ${issuingType} issuing CA: profiles verified and inspected by openssl`, async (t) => {
    const dir = t.testdir()
    const c = chain(issuingType)
    writeFileSync(join(dir, 'root.pem'), toPem(c.rootDer, 'CERTIFICATE'))
    writeFileSync(join(dir, 'issuing.pem'), toPem(c.issuingDer, 'CERTIFICATE'))
    writeFileSync(join(dir, 'bundle.pem'), toPem(c.rootDer, 'CERTIFICATE') + toPem(c.issuingDer, 'CERTIFICATE'))

    const rootTxt = text(dir, 'root.pem')
    t.match(extension(rootTxt, 'X509v3 Basic Constraints'), /^ critical CA:TRUE$/)
    t.match(extension(rootTxt, 'X509v3 Key Usage'), /^ critical Certificate Sign, CRL Sign$/)
    t.ok(extension(rootTxt, 'X509v3 Subject Key Identifier'))
    t.equal(extension(rootTxt, 'X509v3 Authority Key Identifier'), undefined, 'self-signed root: no AKI')
    t.match(rootTxt, /Signature Algorithm: ecdsa-with-SHA384/)
    const issTxt = text(dir, 'issuing.pem')
    t.match(extension(issTxt, 'X509v3 Basic Constraints'), /^ critical CA:TRUE, pathlen:0$/)
    t.match(extension(issTxt, 'X509v3 Key Usage'), /^ critical Certificate Sign, CRL Sign$/)
    t.equal(extension(issTxt, 'X509v3 Authority Key Identifier')?.trim(), extension(rootTxt, 'X509v3 Subject Key Identifier')?.trim(), 'AKI = root SKI')
    t.equal(openssl(['verify', '-x509_strict', '-CAfile', 'root.pem', 'issuing.pem'], dir).status, 0)

    // transport, client only
    const leafKey = generateKeyPair('ec-p256')
    const base: Omit<CertificateTemplate, 'profile'> = {
      serial: newSerial(), subject: participant, publicKey: spkiOf(leafKey.publicKey), notBefore: now, notAfter: inDays(397), ...urls,
    }
    const transport = issueCertificate({ ...base, profile: 'transport' }, c.issuer)
    writeFileSync(join(dir, 'transport.pem'), toPem(transport, 'CERTIFICATE'))
    const v = openssl(['verify', '-x509_strict', '-CAfile', 'bundle.pem', '-purpose', 'sslclient', 'transport.pem'], dir)
    t.equal(v.status, 0, v.out)
    const srv = openssl(['verify', '-CAfile', 'bundle.pem', '-purpose', 'sslserver', 'transport.pem'], dir)
    t.not(srv.status, 0, 'a client-only transport certificate is not a TLS server certificate')
    const tt = text(dir, 'transport.pem')
    t.match(extension(tt, 'X509v3 Basic Constraints'), /^ critical CA:FALSE$/)
    t.match(extension(tt, 'X509v3 Key Usage'), /^ critical Digital Signature$/)
    t.match(extension(tt, 'X509v3 Extended Key Usage'), /^ TLS Web Client Authentication$/)
    t.equal(extension(tt, 'X509v3 Subject Alternative Name'), undefined)
    t.ok(extension(tt, 'X509v3 Subject Key Identifier'))
    t.equal(extension(tt, 'X509v3 Authority Key Identifier')?.trim(), extension(issTxt, 'X509v3 Subject Key Identifier')?.trim(), 'AKI = issuing SKI')
    t.match(extension(tt, 'X509v3 CRL Distribution Points'), /Full Name: URI:https:\/\/directory\.example\/pki\/crl$/)
    t.match(extension(tt, 'Authority Information Access'), /^ OCSP - URI:https:\/\/directory\.example\/pki\/ocsp CA Issuers - URI:https:\/\/directory\.example\/pki\/ca\.pem$/)
    t.match(tt, /Subject: C = GB, O = Fintech Ltd .*, organizationIdentifier = 7f1b0c1e-3c2a-4f5e-9b1d-0a1b2c3d4e5f, UID = c0ffee00-1111-4222-8333-444455556666, CN = c0ffee00-1111-4222-8333-444455556666/)
    t.match(tt, /Version: 3 \(0x2\)/)
    const subj = openssl(['x509', '-in', 'transport.pem', '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus'], dir).out
    t.match(subj, /O=Fintech Ltd — Ünïcode/, 'UTF8String survives')
    const node = new X509Certificate(transport)
    t.ok(node.verify(c.issuing.publicKey), 'node verifies the signature')
    t.ok(node.checkIssued(new X509Certificate(c.issuingDer)), 'node sees the issuer')
    t.notOk(node.verify(c.root.publicKey))

    // transport with serverAuth and DNS SANs
    const both = issueCertificate({ ...base, serial: newSerial(), profile: 'transport', serverAuth: true, dnsNames: ['tpp.example', '*.api.tpp.example'] }, c.issuer)
    writeFileSync(join(dir, 'both.pem'), toPem(both, 'CERTIFICATE'))
    t.equal(openssl(['verify', '-CAfile', 'bundle.pem', '-purpose', 'sslserver', 'both.pem'], dir).status, 0)
    t.equal(openssl(['verify', '-CAfile', 'bundle.pem', '-purpose', 'sslclient', 'both.pem'], dir).status, 0)
    const bt = text(dir, 'both.pem')
    t.match(extension(bt, 'X509v3 Extended Key Usage'), /^ TLS Web Client Authentication, TLS Web Server Authentication$/)
    t.match(extension(bt, 'X509v3 Subject Alternative Name'), /^ DNS:tpp\.example, DNS:\*\.api\.tpp\.example$/)
    t.equal(openssl(['verify', '-CAfile', 'bundle.pem', '-verify_hostname', 'tpp.example', 'both.pem'], dir).status, 0)
    t.not(openssl(['verify', '-CAfile', 'bundle.pem', '-verify_hostname', 'other.example', 'both.pem'], dir).status, 0)

    // signing
    const signing = issueCertificate({ ...base, serial: newSerial(), profile: 'signing' }, c.issuer)
    writeFileSync(join(dir, 'signing.pem'), toPem(signing, 'CERTIFICATE'))
    t.equal(openssl(['verify', '-x509_strict', '-CAfile', 'bundle.pem', 'signing.pem'], dir).status, 0)
    const st = text(dir, 'signing.pem')
    t.match(extension(st, 'X509v3 Key Usage'), /^ critical Digital Signature, Non Repudiation$/)
    t.equal(extension(st, 'X509v3 Extended Key Usage'), ' 1.3.6.1.5.5.7.3.36', 'id-kp-documentSigning (RFC 9336)')
    t.ok(extension(st, 'X509v3 CRL Distribution Points'))
    t.ok(extension(st, 'Authority Information Access'))
    t.ok(extension(st, 'X509v3 Authority Key Identifier'))

    // tls-server, RSA and EC subject keys
    const rsaLeaf = generateKeyPair('rsa-2048')
    const tls = issueCertificate({ ...base, serial: newSerial(), publicKey: spkiOf(rsaLeaf.publicKey), profile: 'tls-server', subject: [{ type: 'CN', value: 'directory.example' }], dnsNames: ['directory.example', 'localhost'], ipAddresses: ['127.0.0.1', '::1', '2001:db8::ffff:192.0.2.1'] }, c.issuer)
    writeFileSync(join(dir, 'tls.pem'), toPem(tls, 'CERTIFICATE'))
    t.equal(openssl(['verify', '-x509_strict', '-CAfile', 'bundle.pem', '-purpose', 'sslserver', '-verify_ip', '::1', 'tls.pem'], dir).status, 0)
    t.not(openssl(['verify', '-CAfile', 'bundle.pem', '-purpose', 'sslclient', 'tls.pem'], dir).status, 0, 'not a client certificate')
    const tlt = text(dir, 'tls.pem')
    t.match(extension(tlt, 'X509v3 Key Usage'), /^ critical Digital Signature, Key Encipherment$/)
    t.match(extension(tlt, 'X509v3 Extended Key Usage'), /^ TLS Web Server Authentication$/)
    t.match(extension(tlt, 'X509v3 Subject Alternative Name'), /^ DNS:directory\.example, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:FFFF:C000:201$/)
    const tlsEc = issueCertificate({ ...base, serial: newSerial(), profile: 'tls-server', dnsNames: ['x.example'] }, c.issuer)
    writeFileSync(join(dir, 'tls-ec.pem'), toPem(tlsEc, 'CERTIFICATE'))
    t.match(extension(text(dir, 'tls-ec.pem'), 'X509v3 Key Usage'), /^ critical Digital Signature$/)

    // ocsp-signing
    const ocsp = issueCertificate({ serial: newSerial(), subject: [{ type: 'CN', value: 'OCSP responder' }], publicKey: spkiOf(leafKey.publicKey), notBefore: now, notAfter: inDays(30), profile: 'ocsp-signing' }, c.issuer)
    writeFileSync(join(dir, 'ocsp.pem'), toPem(ocsp, 'CERTIFICATE'))
    t.equal(openssl(['verify', '-CAfile', 'bundle.pem', '-purpose', 'ocsphelper', 'ocsp.pem'], dir).status, 0)
    const ot = text(dir, 'ocsp.pem')
    t.match(extension(ot, 'X509v3 Extended Key Usage'), /^ OCSP Signing$/)
    t.match(ot, /OCSP No Check/)
    t.match(extension(ot, 'X509v3 Key Usage'), /^ critical Digital Signature$/)

    // a certificate from an unrelated issuer with the same names does not verify
    const other = chain(issuingType)
    writeFileSync(join(dir, 'other-bundle.pem'), toPem(other.rootDer, 'CERTIFICATE') + toPem(other.issuingDer, 'CERTIFICATE'))
    t.not(openssl(['verify', '-CAfile', 'other-bundle.pem', 'transport.pem'], dir).status, 0)
  })
}

t.test('describeCertificate and x5tS256 agree with openssl and node', async (t) => {
  const dir = t.testdir()
  const c = chain('ec-p256')
  const key = generateKeyPair('ec-p256')
  const der = issueCertificate({ serial: Buffer.from('00ff01', 'hex'), subject: [...participant, { type: 'serialNumber', value: 'REG-12345' }], publicKey: spkiOf(key.publicKey), notBefore: now, notAfter: inDays(10), profile: 'signing' }, c.issuer)
  writeFileSync(join(dir, 'c.pem'), toPem(der, 'CERTIFICATE'))
  const d = describeCertificate(der)
  t.equal(d.serialHex, '00ff01', 'DER content octets, including the sign pad')
  t.match(openssl(['x509', '-in', 'c.pem', '-noout', '-serial'], dir).out, /serial=FF01/)
  t.equal(d.notBefore.getTime(), now.getTime())
  t.equal(d.notAfter.getTime(), inDays(10).getTime())
  t.same(d.subject, [...participant, { type: 'serialNumber', value: 'REG-12345' }])
  t.ok(d.issuerDer.equals(describeCertificate(c.issuingDer).subjectDer))
  t.ok(d.spki.equals(spkiOf(key.publicKey)))
  t.ok(d.publicKey.equals(key.publicKey))
  const fp = openssl(['x509', '-in', 'c.pem', '-noout', '-fingerprint', '-sha256'], dir).out.split('=')[1]!.trim().replace(/:/g, '')
  t.equal(x5tS256(der), Buffer.from(fp, 'hex').toString('base64url'))
  t.equal(x5tS256(der), createHash('sha256').update(new X509Certificate(der).raw).digest('base64url'))
  t.match(openssl(['x509', '-in', 'c.pem', '-noout', '-subject'], dir).out, /serialNumber = REG-12345/)
})

t.test('validity: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', async (t) => {
  const dir = t.testdir()
  const c = chain('ec-p256')
  const key = generateKeyPair('ec-p256')
  const der = issueCertificate({
    serial: newSerial(), subject: [{ type: 'CN', value: 'long' }], publicKey: spkiOf(key.publicKey),
    notBefore: new Date('2049-12-31T23:59:59.900Z'), notAfter: new Date('2050-01-01T00:00:00Z'), profile: 'signing',
  }, c.issuer)
  writeFileSync(join(dir, 'c.der'), der)
  const parse = openssl(['asn1parse', '-inform', 'DER', '-in', 'c.der'], dir).out
  t.match(parse, /UTCTIME\s+:491231235959Z/)
  t.match(parse, /GENERALIZEDTIME\s+:20500101000000Z/)
  const d = describeCertificate(der)
  t.equal(d.notBefore.toISOString(), '2049-12-31T23:59:59.000Z', 'fractions dropped')
  t.equal(d.notAfter.toISOString(), '2050-01-01T00:00:00.000Z')
})

t.test('issuance refuses inconsistent templates', async (t) => {
  const c = chain('ec-p256')
  const key = generateKeyPair('ec-p256')
  const base: CertificateTemplate = { serial: newSerial(), subject: participant, publicKey: spkiOf(key.publicKey), notBefore: now, notAfter: inDays(1), profile: 'transport' }
  t.throws(() => issueCertificate({ ...base, serverAuth: true }, c.issuer), /serverAuth needs dnsNames/)
  t.throws(() => issueCertificate({ ...base, profile: 'tls-server' }, c.issuer), /need dnsNames or ipAddresses/)
  t.throws(() => issueCertificate({ ...base, profile: 'root-ca' }, c.issuer), /self-signed/)
  t.throws(() => issueCertificate(base, { selfSigned: key.privateKey }), /only root-ca/)
  t.throws(() => issueCertificate({ ...base, profile: 'root-ca' }, { selfSigned: generateKeyPair('ec-p256').privateKey }), /must certify the signing key/)
  t.throws(() => issueCertificate({ ...base, notAfter: now }, c.issuer), /notBefore must be before notAfter/)
  t.throws(() => issueCertificate({ ...base, serial: Buffer.from([0x80, 1]) }, c.issuer), /serial/)
  t.throws(() => issueCertificate({ ...base, serial: Buffer.from([0, 1]) }, c.issuer), /serial/)
  t.throws(() => issueCertificate({ ...base, serial: Buffer.alloc(21, 1) }, c.issuer), /serial/)
  t.throws(() => issueCertificate({ ...base, dnsNames: ['not a name'] }, c.issuer), /not a DNS name/)
  t.throws(() => issueCertificate({ ...base, ipAddresses: ['10.0.0.256'] }, c.issuer), /not an IP address/)
  t.throws(() => issueCertificate({ ...base, subject: [{ type: 'C', value: 'Britain' }] }, c.issuer), /two-letter/)
  t.throws(() => issueCertificate({ ...base, pathLen: 1 }, c.issuer), /pathLen/)
  t.throws(() => issueCertificate({ ...base, profile: 'issuing-ca', dnsNames: ['a.example'] }, c.issuer), /subjectAltName/)
  t.throws(() => createIssuer(c.issuingDer, generateKeyPair('ec-p256').privateKey), /does not belong/)
  // a plain { certificate, privateKey } works as an issuer too
  const plain = issueCertificate(base, { certificate: c.issuingDer, privateKey: c.issuing.privateKey })
  t.ok(new X509Certificate(plain).checkIssued(new X509Certificate(c.issuingDer)))
  t.ok(new X509Certificate(plain).verify(c.issuing.publicKey))
})
