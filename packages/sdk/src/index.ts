/**
 * Ecosystem Directory SDK.
 *
 * For authorisation servers: {@link verifySoftwareStatement} (async) and {@link SoftwareStatementVerifier}
 * (`verifySync` for synchronous hooks) check the SSAs clients present at dynamic client registration;
 * {@link checkRegistrationAgainstSsa} checks the registration request against them; {@link verifyClientCertificate}
 * checks a client's mTLS certificate against the directory CA and its OCSP responder.
 *
 * For receivers of the directory's change events: {@link SecurityEventReceiver} verifies pushed SETs against the
 * directory JWKS and deduplicates them by `jti` (`nodeHandler` for node:http, `fastifyPlugin` for Fastify).
 *
 * For participants: {@link DirectoryClient} talks to the directory over mTLS with `private_key_jwt` and
 * certificate-bound tokens.
 *
 * Every failure is a typed error with a stable `code`: {@link SoftwareStatementError},
 * {@link CertificateVerificationError}, {@link DirectoryError}.
 *
 * @packageDocumentation
 */

export {
  SoftwareStatementError,
  CertificateVerificationError,
  DirectoryError,
  type SoftwareStatementErrorCode,
  type CertificateVerificationErrorCode,
  type ProblemDetails,
  type OAuthErrorResponse,
} from './errors.js';

export { verifySoftwareStatement, type VerifySoftwareStatementOptions, type SoftwareStatementPolicy } from './ssa.js';
export { ssaProfileOf, type SsaProfile } from './ssa-profiles.js';
export { SoftwareStatementVerifier, type SoftwareStatementVerifierOptions } from './ssa-verifier.js';
export type { SoftwareStatementClaims } from './ssa-claims.js';
export type { SsaAlgorithm } from './jws.js';
export { DirectoryKeySet, type DirectoryKeySetOptions, type DirectoryKey } from './jwks.js';
export { ParticipantList, type ParticipantListOptions } from './participants.js';
export {
  checkRegistrationAgainstSsa,
  applySoftwareStatement,
  type RegistrationMetadata,
  type RegistrationCheckOptions,
} from './registration.js';

export {
  verifyClientCertificate,
  verifyCertificateChain,
  parseCaBundle,
  x5tS256,
  type VerifyClientCertificateOptions,
  type ClientCertificateVerification,
} from './certificates.js';
export {
  buildOcspRequest,
  queryOcsp,
  verifyOcspResponse,
  type OcspRequest,
  type OcspResult,
  type OcspCertStatus,
  type CertId,
} from './ocsp.js';

export {
  DirectoryClient,
  type DirectoryClientOptions,
  type EnrolmentRequest,
  type SoftwareStatementCreate,
  type SoftwareStatementPatch,
  type AuthorisationServerCreate,
  type AuthorisationServerPatch,
} from './directory-client.js';

/** The wire contract (zod schemas and the types inferred from them), shared with the directory server. */
export * from './contract.js';

export {
  SecurityEventReceiver,
  SecurityEventError,
  MemoryJtiStore,
  type SecurityEventReceiverOptions,
  type SecurityEvent,
  type SecurityEventErrorCode,
  type SecurityEventHandler,
  type SetErrorCode,
  type JtiStore,
  type PushAnswer,
  type FastifyLike,
} from './events.js';

export type { FetchOptions } from './http.js';
