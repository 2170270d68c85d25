import { constants, createHash, randomBytes, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { CertificateVerificationError } from './errors.js';
import { child, contextTag, decodeOid, decodeTime, encode, encodeOid, encodeSequence, parseDer, TAG, type DerNode } from './der.js';
import { fetchDocument, mediaType, type FetchOptions } from './http.js';
import { extendedKeyUsage, OID, parseCertificateFields, type CertificateFields } from './x509.js';

/** RFC 6960 (OCSP) request construction and response verification. */

const OCSP_OID = {
  sha1: '1.3.14.3.2.26',
  nonce: '1.3.6.1.5.5.7.48.1.2',
  basicResponse: '1.3.6.1.5.5.7.48.1.1',
} as const;

/** RFC 5280 §5.3.1 CRLReason names, by code (7 is unused). */
const CRL_REASONS = [
  'unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation',
  'certificateHold', undefined, 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise',
] as const;

/** RFC 6960 §4.2.1 OCSPResponseStatus. */
const RESPONSE_STATUS = ['successful', 'malformedRequest', 'internalError', 'tryLater', undefined, 'sigRequired', 'unauthorized'] as const;

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
    hashAlgorithm: OCSP_OID.sha1,
    // Hash of the issuer name as it appears in the certificate being checked (RFC 6960 §4.1.1).
    issuerNameHash: sha1(cert.issuerDer),
    issuerKeyHash: sha1(issuer.publicKeyBits),
    serial: cert.serial,
  };
  const nonceExtnValue = encode(TAG.OCTET_STRING, nonce);
  const der = encodeSequence( // OCSPRequest
    encodeSequence( // TBSRequest
      encodeSequence( // requestList
        encodeSequence( // Request
          encodeSequence( // CertID
            encodeSequence(encodeOid(certId.hashAlgorithm), encode(TAG.NULL, Buffer.alloc(0))),
            encode(TAG.OCTET_STRING, certId.issuerNameHash),
            encode(TAG.OCTET_STRING, certId.issuerKeyHash),
            encode(TAG.INTEGER, certId.serial),
          ),
        ),
      ),
      encode(contextTag(2, true), encodeSequence( // requestExtensions [2] EXPLICIT Extensions
        encodeSequence(encodeOid(OCSP_OID.nonce), encode(TAG.OCTET_STRING, nonceExtnValue)),
      )),
    ),
  );
  return { der, certId, nonceExtnValue };
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

function parseCertId(node: DerNode): CertId {
  const alg = child(node, 0, TAG.SEQUENCE, 'CertID.hashAlgorithm');
  return {
    hashAlgorithm: decodeOid(alg.children[0]!),
    issuerNameHash: child(node, 1, TAG.OCTET_STRING, 'CertID.issuerNameHash').value,
    issuerKeyHash: child(node, 2, TAG.OCTET_STRING, 'CertID.issuerKeyHash').value,
    serial: child(node, 3, TAG.INTEGER, 'CertID.serialNumber').value,
  };
}

function sameCertId(a: CertId, b: CertId): boolean {
  return a.hashAlgorithm === b.hashAlgorithm
    && a.issuerNameHash.equals(b.issuerNameHash)
    && a.issuerKeyHash.equals(b.issuerKeyHash)
    && a.serial.equals(b.serial);
}

function findExtension(wrapper: DerNode | undefined, oid: string): Buffer | undefined {
  for (const ext of wrapper?.children[0]?.children ?? []) {
    if (decodeOid(ext.children[0]!) === oid) return ext.children[ext.children.length - 1]!.value;
  }
  return undefined;
}

