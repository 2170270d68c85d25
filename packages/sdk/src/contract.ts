import { z } from 'zod';

/**
 * The directory's wire contract (DESIGN §6, §7), written once in zod: the server's routes answer through these
 * schemas (and its OpenAPI document is generated from them), the SDK's types are inferred from them and its
 * `DirectoryClient` decodes answers with them. Times travel as RFC 3339 strings and decode to `Date`.
 */

/** RFC 3339 on the wire, `Date` in code: the server encodes its `Date`s, the SDK decodes the strings. */
export const timestamp = z.codec(z.iso.datetime({ offset: true }), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});

/** CRLReason (RFC 5280 §5.3.1), for CRL entries, OCSP RevokedInfo (RFC 6960 §4.2.1) and the revoke API. */
export const revocationReasons = [
  'unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation',
  'certificateHold', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise',
] as const;
export const revocationReason = z.enum(revocationReasons);
export type RevocationReason = z.infer<typeof revocationReason>;

/** The CRLReason ENUMERATED value of each reason; 7 is unused in the ASN.1 definition. */
export const reasonCodes: Readonly<Record<RevocationReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

export function reasonFromCode(code: number): RevocationReason | undefined {
  return revocationReasons.find((r) => reasonCodes[r] === code);
}

/** Organisation lifecycle (DESIGN §6): `pending → active ⇄ suspended`, `→ revoked`, `withdrawn`. */
export const organisationStatus = z.enum(['pending', 'active', 'suspended', 'revoked', 'withdrawn']);
export type OrganisationStatus = z.infer<typeof organisationStatus>;
/** Software statement lifecycle: `active ⇄ inactive`, `→ removed`. */
export const softwareStatementStatus = z.enum(['active', 'inactive', 'removed']);
export type SoftwareStatementStatus = z.infer<typeof softwareStatementStatus>;
export const roleStatus = z.enum(['active', 'inactive']);
export const softwareMode = z.enum(['live', 'test']);
/** FAPI 2.0 client authentication at authorisation servers (RFC 7591 §2, RFC 8705 §2.1). */
export const tokenEndpointAuthMethod = z.enum(['private_key_jwt', 'tls_client_auth']);
export const certificateType = z.enum(['transport', 'signing']);

// ---------------------------------------------------------------------------------------------------------------
// GET {issuer}/participants

export const participantRole = z.object({ role: z.string(), status: roleStatus });
export type ParticipantRole = z.infer<typeof participantRole>;

export const apiResource = z.object({
  family: z.string(),
  version: z.string(),
  base_url: z.string(),
  /** The endpoints of this API family an ecosystem lists for discovery (OBBR ApiDiscoveryEndpoints). */
  discovery_endpoints: z.array(z.string()).optional(),
});
export type ParticipantApiResource = z.infer<typeof apiResource>;

export const participantAuthorisationServer = z.object({
  id: z.uuid(),
  issuer: z.string(),
  discovery_url: z.string(),
  customer_friendly_name: z.string(),
  logo_uri: z.string().optional(),
  api_resources: z.array(apiResource),
});
export type ParticipantAuthorisationServer = z.infer<typeof participantAuthorisationServer>;

export const participantSoftwareStatement = z.object({
  software_id: z.uuid(),
  client_name: z.string(),
  status: softwareStatementStatus,
  roles: z.array(z.string()),
  mode: softwareMode,
  version: z.number().int(),
  jwks_uri: z.string(),
});
export type ParticipantSoftwareStatement = z.infer<typeof participantSoftwareStatement>;

/** One organisation of `GET {issuer}/participants`. */
export const participant = z.object({
  org_id: z.uuid(),
  legal_name: z.string(),
  registration_number: z.string(),
  country: z.string(),
  status: organisationStatus,
  roles: z.array(participantRole),
  jwks_uri: z.string(),
  authorisation_servers: z.array(participantAuthorisationServer),
  software_statements: z.array(participantSoftwareStatement),
  /**
   * When the organisation, its software or its servers last changed (RFC 3339, as PostgreSQL writes it): the time to
   * pass as `updated_since` for a delta of the list.
   */
  updated_at: z.iso.datetime({ offset: true }),
});
export type Participant = z.infer<typeof participant>;
export const participantList = z.array(participant);

// ---------------------------------------------------------------------------------------------------------------
// Key sets: GET {issuer}/jwks and the keystores {issuer}/organisations/{org}[/software-statements/{id}]/jwks

/** A public JWK (RFC 7517 §4); members beyond these pass through. */
export const publicJwk = z.looseObject({
  kty: z.string(),
  kid: z.string(),
  use: z.string().optional(),
  alg: z.string().optional(),
});

/** The directory's signing keys (SSAs, access tokens, SETs). */
export const directoryJwks = z.object({ keys: z.array(publicJwk) });

