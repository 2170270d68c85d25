// X.509 v3 certificates (RFC 5280 §4) for the ecosystem's profiles, built with node-forge's ASN.1 nodes and signed
// with node:crypto.
import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto'
import { isIPv4, isIPv6 } from 'node:net'
import {
  Asn1Error, Tag, bitString, boolean, children, content, expect, explicit, fromDer, implicit, integer, nullValue, octetString,
  oid, printable, readOid, readString, seq, set, smallInt, time, toDer, utf8, type Asn1,
} from './der.js'
import { extension, prepareIssuer, sha1, signed, template, type Issuer, type PreparedIssuer } from './issuer.js'
import { signatureAlgorithm, type SignatureAlgorithm } from './keys.js'
import { OID } from './oids.js'
import { readCertificate } from './x509.js'

export { createIssuer, prepareIssuer, type Issuer, type PreparedIssuer } from './issuer.js'

export type Profile = 'root-ca' | 'issuing-ca' | 'transport' | 'signing' | 'tls-server' | 'ocsp-signing'
export const profiles: readonly Profile[] = ['root-ca', 'issuing-ca', 'transport', 'signing', 'tls-server', 'ocsp-signing']

export interface NameAttribute {
  type: 'C' | 'O' | 'OU' | 'CN' | 'organizationIdentifier' | 'UID' | 'serialNumber' | 'businessCategory' | 'jurisdictionCountryName'
  value: string
}

const attributeOids: Record<NameAttribute['type'], string> = {
  C: OID.countryName,
  O: OID.organizationName,
  OU: OID.organizationalUnitName,
  CN: OID.commonName,
  organizationIdentifier: OID.organizationIdentifier,
  UID: OID.userId,
  serialNumber: OID.serialNumber,
  businessCategory: OID.businessCategory,
  jurisdictionCountryName: OID.jurisdictionCountryName,
}
const attributeTypes = new Map(Object.entries(attributeOids).map(([k, v]) => [v, k as NameAttribute['type']]))

export interface CertificateTemplate {
  /** Positive INTEGER content: minimal, high bit clear, at most 20 octets (RFC 5280 §4.1.2.2). See newSerial. */
  serial: Buffer
  subject: NameAttribute[]
  /** SubjectPublicKeyInfo DER. */
  publicKey: Buffer
  notBefore: Date
  notAfter: Date
  profile: Profile
  dnsNames?: string[]
  ipAddresses?: string[]
  /** transport only: add the serverAuth EKU (requires dnsNames). */
  serverAuth?: boolean
  crlUrl?: string
  ocspUrl?: string
  caIssuersUrl?: string
  /** CA profiles only; issuing-ca defaults to 0. */
  pathLen?: number
  /**
   * Re-issuing a CA certificate for the same key: the exact subject Name DER and SKI of the certificate it replaces,
   * so that certificates already issued under it (issuer Name, AKI) chain to the new one (RFC 5280 §4.1.2.4, §4.2.1.1).
   */
  subjectDer?: Buffer
  subjectKeyIdentifier?: Buffer
}

/**
 * 16 random octets as positive INTEGER content (RFC 5280 §4.1.2.2): the high bit is clear so no 0x00 pad is
 * needed, and the first octet is at least 0x10 so the hex form has no leading zero whichever way a caller
 * normalises it (about 126.8 bits of entropy).
 */
export function newSerial (): Buffer {
  for (;;) {
    const b = randomBytes(16)
    b[0] = b[0]! & 0x7f
    if (b[0] >= 0x10) return b
  }
}

/** base64url SHA-256 of the DER: the x5t#S256 / cnf thumbprint (RFC 8705 §3.1). */
export function x5tS256 (der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url')
}

// ---------------------------------------------------------------- names

