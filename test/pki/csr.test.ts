import { spawnSync } from 'node:child_process'
import { checkPrimeSync, createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import forge from 'node-forge'
import t from 'tap'
import { Problem } from '../../src/errors.js'
import { parseCsr } from '../../src/pki/csr.js'
import { fromPem, toPem } from '../../src/pki/pem.js'

// ---------------------------------------------------------------- helpers

function openssl (args: string[], cwd: string): string {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}

/** A CSR made by `openssl req` with the given key options; returns the PEM text. */
function opensslCsr (dir: string, name: string, keyArgs: string[], extra: string[] = []): string {
  openssl(['req', '-new', ...keyArgs, '-nodes', '-keyout', `${name}.key`, '-subj', '/C=GB/O=Acme Ltd/CN=client-1', '-out', `${name}.csr`, ...extra], dir)
  return readFileSync(join(dir, `${name}.csr`), 'utf8')
}

/** The refusal detail for `input`; fails the test (by throwing) if the CSR is accepted. */
function refusal (input: string | Buffer, opts?: { maxBytes?: number }): string {
  try {
    parseCsr(input, opts)
  } catch (e) {
    if (e instanceof Problem && e.code === 'invalid-csr' && e.status === 400) return e.detail ?? ''
    throw e
  }
  throw new Error('the CSR was accepted')
}

// An independent CSR builder: node-forge for the ASN.1, node:crypto for the signature.
const A = forge.asn1
const fOid = (o: string): forge.asn1.Asn1 => A.create(A.Class.UNIVERSAL, A.Type.OID, false, A.oidToDer(o).getBytes())
const fSeq = (...v: forge.asn1.Asn1[]): forge.asn1.Asn1 => A.create(A.Class.UNIVERSAL, A.Type.SEQUENCE, true, v)
const fNull = (): forge.asn1.Asn1 => A.create(A.Class.UNIVERSAL, A.Type.NULL, false, '')
const fInt = (hex: string): forge.asn1.Asn1 => A.create(A.Class.UNIVERSAL, A.Type.INTEGER, false, forge.util.hexToBytes(hex))
const toDer = (o: forge.asn1.Asn1): Buffer => Buffer.from(A.toDer(o).getBytes(), 'binary')
const fromDer = (b: Buffer): forge.asn1.Asn1 => A.fromDer(b.toString('binary'))

function buildCsr (o: {
  spki: Buffer
  cn?: string
  dnsNames?: string[]
  sigAlg: forge.asn1.Asn1
  sign: (data: Buffer) => Buffer
}): Buffer {
  const attrs: forge.asn1.Asn1[] = []
  if (o.dnsNames !== undefined) {
    const san = fSeq(...o.dnsNames.map((d) => A.create(A.Class.CONTEXT_SPECIFIC, 2, false, d)))
    const ext = fSeq(fOid('2.5.29.17'), A.create(A.Class.UNIVERSAL, A.Type.OCTETSTRING, false, A.toDer(san).getBytes()))
    attrs.push(fSeq(fOid('1.2.840.113549.1.9.14'), A.create(A.Class.UNIVERSAL, A.Type.SET, true, [fSeq(ext)])))
  }
  const info = fSeq(
    fInt('00'),
    fSeq(A.create(A.Class.UNIVERSAL, A.Type.SET, true, [fSeq(fOid('2.5.4.3'), A.create(A.Class.UNIVERSAL, A.Type.UTF8, false, o.cn ?? 'forge'))])),
    fromDer(o.spki),
    A.create(A.Class.CONTEXT_SPECIFIC, 0, true, attrs),
  )
  const infoDer = toDer(info)
  const sig = o.sign(infoDer)
  return toDer(fSeq(info, o.sigAlg, A.create(A.Class.UNIVERSAL, A.Type.BITSTRING, false, '\x00' + sig.toString('binary'))))
}

const spkiOf = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' })
const ecdsaSha256 = (): forge.asn1.Asn1 => fSeq(fOid('1.2.840.10045.4.3.2'))
const rsaSha256 = (): forge.asn1.Asn1 => fSeq(fOid('1.2.840.113549.1.1.11'), fNull())

/** A CSR from a fresh node:crypto key signed with `hash` under `sigAlg`. */
function nodeCsr (type: 'ec' | 'rsa' | 'ed25519' | 'dsa', opts: object, sigAlg: forge.asn1.Asn1, hash: string | null, extra: { dnsNames?: string[] } = {}): Buffer {
  const { privateKey, publicKey } = generateKeyPairSync(type as 'ec', opts as { namedCurve: string })
  return buildCsr({ spki: spkiOf(publicKey), sigAlg, sign: (d) => sign(hash, d, privateKey), ...extra })
}

// Large RSA moduli without a slow key generation: a product of 512-bit primes (a multi-prime "RSA" key whose
// factors we know), so we can sign with it through the CRT in BigInt and test the size bounds with real signatures.
const big = (b: Buffer): bigint => BigInt('0x' + (b.length > 0 ? b.toString('hex') : '0'))
const hexOf = (n: bigint): string => { const h = n.toString(16); return h.length % 2 === 1 ? '0' + h : h }
function modPow (b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n
  b %= m
  for (; e > 0n; e >>= 1n) { if (e & 1n) r = (r * b) % m; b = (b * b) % m }
  return r
}
function modInv (a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n]
  while (r1 !== 0n) { const q = r0 / r1;[r0, r1] = [r1, r0 - q * r1];[s0, s1] = [s1, s0 - q * s1] }
  return ((s0 % m) + m) % m
}
function multiPrimeRsa (bits: number, e = 65537n): { spki: Buffer, sign: (data: Buffer) => Buffer } {
  const primes: bigint[] = []
  while (primes.length < bits / 512) {
    // in [2^512 - 2^500, 2^512): the product of k of them has exactly 512k bits
    let p = (1n << 512n) - big(randomBytes(63)) % (1n << 500n)
    p |= 1n
    while (!checkPrimeSync(p) || (e > 1n && (p - 1n) % e === 0n) || primes.includes(p)) p += 2n
    primes.push(p)
  }
  const n = primes.reduce((a, b) => a * b, 1n)
  const rsaPub = fSeq(fInt(((n >> BigInt(bits - 1)) & 1n ? '00' : '') + hexOf(n)), fInt(hexOf(e)))
  const spki = toDer(fSeq(fSeq(fOid('1.2.840.113549.1.1.1'), fNull()), A.create(A.Class.UNIVERSAL, A.Type.BITSTRING, false, '\x00' + A.toDer(rsaPub).getBytes())))
  return {
    spki,
    sign (data) {
      // EMSA-PKCS1-v1_5 (RFC 8017 §9.2) with SHA-256
      const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update(data).digest()])
      const k = bits / 8
      const em = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(k - digestInfo.length - 3, 0xff), Buffer.from([0]), digestInfo])
      const m = big(em)
      let s = 0n
      for (const p of primes) {
        const sp = modPow(m, modInv(e, p - 1n), p)
        const mp = n / p
        s = (s + sp * mp * modInv(mp % p, p)) % n
      }
      return Buffer.from(hexOf(s).padStart(k * 2, '0'), 'hex')
    },
  }
}

