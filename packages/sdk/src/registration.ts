import { SoftwareStatementError } from './errors.js';
import type { SoftwareStatementClaims } from './ssa-claims.js';
import { registrationView } from './ssa-profiles.js';

/** The RFC 7591 §2 fields of a registration request this module reads; others pass through untouched. */
export interface RegistrationMetadata {
  redirect_uris?: unknown;
  jwks_uri?: unknown;
  jwks?: unknown;
  scope?: unknown;
  token_endpoint_auth_method?: unknown;
  [field: string]: unknown;
}

export interface RegistrationCheckOptions {
  /** Client authentication methods this authorisation server accepts. Default: `private_key_jwt`, `tls_client_auth`. */
  allowedAuthMethods?: readonly string[];
}

/**
 * Checks that a dynamic client registration request asks for no more than its software statement grants
 * (RFC 7591 §2.3: the statement's values are the authority; the request may narrow them, never widen them):
 * `redirect_uris` ⊆ the SSA's (exact string match, as RFC 9700 §2.1 requires for redirect URIs), `jwks_uri` equal to
 * the directory keystore and no keys by value, `scope` ⊆ the SSA's, and `token_endpoint_auth_method` equal to the
 * SSA's and accepted by this server.
 *
 * @throws {SoftwareStatementError} ERR_REDIRECT_URI, ERR_JWKS_URI, ERR_SCOPE or ERR_AUTH_METHOD.
 */
export function checkRegistrationAgainstSsa(
  metadata: RegistrationMetadata,
  claims: SoftwareStatementClaims,
  options: RegistrationCheckOptions = {},
): void {
  // The claims may be in a profile's names (OBBR/UK software_*, CDR): read them through one view.
  const ssa = registrationView(claims);
  if (metadata.redirect_uris !== undefined) {
    if (!Array.isArray(metadata.redirect_uris) || !metadata.redirect_uris.every((u) => typeof u === 'string')) {
      throw new SoftwareStatementError('ERR_REDIRECT_URI', 'redirect_uris must be an array of strings', { claim: 'redirect_uris' });
    }
    const allowed = new Set(ssa.redirectUris);
    const outside = (metadata.redirect_uris as string[]).filter((uri) => !allowed.has(uri));
    if (outside.length > 0) {
      throw new SoftwareStatementError('ERR_REDIRECT_URI', `redirect_uris not in the software statement: ${outside.join(', ')}`, { claim: 'redirect_uris' });
    }
  }

  // The client's keys must come from the directory keystore, where revocation removes them (DESIGN §4); keys sent by
  // value would survive a revocation.
  if (metadata.jwks !== undefined) {
    throw new SoftwareStatementError('ERR_JWKS_URI', 'jwks by value is not accepted; keys come from the software statement jwks_uri', { claim: 'jwks' });
  }
  if (metadata.jwks_uri !== undefined && metadata.jwks_uri !== ssa.jwksUri) {
    throw new SoftwareStatementError('ERR_JWKS_URI', `jwks_uri ${JSON.stringify(metadata.jwks_uri)} differs from the software statement's ${ssa.jwksUri}`, { claim: 'jwks_uri' });
  }

  // OBBR and UK SSAs carry no scope (the authorisation server maps roles): nothing to bound it by here.
  if (metadata.scope !== undefined && ssa.scope !== undefined) {
    if (typeof metadata.scope !== 'string') {
      throw new SoftwareStatementError('ERR_SCOPE', 'scope must be a space-separated string', { claim: 'scope' });
    }
    const granted = new Set(ssa.scope.split(' ').filter(Boolean));
    const extra = metadata.scope.split(' ').filter((s) => s && !granted.has(s));
    if (extra.length > 0) {
      throw new SoftwareStatementError('ERR_SCOPE', `scope not granted by the software statement: ${extra.join(' ')}`, { claim: 'scope' });
    }
  }

  // Only the native SSA says how the client authenticates; profile SSAs leave it to the request.
  const method = metadata.token_endpoint_auth_method ?? ssa.authMethod ?? 'private_key_jwt';
  const accepted = options.allowedAuthMethods ?? ['private_key_jwt', 'tls_client_auth'];
  if (ssa.authMethod !== undefined && method !== ssa.authMethod) {
    throw new SoftwareStatementError('ERR_AUTH_METHOD', `token_endpoint_auth_method ${JSON.stringify(method)} differs from the software statement's ${claims.token_endpoint_auth_method}`, { claim: 'token_endpoint_auth_method' });
  }
  if (!accepted.includes(method as string)) {
    throw new SoftwareStatementError('ERR_AUTH_METHOD', `token_endpoint_auth_method ${method as string} is not accepted by this server`, { claim: 'token_endpoint_auth_method' });
  }
}

/**
 * The registration metadata with the software statement applied: the statement's values replace the request's
 * (RFC 7591 §2.3), fields it does not carry are kept from the request, and `redirect_uris`/`scope` keep the request's
 * narrower choice. Call after {@link checkRegistrationAgainstSsa}.
 */
export function applySoftwareStatement<T extends RegistrationMetadata>(metadata: T, claims: SoftwareStatementClaims): T & Record<string, unknown> {
  const applied: Record<string, unknown> = { ...metadata };
  for (const field of ['client_name', 'client_uri', 'logo_uri', 'tos_uri', 'policy_uri', 'jwks_uri', 'token_endpoint_auth_method', 'software_id'] as const) {
    if (claims[field] !== undefined) applied[field] = claims[field];
    else delete applied[field];
  }
  // RFC 7591 §2 defines software_version as a string; the directory counts versions with a number.
  applied.software_version = String(claims.software_version);
  applied.redirect_uris = metadata.redirect_uris ?? [...claims.redirect_uris];
  applied.scope = metadata.scope ?? claims.scope;
  return applied as T & Record<string, unknown>;
}
