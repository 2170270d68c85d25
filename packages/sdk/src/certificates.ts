import { X509Certificate } from 'node:crypto';
import { CertificateVerificationError } from './errors.js';
import { fetchDocument, type FetchOptions } from './http.js';
import { buildOcspRequest, queryOcsp, verifyOcspResponse, type OcspResult } from './ocsp.js';
import {
  extendedKeyUsage, KEY_USAGE, keyUsageAllows, ocspUrls, OID, parseCertificateFields, pemCertificates, toX509, x5tS256,
  type CertificateFields,
} from './x509.js';

export { x5tS256 };

export interface VerifyClientCertificateOptions extends FetchOptions {
  /** The directory CA bundle (issuing CA then root, as `{issuer}/pki/ca.pem` serves it): the trust anchors. */
  caBundlePem?: string;
  /** Where to fetch the bundle when `caBundlePem` is not given (fetched on every call: pass the PEM on hot paths). */
  caBundleUrl?: string;
  /**
   * Ask the OCSP responder (RFC 6960) whether the certificate is revoked. Default true (fail closed); only `false`
   * skips it, e.g. where the caller has a fresher source of revocation.
   */
  checkOcsp?: boolean;
  /** Responder URL to use instead of the certificate's AIA OCSP URL. */
  ocspUrl?: string;
  /** Verification time (jose's `currentDate`). Default: now. */
  currentDate?: Date;
  /** Tolerated clock difference for the OCSP response's thisUpdate/nextUpdate, in seconds. Default 60. */
  clockTolerance?: number;
  /**
   * Throw ERR_CERT_REVOKED when the responder says "revoked". Default true (fail closed); with false the result
   * carries `status: 'revoked'` instead. An "unknown" answer is always returned, never thrown: the caller decides.
   */
  rejectRevoked?: boolean;
  /** Refuse OCSP responses that do not echo the nonce. Default true. */
  requireNonce?: boolean;
  /**
   * `clientAuth` (default) requires a leaf that is not a CA and whose extended key usage, when present, allows TLS
   * client authentication (RFC 5280 §4.2.1.12); `any` skips the purpose check (e.g. for signing certificates).
   */
  purpose?: 'clientAuth' | 'any';
}

/** What `verifyClientCertificate` established. */
export interface ClientCertificateVerification {
  /** The verified certificate. */
  certificate: X509Certificate;
  /** Leaf first, then each issuer up to a trust anchor of the bundle. */
  chain: X509Certificate[];
  /** RFC 8705 thumbprint, for comparing with a token's `cnf`. */
  x5tS256: string;
  /** Revocation status from OCSP, or `not_checked` with `checkOcsp: false`. */
  status: 'good' | 'revoked' | 'unknown' | 'not_checked';
  revokedAt?: Date;
  reason?: string;
  /** The full OCSP answer when one was obtained. */
  ocsp?: OcspResult;
}

function fields(cert: X509Certificate): CertificateFields {
  return parseCertificateFields(Buffer.from(cert.raw));
}

function describe(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ', ');
}

/** Parses a PEM bundle into certificates; throws ERR_CERT_MALFORMED when it holds none or a bad one. */
export function parseCaBundle(pem: string): X509Certificate[] {
  const ders = pemCertificates(pem);
  if (ders.length === 0) throw new CertificateVerificationError('ERR_CERT_MALFORMED', 'CA bundle holds no certificate');
  return ders.map((der) => toX509(der));
}

/**
 * RFC 5280 §6 path validation reduced to what an ecosystem with one CA hierarchy needs: from the leaf, follow issuers
 * found in `anchors` (name chaining and signature), each a CA allowed to sign certificates and within its validity,
 * until a self-issued certificate. The leaf's own validity is checked last so that a certificate from a foreign CA
 * reports ERR_CERT_CHAIN, whatever its dates. Synchronous: usable where a hook cannot await.
 *
 * @returns the chain, leaf first.
 * @throws {CertificateVerificationError} ERR_CERT_CHAIN, ERR_CERT_EXPIRED, ERR_CERT_NOT_YET_VALID, ERR_CERT_PURPOSE.
 */
