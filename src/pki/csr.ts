// PKCS #10 certification requests (RFC 2986): parse, check the key and signature policy, verify the
// self-signature. The directory never copies the CSR's subject into a certificate; it reads it only to show it.
import { constants, verify, type KeyObject } from 'node:crypto'
import { InvalidCsr } from '../errors.js'
import {
  Asn1Error, Tag, checkDer, children, content, expect, is, parse, readBitStringBytes, readInteger, readOid, readString,
  slice, strictDer, tagOf, toDer, type Asn1,
} from './der.js'
import { importPublicKey } from './keys.js'
import { OID } from './oids.js'
import { PemError, isPem, pemBlocks } from './pem.js'

export interface ParsedCsr {
  der: Buffer
  publicKey: KeyObject
  /** SubjectPublicKeyInfo DER, as in the CSR. */
  spki: Buffer
  key: { type: 'rsa', bits: number } | { type: 'ec', curve: 'P-256' | 'P-384' }
  /** The requested subject, in order; `type` is a short name when known (attributeNames), else the OID. */
  subject: Array<{ type: string, oid: string, value: string }>
  /** dNSName entries of a subjectAltName in the extensionRequest attribute (RFC 2985 §5.4.2), if any. */
  dnsNames: string[]
}

export const csrPolicy = { minRsaBits: 2048, maxRsaBits: 8192, maxBytes: 16384 } as const

const csrLabels = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'])

export function parseCsr (input: string | Buffer, opts: { maxBytes?: number } = {}): ParsedCsr {
  const maxBytes = opts.maxBytes ?? csrPolicy.maxBytes
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length
  if (size > maxBytes) throw InvalidCsr(`the CSR is larger than ${maxBytes} bytes`)
  const der = Buffer.from(extractDer(input)) // a private copy: the result must not change under the caller
  try {
    return parseRequest(der)
  } catch (e) {
    if (e instanceof Asn1Error) throw InvalidCsr(`malformed CSR: ${e.message}`)
    throw e
  }
}

function extractDer (input: string | Buffer): Buffer {
  if (Buffer.isBuffer(input) && input[0] === Tag.SEQUENCE) return input
  const text = typeof input === 'string' ? input : input.toString('latin1')
  if (!isPem(text)) throw InvalidCsr('not a PEM or DER certificate request')
  let blocks: Array<{ label: string, der: Buffer }>
  try {
    blocks = pemBlocks(text)
  } catch (e) {
    if (e instanceof PemError) throw InvalidCsr(`malformed PEM: ${e.message}`)
    throw e
  }
  const csrs = blocks.filter((b) => csrLabels.has(b.label))
  const others = blocks.filter((b) => !csrLabels.has(b.label))
  if (csrs.length === 0) {
    if (others.length === 0) throw InvalidCsr('malformed PEM: no complete BEGIN/END block')
    throw InvalidCsr(`expected a CERTIFICATE REQUEST PEM block, found ${others.map((b) => b.label).join(', ')}`)
  }
  if (csrs.length > 1) throw InvalidCsr(`more than one certificate request (${csrs.length} PEM blocks); send exactly one`)
  if (others.length > 0) throw InvalidCsr(`unexpected ${others[0]!.label} PEM block alongside the certificate request`)
  return csrs[0]!.der
}