const HASH_BY_OID: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithms accepted on OCSP responses; SHA-1 signatures are refused (RFC 9155 spirit). */
function verifySignature(algorithm: DerNode, data: Buffer, signature: Buffer, key: KeyObject): boolean {
  const oid = decodeOid(algorithm.children[0]!);
  const simple: Record<string, string | null> = {
    '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
    '1.2.840.113549.1.1.12': 'sha384',
    '1.2.840.113549.1.1.13': 'sha512',
    '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256 (DER-encoded signature, node's default)
    '1.2.840.10045.4.3.3': 'sha384',
    '1.2.840.10045.4.3.4': 'sha512',
    '1.3.101.112': null, // Ed25519
  };
  if (oid in simple) return verify(simple[oid]!, data, key, signature);
  if (oid === '1.2.840.113549.1.1.10') {
    // RSASSA-PSS-params (RFC 4055 §3.1): [0] hashAlgorithm, [2] saltLength; defaults (SHA-1) are refused.
    const params = algorithm.children[1];
    const hashNode = params?.children.find((c) => c.tag === contextTag(0, true));
    const saltNode = params?.children.find((c) => c.tag === contextTag(2, true));
    const hash = hashNode ? HASH_BY_OID[decodeOid(hashNode.children[0]!.children[0]!)] : undefined;
    if (hash === undefined) return false;
    const saltLength = saltNode ? saltNode.children[0]!.value.readUIntBE(0, saltNode.children[0]!.value.length) : 20;
    return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
  }
  return false;
}

export interface VerifyOcspResponseOptions {
  now: Date;
  clockToleranceSeconds: number;
  /** Refuse a response that does not echo the nonce. Default true. */
  requireNonce?: boolean;
}

