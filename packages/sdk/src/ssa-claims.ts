import { SoftwareStatementError } from './errors.js';
import type { OrganisationStatus } from './contract.js';

/**
 * The directory's SSA claims (DESIGN §7): RFC 7591 §2 client metadata names, plus the organisation claims ecosystems
 * use. Optional claims are omitted when absent, never `null`.
 */
export interface SoftwareStatementClaims {
  iss: string;
  iat: number;
  exp: number;
  jti: string;
  software_id: string;
  software_version: number;
  software_mode: 'live' | 'test';
  software_roles: string[];
  org_id: string;
  org_name: string;
  org_status: OrganisationStatus;
  org_jwks_uri: string;
  client_name: string;
  client_description?: string;
  client_uri?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  redirect_uris: string[];
  jwks_uri: string;
  token_endpoint_auth_method: 'private_key_jwt' | 'tls_client_auth';
  /** Space-separated scope values (RFC 6749 §3.3). */
  scope: string;
  nbf?: number;
  [claim: string]: unknown;
}

type ClaimKind = 'string' | 'text' | 'uri' | 'number' | 'string[]' | 'uri[]' | readonly string[];

const REQUIRED: Record<string, ClaimKind> = {
  iss: 'string',
  iat: 'number',
  exp: 'number',
  jti: 'string',
  software_id: 'string',
  software_version: 'number',
  software_mode: ['live', 'test'],
  software_roles: 'string[]',
  org_id: 'string',
  org_name: 'string',
  org_status: ['pending', 'active', 'suspended', 'revoked', 'withdrawn'],
  org_jwks_uri: 'uri',
  client_name: 'string',
  redirect_uris: 'uri[]',
  jwks_uri: 'uri',
  token_endpoint_auth_method: ['private_key_jwt', 'tls_client_auth'],
  // A software statement whose roles map to no scope carries "" (a client that may ask for nothing), not an error.
  scope: 'text',
};

const OPTIONAL: Record<string, ClaimKind> = {
  client_description: 'string',
  client_uri: 'uri',
  logo_uri: 'uri',
  tos_uri: 'uri',
  policy_uri: 'uri',
  nbf: 'number',
};

function isAbsoluteUri(value: unknown): boolean {
  return typeof value === 'string' && URL.canParse(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

function checkKind(claim: string, value: unknown, kind: ClaimKind): void {
  let ok: boolean;
  let expected: string;
  if (Array.isArray(kind)) {
    ok = typeof value === 'string' && kind.includes(value);
    expected = `one of ${kind.join(', ')}`;
  } else {
    switch (kind) {
      case 'string':
        ok = typeof value === 'string' && value.length > 0;
        expected = 'a non-empty string';
        break;
      case 'text':
        ok = typeof value === 'string';
        expected = 'a string';
        break;
      case 'uri':
        ok = isAbsoluteUri(value);
        expected = 'an absolute URI';
        break;
      case 'number':
        // NumericDate (RFC 7519 §2) and software_version are finite numbers.
        ok = typeof value === 'number' && Number.isFinite(value);
        expected = 'a number';
        break;
      case 'string[]':
        ok = Array.isArray(value) && value.every((v) => typeof v === 'string' && v.length > 0);
        expected = 'an array of strings';
        break;
      default:
        ok = Array.isArray(value) && value.every(isAbsoluteUri);
        expected = 'an array of absolute URIs';
    }
  }
  if (!ok) {
    throw new SoftwareStatementError('ERR_SSA_CLAIM_TYPE', `claim "${claim}" must be ${expected}, got ${describe(value)}`, { claim });
  }
}

/** Every required claim present and well-typed; optional ones well-typed when present (a `null` is refused). */
export function assertClaimShapes(payload: Record<string, unknown>): asserts payload is SoftwareStatementClaims {
  for (const [claim, kind] of Object.entries(REQUIRED)) {
    if (!(claim in payload) || payload[claim] === undefined) {
      throw new SoftwareStatementError('ERR_SSA_CLAIM_MISSING', `required claim "${claim}" is missing`, { claim });
    }
    checkKind(claim, payload[claim], kind);
  }
  for (const [claim, kind] of Object.entries(OPTIONAL)) {
    if (claim in payload) checkKind(claim, payload[claim], kind);
  }
}

export interface TimeOptions {
  /** Seconds since the epoch. */
  now: number;
  /** Seconds (jose's `maxTokenAge`). */
  maxTokenAge: number;
  /** Seconds (jose's `clockTolerance`). */
  clockTolerance: number;
}

/** RFC 7519 §4.1.4–4.1.6 with a bounded age: a leaked SSA is only good while young. */
export function assertClaimTimes(claims: SoftwareStatementClaims, { now, maxTokenAge, clockTolerance }: TimeOptions): void {
  // Profiles whose ecosystem defines no lifetime (OBBR, UK) may omit exp; maxTokenAge still bounds iat.
  if (typeof claims.exp === 'number' && claims.exp <= now - clockTolerance) {
    throw new SoftwareStatementError('ERR_SSA_EXPIRED', `software statement expired at ${new Date(claims.exp * 1000).toISOString()}`, { claim: 'exp' });
  }
  if (claims.iat > now + clockTolerance) {
    throw new SoftwareStatementError('ERR_SSA_NOT_YET_VALID', `software statement "iat" ${new Date(claims.iat * 1000).toISOString()} is in the future`, { claim: 'iat' });
  }
  if (claims.nbf !== undefined && claims.nbf > now + clockTolerance) {
    throw new SoftwareStatementError('ERR_SSA_NOT_YET_VALID', `software statement is not valid before ${new Date(claims.nbf * 1000).toISOString()}`, { claim: 'nbf' });
  }
  if (now - claims.iat > maxTokenAge + clockTolerance) {
    throw new SoftwareStatementError('ERR_SSA_TOO_OLD', `software statement was issued ${Math.round(now - claims.iat)} s ago, more than ${maxTokenAge} s`, { claim: 'iat' });
  }
}