const printableRe = /^[A-Za-z0-9 '()+,\-./:=?]+$/

/**
 * Name (RFC 5280 §4.1.2.4), one attribute per RDN, in the given order. countryName and serialNumber are
 * PrintableString as X.520 defines them; every other attribute is UTF8String (RFC 5280 §4.1.2.6).
 */
export function encodeName (attrs: NameAttribute[]): Asn1 {
  return seq(...attrs.map((a) => {
    const id = attributeOids[a.type]
    if (id === undefined) throw new RangeError(`unsupported name attribute ${String(a.type)}`)
    if (typeof a.value !== 'string' || a.value.length === 0) throw new RangeError(`empty ${a.type}`)
    let value: Asn1
    if (a.type === 'C' || a.type === 'jurisdictionCountryName') {
      if (!/^[A-Z]{2}$/.test(a.value)) throw new RangeError(`C must be an ISO 3166 two-letter code, got ${a.value}`)
      value = printable(a.value)
    } else if (a.type === 'serialNumber') {
      if (!printableRe.test(a.value)) throw new RangeError('serialNumber must be PrintableString characters')
      value = printable(a.value)
    } else {
      value = utf8(a.value)
    }
    return set(seq(oid(id), value))
  }))
}

/** The attributes of a Name that are NameAttribute types, in order; other types are left out. */
export function decodeName (name: Asn1): NameAttribute[] {
  const out: NameAttribute[] = []
  for (const rdn of children(name)) {
    for (const atv of children(rdn)) {
      const [t, v] = children(atv)
      if (t === undefined || v === undefined) throw new Asn1Error('bad AttributeTypeAndValue')
      const type = attributeTypes.get(readOid(t))
      if (type !== undefined) out.push({ type, value: readString(v) })
    }
  }
  return out
}

// ---------------------------------------------------------------- extensions

/** KeyUsage BIT STRING (RFC 5280 §4.2.1.3), DER: trailing zero bits dropped and counted as unused (X.690 §11.2.2). */
function keyUsage (bits: number[]): Asn1 {
  let v = 0
  for (const b of bits) v |= 0x8000 >> b
  const bytes = v & 0xff ? Buffer.from([v >> 8, v & 0xff]) : Buffer.from([v >> 8])
  const last = bytes[bytes.length - 1]!
  let unused = 0
  while (unused < 8 && ((last >> unused) & 1) === 0) unused++
  return extension(OID.keyUsage, true, bitString(bytes, unused))
}
const KU = { digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const
const kuCa = keyUsage([KU.keyCertSign, KU.cRLSign])
const kuSign = keyUsage([KU.digitalSignature])
const kuSignNonRepudiation = keyUsage([KU.digitalSignature, KU.nonRepudiation])
const kuSignKeyEncipherment = keyUsage([KU.digitalSignature, KU.keyEncipherment])

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL } (§4.2.1.9) */
function basicConstraints (ca: boolean, pathLen?: number): Asn1 {
  return extension(OID.basicConstraints, true,
    ca ? seq(boolean(true), ...(pathLen === undefined ? [] : [smallInt(pathLen)])) : seq())
}
const notCa = basicConstraints(false)

const ekuExt = (...ids: string[]): Asn1 => extension(OID.extKeyUsage, false, seq(...ids.map((i) => oid(i))))

const ekuClient = ekuExt(OID['id-kp-clientAuth'])
const ekuClientServer = ekuExt(OID['id-kp-clientAuth'], OID['id-kp-serverAuth'])
const ekuServer = ekuExt(OID['id-kp-serverAuth'])
const ekuOcsp = ekuExt(OID['id-kp-OCSPSigning'])
/** Signing certificates must never pass as TLS certificates: id-kp-documentSigning only (RFC 9336 §3). */
const ekuDocumentSigning = ekuExt(OID['id-kp-documentSigning'])
/** id-pkix-ocsp-nocheck: the responder certificate is not itself checked for revocation (RFC 6960 §4.2.2.2.1). */
const ocspNocheck = extension(OID['id-pkix-ocsp-nocheck'], false, nullValue())

const dnsNameRe = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i

/** SubjectAltName with dNSName [2] and iPAddress [7] entries (RFC 5280 §4.2.1.6). */
function subjectAltName (dnsNames: string[], ips: string[], critical: boolean): Asn1 {
  const names: Asn1[] = []
  for (const d of dnsNames) {
    if (d.length > 253 || !dnsNameRe.test(d)) throw new RangeError(`not a DNS name: ${d}`)
    names.push(implicit(2, d)) // dNSName [2] IA5String; the pattern keeps it ASCII
  }
  for (const ip of ips) names.push(implicit(7, ipBytes(ip)))
  return extension(OID.subjectAltName, critical, seq(...names))
}

export function ipBytes (ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number))
  if (!isIPv6(ip) || ip.includes('%')) throw new RangeError(`not an IP address: ${ip}`)
  let s = ip
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  if (v4 !== null) {
    const o = v4[2]!.split('.').map(Number)
    s = v4[1]! + ((o[0]! << 8) | o[1]!).toString(16) + ':' + ((o[2]! << 8) | o[3]!).toString(16)
  }
  const [head, tail] = s.split('::') as [string, string | undefined]
  const h = head === '' ? [] : head.split(':')
  const tl = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - tl.length).fill('0'), ...tl]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

