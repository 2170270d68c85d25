import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { createIssuer, describeCertificate, issueCertificate, newSerial } from '../../src/pki/certificate.js'
import { buildCrl, type CrlEntry } from '../../src/pki/crl.js'
import { generateKeyPair, spkiOf, type KeyType } from '../../src/pki/keys.js'
import { toPem } from '../../src/pki/pem.js'
import { isRevocationReason, reasonCode, reasonFromCode, revocationReasons } from '../../src/pki/reasons.js'

function openssl (args: string[], cwd: string): { status: number | null, out: string } {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
const inDays = (d: number): Date => new Date(now.getTime() + d * 86_400_000)

function setup (dir: string, issuingType: KeyType) {
  const root = generateKeyPair('ec-p384')
  const rootDer = issueCertificate({ serial: newSerial(), subject: [{ type: 'CN', value: 'Root' }], publicKey: spkiOf(root.publicKey), notBefore: now, notAfter: inDays(3650), profile: 'root-ca' }, { selfSigned: root.privateKey })
  const ik = generateKeyPair(issuingType)
  const issuingDer = issueCertificate({ serial: newSerial(), subject: [{ type: 'O', value: 'Ecosystem' }, { type: 'CN', value: 'Issuing' }], publicKey: spkiOf(ik.publicKey), notBefore: now, notAfter: inDays(1000), profile: 'issuing-ca' }, createIssuer(rootDer, root.privateKey))
  const issuer = createIssuer(issuingDer, ik.privateKey)
  const leafKey = generateKeyPair('ec-p256')
  const leaf = (name: string): { der: Buffer, serialHex: string } => {
    const der = issueCertificate({ serial: newSerial(), subject: [{ type: 'CN', value: name }], publicKey: spkiOf(leafKey.publicKey), notBefore: now, notAfter: inDays(30), profile: 'transport', crlUrl: 'https://directory.example/pki/crl' }, issuer)
    writeFileSync(join(dir, `${name}.pem`), toPem(der, 'CERTIFICATE'))
    return { der, serialHex: describeCertificate(der).serialHex }
  }
  writeFileSync(join(dir, 'bundle.pem'), toPem(rootDer, 'CERTIFICATE') + toPem(issuingDer, 'CERTIFICATE'))
  writeFileSync(join(dir, 'issuing.pem'), toPem(issuingDer, 'CERTIFICATE'))
  return { issuer, issuingDer, leaf }
}

const writeCrl = (dir: string, der: Buffer): void => {
  writeFileSync(join(dir, 'crl.der'), der)
  writeFileSync(join(dir, 'crl.pem'), toPem(der, 'X509 CRL'))
}

t.test('CRLReason names and codes (RFC 5280 §5.3.1)', async (t) => {
  t.same(revocationReasons.map((r) => reasonCode(r)), [0, 1, 2, 3, 4, 5, 6, 8, 9, 10])
  t.equal(reasonFromCode(7), undefined)
  t.equal(reasonFromCode(10), 'aACompromise')
  for (const r of revocationReasons) t.equal(reasonFromCode(reasonCode(r)), r)
  t.ok(isRevocationReason('keyCompromise'))
  t.notOk(isRevocationReason('compromised'))
})

for (const issuingType of ['ec-p256', 'rsa-2048'] as const) {
  t.test(`a ${issuingType} CA's CRL verifies with openssl, lists serials and reasons, and revokes`, async (t) => {
    const dir = t.testdir()
    const s = setup(dir, issuingType)
    const revoked = s.leaf('revoked')
    const good = s.leaf('good')
    const reasons = revocationReasons.filter((r) => r !== 'removeFromCRL' && r !== 'unspecified')
    const entries: CrlEntry[] = [
      { serial: revoked.serialHex, revokedAt: inDays(-1), reason: 'keyCompromise' },
      { serial: Buffer.from('0abc', 'hex'), revokedAt: now, reason: 'unspecified' },
      { serial: 'bcd', revokedAt: now },
      ...reasons.map((reason, i) => ({ serial: (0x7000 + i).toString(16), revokedAt: now, reason })),
    ]
    writeCrl(dir, buildCrl({ issuer: s.issuer, crlNumber: 42n, thisUpdate: now, nextUpdate: inDays(1), entries }))

    const v = openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-CAfile', 'bundle.pem', '-noout'], dir)
    t.equal(v.status, 0, v.out)
    t.match(v.out, /verify OK/)
    const txt = openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-text', '-noout'], dir).out
    t.match(txt, /Version 2 \(0x1\)/)
    t.match(txt, /Issuer: O = Ecosystem, CN = Issuing/)
    t.match(txt, /X509v3 CRL Number: \n\s+42\n/)
    t.match(txt, /X509v3 Authority Key Identifier: \n\s+[0-9A-F:]{59}\n/)
    t.match(txt, new RegExp(`Serial Number: ${revoked.serialHex.toUpperCase()}\\n\\s+Revocation Date: .*\\n\\s+CRL entry extensions:\\n\\s+X509v3 CRL Reason Code: \\n\\s+Key Compromise`))
    // unspecified and no reason: no reasonCode extension at all
    t.match(txt, /Serial Number: 0ABC\n\s+Revocation Date: [^\n]+\n\s+Serial Number: 0BCD\n\s+Revocation Date: [^\n]+\n\s+Serial Number: 7000\n/)
    const expected = ['Key Compromise', 'CA Compromise', 'Affiliation Changed', 'Superseded', 'Cessation Of Operation', 'Certificate Hold', 'Privilege Withdrawn', 'AA Compromise']
    for (const [i, name] of expected.slice(1).entries()) {
      t.match(txt, new RegExp(`Serial Number: ${(0x7000 + i + 1).toString(16).toUpperCase()}\\n[^\\n]+\\n[^\\n]+\\n[^\\n]+\\n\\s+${name}\\n`), name)
    }
    t.equal((txt.match(/X509v3 CRL Reason Code/g) ?? []).length, expected.length + 1, 'one reasonCode per reasoned entry')

    const bad = openssl(['verify', '-crl_check', '-CAfile', 'bundle.pem', '-CRLfile', 'crl.pem', 'revoked.pem'], dir)
    t.not(bad.status, 0)
    t.match(bad.out, /certificate revoked/)
    const ok = openssl(['verify', '-crl_check', '-CAfile', 'bundle.pem', '-CRLfile', 'crl.pem', 'good.pem'], dir)
    t.equal(ok.status, 0, ok.out)
    t.ok(good.serialHex)

    // a tampered CRL fails verification
    const tampered = buildCrl({ issuer: s.issuer, crlNumber: 43n, thisUpdate: now, nextUpdate: inDays(1), entries })
    tampered[tampered.length - 3]! ^= 0x01
    writeFileSync(join(dir, 'tampered.der'), tampered)
    const tv = openssl(['crl', '-inform', 'DER', '-in', 'tampered.der', '-CAfile', 'bundle.pem', '-noout'], dir)
    t.notMatch(tv.out, /verify OK/)
  })
}

t.test('an empty CRL omits revokedCertificates and still verifies', async (t) => {
  const dir = t.testdir()
  const s = setup(dir, 'ec-p256')
  s.leaf('good')
  writeCrl(dir, buildCrl({ issuer: s.issuer, crlNumber: 1n, thisUpdate: now, nextUpdate: inDays(1), entries: [] }))
  t.match(openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-CAfile', 'bundle.pem', '-noout'], dir).out, /verify OK/)
  t.match(openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-text', '-noout'], dir).out, /No Revoked Certificates/)
  t.equal(openssl(['verify', '-crl_check', '-CAfile', 'bundle.pem', '-CRLfile', 'crl.pem', 'good.pem'], dir).status, 0)
})

t.test('CRL numbers beyond 64 bits, GeneralizedTime from 2050, and refusals', async (t) => {
  const dir = t.testdir()
  const s = setup(dir, 'ec-p256')
  writeCrl(dir, buildCrl({ issuer: s.issuer, crlNumber: 1n << 100n, thisUpdate: new Date('2049-06-01T00:00:00Z'), nextUpdate: new Date('2050-06-01T00:00:00Z'), entries: [] }))
  t.match(openssl(['crl', '-inform', 'DER', '-in', 'crl.der', '-text', '-noout'], dir).out, /CRL Number: \n\s+1267650600228229401496703205376\n/)
  const parse = openssl(['asn1parse', '-inform', 'DER', '-in', 'crl.der'], dir).out
  t.match(parse, /UTCTIME\s+:490601000000Z/)
  t.match(parse, /GENERALIZEDTIME\s+:20500601000000Z/)
  const base = { issuer: s.issuer, crlNumber: 1n, thisUpdate: now, nextUpdate: inDays(1) }
  t.throws(() => buildCrl({ ...base, entries: [{ serial: '01', revokedAt: now, reason: 'removeFromCRL' }] }), /delta CRLs/)
  t.throws(() => buildCrl({ ...base, entries: [{ serial: 'xyz', revokedAt: now }] }), /not hex/)
  t.throws(() => buildCrl({ ...base, nextUpdate: now, entries: [] }), /before nextUpdate/)
  t.throws(() => buildCrl({ ...base, crlNumber: -1n, entries: [] }), /crlNumber/)
  // a plain { certificate, privateKey } issuer works too
  const plain = buildCrl({ ...base, issuer: { certificate: s.issuingDer, privateKey: s.issuer.privateKey }, entries: [] })
  writeFileSync(join(dir, 'plain.der'), plain)
  t.match(openssl(['crl', '-inform', 'DER', '-in', 'plain.der', '-CAfile', 'bundle.pem', '-noout'], dir).out, /verify OK/)
})