function parseRequest (der: Buffer): ParsedCsr {
  // CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }
  const { node: top, trailing } = parse(der)
  if (trailing !== 0) throw InvalidCsr(`trailing data after the certificate request (${trailing} bytes)`)
  const parts = children(expect(top, Tag.SEQUENCE, 'CertificationRequest'))
  const [info, sigAlg, sigBits] = parts
  // A Certificate has the same outer shape; its TBSCertificate starts with [0] version (RFC 5280 §4.1).
  if (is(info, Tag.SEQUENCE) && is(children(info)[0], 0xa0)) {
    throw InvalidCsr('this is an X.509 certificate, not a certificate request')
  }
  if (info === undefined || sigAlg === undefined || sigBits === undefined || parts.length !== 3) {
    throw new Asn1Error('CertificationRequest must have three fields')
  }
  // The signature covers the DER of certificationRequestInfo; other encodings of the same request are refused.
  checkDer(top, der)
  // CertificationRequestInfo ::= SEQUENCE { version INTEGER { v1(0) }, subject Name, subjectPKInfo, attributes [0] }
  const [version, subject, spki, attributes, ...extra] = children(expect(info, Tag.SEQUENCE, 'certificationRequestInfo'))
  if (version === undefined || subject === undefined || spki === undefined || extra.length > 0) {
    throw new Asn1Error('certificationRequestInfo has the wrong number of fields')
  }
  if (!content(expect(version, Tag.INTEGER, 'version')).equals(Buffer.from([0]))) throw InvalidCsr('unsupported CSR version (only v1, value 0, exists)')
  expect(subject, Tag.SEQUENCE, 'subject')
  expect(spki, Tag.SEQUENCE, 'subjectPKInfo')
  if (attributes !== undefined) expect(attributes, 0xa0, 'attributes')

  const key = classifyKey(spki)
  const alg = classifySignature(expect(sigAlg, Tag.SEQUENCE, 'signatureAlgorithm'))
  if (alg.keyType !== key.info.type) throw InvalidCsr(`signature algorithm ${alg.name} does not match the CSR's ${key.info.type.toUpperCase()} key`)
  const signature = readBitStringBytes(sigBits)
  const spkiDer = slice(der, top, [0, 2])

  let publicKey: KeyObject
  try {
    publicKey = importPublicKey(spkiDer, key.material)
  } catch (e) {
    throw InvalidCsr(`the CSR's public key is invalid (${(e as Error).message})`)
  }
  let ok: boolean
  try {
    ok = verify(alg.hash, slice(der, top, [0]), alg.pssSaltLength === undefined
      ? publicKey
      : { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.pssSaltLength }, signature)
  } catch {
    ok = false
  }
  if (!ok) throw InvalidCsr('CSR signature does not verify')

  return {
    der,
    publicKey,
    spki: spkiDer,
    key: key.info,
    subject: readName(subject),
    dnsNames: attributes === undefined ? [] : requestedDnsNames(attributes),
  }
}

// ---------------------------------------------------------------- key policy

const curveNames: Record<string, string> = {
  [OID.secp256r1]: 'P-256',
  [OID.secp384r1]: 'P-384',
  '1.3.132.0.35': 'P-521 (secp521r1)',
  '1.3.132.0.33': 'P-224 (secp224r1)',
  '1.2.840.10045.3.1.1': 'P-192 (prime192v1)',
  '1.3.132.0.10': 'secp256k1',
  '1.3.36.3.3.2.8.1.1.7': 'brainpoolP256r1',
  '1.3.36.3.3.2.8.1.1.11': 'brainpoolP384r1',
  '1.3.36.3.3.2.8.1.1.13': 'brainpoolP512r1',
  '1.2.156.10197.1.301': 'SM2',
}

const keyAlgorithmNames: Record<string, string> = {
  [OID['id-Ed25519']]: 'Ed25519',
  [OID['id-Ed448']]: 'Ed448',
  [OID['id-X25519']]: 'X25519',
  [OID['id-X448']]: 'X448',
  [OID['id-dsa']]: 'DSA',
  [OID.dhpublicnumber]: 'Diffie-Hellman',
  [OID['id-RSASSA-PSS']]: 'RSASSA-PSS-restricted RSA (send an rsaEncryption key; PSS signatures are accepted)',
  '1.2.643.7.1.1.1.1': 'GOST R 34.10-2012',
}

const allowedKeys = `use RSA (${csrPolicy.minRsaBits}–${csrPolicy.maxRsaBits} bits) or EC P-256/P-384`

type KeyMaterial = { type: 'rsa', rsaPublicKey: Buffer } | { type: 'ec', curve: 'P-256' | 'P-384', point: Buffer }

