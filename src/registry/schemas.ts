import { z } from 'zod'
import { checkUri, displayText, httpsUri } from './text.js'
import { organisationStatuses, softwareStatuses } from './lifecycle.js'

// The registry's API shapes (DESIGN.md §6), snake_case as OAuth and the SSA are. Request schemas are
// strict: an unknown field is refused. Types are inferred from here, never written twice.

export const uuid = z.uuid()
export const roleCode = z.string().regex(/^[a-z][a-z0-9-]{1,63}$/, 'must be a role code (lowercase letters, digits, -)')
export const roleStatus = z.enum(['active', 'inactive'])
export const country = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code')

const roleInput = z.union([roleCode.transform((role) => ({ role, status: 'active' as const })), z.object({ role: roleCode, status: roleStatus.default('active') }).strict()])
const roles = z.array(roleInput).max(20, 'at most 20 roles')
  .refine((rs) => new Set(rs.map((r) => r.role)).size === rs.length, 'each role at most once')

/** ISO 3166-1 alpha-2, or "EU"/"GB"-style member-state codes as the OBBR and OBIE claims use them. */
const memberState = z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter member state code')
const claimText = (max: number) => displayText(max)

/**
 * A competent authority's authorisation of the organisation for one of its roles in an authorisation
 * domain (OBBR OrgDomainRoleClaims / organisation_competent_authority_claims, OBIE competent-authority claims).
 */
export const authorityClaimInput = z.object({
  role: roleCode,
  authorisation_domain: claimText(30),
  authority_id: claimText(40),
  authority_name: claimText(255),
  authority_code: claimText(40).optional(),
  registration_id: claimText(40).optional(),
  member_states: z.array(memberState).max(40).default([]),
  status: roleStatus.default('active'),
}).strict()

const authorityClaims = z.array(authorityClaimInput).max(50, 'at most 50 authority claims')
  .refine((cs) => new Set(cs.map((c) => `${c.role}|${c.authorisation_domain}|${c.authority_id}`)).size === cs.length,
    'each (role, authorisation_domain, authority_id) at most once')

const organisationDetails = {
  company_register: displayText(255).optional(),
  registration_id: displayText(40).optional(),
  authority_claims: authorityClaims.optional(),
}

export const organisationCreate = z.object({
  // The legal name becomes the certificates' O attribute: RFC 5280 ub-organization-name is 64.
  legal_name: displayText(64),
  registration_number: displayText(64),
  country,
  roles: roles.optional(),
  status: z.enum(['pending', 'active']).optional(),
  ...organisationDetails,
}).strict()

export const organisationPatch = z.object({
  status: z.enum(organisationStatuses).optional(),
  roles: roles.optional(),
  company_register: organisationDetails.company_register.nullable(),
  registration_id: organisationDetails.registration_id.nullable(),
  authority_claims: organisationDetails.authority_claims,
}).strict().refine((p) => Object.values(p).some((v) => v !== undefined), 'give at least one field to change')

export const authorityClaim = z.object({
  role: z.string(),
  authorisation_domain: z.string(),
  authority_id: z.string(),
  authority_name: z.string(),
  authority_code: z.string().optional(),
  registration_id: z.string().optional(),
  member_states: z.array(z.string()),
  status: roleStatus,
})

export const organisation = z.object({
  id: uuid,
  legal_name: z.string(),
  registration_number: z.string(),
  country: z.string(),
  status: z.enum(organisationStatuses),
  roles: z.array(z.object({ role: z.string(), status: roleStatus })),
  company_register: z.string().optional(),
  registration_id: z.string().optional(),
  authority_claims: z.array(authorityClaim),
  version: z.number().int(),
  created_at: z.date(),
  updated_at: z.date(),
})

export const organisationList = z.object({
  organisations: z.array(organisation),
  next_cursor: z.string().nullable(),
})

export const organisationQuery = z.object({
  status: z.enum(organisationStatuses).optional(),
  role: roleCode.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: uuid.optional(),
}).strict()

const optionalUri = httpsUri.optional()
/** FAPI 2.0 client authentication at authorisation servers (RFC 7591 §2, RFC 8705 §2.1). */
export const tokenEndpointAuthMethod = z.enum(['private_key_jwt', 'tls_client_auth'])
const redirectUris = z.array(z.string().max(2048)).min(1, 'at least one redirect URI').max(20, 'at most 20 redirect URIs')

const softwareFields = {
  client_name: displayText(255),
  client_description: displayText(1000).optional(),
  client_uri: optionalUri,
  logo_uri: optionalUri,
  tos_uri: optionalUri,
  policy_uri: optionalUri,
  redirect_uris: redirectUris,
  roles: z.array(roleCode).min(1, 'at least one role').max(20)
    .refine((r) => new Set(r).size === r.length, 'each role at most once'),
  mode: z.enum(['live', 'test']).default('live'),
  token_endpoint_auth_method: tokenEndpointAuthMethod.default('private_key_jwt'),
  environment: displayText(256).optional(),
  on_behalf_of: displayText(40).optional(),
}