/** A certificate as a keystore JWK: `kid` = `x5t#S256`, `use` `tls` (transport) or `sig` (signing), `x5c` leaf first. */
export const certificateJwk = z.looseObject({
  kty: z.string(),
  kid: z.string(),
  use: z.enum(['tls', 'sig']),
  x5c: z.array(z.string()).min(1),
  'x5t#S256': z.string(),
  nbf: z.number().int(),
  exp: z.number().int(),
  revoked_at: z.number().int().optional(),
});
export type CertificateJwk = z.infer<typeof certificateJwk>;
export const keystore = z.object({ keys: z.array(certificateJwk) });

// ---------------------------------------------------------------------------------------------------------------
// Participant API (mTLS listener)

/** `POST …/certificates`, and each certificate the organisation's list holds. */
export const issuedCertificate = z.object({
  /** Hexadecimal serial number. */
  serial: z.string(),
  type: certificateType,
  /** The issued certificate, PEM. */
  certificate: z.string(),
  /** The issuing CA certificate(s) that follow it, one PEM string each (append them to serve a full chain). */
  chain: z.array(z.string()),
  'x5t#S256': z.string(),
  not_before: timestamp,
  not_after: timestamp,
  status: z.enum(['active', 'revoked']),
});
export type IssuedCertificate = z.output<typeof issuedCertificate>;

export const certificateListItem = issuedCertificate.extend({
  software_id: z.string().nullable(),
  revoked_at: timestamp.optional(),
  revocation_reason: revocationReason.optional(),
});
export type CertificateListItem = z.output<typeof certificateListItem>;

export const organisationRecord = z.object({
  id: z.uuid(),
  legal_name: z.string(),
  registration_number: z.string(),
  country: z.string(),
  status: organisationStatus,
  roles: z.array(participantRole),
  company_register: z.string().optional(),
  registration_id: z.string().optional(),
  authority_claims: z.array(z.object({
    role: z.string(),
    authorisation_domain: z.string(),
    authority_id: z.string(),
    authority_name: z.string(),
    authority_code: z.string().optional(),
    registration_id: z.string().optional(),
    member_states: z.array(z.string()),
    status: roleStatus,
  })),
  version: z.number().int(),
  created_at: timestamp,
  updated_at: timestamp,
});
export type OrganisationRecord = z.output<typeof organisationRecord>;

export const softwareStatementRecord = z.object({
  software_id: z.uuid(),
  org_id: z.uuid(),
  client_name: z.string(),
  client_description: z.string().optional(),
  client_uri: z.string().optional(),
  logo_uri: z.string().optional(),
  tos_uri: z.string().optional(),
  policy_uri: z.string().optional(),
  redirect_uris: z.array(z.string()),
  roles: z.array(z.string()),
  mode: softwareMode,
  token_endpoint_auth_method: tokenEndpointAuthMethod,
  environment: z.string().optional(),
  on_behalf_of: z.string().optional(),
  status: softwareStatementStatus,
  version: z.number().int(),
  jwks_uri: z.string(),
  created_at: timestamp,
  updated_at: timestamp,
});
export type SoftwareStatementRecord = z.output<typeof softwareStatementRecord>;

export const authorisationServerRecord = z.object({
  id: z.uuid(),
  org_id: z.uuid(),
  issuer: z.string(),
  discovery_url: z.string(),
  customer_friendly_name: z.string(),
  logo_uri: z.string().optional(),
  api_resources: z.array(apiResource),
  version: z.number().int(),
  created_at: timestamp,
  updated_at: timestamp,
});
export type AuthorisationServerRecord = z.output<typeof authorisationServerRecord>;

/** `POST {issuer}/enrol` (public listener): the participant's client id and its first transport certificate. */
export const enrolmentResult = z.object({ client_id: z.uuid(), org_id: z.uuid(), certificate: z.string(), chain: z.array(z.string()) });
export type EnrolmentResult = z.output<typeof enrolmentResult>;

// ---------------------------------------------------------------------------------------------------------------
// SSA (DESIGN §7)

/**
 * What the directory asserts in an SSA beyond the JWT claims (`iss`, `iat`, `exp`, `jti`): RFC 7591 §2 client
 * metadata, then the organisation claims. Optional claims are omitted when absent, never `null`.
 */
export const softwareStatementAssertionClaims = z.object({
  software_id: z.string().min(1),
  software_version: z.number(),
  software_mode: softwareMode,
  software_roles: z.array(z.string().min(1)),
  org_id: z.string().min(1),
  org_name: z.string().min(1),
  org_status: organisationStatus,
  org_jwks_uri: z.url(),
  client_name: z.string().min(1),
  client_description: z.string().min(1).optional(),
  client_uri: z.url().optional(),
  logo_uri: z.url().optional(),
  tos_uri: z.url().optional(),
  policy_uri: z.url().optional(),
  redirect_uris: z.array(z.url()),
  jwks_uri: z.url(),
  token_endpoint_auth_method: tokenEndpointAuthMethod,
  /** Space-separated scope values (RFC 6749 §3.3); "" when the roles map to no scope. */
  scope: z.string(),
});
export type SoftwareStatementAssertionClaims = z.infer<typeof softwareStatementAssertionClaims>;