function classifyKey (spki: Asn1): { info: ParsedCsr['key'], material: KeyMaterial } {
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING } (RFC 5280 §4.1)
  const [alg, bits, ...extra] = children(spki)
  if (alg === undefined || bits === undefined || extra.length > 0) throw new Asn1Error('bad SubjectPublicKeyInfo')
  const [algOid, params] = children(expect(alg, Tag.SEQUENCE, 'algorithm'))
  if (algOid === undefined) throw new Asn1Error('empty AlgorithmIdentifier')
  const id = readOid(algOid)
  const pub = readBitStringBytes(bits)

  if (id === OID.rsaEncryption) {
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 §A.1.1), itself DER
    const [n, e, ...more] = children(expect(strictDer(pub), Tag.SEQUENCE, 'RSAPublicKey'))
    if (n === undefined || e === undefined || more.length > 0) throw new Asn1Error('bad RSAPublicKey')
    const bitsOfN = bitLength(content(expect(n, Tag.INTEGER, 'modulus')))
    // An odd exponent of at least 3 and at most 256 bits (NIST SP 800-89 §5.3.3 bounds, loosened below 65537);
    // e = 1 would make any "signature" verify, defeating the CSR's proof of possession.
    const exp = readInteger(e)
    const expBits = bitLength(exp)
    if ((exp[0]! & 0x80) !== 0 || (exp[exp.length - 1]! & 1) === 0 || expBits < 2 || expBits > 256) {
      throw InvalidCsr('RSA public exponent is not allowed (it must be odd, at least 3 and at most 256 bits)')
    }
    if (bitsOfN < csrPolicy.minRsaBits) throw InvalidCsr(`RSA key of ${bitsOfN} bits is too weak; the minimum is ${csrPolicy.minRsaBits} bits`)
    if (bitsOfN > csrPolicy.maxRsaBits) throw InvalidCsr(`RSA key of ${bitsOfN} bits is too large; the maximum is ${csrPolicy.maxRsaBits} bits`)
    return { info: { type: 'rsa', bits: bitsOfN }, material: { type: 'rsa', rsaPublicKey: pub } }
  }
  if (id === OID['id-ecPublicKey']) {
    // ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER, ... } — only namedCurve is allowed (RFC 5480 §2.1.1)
    if (!is(params, Tag.OID)) throw InvalidCsr('EC keys with explicit or implicit curve parameters are not supported; use a named curve, P-256 or P-384')
    const curveOid = readOid(params)
    if (curveOid === OID.secp256r1) return { info: { type: 'ec', curve: 'P-256' }, material: { type: 'ec', curve: 'P-256', point: pub } }
    if (curveOid === OID.secp384r1) return { info: { type: 'ec', curve: 'P-384' }, material: { type: 'ec', curve: 'P-384', point: pub } }
    throw InvalidCsr(`unsupported EC curve ${curveNames[curveOid] ?? curveOid}; use P-256 or P-384`)
  }
  throw InvalidCsr(`unsupported key algorithm ${keyAlgorithmNames[id] ?? id}; ${allowedKeys}`)
}

function bitLength (magnitude: Buffer): number {
  let i = 0
  while (i < magnitude.length && magnitude[i] === 0) i++
  if (i === magnitude.length) return 0
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(magnitude[i]!))
}

// ---------------------------------------------------------------- signature policy

type Hash = 'sha256' | 'sha384' | 'sha512'
interface SignatureCheck { name: string, keyType: 'rsa' | 'ec', hash: Hash, pssSaltLength?: number }

