import { constants, createHash, randomBytes, verify, X509Certificate, type KeyObject } from 'node:crypto';
import {
  BasicOCSPResponse, CertID, id_pkix_ocsp_basic, id_pkix_ocsp_nonce, OCSPRequest, OCSPResponse, OCSPResponseStatus,
  Request, ResponderID, TBSRequest,
} from '@peculiar/asn1-ocsp';
import { RsaSaPssParams, id_mgf1 } from '@peculiar/asn1-rsa';
import { OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension } from '@peculiar/asn1-x509';
import { decodeDer, encodeDer } from './asn1.js';
import { reasonFromCode } from './contract.js';
import { CertificateVerificationError } from './errors.js';
import { fetchDocument, mediaType, type FetchOptions } from './http.js';
import { extendedKeyUsage, OID, parseCertificateFields, type CertificateFields } from './x509.js';

/** RFC 6960 (OCSP) request construction and response verification. */

const SHA1 = '1.3.14.3.2.26';

export interface CertId {
  hashAlgorithm: string;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  serial: Buffer;
}

export interface OcspRequest {
  der: Buffer;
  certId: CertId;
  /** The nonce extension's extnValue (an OCTET STRING wrapping the nonce, RFC 8954 §2.1). */
  nonceExtnValue: Buffer;
}

export type OcspCertStatus = 'good' | 'revoked' | 'unknown';

export interface OcspResult {
  status: OcspCertStatus;
  revokedAt?: Date;
  /** RFC 5280 reason name, when the responder gave one. */
  reason?: string;
  producedAt: Date;
  thisUpdate: Date;
  nextUpdate?: Date;
}

/**
 * An OCSP request for one certificate. The CertID uses SHA-1: RFC 6960 §4.1.1 lets the responder pick any hash, and
 * SHA-1 is what responders index on (RFC 5019 §2.1.1); it names the certificate, it does not protect it. A 32-byte
 * random nonce (RFC 8954) binds the answer to this request, so a replayed "good" cannot hide a revocation.
 */
export function buildOcspRequest(cert: CertificateFields, issuer: CertificateFields, nonce: Buffer = randomBytes(32)): OcspRequest {
  const sha1 = (data: Buffer) => createHash('sha1').update(data).digest();
  const certId: CertId = {
    hashAlgorithm: SHA1,
    // Hash of the issuer name as it appears in the certificate being checked (RFC 6960 §4.1.1).
    issuerNameHash: sha1(cert.issuerDer),
    issuerKeyHash: sha1(issuer.publicKeyBits),
    serial: cert.serial,
  };
  const nonceExtnValue = encodeDer(new OctetString(nonce));
  const der = encodeDer(new OCSPRequest({
    tbsRequest: new TBSRequest({
      requestList: [new Request({
        reqCert: new CertID({
          hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }),
          issuerNameHash: new OctetString(certId.issuerNameHash),
          issuerKeyHash: new OctetString(certId.issuerKeyHash),
          serialNumber: bytesOf(certId.serial),
        }),
      })],
      requestExtensions: [new Extension({ extnID: id_pkix_ocsp_nonce, extnValue: new OctetString(nonceExtnValue) })],
    }),
  }));
  return { der, certId, nonceExtnValue };
}

/** An ArrayBuffer holding exactly these bytes (a Buffer may be a view on a larger pool). */
function bytesOf(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}