// Redirect URIs depend on the mode (http://localhost only for test software), so they are checked
// against the object as a whole.
function checkRedirectUris (value: { redirect_uris?: string[] | undefined, mode?: string | undefined }, ctx: z.RefinementCtx): void {
  for (const [i, uri] of (value.redirect_uris ?? []).entries()) {
    const problem = checkUri(uri, { allowLocalhostHttp: value.mode === 'test' })
    if (problem) ctx.addIssue({ code: 'custom', path: ['redirect_uris', i], message: problem })
  }
  if (value.redirect_uris && new Set(value.redirect_uris).size !== value.redirect_uris.length) {
    ctx.addIssue({ code: 'custom', path: ['redirect_uris'], message: 'each redirect URI at most once' })
  }
}

export const softwareCreate = z.object(softwareFields).strict().superRefine(checkRedirectUris)

export const softwarePatch = z.object({
  client_name: softwareFields.client_name.optional(),
  client_description: softwareFields.client_description.nullable(),
  client_uri: optionalUri.nullable(),
  logo_uri: optionalUri.nullable(),
  tos_uri: optionalUri.nullable(),
  policy_uri: optionalUri.nullable(),
  redirect_uris: redirectUris.optional(),
  roles: softwareFields.roles.optional(),
  mode: z.enum(['live', 'test']).optional(),
  token_endpoint_auth_method: tokenEndpointAuthMethod.optional(),
  environment: softwareFields.environment.nullable(),
  on_behalf_of: softwareFields.on_behalf_of.nullable(),
  status: z.enum(softwareStatuses).optional(),
}).strict().partial().refine((p) => Object.keys(p).length > 0, 'give at least one field to change')

export const softwareStatement = z.object({
  software_id: uuid,
  org_id: uuid,
  client_name: z.string(),
  client_description: z.string().optional(),
  client_uri: z.string().optional(),
  logo_uri: z.string().optional(),
  tos_uri: z.string().optional(),
  policy_uri: z.string().optional(),
  redirect_uris: z.array(z.string()),
  roles: z.array(z.string()),
  mode: z.enum(['live', 'test']),
  token_endpoint_auth_method: tokenEndpointAuthMethod,
  environment: z.string().optional(),
  on_behalf_of: z.string().optional(),
  status: z.enum(softwareStatuses),
  version: z.number().int(),
  jwks_uri: z.string(),
  created_at: z.date(),
  updated_at: z.date(),
})

const apiResource = z.object({
  family: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be an API family code'),
  version: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, 'must be a version string'),
  base_url: httpsUri,
  // The endpoints of this API family an ecosystem lists for discovery (OBBR ApiDiscoveryEndpoints).
  discovery_endpoints: z.array(httpsUri).max(100).optional(),
}).strict()

export const authorisationServerCreate = z.object({
  issuer: httpsUri,
  discovery_url: httpsUri,
  customer_friendly_name: displayText(255),
  logo_uri: optionalUri,
  api_resources: z.array(apiResource).max(100).default([]),
}).strict()

export const authorisationServerPatch = z.object({
  discovery_url: httpsUri,
  customer_friendly_name: displayText(255),
  logo_uri: optionalUri.nullable(),
  api_resources: z.array(apiResource).max(100),
}).strict().partial().refine((p) => Object.keys(p).length > 0, 'give at least one field to change')

export const authorisationServer = z.object({
  id: uuid,
  org_id: uuid,
  issuer: z.string(),
  discovery_url: z.string(),
  customer_friendly_name: z.string(),
  logo_uri: z.string().optional(),
  api_resources: z.array(z.object({ family: z.string(), version: z.string(), base_url: z.string(), discovery_endpoints: z.array(z.string()).optional() })),
  version: z.number().int(),
  created_at: z.date(),
  updated_at: z.date(),
})

export type AuthorityClaimInput = z.infer<typeof authorityClaimInput>
export type AuthorityClaim = z.infer<typeof authorityClaim>
export type OrganisationCreate = z.infer<typeof organisationCreate>
export type OrganisationPatch = z.infer<typeof organisationPatch>
export type Organisation = z.infer<typeof organisation>
export type OrganisationQuery = z.infer<typeof organisationQuery>
export type SoftwareCreate = z.infer<typeof softwareCreate>
export type SoftwarePatch = z.infer<typeof softwarePatch>
export type SoftwareStatement = z.infer<typeof softwareStatement>
export type AuthorisationServerCreate = z.infer<typeof authorisationServerCreate>
export type AuthorisationServerPatch = z.infer<typeof authorisationServerPatch>
export type AuthorisationServer = z.infer<typeof authorisationServer>