const goodSignatures: Record<string, SignatureCheck> = {
  [OID.sha256WithRSAEncryption]: { name: 'sha256WithRSAEncryption', keyType: 'rsa', hash: 'sha256' },
  [OID.sha384WithRSAEncryption]: { name: 'sha384WithRSAEncryption', keyType: 'rsa', hash: 'sha384' },
  [OID.sha512WithRSAEncryption]: { name: 'sha512WithRSAEncryption', keyType: 'rsa', hash: 'sha512' },
  [OID['ecdsa-with-SHA256']]: { name: 'ecdsa-with-SHA256', keyType: 'ec', hash: 'sha256' },
  [OID['ecdsa-with-SHA384']]: { name: 'ecdsa-with-SHA384', keyType: 'ec', hash: 'sha384' },
  [OID['ecdsa-with-SHA512']]: { name: 'ecdsa-with-SHA512', keyType: 'ec', hash: 'sha512' },
}

const weakSignatures: Record<string, [hash: string, name: string]> = {
  [OID.md2WithRSAEncryption]: ['MD2', 'md2WithRSAEncryption'],
  [OID.md4WithRSAEncryption]: ['MD4', 'md4WithRSAEncryption'],
  [OID.md5WithRSAEncryption]: ['MD5', 'md5WithRSAEncryption'],
  [OID.sha1WithRSAEncryption]: ['SHA-1', 'sha1WithRSAEncryption'],
  [OID['ecdsa-with-SHA1']]: ['SHA-1', 'ecdsa-with-SHA1'],
  [OID.sha224WithRSAEncryption]: ['SHA-224', 'sha224WithRSAEncryption'],
  [OID['ecdsa-with-SHA224']]: ['SHA-224', 'ecdsa-with-SHA224'],
  '1.2.840.10040.4.3': ['SHA-1', 'dsa-with-sha1'],
}

const hashOids: Record<string, [Hash | null, string]> = {
  [OID['id-sha1']]: [null, 'SHA-1'],
  [OID['id-sha224']]: [null, 'SHA-224'],
  [OID['id-sha256']]: ['sha256', 'SHA-256'],
  [OID['id-sha384']]: ['sha384', 'SHA-384'],
  [OID['id-sha512']]: ['sha512', 'SHA-512'],
  '1.2.840.113549.2.5': [null, 'MD5'],
}

const tooWeak = (hash: string, name: string): Error =>
  InvalidCsr(`CSR is signed with ${hash} (${name}), which is too weak; use SHA-256 or stronger`)

function classifySignature (alg: Asn1): SignatureCheck {
  const [algOid, params] = children(alg)
  if (algOid === undefined) throw new Asn1Error('empty AlgorithmIdentifier')
  const id = readOid(algOid)
  const good = goodSignatures[id]
  if (good !== undefined) return good
  const weak = weakSignatures[id]
  if (weak !== undefined) throw tooWeak(weak[0], weak[1])
  if (id === OID['id-RSASSA-PSS']) return classifyPss(params)
  throw InvalidCsr(`unknown signature algorithm ${id}`)
}

/**
 * RSASSA-PSS-params (RFC 4055 §3.1): every field has a SHA-1 based default, so absent fields mean SHA-1.
 * node:crypto uses the message hash for MGF1 as well, so a different MGF1 hash is refused.
 */
function classifyPss (params: Asn1 | undefined): SignatureCheck {
  if (!is(params, Tag.SEQUENCE)) throw tooWeak('SHA-1', 'RSASSA-PSS with default parameters')
  let hash: [Hash | null, string] = [null, 'SHA-1']
  let mgfHash: [Hash | null, string] = [null, 'SHA-1']
  let saltLength = 20
  for (const f of children(params)) {
    const [inner] = children(f)
    if (inner === undefined) throw new Asn1Error('bad RSASSA-PSS-params')
    const tag = tagOf(f)
    if (tag === 0xa0) {
      hash = hashOf(inner)
    } else if (tag === 0xa1) {
      const [mgf, mgfParams] = children(inner)
      if (mgf === undefined || readOid(mgf) !== OID['id-mgf1'] || mgfParams === undefined) throw InvalidCsr('RSASSA-PSS with a mask generation function other than MGF1')
      mgfHash = hashOf(mgfParams)
    } else if (tag === 0xa2) {
      const salt = readInteger(inner)
      if (salt.length > 2 || (salt[0]! & 0x80) !== 0) throw InvalidCsr('RSASSA-PSS salt length out of range')
      saltLength = salt.readUIntBE(0, salt.length)
    } else if (tag === 0xa3) {
      if (!readInteger(inner).equals(Buffer.from([1]))) throw InvalidCsr('RSASSA-PSS trailerField must be 1')
    } else {
      throw new Asn1Error('bad RSASSA-PSS-params')
    }
  }
  if (hash[0] === null) throw tooWeak(hash[1], 'RSASSA-PSS')
  if (mgfHash[0] !== hash[0]) throw InvalidCsr(`RSASSA-PSS with MGF1 over ${mgfHash[1]} and message hash ${hash[1]} is not supported; use the same hash`)
  return { name: `RSASSA-PSS (${hash[1]})`, keyType: 'rsa', hash: hash[0], pssSaltLength: saltLength }
}