// ---------------------------------------------------------------- accepted

t.test('accepts openssl CSRs: EC P-256 with SANs, EC P-384, RSA-2048, RSA-PSS; PEM or DER', async (t) => {
  const dir = t.testdir()
  const ec = parseCsr(opensslCsr(dir, 'ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['-addext', 'subjectAltName=DNS:api.bank.example,DNS:mtls.bank.example,IP:10.0.0.1']))
  t.same(ec.key, { type: 'ec', curve: 'P-256' })
  t.same(ec.subject.map((a) => [a.type, a.value]), [['C', 'GB'], ['O', 'Acme Ltd'], ['CN', 'client-1']])
  t.same(ec.dnsNames, ['api.bank.example', 'mtls.bank.example'])
  t.equal(ec.publicKey.asymmetricKeyType, 'ec')
  t.ok(ec.spki.equals(ec.publicKey.export({ type: 'spki', format: 'der' })), 'spki is the key')
  const pubFromOpenssl = openssl(['req', '-in', 'ec.csr', '-pubkey', '-noout'], dir)
  t.ok(ec.spki.equals(fromPem(pubFromOpenssl, 'PUBLIC KEY')[0]!), 'spki matches openssl -pubkey')

  const p384 = parseCsr(opensslCsr(dir, 'p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], ['-sha384']))
  t.same(p384.key, { type: 'ec', curve: 'P-384' })
  t.same(p384.dnsNames, [])

  const rsaPem = opensslCsr(dir, 'rsa', ['-newkey', 'rsa:2048'])
  const rsa = parseCsr(rsaPem)
  t.same(rsa.key, { type: 'rsa', bits: 2048 })
  const der = fromPem(rsaPem, 'CERTIFICATE REQUEST')[0]!
  t.ok(parseCsr(der).der.equals(der), 'DER input')
  t.same(parseCsr(toPem(der, 'NEW CERTIFICATE REQUEST')).key, { type: 'rsa', bits: 2048 }, 'NEW CERTIFICATE REQUEST label')
  t.same(parseCsr(Buffer.from(rsaPem)).key, { type: 'rsa', bits: 2048 }, 'PEM in a Buffer')
  t.same(parseCsr('Some explanatory text\n' + rsaPem + '\ntrailing words').key.type, 'rsa', 'text around the block (RFC 7468 §2)')
  t.same(parseCsr(rsaPem.replace(/\n/g, '\r\n')).key.type, 'rsa', 'CRLF line endings')

  const pss = parseCsr(opensslCsr(dir, 'pss', ['-key', 'rsa.key'], ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-sha256']))
  t.same(pss.key, { type: 'rsa', bits: 2048 })
  const pss512 = parseCsr(opensslCsr(dir, 'pss512', ['-key', 'rsa.key'], ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1', '-sha512']))
  t.same(pss512.key, { type: 'rsa', bits: 2048 })
})

t.test('accepts CSRs built with node-forge and node:crypto (ecdsa-with-SHA512, sha384WithRSAEncryption)', async (t) => {
  const ec = parseCsr(nodeCsr('ec', { namedCurve: 'P-256' }, fSeq(fOid('1.2.840.10045.4.3.4')), 'sha512', { dnsNames: ['a.example'] }))
  t.same(ec.key, { type: 'ec', curve: 'P-256' })
  t.same(ec.dnsNames, ['a.example'])
  t.same(ec.subject, [{ type: 'CN', oid: '2.5.4.3', value: 'forge' }])
  const rsa = parseCsr(nodeCsr('rsa', { modulusLength: 3072 }, fSeq(fOid('1.2.840.113549.1.1.12'), fNull()), 'sha384'))
  t.same(rsa.key, { type: 'rsa', bits: 3072 })
})

t.test('RSA size bounds are inclusive at 8192 bits, with real signatures', async (t) => {
  const k8192 = multiPrimeRsa(8192)
  const ok = parseCsr(buildCsr({ spki: k8192.spki, sigAlg: rsaSha256(), sign: k8192.sign }))
  t.same(ok.key, { type: 'rsa', bits: 8192 })
  const k8704 = multiPrimeRsa(8704)
  const csr = buildCsr({ spki: k8704.spki, sigAlg: rsaSha256(), sign: k8704.sign })
  t.match(refusal(csr), /^RSA key of 8704 bits is too large; the maximum is 8192 bits$/)
  const k16384 = multiPrimeRsa(16384)
  t.match(refusal(buildCsr({ spki: k16384.spki, sigAlg: rsaSha256(), sign: k16384.sign })), /RSA key of 16384 bits is too large/)
})

// ---------------------------------------------------------------- refused

t.test('a tampered CSR does not verify', async (t) => {
  const dir = t.testdir()
  for (const [name, key] of [['ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']], ['rsa', ['-newkey', 'rsa:2048']]] as const) {
    const der = fromPem(opensslCsr(dir, name, [...key]), 'CERTIFICATE REQUEST')[0]!
    t.ok(parseCsr(der), `${name} untampered verifies`)
    const sigByte = Buffer.from(der)
    sigByte[sigByte.length - 1]! ^= 0x01
    t.equal(refusal(sigByte), 'CSR signature does not verify', `${name}: signature byte flipped`)
    const subjectByte = Buffer.from(der)
    const at = subjectByte.indexOf('client-1')
    t.ok(at > 0)
    subjectByte[at] = 'C'.charCodeAt(0)
    t.equal(refusal(subjectByte), 'CSR signature does not verify', `${name}: subject changed`)
  }
  // a signature made by another key
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const mine = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  t.equal(refusal(buildCsr({ spki: spkiOf(mine.publicKey), sigAlg: ecdsaSha256(), sign: (d) => sign('sha256', d, other.privateKey) })), 'CSR signature does not verify')
})

t.test('weak and oversized keys are refused with their size', async (t) => {
  const dir = t.testdir()
  t.equal(refusal(opensslCsr(dir, 'rsa1024', ['-newkey', 'rsa:1024'])), 'RSA key of 1024 bits is too weak; the minimum is 2048 bits')
  t.match(refusal(nodeCsr('rsa', { modulusLength: 2040 }, rsaSha256(), 'sha256')), /RSA key of 2040 bits is too weak/)
  // e = 1: the "signature" is the encoded message itself, so it verifies; the exponent check refuses it
  const e1 = multiPrimeRsa(2048, 1n)
  t.equal(refusal(buildCsr({ spki: e1.spki, sigAlg: rsaSha256(), sign: e1.sign })), 'RSA public exponent is not allowed (it must be odd, at least 3 and at most 256 bits)')
  const e3 = multiPrimeRsa(2048, 3n)
  t.same(parseCsr(buildCsr({ spki: e3.spki, sigAlg: rsaSha256(), sign: e3.sign })).key, { type: 'rsa', bits: 2048 }, 'e = 3 is allowed')
})

t.test('unsupported curves and key algorithms are named', async (t) => {
  const dir = t.testdir()
  t.equal(refusal(opensslCsr(dir, 'k1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'])), 'unsupported EC curve secp256k1; use P-256 or P-384')
  t.match(refusal(opensslCsr(dir, 'p521', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'])), /^unsupported EC curve P-521/)
  t.match(refusal(nodeCsr('ec', { namedCurve: 'brainpoolP256r1' }, ecdsaSha256(), 'sha256')), /^unsupported EC curve brainpoolP256r1/)
  t.match(refusal(opensslCsr(dir, 'ed', ['-newkey', 'ed25519'])), /^unsupported key algorithm Ed25519; use RSA \(2048–8192 bits\) or EC P-256\/P-384$/)
  t.match(refusal(nodeCsr('ed25519', {}, fSeq(fOid('1.3.101.112')), null)), /^unsupported key algorithm Ed25519/)
  t.match(refusal(nodeCsr('dsa', { modulusLength: 2048, divisorLength: 256 }, fSeq(fOid('2.16.840.1.101.3.4.3.2')), 'sha256')), /^unsupported key algorithm DSA/)
  // explicit curve parameters instead of a namedCurve
  const explicitParams = fromPem(opensslCsr(dir, 'explicit', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-pkeyopt', 'ec_param_enc:explicit']), 'CERTIFICATE REQUEST')[0]!
  t.match(refusal(explicitParams), /explicit or implicit curve parameters are not supported/)
})

t.test('MD5, SHA-1 and SHA-224 signatures are refused by name; unknown algorithms too', async (t) => {
  const dir = t.testdir()
  opensslCsr(dir, 'base', ['-newkey', 'rsa:2048'])
  t.equal(refusal(opensslCsr(dir, 'md5', ['-key', 'base.key'], ['-md5'])), 'CSR is signed with MD5 (md5WithRSAEncryption), which is too weak; use SHA-256 or stronger')
  t.equal(refusal(opensslCsr(dir, 'sha1', ['-key', 'base.key'], ['-sha1'])), 'CSR is signed with SHA-1 (sha1WithRSAEncryption), which is too weak; use SHA-256 or stronger')
  t.match(refusal(opensslCsr(dir, 'pss1', ['-key', 'base.key'], ['-sha1', '-sigopt', 'rsa_padding_mode:pss'])), /^CSR is signed with SHA-1 \(RSASSA-PSS\)/)
  t.match(refusal(opensslCsr(dir, 'sha224', ['-key', 'base.key'], ['-sha224'])), /^CSR is signed with SHA-224/)
  t.match(refusal(opensslCsr(dir, 'ecsha1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['-sha1'])), /^CSR is signed with SHA-1 \(ecdsa-with-SHA1\)/)
  t.equal(refusal(nodeCsr('ec', { namedCurve: 'P-256' }, fSeq(fOid('1.2.3.4.5')), 'sha256')), 'unknown signature algorithm 1.2.3.4.5')
  t.match(refusal(nodeCsr('ec', { namedCurve: 'P-256' }, rsaSha256(), 'sha256')), /^signature algorithm sha256WithRSAEncryption does not match the CSR's EC key$/)
})

t.test('garbage, other PEM labels, several CSRs, trailing data and oversize input are refused distinctly', async (t) => {
  const dir = t.testdir()
  const pem = opensslCsr(dir, 'ok', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'])
  const der = fromPem(pem, 'CERTIFICATE REQUEST')[0]!

  t.equal(refusal('hello, I am not a CSR'), 'not a PEM or DER certificate request')
  t.equal(refusal(''), 'not a PEM or DER certificate request')
  t.equal(refusal(Buffer.from([0x01, 0x02, 0x03])), 'not a PEM or DER certificate request')
  t.match(refusal(Buffer.concat([Buffer.from([0x30, 0x82, 0x10]), randomBytes(64)])), /^malformed CSR: /)
  t.match(refusal(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])), /^malformed CSR: CertificationRequest must have three fields/)
  t.match(refusal('-----BEGIN CERTIFICATE REQUEST-----\n!!!not base64!!!\n-----END CERTIFICATE REQUEST-----\n'), /^malformed PEM: /)
  t.match(refusal('-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n'), /^malformed PEM: no complete/)

  openssl(['req', '-x509', '-new', '-key', 'ok.key', '-subj', '/CN=self', '-days', '1', '-out', 'self.pem'], dir)
  const certPem = readFileSync(join(dir, 'self.pem'), 'utf8')
  t.equal(refusal(certPem), 'expected a CERTIFICATE REQUEST PEM block, found CERTIFICATE')
  t.equal(refusal(fromPem(certPem, 'CERTIFICATE')[0]!), 'this is an X.509 certificate, not a certificate request')
  t.equal(refusal(readFileSync(join(dir, 'ok.key'), 'utf8')), 'expected a CERTIFICATE REQUEST PEM block, found PRIVATE KEY')
  t.equal(refusal(pem + readFileSync(join(dir, 'ok.key'), 'utf8')), 'unexpected PRIVATE KEY PEM block alongside the certificate request')
  t.equal(refusal(pem + pem), 'more than one certificate request (2 PEM blocks); send exactly one')

  t.equal(refusal(Buffer.concat([der, Buffer.from([0x00])])), 'trailing data after the certificate request (1 bytes)')
  t.equal(refusal(toPem(Buffer.concat([der, Buffer.from('junk')]), 'CERTIFICATE REQUEST')), 'trailing data after the certificate request (4 bytes)')

  t.equal(refusal(pem + ' '.repeat(16384)), 'the CSR is larger than 16384 bytes')
  t.equal(refusal(Buffer.alloc(16385, 0x30)), 'the CSR is larger than 16384 bytes')
  t.equal(refusal(pem, { maxBytes: 100 }), 'the CSR is larger than 100 bytes')
  t.ok(parseCsr(pem, { maxBytes: pem.length }), 'exactly maxBytes is allowed')
})

t.test('the result does not alias the caller\'s buffer', async (t) => {
  const der = nodeCsr('ec', { namedCurve: 'P-256' }, ecdsaSha256(), 'sha256')
  const parsed = parseCsr(der)
  const copy = Buffer.from(parsed.spki)
  der.fill(0)
  t.ok(parsed.spki.equals(copy))
})
