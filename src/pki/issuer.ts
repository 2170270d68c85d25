// A signing CA (or OCSP responder) with everything that does not change between signatures computed once:
// its Name DER, key identifiers, signature AlgorithmIdentifier and the AKI extension it stamps on what it signs.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import { implicit, octetString, oid, seq } from './asn1.js'
import { signatureAlgorithm, type SignatureAlgorithm } from './keys.js'
import { OID } from './oids.js'
import { readCertificate, readKeyIdentifier } from './x509.js'

export interface Issuer {
  /** The issuer's certificate, DER. */
  readonly certificate: Buffer
  readonly privateKey: KeyObject
}

export interface PreparedIssuer extends Issuer {
  /** The issuer's subject Name DER: the issuer field of everything it signs (RFC 5280 §4.1.2.4). */
  readonly name: Buffer
  readonly spki: Buffer
  readonly publicKey: KeyObject
  /** subjectPublicKey BIT STRING contents. */
  readonly subjectPublicKey: Buffer
  /** The issuer certificate's SKI (computed by RFC 5280 §4.2.1.2 method 1 if it has none): our AKI keyIdentifier. */
  readonly keyIdentifier: Buffer
  /** SHA-1 of subjectPublicKey: OCSP ResponderID byKey (RFC 6960 §4.2.1). */
  readonly keyHash: Buffer
  readonly notBefore: Date
  readonly notAfter: Date
  readonly algorithm: SignatureAlgorithm
  /** The complete authorityKeyIdentifier Extension DER (RFC 5280 §4.2.1.1). */
  readonly authorityKeyIdentifier: Buffer
  /** Per-issuer cache of extension DER built from constant inputs (CRL DP, AIA URLs). */
  readonly templates: Map<string, Buffer>
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 §4.1) */
export function extension (id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? seq(oid(id), Buffer.from([0x01, 0x01, 0xff]), octetString(value))
    : seq(oid(id), octetString(value))
}

export const sha1 = (b: Buffer): Buffer => createHash('sha1').update(b).digest()

export function createIssuer (certificateDer: Buffer, privateKey: KeyObject): PreparedIssuer {
  const certificate = Buffer.from(certificateDer)
  const c = readCertificate(certificate)
  const spki = Buffer.from(c.subjectPublicKeyInfo.raw)
  const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' })
  if (!publicKey.equals(createPublicKey(privateKey))) throw new Error('the private key does not belong to the issuer certificate')
  const subjectPublicKey = Buffer.from(c.subjectPublicKey)
  const ski = c.extensions.get(OID.subjectKeyIdentifier)
  const keyIdentifier = ski !== undefined ? Buffer.from(readKeyIdentifier(ski.value)) : sha1(subjectPublicKey)
  return {
    certificate,
    privateKey,
    name: Buffer.from(c.subject.raw),
    spki,
    publicKey,
    subjectPublicKey,
    keyIdentifier,
    keyHash: sha1(subjectPublicKey),
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    algorithm: signatureAlgorithm(privateKey),
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT KeyIdentifier OPTIONAL, ... }
    authorityKeyIdentifier: extension(OID.authorityKeyIdentifier, false, seq(implicit(0, keyIdentifier))),
    templates: new Map(),
  }
}

const prepared = new WeakMap<Issuer, PreparedIssuer>()

/** The prepared form of an issuer: itself if made by createIssuer, else prepared once and cached. */
export function prepareIssuer (issuer: Issuer): PreparedIssuer {
  if ('authorityKeyIdentifier' in issuer && 'templates' in issuer) return issuer as PreparedIssuer
  let p = prepared.get(issuer)
  if (p === undefined) {
    p = createIssuer(issuer.certificate, issuer.privateKey)
    prepared.set(issuer, p)
  }
  return p
}

/** Memoises constant extension DER on the issuer (bounded: the inputs are configuration, not requests). */
export function template (issuer: PreparedIssuer, key: string, build: () => Buffer): Buffer {
  let t = issuer.templates.get(key)
  if (t === undefined) {
    t = build()
    if (issuer.templates.size < 64) issuer.templates.set(key, t)
  }
  return t
}