function octets(value: { buffer: ArrayBuffer; byteOffset: number; byteLength: number } | ArrayBuffer): Buffer {
  return value instanceof ArrayBuffer ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** POSTs the request (RFC 6960 Appendix A.1) and returns the DER answer. */
export async function queryOcsp(url: string, request: OcspRequest, options: FetchOptions = {}): Promise<Buffer> {
  let response;
  try {
    response = await fetchDocument(url, {
      ...options,
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      body: request.der,
    });
  } catch (cause) {
    throw new CertificateVerificationError('ERR_OCSP_RESPONSE', `OCSP responder ${url} unreachable: ${(cause as Error).message}`, { cause });
  }
  if (response.status !== 200) {
    throw new CertificateVerificationError('ERR_OCSP_RESPONSE', `OCSP responder ${url} answered HTTP ${response.status}`);
  }
  if (mediaType(response.headers) !== 'application/ocsp-response') {
    throw new CertificateVerificationError('ERR_OCSP_RESPONSE', `OCSP responder ${url} answered ${mediaType(response.headers) || 'no content type'}, not application/ocsp-response`);
  }
  return response.body;
}

function certIdOf(id: CertID): CertId {
  return {
    hashAlgorithm: id.hashAlgorithm.algorithm,
    issuerNameHash: octets(id.issuerNameHash),
    issuerKeyHash: octets(id.issuerKeyHash),
    serial: octets(id.serialNumber),
  };
}

function sameCertId(a: CertId, b: CertId): boolean {
  return a.hashAlgorithm === b.hashAlgorithm
    && a.issuerNameHash.equals(b.issuerNameHash)
    && a.issuerKeyHash.equals(b.issuerKeyHash)
    && a.serial.equals(b.serial);
}

const HASH_BY_OID: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithms accepted on OCSP responses; SHA-1 signatures are refused (RFC 9155 spirit). */
function verifySignature(algorithm: AlgorithmIdentifier, data: Buffer, signature: Buffer, key: KeyObject): boolean {
  const simple: Record<string, string | null> = {
    '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
    '1.2.840.113549.1.1.12': 'sha384',
    '1.2.840.113549.1.1.13': 'sha512',
    '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256 (DER-encoded signature, node's default)
    '1.2.840.10045.4.3.3': 'sha384',
    '1.2.840.10045.4.3.4': 'sha512',
    '1.3.101.112': null, // Ed25519
  };
  const oid = algorithm.algorithm;
  if (oid in simple) return verify(simple[oid]!, data, key, signature);
  if (oid === '1.2.840.113549.1.1.10' && algorithm.parameters) {
    // RSASSA-PSS-params (RFC 4055 §3.1): the SHA-1 defaults are refused, and MGF1 must use the message hash (all
    // node:crypto can verify).
    const params = decodeDer(new Uint8Array(algorithm.parameters), RsaSaPssParams, 'RSASSA-PSS-params');
    const hash = HASH_BY_OID[params.hashAlgorithm.algorithm];
    const mgfHash = params.maskGenAlgorithm.algorithm === id_mgf1 && params.maskGenAlgorithm.parameters
      ? decodeDer(new Uint8Array(params.maskGenAlgorithm.parameters), AlgorithmIdentifier, 'MGF1 parameters').algorithm
      : undefined;
    if (hash === undefined || mgfHash !== params.hashAlgorithm.algorithm || params.trailerField !== 1) return false;
    return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength }, signature);
  }
  return false;
}

export interface VerifyOcspResponseOptions {
  now: Date;
  /** Tolerated clock difference for thisUpdate and nextUpdate, in seconds (as jose's `clockTolerance`). */
  clockTolerance: number;
  /** Refuse a response that does not echo the nonce. Default true. */
  requireNonce?: boolean;
}

/**
 * Decodes (strict DER) and verifies an OCSP response for `request`, issued about a certificate whose issuer is
 * `issuer`: the response must be `successful` and basic, signed by the issuer or by a responder certificate the issuer
 * issued with the id-kp-OCSPSigning purpose (RFC 6960 §4.2.2.2), echo the nonce, answer for the same CertID, and be
 * current (thisUpdate ≤ now ≤ nextUpdate, RFC 6960 §3.2).
 */
