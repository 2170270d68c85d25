import { createHash, X509Certificate } from 'node:crypto';
import { CertificateVerificationError } from './errors.js';
import type { OctetString } from '@peculiar/asn1-schema';
import { AuthorityInfoAccessSyntax, Certificate, ExtendedKeyUsage, KeyUsage } from '@peculiar/asn1-x509';
import { decodeDer, DerError, encodeDer } from './asn1.js';

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
    const certificate = decodeDer(der, Certificate, 'certificate');
    const tbs = certificate.tbsCertificate;
    const serial = Buffer.from(tbs.serialNumber);
    // RFC 5280 §4.1.2.2: a positive INTEGER of at most 20 octets.
    if (serial[0]! & 0x80 || serial.length > 21) throw new DerError('serialNumber is negative or longer than 20 octets');
    const extensions = new Map<string, { critical: boolean; value: Buffer }>();
    for (const extension of tbs.extensions ?? []) {
      if (extensions.has(extension.extnID)) throw new DerError(`extension ${extension.extnID} appears twice`); // §4.2
      extensions.set(extension.extnID, { critical: extension.critical, value: octets(extension.extnValue) });
    }
    return {
      der,
      serial,
      // Strict DER makes the re-encoding byte-identical to what the certificate carries (and what CertID hashes).
      issuerDer: encodeDer(tbs.issuer),
      subjectDer: encodeDer(tbs.subject),
      publicKeyBits: Buffer.from(tbs.subjectPublicKeyInfo.subjectPublicKey),
      notBefore: tbs.validity.notBefore.getTime(),
      notAfter: tbs.validity.notAfter.getTime(),
      extensions,
    };
  } catch (cause) {
    throw new CertificateVerificationError('ERR_CERT_MALFORMED', `certificate could not be decoded: ${(cause as Error).message}`, { cause });
  }
}

function octets(value: OctetString): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** OCSP responder URLs from the Authority Information Access extension (RFC 5280 §4.2.2.1). */
export function ocspUrls(fields: CertificateFields): string[] {
  const aia = fields.extensions.get(OID.authorityInfoAccess);
  if (aia === undefined) return [];
  return decodeDer(aia.value, AuthorityInfoAccessSyntax, 'authorityInfoAccess')
    .filter((d) => d.accessMethod === OID.ocspAccessMethod && d.accessLocation.uniformResourceIdentifier !== undefined)
    .map((d) => d.accessLocation.uniformResourceIdentifier!);
}

/** Extended key usage OIDs (RFC 5280 §4.2.1.12), or undefined when the extension is absent (any purpose). */
export function extendedKeyUsage(fields: CertificateFields): string[] | undefined {
  const eku = fields.extensions.get(OID.extKeyUsage);
  return eku === undefined ? undefined : [...decodeDer(eku.value, ExtendedKeyUsage, 'extKeyUsage')];
}

/** Whether the key usage extension (RFC 5280 §4.2.1.3), when present, asserts the given bit. */
export function keyUsageAllows(fields: CertificateFields, bit: number): boolean {
  const ku = fields.extensions.get(OID.keyUsage);
  if (ku === undefined) return true;
  const bits = new Uint8Array(decodeDer(ku.value, KeyUsage, 'keyUsage').value);
  const byte = bits[Math.floor(bit / 8)] ?? 0;
  return (byte & (0x80 >> (bit % 8))) !== 0;
}

export const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5 } as const;
