// A signing CA (or OCSP responder) with everything that does not change between signatures computed once:
// its Name DER, key identifiers, signature AlgorithmIdentifier and the AKI extension it stamps on what it signs.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import { bitString, boolean, implicit, octetString, oid, seq, toDer, type Asn1 } from './der.js'
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
  readonly nameAsn1: Asn1
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
  /** The complete authorityKeyIdentifier Extension (RFC 5280 §4.2.1.1). */
  readonly authorityKeyIdentifier: Asn1
  /** Per-issuer cache of what is built from constant inputs (CRL DP and AIA extensions, OCSP issuer hashes). */
  readonly templates: Map<string, unknown>
}

const TRUE = boolean(true)

/**
 * Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 §4.1):
 * the value is encoded into the OCTET STRING here, once.
 */
export function extension (id: string, critical: boolean, value: Asn1): Asn1 {
  return critical
    ? seq(oid(id), TRUE, octetString(toDer(value)))
    : seq(oid(id), octetString(toDer(value)))
}

/**
 * SEQUENCE { tbs, signatureAlgorithm, signatureValue BIT STRING, ...after }: the signed shape of certificates,
 * CRLs and BasicOCSPResponses (whose certs follow). forge's encoding is deterministic, so `tbs` encodes to the
 * same bytes that were signed.
 */
export function signed (tbs: Asn1, algorithm: SignatureAlgorithm, ...after: Asn1[]): Buffer {
  const signature = algorithm.sign(toDer(tbs))
  return toDer(seq(tbs, algorithm.algorithmIdentifierAsn1, bitString(signature), ...after))
}

export const sha1 = (b: Buffer): Buffer => createHash('sha1').update(b).digest()

export function createIssuer (certificateDer: Buffer, privateKey: KeyObject): PreparedIssuer {
  const certificate = Buffer.from(certificateDer)
  const c = readCertificate(certificate)
  const spki = c.subjectPublicKeyInfo
  const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' })
  if (!publicKey.equals(createPublicKey(privateKey))) throw new Error('the private key does not belong to the issuer certificate')
  const subjectPublicKey = c.subjectPublicKey
  const ski = c.extensions.get(OID.subjectKeyIdentifier)
  const keyIdentifier = ski !== undefined ? Buffer.from(readKeyIdentifier(ski.value)) : sha1(subjectPublicKey)
  return {
    certificate,
    privateKey,
    name: c.subjectDer,
    nameAsn1: c.subject,
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

/** Memoises what is built from constant inputs on the issuer (bounded: the inputs are configuration, not requests). */
export function template<T> (issuer: PreparedIssuer, key: string, build: () => T): T {
  let t = issuer.templates.get(key) as T | undefined
  if (t === undefined) {
    t = build()
    if (issuer.templates.size < 64) issuer.templates.set(key, t)
  }
  return t
}