const uri = (u: string): Asn1 => {
  if (!/^[\x21-\x7e]+$/.test(u) || !/^[a-z][a-z0-9+.-]*:/i.test(u)) throw new RangeError(`not a URI: ${u}`)
  return implicit(6, u) // uniformResourceIdentifier [6] IA5String
}

/** CRLDistributionPoints with one fullName URI (RFC 5280 §4.2.1.13). */
function crlDistributionPoints (url: string): Asn1 {
  // DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName } ; fullName [0] GeneralNames
  return extension(OID.cRLDistributionPoints, false, seq(seq(explicit(0, explicit(0, uri(url))))))
}

/** AuthorityInfoAccess (RFC 5280 §4.2.2.1): id-ad-ocsp and id-ad-caIssuers. */
function authorityInfoAccess (ocspUrl?: string, caIssuersUrl?: string): Asn1 {
  const ads: Asn1[] = []
  if (ocspUrl !== undefined) ads.push(seq(oid(OID['id-ad-ocsp']), uri(ocspUrl)))
  if (caIssuersUrl !== undefined) ads.push(seq(oid(OID['id-ad-caIssuers']), uri(caIssuersUrl)))
  return extension(OID.authorityInfoAccess, false, seq(...ads))
}

// ---------------------------------------------------------------- issuance

interface SubjectKey { spki: Asn1, isRsa: boolean, keyIdentifier: Buffer }

function readSpki (spki: Buffer): SubjectKey {
  let node: Asn1
  let isRsa: boolean
  let pub: Buffer
  try {
    node = expect(fromDer(spki), Tag.SEQUENCE, 'SubjectPublicKeyInfo')
    const [alg, bits] = children(node)
    const [algOid] = children(expect(alg, Tag.SEQUENCE, 'algorithm'))
    isRsa = readOid(expect(algOid, Tag.OID, 'algorithm')) === OID.rsaEncryption
    pub = content(expect(bits, Tag.BIT_STRING, 'subjectPublicKey')).subarray(1)
  } catch (e) {
    if (e instanceof Asn1Error) throw new RangeError(`publicKey is not a SubjectPublicKeyInfo (${e.message})`)
    throw e
  }
  // SKI method 1: SHA-1 of the subjectPublicKey BIT STRING value (RFC 5280 §4.2.1.2)
  return { spki: node, isRsa, keyIdentifier: sha1(pub) }
}

/**
 * Issues a certificate (DER) for `t` under `issuer`, or a self-signed one for the root (`{ selfSigned: key }`).
 * Callers choose the subject; nothing from a CSR is copied except the public key.
 */
export function issueCertificate (t: CertificateTemplate, issuer: Issuer | { selfSigned: KeyObject }): Buffer {
  if (!(t.notBefore < t.notAfter)) throw new RangeError('notBefore must be before notAfter')
  const serial = t.serial
  if (!Buffer.isBuffer(serial) || serial.length === 0 || serial.length > 20 || (serial[0]! & 0x80) !== 0 ||
    (serial.length > 1 && serial[0] === 0 && (serial[1]! & 0x80) === 0) || serial.every((b) => b === 0)) {
    throw new RangeError('serial must be positive, minimal INTEGER content of at most 20 octets')
  }
  const key = readSpki(t.publicKey)
  if (t.subjectKeyIdentifier !== undefined) key.keyIdentifier = t.subjectKeyIdentifier
  const subject = t.subjectDer !== undefined ? fromDer(t.subjectDer) : encodeName(t.subject)

  let issuerName: Asn1
  let algorithm: SignatureAlgorithm
  let prepared: PreparedIssuer | undefined
  if ('selfSigned' in issuer) {
    if (t.profile !== 'root-ca') throw new RangeError('only root-ca certificates are self-signed')
    if (!createPublicKey({ key: t.publicKey, format: 'der', type: 'spki' }).equals(createPublicKey(issuer.selfSigned))) {
      throw new RangeError('a self-signed certificate must certify the signing key')
    }
    issuerName = subject
    algorithm = signatureAlgorithm(issuer.selfSigned)
  } else {
    if (t.profile === 'root-ca') throw new RangeError('root-ca certificates are self-signed')
    prepared = prepareIssuer(issuer)
    issuerName = prepared.nameAsn1
    algorithm = prepared.algorithm
  }

  const exts = profileExtensions(t, key, children(subject).length === 0)
  if (prepared !== undefined) {
    exts.push(prepared.authorityKeyIdentifier)
    if (t.crlUrl !== undefined) exts.push(template(prepared, 'crl\n' + t.crlUrl, () => crlDistributionPoints(t.crlUrl!)))
    if (t.ocspUrl !== undefined || t.caIssuersUrl !== undefined) {
      exts.push(template(prepared, `aia\n${t.ocspUrl ?? ''}\n${t.caIssuersUrl ?? ''}`, () => authorityInfoAccess(t.ocspUrl, t.caIssuersUrl)))
    }
  }

  // TBSCertificate (RFC 5280 §4.1): v3, serial, signature, issuer, validity, subject, spki, [3] extensions
  const tbs = seq(
    v3,
    integer(serial),
    algorithm.algorithmIdentifierAsn1,
    issuerName,
    seq(time(t.notBefore), time(t.notAfter)),
    subject,
    key.spki,
    explicit(3, seq(...exts)),
  )
  return signed(tbs, algorithm)
}


