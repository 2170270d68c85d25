/**
 * The SDK's error catalogue. Every failure carries a stable, machine-readable `code` (as jose's `ERR_JWT_EXPIRED`)
 * so callers branch on the code, never on the message; the message says precisely what failed.
 */

/** Why a software statement assertion (SSA) or a registration request made with one was refused. */
export type SoftwareStatementErrorCode =
  /** Not a compact JWS, undecodable header/payload, missing `kid`, or an unsupported `typ`/`crit` header. */
  | 'ERR_SSA_MALFORMED'
  /** The JWS `alg` is outside the allow-list (PS256, ES256) or does not fit the key. */
  | 'ERR_SSA_ALG'
  /** No directory key with the SSA's `kid`, even after refreshing the JWKS. */
  | 'ERR_SSA_UNKNOWN_KID'
  /** The signature does not verify with the directory key. */
  | 'ERR_SSA_SIGNATURE'
  /** `iss` is not the directory issuer. */
  | 'ERR_SSA_ISSUER'
  /** `exp` has passed. */
  | 'ERR_SSA_EXPIRED'
  /** `iat` is older than `maxTokenAge`. */
  | 'ERR_SSA_TOO_OLD'
  /** `iat` (or `nbf`) is in the future beyond the clock tolerance. */
  | 'ERR_SSA_NOT_YET_VALID'
  /** A required claim is absent. */
  | 'ERR_SSA_CLAIM_MISSING'
  /** A claim is present with the wrong type or value domain (`null` included). */
  | 'ERR_SSA_CLAIM_TYPE'
  /** The organisation is not active (in the SSA's `org_status` or in the participant list). */
  | 'ERR_PARTICIPANT_INACTIVE'
  /** The organisation is not in the participant list. */
  | 'ERR_PARTICIPANT_UNKNOWN'
  /** The software statement is not active in the participant list. */
  | 'ERR_SOFTWARE_INACTIVE'
  /** The software statement is not listed under its organisation in the participant list. */
  | 'ERR_SOFTWARE_UNKNOWN'
  /** The directory JWKS could not be fetched or parsed. */
  | 'ERR_JWKS_FETCH'
  /** The participant list could not be fetched or parsed. */
  | 'ERR_PARTICIPANTS_FETCH'
  /** `verifySync` was called before `refresh()` loaded the key set (or the participant list it needs). */
  | 'ERR_VERIFIER_NOT_READY'
  /** A registration request's `redirect_uris` are not a subset of the SSA's. */
  | 'ERR_REDIRECT_URI'
  /** A registration request's `jwks_uri` differs from the SSA's, or it carries keys by value. */
  | 'ERR_JWKS_URI'
  /** A registration request asks for a scope the SSA does not grant. */
  | 'ERR_SCOPE'
  /** A registration request's `token_endpoint_auth_method` is not the SSA's or not allowed by the server. */
  | 'ERR_AUTH_METHOD';

/** Thrown by {@link verifySoftwareStatement}, `SoftwareStatementVerifier` and `checkRegistrationAgainstSsa`. */
export class SoftwareStatementError extends Error {
  override readonly name = 'SoftwareStatementError';
  readonly code: SoftwareStatementErrorCode;
  /** The claim or metadata field at fault, when there is one. */
  readonly claim: string | undefined;

  constructor(code: SoftwareStatementErrorCode, message: string, options?: { claim?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.claim = options?.claim;
  }
}

/** Why a client certificate was refused, or why its revocation status could not be established. */
export type CertificateVerificationErrorCode =
  /** Not a parseable X.509 certificate (or CA bundle). */
  | 'ERR_CERT_MALFORMED'
  /** No path to a CA in the bundle (RFC 5280 §6), or a CA on the path is unfit (not a CA, expired). */
  | 'ERR_CERT_CHAIN'
  /** The certificate's `notAfter` has passed. */
  | 'ERR_CERT_EXPIRED'
  /** The certificate's `notBefore` is in the future. */
  | 'ERR_CERT_NOT_YET_VALID'
  /** The certificate is a CA certificate or its extended key usage excludes TLS client authentication. */
  | 'ERR_CERT_PURPOSE'
  /** The CA bundle could not be fetched. */
  | 'ERR_CA_BUNDLE_FETCH'
  /** OCSP was asked for but the certificate names no OCSP responder and no override was given. */
  | 'ERR_OCSP_NO_RESPONDER'
  /** The OCSP exchange failed: transport error, non-successful status, undecodable, stale, or wrong certID. */
  | 'ERR_OCSP_RESPONSE'
  /** The OCSP response signature does not verify, or the signer is not authorised to answer (RFC 6960 §4.2.2.2). */
  | 'ERR_OCSP_SIGNATURE'
  /** The OCSP response does not echo the request's nonce (RFC 8954). */
  | 'ERR_OCSP_NONCE'
  /** The responder says the certificate is revoked (thrown unless `rejectRevoked: false`). */
  | 'ERR_CERT_REVOKED';

/** Thrown by `verifyClientCertificate` and the OCSP helpers. */
export class CertificateVerificationError extends Error {
  override readonly name = 'CertificateVerificationError';
  readonly code: CertificateVerificationErrorCode;
  /** Set with `ERR_CERT_REVOKED`. */
  readonly revokedAt: Date | undefined;
  /** Set with `ERR_CERT_REVOKED` when the responder gave an RFC 5280 reason. */
  readonly reason: string | undefined;

  constructor(
    code: CertificateVerificationErrorCode,
    message: string,
    options?: { cause?: unknown; revokedAt?: Date; reason?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.revokedAt = options?.revokedAt;
    this.reason = options?.reason;
  }
}

/** RFC 9457 problem details, as the directory's participant API answers errors. */
export interface ProblemDetails {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: Array<{ path?: string; message?: string }>;
  [member: string]: unknown;
}

/** RFC 6749 §5.2 error response, as the token endpoint answers errors. */
export interface OAuthErrorResponse {
  error: string;
  error_description?: string;
  [member: string]: unknown;
}

/** An error answer from the directory: the HTTP status and what the body said. */
export class DirectoryError extends Error {
  override readonly name = 'DirectoryError';
  /** HTTP status code of the answer. */
  readonly status: number;
  /** The RFC 9457 body, when the answer was `application/problem+json`. */
  readonly problem: ProblemDetails | undefined;
  /** The RFC 6749 body, when the answer was an OAuth error (token endpoint). */
  readonly oauthError: OAuthErrorResponse | undefined;
  /**
   * A stable string to branch on: the OAuth `error`, else the problem `type`, else `http_<status>`; `invalid_response`
   * when a successful answer does not match the directory's wire contract.
   */
  readonly code: string;

  constructor(
    message: string,
    details: { status: number; problem?: ProblemDetails; oauthError?: OAuthErrorResponse; code?: string; cause?: unknown },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.problem = details.problem;
    this.oauthError = details.oauthError;
    this.code = details.code ?? details.oauthError?.error ?? details.problem?.type ?? `http_${details.status}`;
  }
}
