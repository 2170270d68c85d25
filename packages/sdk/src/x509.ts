import { createHash, X509Certificate } from 'node:crypto';
import { CertificateVerificationError } from './errors.js';
import { child, contextTag, decodeOid, decodeTime, parseDer, TAG, type DerNode } from './der.js';

/**
 * The parts of an X.509 certificate (RFC 5280 §4.1) that node:crypto's X509Certificate does not expose as bytes:
 * the raw issuer and subject names and the public key bits (OCSP CertID, RFC 6960 §4.1.1), the serial's exact
 * encoding, and extensions (AIA, EKU, key usage).
 */
export interface CertificateFields {
  der: Buffer;
  /** Contents octets of the serialNumber INTEGER, as encoded (sign byte included). */
  serial: Buffer;
  issuerDer: Buffer;
  subjectDer: Buffer;
  /** The subjectPublicKey BIT STRING value without its unused-bits octet. */
  publicKeyBits: Buffer;
  notBefore: Date;
  notAfter: Date;
  extensions: Map<string, { critical: boolean; value: Buffer }>;
}

export const OID = {
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocspAccessMethod: '1.3.6.1.5.5.7.48.1',
  extKeyUsage: '2.5.29.37',
  keyUsage: '2.5.29.15',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle, in order, as DER. */
export function pemCertificates(pem: string): Buffer[] {
  return [...pem.matchAll(PEM_CERTIFICATE)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

/** Accepts a PEM string (first certificate), DER bytes or an X509Certificate. */
export function toX509(cert: string | Buffer | X509Certificate): X509Certificate {
  if (cert instanceof X509Certificate) return cert;
  try {
    if (typeof cert === 'string') {
      const [der] = pemCertificates(cert);
      if (der === undefined) throw new Error('no PEM CERTIFICATE block');
      return new X509Certificate(der);
    }
    return new X509Certificate(cert);
  } catch (cause) {
    throw new CertificateVerificationError('ERR_CERT_MALFORMED', `not an X.509 certificate: ${(cause as Error).message}`, { cause });
  }
}

/**
 * The RFC 8705 §3.1 certificate thumbprint: base64url(SHA-256(DER)), the `x5t#S256` of a certificate-bound token's
 * `cnf` claim and of a JWK (RFC 7517 §4.9).
 */
export function x5tS256(cert: string | Buffer | X509Certificate): string {
  return createHash('sha256').update(toX509(cert).raw).digest('base64url');
}

export function parseCertificateFields(der: Buffer): CertificateFields {
  try {
    const certificate = parseDer(der);
    const tbs = child(certificate, 0, TAG.SEQUENCE, 'tbsCertificate');
    let i = tbs.children[0]?.tag === contextTag(0, true) ? 1 : 0;
    const serial = child(tbs, i, TAG.INTEGER, 'serialNumber');
    i += 2; // serialNumber, signature
    const issuer = child(tbs, i, TAG.SEQUENCE, 'issuer');
    const validity = child(tbs, i + 1, TAG.SEQUENCE, 'validity');
    const subject = child(tbs, i + 2, TAG.SEQUENCE, 'subject');
    const spki = child(tbs, i + 3, TAG.SEQUENCE, 'subjectPublicKeyInfo');
    const keyBits = child(spki, 1, TAG.BIT_STRING, 'subjectPublicKey');
    const extensions = new Map<string, { critical: boolean; value: Buffer }>();
    const extsWrapper = tbs.children.find((c) => c.tag === contextTag(3, true));
    for (const ext of extsWrapper?.children[0]?.children ?? []) {
      const id = decodeOid(ext.children[0]!);
      const critical = ext.children.length === 3 && ext.children[1]!.tag === TAG.BOOLEAN && ext.children[1]!.value[0] !== 0;
      const value = ext.children[ext.children.length - 1]!;
      if (value.tag !== TAG.OCTET_STRING) throw new Error(`extension ${id}: extnValue is not an OCTET STRING`);
      extensions.set(id, { critical, value: value.value });
    }
    return {
      der,
      serial: serial.value,
      issuerDer: issuer.raw,
      subjectDer: subject.raw,
      publicKeyBits: keyBits.value.subarray(1),
      notBefore: decodeTime(validity.children[0]!),
      notAfter: decodeTime(validity.children[1]!),
      extensions,
    };
  } catch (cause) {
    throw new CertificateVerificationError('ERR_CERT_MALFORMED', `certificate could not be decoded: ${(cause as Error).message}`, { cause });
  }
}

/** OCSP responder URLs from the Authority Information Access extension (RFC 5280 §4.2.2.1). */
export function ocspUrls(fields: CertificateFields): string[] {
  const aia = fields.extensions.get(OID.authorityInfoAccess);
  if (aia === undefined) return [];
  const urls: string[] = [];
  for (const description of parseDer(aia.value).children) {
    const [method, location] = description.children as [DerNode, DerNode];
    // accessLocation is a GeneralName; uniformResourceIdentifier is [6] IMPLICIT IA5String.
    if (decodeOid(method) === OID.ocspAccessMethod && location.tag === contextTag(6, false)) {
      urls.push(location.value.toString('latin1'));
    }
  }
  return urls;
}

/** Extended key usage OIDs (RFC 5280 §4.2.1.12), or undefined when the extension is absent (any purpose). */
export function extendedKeyUsage(fields: CertificateFields): string[] | undefined {
  const eku = fields.extensions.get(OID.extKeyUsage);
  return eku === undefined ? undefined : parseDer(eku.value).children.map(decodeOid);
}

/** Whether the key usage extension (RFC 5280 §4.2.1.3), when present, asserts the given bit. */
export function keyUsageAllows(fields: CertificateFields, bit: number): boolean {
  const ku = fields.extensions.get(OID.keyUsage);
  if (ku === undefined) return true;
  const bits = parseDer(ku.value).value.subarray(1);
  const byte = bits[Math.floor(bit / 8)] ?? 0;
  return (byte & (0x80 >> (bit % 8))) !== 0;
}

export const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5 } as const;
