import { SoftwareStatementError } from './errors.js';

/**
 * The SSA claim sets the directory issues: its own (`native`, DESIGN §7) and the ecosystem profiles it serves —
 * Open Finance Brasil (`obbr`), UK Open Banking (`uk`), the CDR Register (`cdr`).
 */
export type SsaProfile = 'native' | 'obbr' | 'uk' | 'cdr';

type Kind = 'string' | 'text' | 'uri' | 'number' | 'string[]' | 'uri[]' | 'object' | 'object|object[]' | readonly string[];

/** Each ecosystem profile's required and optional claims with their types (the native set lives in ssa-claims.ts). */
const PROFILES: Record<Exclude<SsaProfile, 'native'>, { required: Record<string, Kind>; optional: Record<string, Kind> }> = {
  // Open Finance Brasil DCR 1.0 §7.1 / Raidiam Connect `…/assertion`; no exp in the ecosystem's own SSAs.
  obbr: {
    required: {
      iss: 'string', iat: 'number', jti: 'string', software_id: 'string', software_client_id: 'string', software_client_name: 'string',
      software_redirect_uris: 'uri[]', software_roles: 'string[]', software_jwks_uri: 'uri', software_mode: 'string', org_id: 'string',
      org_name: 'string', org_status: ['Active', 'Pending', 'Withdrawn', 'Inactive'],
    },
    optional: {
      exp: 'number', software_version: 'string', software_client_uri: 'uri', software_logo_uri: 'uri', software_tos_uri: 'uri', software_policy_uri: 'uri',
      software_jwks_inactive_uri: 'uri', software_jwks_transport_uri: 'uri', software_jwks_transport_inactive_uri: 'uri', org_jwks_uri: 'uri',
      org_number: 'string', software_statement_roles: 'object|object[]', organisation_competent_authority_claims: 'object|object[]',
    },
  },
  // OBIE Directory API 2.2, "SSA Payload": no exp ("SSA lifetime … not defined by Open Banking").
  uk: {
    required: {
      iss: 'string', iat: 'number', jti: 'string', software_id: 'string', software_client_id: 'string', software_client_name: 'string',
      software_redirect_uris: 'uri[]', software_roles: 'string[]', software_jwks_endpoint: 'uri', org_id: 'string', org_name: 'string',
      org_status: ['Active', 'Revoked', 'Withdrawn'],
    },
    optional: {
      exp: 'number', software_version: 'string', software_mode: 'string', software_client_uri: 'uri', software_logo_uri: 'uri', software_tos_uri: 'uri',
      software_policy_uri: 'uri', software_jwks_revoked_endpoint: 'uri', org_jwks_endpoint: 'uri', org_jwks_revoked_endpoint: 'uri',
      organisation_competent_authority_claims: 'object|object[]',
    },
  },
  // CDS "CDR Register" SSA: RFC 7591 names, org_* = the brand, exp = iat + 600, no org_status.
  cdr: {
    required: {
      iss: 'string', iat: 'number', exp: 'number', jti: 'string', legal_entity_id: 'string', legal_entity_name: 'string', org_id: 'string', org_name: 'string',
      client_name: 'string', client_description: 'string', client_uri: 'uri', redirect_uris: 'uri[]', logo_uri: 'uri', jwks_uri: 'uri',
      recipient_base_uri: 'uri', software_id: 'string', software_roles: 'string', scope: 'text',
    },
    optional: { tos_uri: 'uri', policy_uri: 'uri', revocation_uri: 'uri', sector_identifier_uri: 'uri' },
  },
};

