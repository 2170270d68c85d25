// Key generation, signing and public-key import, all through node:crypto (native, handles EC keys).
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { nullValue, oid, seq, toDer, type Asn1 } from './der.js'
import { OID } from './oids.js'

export type KeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096'
export const keyTypes: readonly KeyType[] = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096']

export function generateKeyPair (type: KeyType): { privateKey: KeyObject, publicKey: KeyObject } {
  switch (type) {
    case 'ec-p256': return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    case 'ec-p384': return generateKeyPairSync('ec', { namedCurve: 'P-384' })
    case 'rsa-2048': return generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 })
    case 'rsa-3072': return generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 65537 })
    case 'rsa-4096': return generateKeyPairSync('rsa', { modulusLength: 4096, publicExponent: 65537 })
    default: throw new RangeError(`unsupported key type ${String(type)}`)
  }
}

/** Describes an EC (P-256/P-384) or RSA key; anything else is refused. Works on private and public keys. */
export function describeKey (key: KeyObject): { type: 'rsa', bits: number } | { type: 'ec', curve: 'P-256' | 'P-384' } {
  const d = key.asymmetricKeyDetails ?? {}
  if (key.asymmetricKeyType === 'rsa' && d.modulusLength !== undefined) return { type: 'rsa', bits: d.modulusLength }
  if (key.asymmetricKeyType === 'ec') {
    if (d.namedCurve === 'prime256v1' || d.namedCurve === 'P-256') return { type: 'ec', curve: 'P-256' }
    if (d.namedCurve === 'secp384r1' || d.namedCurve === 'P-384') return { type: 'ec', curve: 'P-384' }
    throw new RangeError(`unsupported curve ${d.namedCurve ?? '?'}`)
  }
  throw new RangeError(`unsupported key type ${key.asymmetricKeyType ?? key.type}`)
}

/** The KeyType of a key, if it is one of ours. */
export function keyTypeOf (key: KeyObject): KeyType {
  const k = describeKey(key)
  if (k.type === 'ec') return k.curve === 'P-256' ? 'ec-p256' : 'ec-p384'
  const t = `rsa-${k.bits}`
  if (!(keyTypes as readonly string[]).includes(t)) throw new RangeError(`unsupported RSA size ${k.bits}`)
  return t as KeyType
}

export interface SignatureAlgorithm {
  name: 'ecdsa-with-SHA256' | 'ecdsa-with-SHA384' | 'sha256WithRSAEncryption'
  oid: string
  hash: 'sha256' | 'sha384'
  /** The DER AlgorithmIdentifier for the signature field of certificates, CRLs and OCSP responses. */
  algorithmIdentifier: Buffer
  /** The same, as a node for the structures that carry it. */
  algorithmIdentifierAsn1: Asn1
  /** The X.509 signature value over `data` (ECDSA as a DER Ecdsa-Sig-Value, RFC 5480 §2.2 / RFC 3279 §2.2.3). */
  sign: (data: Buffer) => Buffer
}

/**
 * The algorithm an issuing key signs with. ECDSA hashes match the curve strength (RFC 5480 §4); the
 * ecdsa-with-SHA* AlgorithmIdentifiers carry no parameters (RFC 5758 §3.2); sha256WithRSAEncryption carries
 * NULL (RFC 4055 §5).
 */
export function signatureAlgorithm (key: KeyObject): SignatureAlgorithm {
  if (key.type !== 'private') throw new TypeError('a private key is required to sign')
  const k = describeKey(key)
  const [name, hash, algorithmIdentifierAsn1] =
    k.type === 'rsa'
      ? ['sha256WithRSAEncryption', 'sha256', seq(oid(OID.sha256WithRSAEncryption), nullValue())] as const
      : k.curve === 'P-256'
        ? ['ecdsa-with-SHA256', 'sha256', seq(oid(OID['ecdsa-with-SHA256']))] as const
        : ['ecdsa-with-SHA384', 'sha384', seq(oid(OID['ecdsa-with-SHA384']))] as const
  return {
    name,
    oid: OID[name],
    hash,
    algorithmIdentifier: toDer(algorithmIdentifierAsn1),
    algorithmIdentifierAsn1,
    sign: (data: Buffer): Buffer => sign(hash, data, key),
  }
}

/** The public half of a key (itself if already public). */
export function publicKeyOf (key: KeyObject): KeyObject {
  return key.type === 'public' ? key : createPublicKey(key)
}

/** SubjectPublicKeyInfo DER of a (public or private) key. */
export function spkiOf (key: KeyObject): Buffer {
  return publicKeyOf(key).export({ type: 'spki', format: 'der' })
}

/**
 * Imports a public key already classified from its SubjectPublicKeyInfo. OpenSSL 3's generic SPKI decoder costs
 * ~100 µs a key, which dominates CSR handling; RSA keys go in as PKCS #1 (the subjectPublicKey of an
 * rsaEncryption SPKI is the RSAPublicKey, RFC 8017 §A.1.1) at ~3 µs, and uncompressed P-256 points as a JWK
 * (also point-validated) at about half the SPKI cost. P-384 imports faster through SPKI, so it stays there.
 */
export function importPublicKey (spki: Buffer, k: { type: 'rsa', rsaPublicKey: Buffer } | { type: 'ec', curve: 'P-256' | 'P-384', point: Buffer }): KeyObject {
  if (k.type === 'rsa') return createPublicKey({ key: k.rsaPublicKey, format: 'der', type: 'pkcs1' })
  if (k.curve === 'P-256' && k.point.length === 65 && k.point[0] === 0x04) {
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: k.point.subarray(1, 33).toString('base64url'),
        y: k.point.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    })
  }
  return createPublicKey({ key: spki, format: 'der', type: 'spki' })
}