export function verifyCertificateChain(
  cert: string | Buffer | X509Certificate,
  anchors: readonly X509Certificate[],
  options: { currentDate?: Date; purpose?: 'clientAuth' | 'any' } = {},
): X509Certificate[] {
  const now = options.currentDate ?? new Date();
  const leaf = toX509(cert);
  const chain = [leaf];
  let current = leaf;
  for (let depth = 0; ; depth += 1) {
    if (depth > 8) throw new CertificateVerificationError('ERR_CERT_CHAIN', 'certificate path too long');
    const issuer = anchors.find((candidate) => current.checkIssued(candidate) && current.verify(candidate.publicKey));
    if (issuer === undefined) {
      throw new CertificateVerificationError('ERR_CERT_CHAIN', `no CA in the bundle issued "${describe(current)}" (issuer "${current.issuer.replace(/\n/g, ', ')}")`);
    }
    const issuerFields = fields(issuer);
    if (!issuer.ca || !keyUsageAllows(issuerFields, KEY_USAGE.keyCertSign)) {
      throw new CertificateVerificationError('ERR_CERT_CHAIN', `"${describe(issuer)}" is not a CA allowed to sign certificates`);
    }
    if (issuerFields.notAfter < now || issuerFields.notBefore > now) {
      throw new CertificateVerificationError('ERR_CERT_CHAIN', `CA certificate "${describe(issuer)}" is outside its validity period`);
    }
    if (issuer === current) break; // a self-issued anchor ends the path
    chain.push(issuer);
    if (issuer.checkIssued(issuer)) break;
    current = issuer;
  }

  const leafFields = fields(leaf);
  if (leafFields.notAfter < now) {
    throw new CertificateVerificationError('ERR_CERT_EXPIRED', `certificate expired at ${leafFields.notAfter.toISOString()}`);
  }
  if (leafFields.notBefore > now) {
    throw new CertificateVerificationError('ERR_CERT_NOT_YET_VALID', `certificate is not valid before ${leafFields.notBefore.toISOString()}`);
  }
  if ((options.purpose ?? 'clientAuth') === 'clientAuth') {
    if (leaf.ca) throw new CertificateVerificationError('ERR_CERT_PURPOSE', 'a CA certificate cannot be used as a client certificate');
    const eku = extendedKeyUsage(leafFields);
    if (eku !== undefined && !eku.includes(OID.clientAuth) && !eku.includes(OID.anyExtendedKeyUsage)) {
      throw new CertificateVerificationError('ERR_CERT_PURPOSE', 'certificate extended key usage does not allow TLS client authentication');
    }
  }
  return chain;
}

async function loadAnchors(options: VerifyClientCertificateOptions): Promise<X509Certificate[]> {
  if (options.caBundlePem !== undefined) return parseCaBundle(options.caBundlePem);
  if (options.caBundleUrl === undefined) {
    throw new TypeError('verifyClientCertificate needs caBundlePem or caBundleUrl');
  }
  let pem: string;
  try {
    const response = await fetchDocument(options.caBundleUrl, { ...options, headers: { accept: 'application/x-pem-file, text/plain, */*' } });
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    pem = response.body.toString('utf8');
  } catch (cause) {
    throw new CertificateVerificationError('ERR_CA_BUNDLE_FETCH', `CA bundle ${options.caBundleUrl} could not be loaded: ${(cause as Error).message}`, { cause });
  }
  return parseCaBundle(pem);
}

/**
 * Verifies a client certificate the way an authorisation server must before trusting it (DESIGN §1, RFC 8705 §2.1):
 * it chains to the directory CA bundle, is within its validity period, is fit for TLS client authentication, and —
 * unless `checkOcsp: false` — is not revoked according to the OCSP responder named in its AIA extension.
 *
 * Revocation: a "revoked" answer throws ERR_CERT_REVOKED (carrying `revokedAt` and `reason`) unless
 * `rejectRevoked: false`; an "unknown" answer is returned as `status: 'unknown'` and should be refused by callers.
 *
 * @throws {CertificateVerificationError}
 */
export async function verifyClientCertificate(
  certPem: string | Buffer | X509Certificate,
  options: VerifyClientCertificateOptions,
): Promise<ClientCertificateVerification> {
  const now = options.currentDate ?? new Date();
  const anchors = await loadAnchors(options);
  const certificate = toX509(certPem);
  const chain = verifyCertificateChain(certificate, anchors, { currentDate: now, ...(options.purpose ? { purpose: options.purpose } : {}) });
  const result: ClientCertificateVerification = { certificate, chain, x5tS256: x5tS256(certificate), status: 'not_checked' };
  if (options.checkOcsp === false) return result;

  // A self-issued anchor presented as the client certificate has no issuer to ask about; the chain check refuses
  // it for clientAuth, and `any` callers get the issuer as itself.
  const issuer = chain[1] ?? chain[0]!;
  const leafFields = fields(certificate);
  let url = options.ocspUrl;
  if (url === undefined) {
    try {
      url = ocspUrls(leafFields)[0];
    } catch (cause) {
      throw new CertificateVerificationError('ERR_CERT_MALFORMED', 'the Authority Information Access extension could not be decoded', { cause });
    }
  }
  if (url === undefined) {
    throw new CertificateVerificationError('ERR_OCSP_NO_RESPONDER', 'certificate names no OCSP responder (AIA) and no ocspUrl was given');
  }
  const request = buildOcspRequest(leafFields, fields(issuer));
  const der = await queryOcsp(url, request, options);
  const ocsp = verifyOcspResponse(der, request, issuer, {
    now,
    clockTolerance: options.clockTolerance ?? 60,
    ...(options.requireNonce !== undefined ? { requireNonce: options.requireNonce } : {}),
  });
  if (ocsp.status === 'revoked' && (options.rejectRevoked ?? true)) {
    throw new CertificateVerificationError(
      'ERR_CERT_REVOKED',
      `certificate revoked at ${ocsp.revokedAt?.toISOString()}${ocsp.reason ? ` (${ocsp.reason})` : ''}`,
      { ...(ocsp.revokedAt ? { revokedAt: ocsp.revokedAt } : {}), ...(ocsp.reason ? { reason: ocsp.reason } : {}) },
    );
  }
  return {
    ...result,
    status: ocsp.status,
    ...(ocsp.revokedAt ? { revokedAt: ocsp.revokedAt } : {}),
    ...(ocsp.reason ? { reason: ocsp.reason } : {}),
    ocsp,
  };
}
