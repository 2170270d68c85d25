import type { SsaAuthorityClaim, SsaContact, SsaProfile, SsaSource } from '../../ssa/ssa-service.js'
import { ecosystemRole, titleStatus } from '../common.js'
import { toBase62 } from './ids.js'
import { ukKeystore } from './urls.js'

/**
 * OBIE `organisation_competent_authority_claims` is one object: the authority that authorised the
 * organisation (an active one first), with the roles it granted per member state.
 */
function competentAuthority (claims: SsaAuthorityClaim[]): Record<string, unknown> | undefined {
  const first = claims.find((c) => c.status === 'active') ?? claims[0]
  if (!first) return undefined
  const mine = claims.filter((c) => c.authority_id === first.authority_id)
  const states = new Map<string, string[]>()
  for (const c of mine.filter((c) => c.status === 'active')) {
    for (const m of c.member_states) states.set(m, [...new Set([...(states.get(m) ?? []), ecosystemRole(c.role)])])
  }
  return {
    authority_id: first.authority_id,
    ...(first.registration_id !== null ? { registration_id: first.registration_id } : {}),
    status: mine.some((c) => c.status === 'active') ? 'Active' : 'Inactive',
    authorisations: [...states].map(([member_state, roles]) => ({ member_state, roles })),
  }
}

// OBIE `org_contacts` types, as the Directory API's example SSA spells them. OBIE has no security-incident
// contact type: those stay out of the SSA rather than be passed off as another kind.
const contactTypes: Record<string, string> = { business: 'business', technical: 'technical' }

/** OBIE `org_contacts`: `{name, email, phone, type}` per business and technical contact, no null phone. */
function orgContacts (contacts: SsaContact[]): Array<Record<string, string>> {
  return contacts.filter((c) => contactTypes[c.type]).map((c) => ({
    name: c.name, email: c.email, ...(c.phone !== null ? { phone: c.phone } : {}), type: contactTypes[c.type]!,
  }))
}

/**
 * The OBIE SSA claim set (uk-directory-openapi.yaml, `…/software-statement-assertion`, "SSA Payload"):
 * `software_*` and `org_*` names, keystore endpoints in the OBIE layout, software ids as base-62
 * GUIDs. Absent optional values are omitted, never null.
 */
export function ukSsaProfile (opts: { issuer: string, keystoreBase: string }): SsaProfile {
  const ks = ukKeystore(opts.keystoreBase)
  return {
    issuer: opts.issuer,
    contacts: true,
    claims: ({ org, software }: SsaSource) => {
      const authority = competentAuthority(org.authorityClaims)
      const optional = Object.fromEntries(Object.entries({
        software_client_description: software.clientDescription, software_client_uri: software.clientUri, software_logo_uri: software.logoUri,
        software_tos_uri: software.tosUri, software_policy_uri: software.policyUri, software_environment: software.environment,
        software_on_behalf_of_org: software.onBehalfOf, organisation_competent_authority_claims: authority,
      }).filter(([, v]) => v !== null && v !== undefined))
      const id = toBase62(software.id)
      return {
        software_id: id,
        software_client_id: id,
        software_client_name: software.clientName,
        ...optional,
        software_version: String(software.version),
        software_mode: titleStatus(software.mode),
        software_redirect_uris: software.redirectUris,
        software_roles: software.roles.map(ecosystemRole),
        software_jwks_endpoint: ks.software(org.id, software.id),
        software_jwks_revoked_endpoint: ks.softwareRevoked(org.id, software.id),
        org_status: titleStatus(org.status),
        org_id: org.id,
        org_name: org.legalName,
        org_contacts: orgContacts(org.contacts ?? []),
        org_jwks_endpoint: ks.organisation(org.id),
        org_jwks_revoked_endpoint: ks.organisationRevoked(org.id),
      }
    },
  }
}