const v3 = explicit(0, smallInt(2))

function profileExtensions (t: CertificateTemplate, key: SubjectKey, emptySubject: boolean): Asn1[] {
  const dns = t.dnsNames ?? []
  const ips = t.ipAddresses ?? []
  const ski = extension(OID.subjectKeyIdentifier, false, octetString(key.keyIdentifier))
  const isCa = t.profile === 'root-ca' || t.profile === 'issuing-ca'
  if (isCa && (dns.length > 0 || ips.length > 0)) throw new RangeError('CA certificates carry no subjectAltName')
  if (!isCa && t.pathLen !== undefined) throw new RangeError('pathLen applies to CA certificates only')
  if (t.serverAuth === true && t.profile !== 'transport') throw new RangeError('serverAuth is a transport option')
  if (t.pathLen !== undefined && (!Number.isInteger(t.pathLen) || t.pathLen < 0)) throw new RangeError('pathLen must be a non-negative integer')
  // An empty subject requires a critical subjectAltName (RFC 5280 §4.2.1.6).
  const san = dns.length > 0 || ips.length > 0 ? [subjectAltName(dns, ips, emptySubject)] : []
  if (!isCa && san.length === 0 && emptySubject) throw new RangeError('a certificate with an empty subject needs a subjectAltName')

  switch (t.profile) {
    case 'root-ca':
      return [basicConstraints(true, t.pathLen), kuCa, ski]
    case 'issuing-ca':
      return [basicConstraints(true, t.pathLen ?? 0), kuCa, ski]
    case 'transport':
      if (t.serverAuth === true && dns.length === 0) throw new RangeError('serverAuth needs dnsNames')
      return [notCa, kuSign, t.serverAuth === true ? ekuClientServer : ekuClient, ...san, ski]
    case 'signing':
      return [notCa, kuSignNonRepudiation, ekuDocumentSigning, ...san, ski]
    case 'tls-server':
      if (san.length === 0) throw new RangeError('tls-server certificates need dnsNames or ipAddresses')
      // keyEncipherment only where RSA key transport is possible (RFC 5280 §4.2.1.3; TLS 1.2 RSA kx)
      return [notCa, key.isRsa ? kuSignKeyEncipherment : kuSign, ekuServer, ...san, ski]
    case 'ocsp-signing':
      return [notCa, kuSign, ekuOcsp, ...san, ski, ocspNocheck]
    default:
      throw new RangeError(`unknown profile ${String(t.profile)}`)
  }
}

// ---------------------------------------------------------------- reading

export interface CertificateDescription {
  /** Lowercase hex of the serialNumber INTEGER content octets (as DER has them). */
  serialHex: string
  notBefore: Date
  notAfter: Date
  /** The NameAttribute-typed attributes of the subject, in order (see subjectDer for the full Name). */
  subject: NameAttribute[]
  subjectDer: Buffer
  issuerDer: Buffer
  spki: Buffer
  /** Imported on first access: an SPKI import costs ~100 µs, more than the rest of this function. */
  readonly publicKey: KeyObject
}

export function describeCertificate (der: Buffer): CertificateDescription {
  const c = readCertificate(der)
  // copies: the description must not change under the caller's buffer
  const spki = Buffer.from(c.subjectPublicKeyInfo)
  let publicKey: KeyObject | undefined
  return {
    serialHex: c.serial.toString('hex'),
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    subject: decodeName(c.subject),
    subjectDer: Buffer.from(c.subjectDer),
    issuerDer: Buffer.from(c.issuerDer),
    spki,
    get publicKey (): KeyObject {
      publicKey ??= createPublicKey({ key: spki, format: 'der', type: 'spki' })
      return publicKey
    },
  }
}
