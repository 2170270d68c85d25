import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import {
  applySoftwareStatement, checkRegistrationAgainstSsa, SoftwareStatementError,
  type ClientCertificateVerification, type SoftwareStatementClaims, type SoftwareStatementVerifier,
} from '@ecosystem-directory/sdk';
import { subjectAttribute, subjectDn } from './client-certificate.js';

/**
 * Dynamic client registration policy: every registration carries a directory SSA, verified with the SDK's
 * synchronous verifier inside oidc-provider's `extraClientMetadata.validator`.
 *
 * Why this hook: oidc-provider 9 calls the validator while it builds the client from the request, before its own
 * metadata validation, with the request context — so the SSA's values can replace the request's and then go through
 * oidc-provider's checks. The validator must be synchronous (a returned promise is a TypeError), hence
 * `SoftwareStatementVerifier.verifySync`. The async `features.registration.policies` would fit better but run only
 * for registrations made with an initial access token, which open-banking DCR does not use.
 */

/** Client metadata the AS keeps beyond RFC 7591's recognised set; `software_statement` first, it sets the others. */
export const SSA_CLIENT_METADATA = ['software_statement', 'software_id', 'software_version', 'org_id'] as const;

/** What the SSA decides for the client, replacing whatever the request said (RFC 7591 §2.3). */
const FROM_STATEMENT = [
  'client_name', 'client_uri', 'logo_uri', 'tos_uri', 'policy_uri', 'jwks_uri', 'token_endpoint_auth_method',
  'redirect_uris', 'scope', 'software_id', 'software_version',
] as const;

type OIDCError = Error & { error: string };

function toProviderError(error: SoftwareStatementError): OIDCError {
  const description = `${error.message} (${error.code})`;
  switch (error.code) {
    case 'ERR_REDIRECT_URI':
      // oidc-provider answers invalid_redirect_uri for an InvalidClientMetadata whose description starts so.
      return new errors.InvalidClientMetadata(`redirect_uris: ${description}`);
    case 'ERR_JWKS_URI':
    case 'ERR_SCOPE':
    case 'ERR_AUTH_METHOD':
      return new errors.InvalidClientMetadata(description);
    case 'ERR_PARTICIPANT_INACTIVE':
    case 'ERR_PARTICIPANT_UNKNOWN':
    case 'ERR_SOFTWARE_INACTIVE':
    case 'ERR_SOFTWARE_UNKNOWN':
      // RFC 7591 §3.2.2: valid, but not approved for use here.
      return new errors.UnapprovedSoftwareStatement(description);
    default:
      return new errors.InvalidSoftwareStatement(description);
  }
}

export interface SoftwareStatementValidatorOptions {
  verifier: SoftwareStatementVerifier;
  /** Client authentication methods the AS accepts. */
  allowedAuthMethods: readonly string[];
  /**
   * Scopes this AS offers. The SSA grants what the participant's roles allow across the ecosystem (e.g. `openid
   * accounts consents`); the client is registered with the part of it this server supports. Default: the SSA's scope
   * unchanged (oidc-provider then refuses a registration whose scope names one it does not know).
   */
  supportedScopes?: readonly string[];
  /** Told what was checked, for a registration accepted or refused (the demo prints it). */
  log?: (message: string) => void;
}

function keyIdOf(jws: string): string {
  try {
    return String((JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString('utf8')) as { kid?: unknown }).kid);
  } catch {
    return '?';
  }
}

/** The `extraClientMetadata.validator` implementing the policy. */
export function softwareStatementValidator(options: SoftwareStatementValidatorOptions) {
  return (ctx: KoaContextWithOIDC | undefined, key: string, value: unknown, metadata: Record<string, unknown>): void => {
    if (key !== 'software_statement') return;
    // Without a registration request context the client is being loaded from storage: its SSA was verified when it
    // registered and has expired since, by design (10 minutes), so it must not be verified again.
    if (ctx?.oidc?.route !== 'registration') return;
    if (typeof value !== 'string') {
      throw new errors.InvalidSoftwareStatement('software_statement is required: register with an SSA from the ecosystem directory');
    }

    let claims: SoftwareStatementClaims;
    const request = ctx.oidc.body ?? {};
    try {
      claims = options.verifier.verifySync(value);
      checkRegistrationAgainstSsa(request, claims, { allowedAuthMethods: options.allowedAuthMethods });
    } catch (error) {
      if (error instanceof SoftwareStatementError) {
        options.log?.(`registration refused: ${error.message} (${error.code})`);
        throw toProviderError(error);
      }
      throw error;
    }

    // An SSA is a bearer document; bind it to its owner: the mTLS certificate presented here must be the one the
    // directory issued to this software (DESIGN §4: CN and UID carry the software id).
    const verified = ctx.state.clientCertificate as ClientCertificateVerification | undefined;
    if (verified === undefined) {
      throw new errors.InvalidClientMetadata('dynamic client registration requires a verified client certificate');
    }
    const names = [...subjectAttribute(verified.certificate, 'CN'), ...subjectAttribute(verified.certificate, 'UID')];
    if (!names.includes(claims.software_id)) {
      options.log?.(`registration refused: the client certificate (CN ${names[0] ?? '?'}) was not issued to software ${claims.software_id}`);
      throw new errors.InvalidSoftwareStatement(`the client certificate was not issued to software ${claims.software_id}`);
    }
    options.log?.(`SSA verified with the SDK: signature by directory key ${keyIdOf(value)}, iss ${claims.iss}, expires in ${claims.exp - Math.floor(Date.now() / 1000)} s; ` +
      `organisation "${claims.org_name}" and software "${claims.client_name}" active in /participants; client certificate CN = software_id; ` +
      'redirect_uris, scope, jwks_uri and auth method within the SSA');

    const applied = applySoftwareStatement(request, claims);
    if (options.supportedScopes !== undefined && typeof applied.scope === 'string') {
      const offered = new Set(options.supportedScopes);
      applied.scope = applied.scope.split(' ').filter((scope) => offered.has(scope)).join(' ') || undefined;
    }
    for (const field of FROM_STATEMENT) {
      if (applied[field] === undefined) delete metadata[field];
      else metadata[field] = applied[field];
    }
    metadata.org_id = claims.org_id;
    delete metadata.jwks;
    // FAPI 2.0 §5.3.2.1: sender-constrained access tokens; here mTLS-bound (RFC 8705 §3).
    metadata.tls_client_certificate_bound_access_tokens = true;
    if (claims.token_endpoint_auth_method === 'tls_client_auth') {
      for (const san of ['tls_client_auth_san_dns', 'tls_client_auth_san_uri', 'tls_client_auth_san_ip', 'tls_client_auth_san_email']) {
        delete metadata[san];
      }
      // The directory sets the subject from its registry, so the DN survives certificate renewal.
      metadata.tls_client_auth_subject_dn = subjectDn(verified.certificate);
    }
  };
}