/**
 * Decodes and verifies an OCSP response for `request`, issued about a certificate whose issuer is `issuer`:
 * the response must be `successful` and basic, signed by the issuer or by a responder certificate the issuer issued
 * with the id-kp-OCSPSigning purpose (RFC 6960 §4.2.2.2), echo the nonce, answer for the same CertID, and be
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
  let basic: DerNode;
  try {
    const response = parseDer(der);
    const status = child(response, 0, TAG.ENUMERATED, 'OCSPResponse.responseStatus').value[0]!;
    if (status !== 0) {
      throw fail(`OCSP responder answered ${RESPONSE_STATUS[status] ?? `status ${status}`}`);
    }
    const bytes = child(response, 1, contextTag(0, true), 'OCSPResponse.responseBytes').children[0]!;
    if (decodeOid(bytes.children[0]!) !== OCSP_OID.basicResponse) throw fail('OCSP response is not id-pkix-ocsp-basic');
    basic = parseDer(child(bytes, 1, TAG.OCTET_STRING, 'ResponseBytes.response').value);
  } catch (error) {
    if (error instanceof CertificateVerificationError) throw error;
    throw fail(`OCSP response could not be decoded: ${(error as Error).message}`, error);
  }

  let tbs: DerNode;
  let signatureAlgorithm: DerNode;
  let signature: Buffer;
  let responderId: DerNode;
  let producedAt: Date;
  let responses: DerNode;
  let responseExtensions: DerNode | undefined;
  let included: X509Certificate[];
  try {
    tbs = child(basic, 0, TAG.SEQUENCE, 'BasicOCSPResponse.tbsResponseData');
    signatureAlgorithm = child(basic, 1, TAG.SEQUENCE, 'BasicOCSPResponse.signatureAlgorithm');
    signature = child(basic, 2, TAG.BIT_STRING, 'BasicOCSPResponse.signature').value.subarray(1);
    const certsNode = basic.children[3];
    included = certsNode?.tag === contextTag(0, true)
      ? certsNode.children[0]!.children.map((c) => new X509Certificate(c.raw))
      : [];
    let i = tbs.children[0]?.tag === contextTag(0, true) ? 1 : 0; // version [0] EXPLICIT DEFAULT v1
    responderId = tbs.children[i]!;
    producedAt = decodeTime(tbs.children[i + 1]!);
    responses = child(tbs, i + 2, TAG.SEQUENCE, 'ResponseData.responses');
    i += 3;
    responseExtensions = tbs.children[i]?.tag === contextTag(1, true) ? tbs.children[i] : undefined;
  } catch (error) {
    throw fail(`OCSP response could not be decoded: ${(error as Error).message}`, error);
  }

  const signer = findAuthorisedSigner(responderId, issuer, included, options.now);
  let valid: boolean;
  try {
    valid = verifySignature(signatureAlgorithm, tbs.raw, signature, signer.publicKey);
  } catch {
    valid = false; // node throws when the key type cannot carry the algorithm
  }
  if (!valid) {
    throw new CertificateVerificationError('ERR_OCSP_SIGNATURE', 'OCSP response signature does not verify');
  }

  const echoed = findExtension(responseExtensions, OCSP_OID.nonce);
  if (echoed === undefined) {
    if (options.requireNonce ?? true) {
      throw new CertificateVerificationError('ERR_OCSP_NONCE', 'OCSP response does not echo the request nonce');
    }
  } else if (!echoed.equals(request.nonceExtnValue)) {
    throw new CertificateVerificationError('ERR_OCSP_NONCE', 'OCSP response nonce differs from the request nonce');
  }

  let single: DerNode | undefined;
  try {
    single = responses.children.find((r) => sameCertId(parseCertId(r.children[0]!), request.certId));
  } catch (error) {
    throw fail(`OCSP response could not be decoded: ${(error as Error).message}`, error);
  }
  if (single === undefined) throw fail('OCSP response has no answer for the requested certificate (CertID mismatch)');

  try {
    const certStatus = single.children[1]!;
    const thisUpdate = decodeTime(single.children[2]!);
    const nextNode = single.children[3]?.tag === contextTag(0, true) ? single.children[3] : undefined;
    const nextUpdate = nextNode ? decodeTime(nextNode.children[0]!) : undefined;
    const skew = options.clockToleranceSeconds * 1000;
    if (thisUpdate.getTime() > options.now.getTime() + skew) throw fail('OCSP response thisUpdate is in the future');
    if (nextUpdate && nextUpdate.getTime() < options.now.getTime() - skew) throw fail(`OCSP response is stale (nextUpdate ${nextUpdate.toISOString()})`);
    const result: OcspResult = { status: 'unknown', producedAt, thisUpdate, ...(nextUpdate ? { nextUpdate } : {}) };
    switch (certStatus.tag) {
      case contextTag(0, false):
        return { ...result, status: 'good' };
      case contextTag(1, true): {
        const revokedAt = decodeTime(certStatus.children[0]!);
        const reasonNode = certStatus.children[1];
        const reason = reasonNode?.tag === contextTag(0, true) ? CRL_REASONS[reasonNode.children[0]!.value[0]!] : undefined;
        return { ...result, status: 'revoked', revokedAt, ...(reason ? { reason } : {}) };
      }
      case contextTag(2, false):
        return result;
      default:
        throw fail('OCSP certStatus is not good, revoked or unknown');
    }
  } catch (error) {
    if (error instanceof CertificateVerificationError) throw error;
    throw fail(`OCSP response could not be decoded: ${(error as Error).message}`, error);
  }
}

/**
 * The certificate whose key must have signed the response: the issuing CA itself, or a delegated responder it issued
 * with id-kp-OCSPSigning (RFC 6960 §4.2.2.2). Anyone else's signature is refused even if it verifies.
 */
function findAuthorisedSigner(responderId: DerNode, issuer: X509Certificate, included: X509Certificate[], now: Date): X509Certificate {
  const unauthorised = (why: string) => new CertificateVerificationError('ERR_OCSP_SIGNATURE', `OCSP responder not authorised: ${why}`);
  let matches: (fields: CertificateFields) => boolean;
  if (responderId.tag === contextTag(1, true)) {
    const name = responderId.children[0]!.raw;
    matches = (fields) => fields.subjectDer.equals(name);
  } else if (responderId.tag === contextTag(2, true)) {
    const keyHash = responderId.children[0]!.value;
    matches = (fields) => createHash('sha1').update(fields.publicKeyBits).digest().equals(keyHash);
  } else {
    throw new CertificateVerificationError('ERR_OCSP_RESPONSE', 'OCSP responderID is neither byName nor byKey');
  }
  if (matches(parseCertificateFields(issuer.raw))) return issuer;
  const candidate = included.find((c) => matches(parseCertificateFields(c.raw)));
  if (candidate === undefined) throw unauthorised('the responder is neither the issuing CA nor a certificate included in the response');
  const fields = parseCertificateFields(candidate.raw);
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
