import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import forge from 'node-forge'
import t from 'tap'
import { createIssuer, describeCertificate, issueCertificate, newSerial, type PreparedIssuer } from '../../src/pki/certificate.js'
import { generateKeyPair, spkiOf, type KeyType } from '../../src/pki/keys.js'
import { OcspMalformed, buildOcspResponse, matchesIssuer, ocspErrorResponse, parseOcspRequest } from '../../src/pki/ocsp.js'
import { toPem } from '../../src/pki/pem.js'

function openssl (args: string[], cwd: string): { status: number | null, out: string } {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
const inDays = (d: number): Date => new Date(now.getTime() + d * 86_400_000)
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
/** openssl's ASN1_TIME_print form: "Nov  5 09:03:01 2026 GMT". */
const opensslTime = (d: Date): string =>
  `${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()} GMT`

function setup (dir: string, issuingType: KeyType) {
  const root = generateKeyPair('ec-p384')
  const rootDer = issueCertificate({ serial: newSerial(), subject: [{ type: 'CN', value: 'Root' }], publicKey: spkiOf(root.publicKey), notBefore: now, notAfter: inDays(3650), profile: 'root-ca' }, { selfSigned: root.privateKey })
  const ik = generateKeyPair(issuingType)
  const issuingDer = issueCertificate({ serial: newSerial(), subject: [{ type: 'CN', value: 'Issuing' }], publicKey: spkiOf(ik.publicKey), notBefore: now, notAfter: inDays(1000), profile: 'issuing-ca' }, createIssuer(rootDer, root.privateKey))
  const issuer = createIssuer(issuingDer, ik.privateKey)
  const leafKey = generateKeyPair('ec-p256')
  writeFileSync(join(dir, 'leaf.key'), leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' }))
  const leaf = (name: string): string => {
    const der = issueCertificate({ serial: newSerial(), subject: [{ type: 'CN', value: name }], publicKey: spkiOf(leafKey.publicKey), notBefore: now, notAfter: inDays(30), profile: 'transport', ocspUrl: 'https://directory.example/pki/ocsp' }, issuer)
    writeFileSync(join(dir, `${name}.pem`), toPem(der, 'CERTIFICATE'))
    return describeCertificate(der).serialHex
  }
  writeFileSync(join(dir, 'bundle.pem'), toPem(rootDer, 'CERTIFICATE') + toPem(issuingDer, 'CERTIFICATE'))
  writeFileSync(join(dir, 'issuing.pem'), toPem(issuingDer, 'CERTIFICATE'))
  return { issuer, issuingDer, leaf, rootDer, root }
}

function request (dir: string, args: string[]): Buffer {
  const r = openssl(['ocsp', ...args, '-reqout', 'req.der'], dir)
  if (r.status !== 0) throw new Error(r.out)
  return readFileSync(join(dir, 'req.der'))
}

/** `openssl ocsp` checking a response for one certificate: signature, then the status summary. */
function check (dir: string, resp: Buffer, cert: string, extra: string[] = []): { status: number | null, out: string } {
  writeFileSync(join(dir, 'resp.der'), resp)
  return openssl(['ocsp', '-no_nonce', '-respin', 'resp.der', '-issuer', 'issuing.pem', '-CAfile', 'bundle.pem', ...extra, '-cert', cert, '-resp_text'], dir)
}

for (const issuingType of ['ec-p256', 'rsa-2048'] as const) {
  t.test(`${issuingType} CA: openssl requests parsed, responses good / revoked / unknown verified by openssl`, async (t) => {
    const dir = t.testdir()
    const s = setup(dir, issuingType)
    const goodSerial = s.leaf('good')
    const revokedSerial = s.leaf('revoked')
    s.leaf('unknown')

    const req = parseOcspRequest(request(dir, ['-issuer', 'issuing.pem', '-cert', 'good.pem']))
    t.equal(req.requests.length, 1)
    const [id] = req.requests
    t.equal(id!.hashAlgorithm, 'sha1')
    t.equal(id!.serialHex, goodSerial)
    t.equal(id!.issuerNameHash.length, 20)
    t.ok(matchesIssuer(id!, s.issuer))
    t.notOk(matchesIssuer(id!, createIssuer(s.rootDer, s.root.privateKey)), 'another issuer does not match')
    t.ok(req.nonce, 'openssl sends a nonce by default')
    t.equal(req.nonce![0], 0x04, 'Nonce ::= OCTET STRING (RFC 8954)')

    // good, with the nonce echoed: signature and nonce checked against the request
    const good = buildOcspResponse({ responder: s.issuer, producedAt: now, responses: [{ certIdDer: id!.certIdDer, status: 'good', thisUpdate: now, nextUpdate: inDays(1) }], nonce: req.nonce })
    writeFileSync(join(dir, 'resp.der'), good)
    const nonceCheck = openssl(['ocsp', '-reqin', 'req.der', '-respin', 'resp.der', '-issuer', 'issuing.pem', '-CAfile', 'bundle.pem'], dir)
    t.equal(nonceCheck.status, 0, nonceCheck.out)
    t.match(nonceCheck.out, /Response verify OK/)
    t.notMatch(nonceCheck.out, /nonce/i)
    const g = check(dir, good, 'good.pem')
    t.equal(g.status, 0, g.out)
    t.match(g.out, /Response verify OK/)
    t.match(g.out, /good\.pem: good\n/)
    t.match(g.out, new RegExp(`This Update: ${opensslTime(now)}`))
    t.match(g.out, new RegExp(`Next Update: ${opensslTime(inDays(1))}`))
    t.match(g.out, /Responder Id: [0-9A-F]{40}\n/, 'byKey')
    t.match(g.out, /OCSP Nonce: \n\s+0410[0-9A-F]{32}\n/)

    // a different nonce, or none, is noticed by openssl
    const wrongNonce = buildOcspResponse({ responder: s.issuer, producedAt: now, responses: [{ certIdDer: id!.certIdDer, status: 'good', thisUpdate: now }], nonce: Buffer.concat([Buffer.from([4, 16]), randomBytes(16)]) })
    writeFileSync(join(dir, 'resp.der'), wrongNonce)
    const wn = openssl(['ocsp', '-reqin', 'req.der', '-respin', 'resp.der', '-issuer', 'issuing.pem', '-CAfile', 'bundle.pem'], dir)
    t.not(wn.status, 0)
    t.match(wn.out, /Nonce Verify error/)
    const noNonce = buildOcspResponse({ responder: s.issuer, producedAt: now, responses: [{ certIdDer: id!.certIdDer, status: 'good', thisUpdate: now }] })
    writeFileSync(join(dir, 'resp.der'), noNonce)
    t.match(openssl(['ocsp', '-reqin', 'req.der', '-respin', 'resp.der', '-issuer', 'issuing.pem', '-CAfile', 'bundle.pem'], dir).out, /WARNING: no nonce in response/)

    // revoked, with time and reason; a request without a nonce gets none back
    const req2 = parseOcspRequest(request(dir, ['-no_nonce', '-issuer', 'issuing.pem', '-cert', 'revoked.pem']))
    t.equal(req2.nonce, undefined)
    t.equal(req2.requests[0]!.serialHex, revokedSerial)
    const revokedAt = inDays(-2)
    const rv = check(dir, buildOcspResponse({ responder: s.issuer, producedAt: now, responses: [{ certIdDer: req2.requests[0]!.certIdDer, status: { revokedAt, reason: 'keyCompromise' }, thisUpdate: now, nextUpdate: inDays(1) }] }), 'revoked.pem')
    t.equal(rv.status, 0, rv.out)
    t.match(rv.out, /revoked\.pem: revoked\n/)
    t.match(rv.out, /Reason: keyCompromise\n/)
    t.match(rv.out, new RegExp(`Revocation Time: ${opensslTime(revokedAt)}`))
    t.notMatch(rv.out, /OCSP Nonce/)
    const rvNoReason = check(dir, buildOcspResponse({ responder: s.issuer, producedAt: now, responses: [{ certIdDer: req2.requests[0]!.certIdDer, status: { revokedAt, reason: 'unspecified' }, thisUpdate: now }] }), 'revoked.pem')
    t.match(rvNoReason.out, /revoked\.pem: revoked\n/)
    t.notMatch(rvNoReason.out, /Reason:/, 'unspecified is left out, as in the CRL')

    // unknown
    const req3 = parseOcspRequest(request(dir, ['-issuer', 'issuing.pem', '-cert', 'unknown.pem']))
    const un = check(dir, buildOcspResponse({ responder: s.issuer, producedAt: now, responses: [{ certIdDer: req3.requests[0]!.certIdDer, status: 'unknown', thisUpdate: now }] }), 'unknown.pem')
    t.equal(un.status, 0, un.out)
    t.match(un.out, /unknown\.pem: unknown\n/)

    // a tampered response does not verify
    const tampered = buildOcspResponse({ responder: s.issuer, producedAt: now, responses: [{ certIdDer: id!.certIdDer, status: 'good', thisUpdate: now }] })
    tampered[tampered.length - 2]! ^= 0x01
    const tv = check(dir, tampered, 'good.pem')
    t.notMatch(tv.out, /Response verify OK/)
    t.match(tv.out, /Response Verify Failure/)
  })
}

t.test('several certificates in one SHA-256 request, answered in one response', async (t) => {
  const dir = t.testdir()
  const s = setup(dir, 'ec-p256')
  const a = s.leaf('a')
  const b = s.leaf('b')
  const req = parseOcspRequest(request(dir, ['-sha256', '-issuer', 'issuing.pem', '-cert', 'a.pem', '-cert', 'b.pem']))
  t.same(req.requests.map((r) => [r.hashAlgorithm, r.serialHex, r.issuerKeyHash.length]), [['sha256', a, 32], ['sha256', b, 32]])
  t.ok(req.requests.every((r) => matchesIssuer(r, s.issuer)))
  const resp = buildOcspResponse({
    responder: s.issuer, producedAt: now, nonce: req.nonce,
    responses: [
      { certIdDer: req.requests[0]!.certIdDer, status: 'good', thisUpdate: now },
      { certIdDer: req.requests[1]!.certIdDer, status: { revokedAt: now, reason: 'superseded' }, thisUpdate: now },
    ],
  })
  writeFileSync(join(dir, 'resp.der'), resp)
  const r = openssl(['ocsp', '-no_nonce', '-respin', 'resp.der', '-issuer', 'issuing.pem', '-CAfile', 'bundle.pem', '-sha256', '-cert', 'a.pem', '-cert', 'b.pem'], dir)
  t.equal(r.status, 0, r.out)
  t.match(r.out, /a\.pem: good\n[\s\S]*b\.pem: revoked\n[\s\S]*Reason: superseded/)
})

t.test('a delegated responder with an ocsp-signing certificate (RFC 6960 §4.2.2.2)', async (t) => {
  const dir = t.testdir()
  const s = setup(dir, 'ec-p256')
  s.leaf('leaf')
  const rk = generateKeyPair('ec-p256')
  const responderDer = issueCertificate({ serial: newSerial(), subject: [{ type: 'CN', value: 'OCSP responder' }], publicKey: spkiOf(rk.publicKey), notBefore: now, notAfter: inDays(7), profile: 'ocsp-signing' }, s.issuer)
  const responder: PreparedIssuer = createIssuer(responderDer, rk.privateKey)
  const req = parseOcspRequest(request(dir, ['-no_nonce', '-issuer', 'issuing.pem', '-cert', 'leaf.pem']))
  t.ok(matchesIssuer(req.requests[0]!, s.issuer))
  t.notOk(matchesIssuer(req.requests[0]!, responder), 'the CertID names the CA, not the responder')
  const resp = buildOcspResponse({ responder, producedAt: now, responses: [{ certIdDer: req.requests[0]!.certIdDer, status: 'good', thisUpdate: now }], includeCertificates: [responderDer] })
  const r = check(dir, resp, 'leaf.pem')
  t.equal(r.status, 0, r.out)
  t.match(r.out, /Response verify OK/)
  t.match(r.out, /leaf\.pem: good/)
  t.match(r.out, /Subject: CN\s?=\s?OCSP responder/, 'the responder certificate is included')
  // without the certificate openssl cannot find the signer
  const bare = check(dir, buildOcspResponse({ responder, producedAt: now, responses: [{ certIdDer: req.requests[0]!.certIdDer, status: 'good', thisUpdate: now }] }), 'leaf.pem')
  t.notMatch(bare.out, /Response verify OK/)
})

t.test('signed requests are parsed (the signature is not required)', async (t) => {
  const dir = t.testdir()
  const s = setup(dir, 'ec-p256')
  const serial = s.leaf('leaf')
  const req = parseOcspRequest(request(dir, ['-issuer', 'issuing.pem', '-cert', 'leaf.pem', '-signer', 'leaf.pem', '-signkey', 'leaf.key']))
  t.equal(req.requests[0]!.serialHex, serial)
  t.ok(req.nonce)
})

t.test('error responses carry only a status', async (t) => {
  const dir = t.testdir()
  const expect = { malformedRequest: 1, internalError: 2, tryLater: 3, unauthorized: 6 } as const
  for (const [status, code] of Object.entries(expect)) {
    const der = ocspErrorResponse(status as keyof typeof expect)
    t.same([...der], [0x30, 0x03, 0x0a, 0x01, code])
    writeFileSync(join(dir, 'err.der'), der)
    t.match(openssl(['ocsp', '-respin', 'err.der', '-resp_text', '-noverify'], dir).out, new RegExp(`Responder Error: ${status.toLowerCase()} \\(${code}\\)`))
  }
})

t.test('malformed requests throw OcspMalformed', async (t) => {
  const dir = t.testdir()
  const s = setup(dir, 'ec-p256')
  s.leaf('leaf')
  const good = request(dir, ['-issuer', 'issuing.pem', '-cert', 'leaf.pem'])
  const A = forge.asn1
  const edit = (f: (tbs: forge.asn1.Asn1) => void): Buffer => {
    const o = A.fromDer(good.toString('binary'))
    f((o.value as forge.asn1.Asn1[])[0]!)
    return Buffer.from(A.toDer(o).getBytes(), 'binary')
  }
  const certId = (tbs: forge.asn1.Asn1): forge.asn1.Asn1[] =>
    ((((tbs.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[])
  const nonceExt = (tbs: forge.asn1.Asn1): forge.asn1.Asn1 =>
    ((((tbs.value as forge.asn1.Asn1[])[1]!.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[])[1]!
  const octets = (b: Buffer): string => A.toDer(A.create(A.Class.UNIVERSAL, A.Type.OCTETSTRING, false, b.toString('binary'))).getBytes()

  t.ok(parseOcspRequest(edit(() => {})), 'the unedited request parses')
  const cases: Array<[string, Buffer, RegExp]> = [
    ['garbage', Buffer.from('GET / HTTP/1.1'), /malformed OCSP request/],
    ['empty', Buffer.alloc(0), /malformed OCSP request/],
    ['truncated', good.subarray(0, good.length - 5), /malformed OCSP request/],
    ['trailing data', Buffer.concat([good, Buffer.from([0])]), /trailing data/],
    ['empty requestList', edit((tbs) => { (tbs.value as forge.asn1.Asn1[])[0]!.value = [] }), /empty OCSP requestList/],
    ['MD5 CertID', edit((tbs) => { (certId(tbs)[0]!.value as forge.asn1.Asn1[])[0]!.value = A.oidToDer('1.2.840.113549.2.5').getBytes() }), /unsupported CertID hash algorithm 1\.2\.840\.113549\.2\.5/],
    ['short issuerNameHash', edit((tbs) => { certId(tbs)[1]!.value = 'short' }), /CertID hashes are not sha1 length/],
    ['nonce of 33 octets', edit((tbs) => { nonceExt(tbs).value = octets(randomBytes(33)) }), /OCSP nonce of 33 octets/],
    ['empty nonce', edit((tbs) => { nonceExt(tbs).value = octets(Buffer.alloc(0)) }), /OCSP nonce of 0 octets/],
  ]
  for (const [name, der, re] of cases) {
    let err: unknown
    try { parseOcspRequest(der) } catch (e) { err = e }
    t.ok(err instanceof OcspMalformed, `${name}: OcspMalformed`)
    t.match((err as Error | undefined)?.message, re, name)
  }
  // 32 octets is the RFC 8954 maximum and is accepted; a bare (non-DER-wrapped) nonce is echoed as it came
  t.equal(parseOcspRequest(edit((tbs) => { nonceExt(tbs).value = octets(randomBytes(32)) })).nonce?.length, 34)
  const bare = randomBytes(16)
  bare[0] = 0x99
  t.ok(parseOcspRequest(edit((tbs) => { nonceExt(tbs).value = bare.toString('binary') })).nonce?.equals(bare))
})