function ok(value: unknown, kind: Kind): boolean {
  if (Array.isArray(kind)) return typeof value === 'string' && kind.includes(value);
  const uri = (v: unknown) => typeof v === 'string' && URL.canParse(v);
  const obj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  switch (kind) {
    case 'string': return typeof value === 'string' && value.length > 0;
    case 'text': return typeof value === 'string';
    case 'uri': return uri(value);
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'string[]': return Array.isArray(value) && value.every((v) => typeof v === 'string' && v.length > 0);
    case 'uri[]': return Array.isArray(value) && value.every(uri);
    case 'object': return obj(value);
    default: return obj(value) || (Array.isArray(value) && value.every(obj));
  }
}

/** Every claim the profile requires present and well-typed; optional ones well-typed when present (`null` refused). */
export function assertProfileClaimShapes(payload: Record<string, unknown>, profile: Exclude<SsaProfile, 'native'>): void {
  const { required, optional } = PROFILES[profile];
  for (const [claim, kind] of Object.entries(required)) {
    if (payload[claim] === undefined) throw new SoftwareStatementError('ERR_SSA_CLAIM_MISSING', `required ${profile} claim "${claim}" is missing`, { claim });
    if (!ok(payload[claim], kind)) throw new SoftwareStatementError('ERR_SSA_CLAIM_TYPE', `${profile} claim "${claim}" has the wrong type or value`, { claim });
  }
  for (const [claim, kind] of Object.entries(optional)) {
    if (claim in payload && !ok(payload[claim], kind)) throw new SoftwareStatementError('ERR_SSA_CLAIM_TYPE', `${profile} claim "${claim}" has the wrong type or value`, { claim });
  }
}

/** The profile whose claim set an SSA carries, read from the names only that profile uses. */
export function ssaProfileOf(claims: Record<string, unknown>): SsaProfile {
  if ('software_jwks_endpoint' in claims) return 'uk';
  if ('software_jwks_uri' in claims) return 'obbr';
  if ('legal_entity_id' in claims && 'recipient_base_uri' in claims) return 'cdr';
  return 'native';
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A 22-character base-62 GUID (OBIE software ids) as the UUID the directory's participant list uses. */
function uuidOf(id: string): string {
  if (!/^[0-9A-Za-z]{22}$/.test(id)) return id;
  let n = 0n;
  for (const c of id) n = n * 62n + BigInt(BASE62.indexOf(c));
  const h = n.toString(16).padStart(32, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** What registration checks and the status check read, whatever the profile's claim names. */
export interface RegistrationView {
  redirectUris: string[];
  jwksUri: string;
  /** Absent when the profile carries no scope (OBBR, UK: the authorisation server maps roles to scopes). */
  scope?: string;
  /** Absent when the profile does not say (only the native SSA carries it). */
  authMethod?: string;
  /** The organisation and software statement as the directory's participant list names them. */
  orgId: string;
  softwareId: string;
  /** Whether the SSA itself says the organisation is active (CDR SSAs carry no status: true). */
  orgActive: boolean;
}

export function registrationView(claims: Record<string, unknown>): RegistrationView {
  const s = (k: string) => claims[k] as string;
  switch (ssaProfileOf(claims)) {
    case 'obbr':
      return { redirectUris: claims.software_redirect_uris as string[], jwksUri: s('software_jwks_uri'), orgId: s('org_id'), softwareId: s('software_id'), orgActive: claims.org_status === 'Active' };
    case 'uk':
      return { redirectUris: claims.software_redirect_uris as string[], jwksUri: s('software_jwks_endpoint'), orgId: s('org_id'), softwareId: uuidOf(s('software_id')), orgActive: claims.org_status === 'Active' };
    case 'cdr':
      return { redirectUris: claims.redirect_uris as string[], jwksUri: s('jwks_uri'), scope: s('scope'), orgId: s('legal_entity_id'), softwareId: s('software_id'), orgActive: true };
    default:
      return {
        redirectUris: claims.redirect_uris as string[], jwksUri: s('jwks_uri'), scope: s('scope'), authMethod: s('token_endpoint_auth_method'),
        orgId: s('org_id'), softwareId: s('software_id'), orgActive: claims.org_status === 'active',
      };
  }
}