function hashOf (algId: Asn1): [Hash | null, string] {
  const [h] = children(expect(algId, Tag.SEQUENCE, 'hash AlgorithmIdentifier'))
  if (h === undefined) throw new Asn1Error('empty AlgorithmIdentifier')
  const id = readOid(h)
  const known = hashOids[id]
  if (known === undefined) throw InvalidCsr(`unknown hash algorithm ${id} in RSASSA-PSS parameters`)
  return known
}

// ---------------------------------------------------------------- subject and requested names

export const attributeNames: Record<string, string> = {
  [OID.commonName]: 'CN',
  [OID.serialNumber]: 'serialNumber',
  [OID.countryName]: 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  [OID.organizationName]: 'O',
  [OID.organizationalUnitName]: 'OU',
  [OID.organizationIdentifier]: 'organizationIdentifier',
  [OID.userId]: 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '2.5.4.4': 'SN',
  '2.5.4.42': 'GN',
  '2.5.4.12': 'title',
  '2.5.4.15': 'businessCategory',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
}

/** Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue), flattened in order. */
export function readName (name: Asn1): Array<{ type: string, oid: string, value: string }> {
  const out: Array<{ type: string, oid: string, value: string }> = []
  for (const rdn of children(name)) {
    for (const atv of children(expect(rdn, Tag.SET, 'RelativeDistinguishedName'))) {
      const [t, v] = children(expect(atv, Tag.SEQUENCE, 'AttributeTypeAndValue'))
      if (t === undefined || v === undefined) throw new Asn1Error('bad AttributeTypeAndValue')
      const id = readOid(t)
      let value: string
      try {
        value = readString(v)
      } catch {
        value = '#' + toDer(v).toString('hex') // RFC 4514 §2.4 form for non-string values
      }
      out.push({ type: attributeNames[id] ?? id, oid: id, value })
    }
  }
  return out
}

function requestedDnsNames (attributes: Asn1): string[] {
  const names: string[] = []
  for (const attr of children(attributes)) {
    const [t, values] = children(expect(attr, Tag.SEQUENCE, 'Attribute'))
    if (t === undefined || values === undefined || readOid(t) !== OID.extensionRequest) continue
    for (const exts of children(expect(values, Tag.SET, 'Attribute values'))) {
      for (const ext of children(expect(exts, Tag.SEQUENCE, 'Extensions'))) {
        const fields = children(expect(ext, Tag.SEQUENCE, 'Extension'))
        const id = fields[0]
        const value = fields[fields.length - 1]
        if (id === undefined || value === undefined || readOid(id) !== OID.subjectAltName) continue
        // extnValue holds the DER of GeneralNames, which the outer re-encoding does not look into
        const generalNames = strictDer(content(expect(value, Tag.OCTET_STRING, 'extnValue')))
        for (const gn of children(expect(generalNames, Tag.SEQUENCE, 'GeneralNames'))) {
          if (tagOf(gn) === 0x82) names.push(gn.value as string) // dNSName [2] IA5String
        }
      }
    }
  }
  return names
}