export function verifyOcspResponse(
  der: Buffer,
  request: OcspRequest,
  issuer: X509Certificate,
  options: VerifyOcspResponseOptions,
): OcspResult {
  const fail = (message: string, cause?: unknown) =>
    new CertificateVerificationError('ERR_OCSP_RESPONSE', message, cause === undefined ? undefined : { cause });
  let basic: BasicOCSPResponse;
  let included: X509Certificate[];
  try {
    const response = decodeDer(der, OCSPResponse, 'OCSPResponse');
    if (response.responseStatus !== OCSPResponseStatus.successful) {
      throw fail(`OCSP responder answered ${OCSPResponseStatus[response.responseStatus] ?? `status ${response.responseStatus}`}`);
    }
    if (response.responseBytes === undefined) throw fail('OCSP response has no responseBytes');
    if (response.responseBytes.responseType !== id_pkix_ocsp_basic) throw fail('OCSP response is not id-pkix-ocsp-basic');
    basic = decodeDer(octets(response.responseBytes.response), BasicOCSPResponse, 'BasicOCSPResponse');
    included = (basic.certs ?? []).map((c) => new X509Certificate(encodeDer(c)));
  } catch (error) {
    if (error instanceof CertificateVerificationError) throw error;
    throw fail(`OCSP response could not be decoded: ${(error as Error).message}`, error);
  }
  const tbs = basic.tbsResponseData;

  const signer = findAuthorisedSigner(tbs.responderID, issuer, included, options.now);
  let valid: boolean;
  try {
    // Strict DER: the re-encoding is the signed encoding.
    const signed = basic.tbsResponseDataRaw ? Buffer.from(basic.tbsResponseDataRaw) : encodeDer(tbs);
    valid = verifySignature(basic.signatureAlgorithm, signed, Buffer.from(basic.signature), signer.publicKey);
  } catch {
    valid = false; // node throws when the key type cannot carry the algorithm
  }
  if (!valid) {
    throw new CertificateVerificationError('ERR_OCSP_SIGNATURE', 'OCSP response signature does not verify');
  }

  const echoed = tbs.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  if (echoed === undefined) {
    if (options.requireNonce ?? true) {
      throw new CertificateVerificationError('ERR_OCSP_NONCE', 'OCSP response does not echo the request nonce');
    }
  } else if (!octets(echoed.extnValue).equals(request.nonceExtnValue)) {
    throw new CertificateVerificationError('ERR_OCSP_NONCE', 'OCSP response nonce differs from the request nonce');
  }

  const single = tbs.responses.find((r) => sameCertId(certIdOf(r.certID), request.certId));
  if (single === undefined) throw fail('OCSP response has no answer for the requested certificate (CertID mismatch)');

  const { thisUpdate, nextUpdate, certStatus } = single;
  const skew = options.clockTolerance * 1000;
  if (thisUpdate.getTime() > options.now.getTime() + skew) throw fail('OCSP response thisUpdate is in the future');
  if (nextUpdate && nextUpdate.getTime() < options.now.getTime() - skew) throw fail(`OCSP response is stale (nextUpdate ${nextUpdate.toISOString()})`);
  const result: OcspResult = { status: 'unknown', producedAt: tbs.producedAt, thisUpdate, ...(nextUpdate ? { nextUpdate } : {}) };
  if (certStatus.revoked !== undefined) {
    const code = certStatus.revoked.revocationReason?.reason;
    const reason = code === undefined ? undefined : reasonFromCode(code);
    return { ...result, status: 'revoked', revokedAt: certStatus.revoked.revocationTime, ...(reason ? { reason } : {}) };
  }
  if (certStatus.good !== undefined) return { ...result, status: 'good' };
  return result;
}

/**
 * The certificate whose key must have signed the response: the issuing CA itself, or a delegated responder it issued
 * with id-kp-OCSPSigning (RFC 6960 §4.2.2.2). Anyone else's signature is refused even if it verifies.
 */
function findAuthorisedSigner(responderId: ResponderID, issuer: X509Certificate, included: X509Certificate[], now: Date): X509Certificate {
  const unauthorised = (why: string) => new CertificateVerificationError('ERR_OCSP_SIGNATURE', `OCSP responder not authorised: ${why}`);
  let matches: (fields: CertificateFields) => boolean;
  if (responderId.byName !== undefined) {
    const name = encodeDer(responderId.byName);
    matches = (fields) => fields.subjectDer.equals(name);
  } else if (responderId.byKey !== undefined) {
    const keyHash = octets(responderId.byKey);
    matches = (fields) => createHash('sha1').update(fields.publicKeyBits).digest().equals(keyHash);
  } else {
    throw new CertificateVerificationError('ERR_OCSP_RESPONSE', 'OCSP responderID is neither byName nor byKey');
  }
  if (matches(parseCertificateFields(Buffer.from(issuer.raw)))) return issuer;
  const candidate = included.find((c) => matches(parseCertificateFields(Buffer.from(c.raw))));
  if (candidate === undefined) throw unauthorised('the responder is neither the issuing CA nor a certificate included in the response');
  const fields = parseCertificateFields(Buffer.from(candidate.raw));
  if (!candidate.checkIssued(issuer) || !candidate.verify(issuer.publicKey)) {
    throw unauthorised(`responder certificate "${candidate.subject.replace(/\n/g, ', ')}" was not issued by the certificate's issuer`);
  }
  if (!(extendedKeyUsage(fields) ?? []).includes(OID.ocspSigning)) {
    throw unauthorised('responder certificate lacks the id-kp-OCSPSigning extended key usage');
  }
  if (fields.notBefore > now || fields.notAfter < now) {
    throw unauthorised('responder certificate is outside its validity period');
  }
  return candidate;
}
