import type { SsaProfile, SsaSource } from '../../ssa/ssa-service.js'
import { ecosystemRole, titleStatus } from '../common.js'
import { obbrKeystore } from './urls.js'

/**
 * The Open Finance Brasil SSA claim set (DCR 1.0 ID3 §"Software Statement Assertion"; Raidiam Connect
 * `…/softwarestatements/{id}/assertion`): `software_*` names, keystore URLs in the Raidiam layout,
 * roles with their authorisation domain and status, and the organisation's competent-authority claims.
 * Absent optional values are omitted, never null.
 */
export function obbrSsaProfile (opts: { issuer: string, keystoreBase: string, defaultDomain: string }): SsaProfile {
  const ks = obbrKeystore(opts.keystoreBase)
  return {
    issuer: opts.issuer,
    claims: ({ org, software }: SsaSource) => {
      const domainOf = (role: string): string => org.authorityClaims.find((c) => c.role === role && c.status === 'active')?.authorisation_domain
        ?? org.authorityClaims.find((c) => c.role === role)?.authorisation_domain ?? opts.defaultDomain
      const optional = Object.fromEntries(Object.entries({
        software_client_description: software.clientDescription, software_client_uri: software.clientUri, software_logo_uri: software.logoUri,
        software_tos_uri: software.tosUri, software_policy_uri: software.policyUri, software_environment: software.environment,
      }).filter(([, v]) => v !== null))
      return {
        software_id: software.id,
        software_client_id: software.id,
        software_client_name: software.clientName,
        ...optional,
        software_version: String(software.version),
        software_mode: titleStatus(software.mode),
        software_redirect_uris: software.redirectUris,
        software_roles: software.roles.map(ecosystemRole),
        // The SSA is issued only while every role is active (the status gate), so each says Active.
        software_statement_roles: software.roles.map((r) => ({ role: ecosystemRole(r), authorisation_domain: domainOf(r), status: 'Active' })),
        software_jwks_uri: ks.application(org.id, software.id),
        software_jwks_inactive_uri: ks.applicationInactive(org.id, software.id),
        software_jwks_transport_uri: ks.transport(org.id, software.id),
        software_jwks_transport_inactive_uri: ks.transportInactive(org.id, software.id),
        org_id: org.id,
        org_name: org.legalName,
        org_number: org.registrationNumber,
        org_status: titleStatus(org.status),
        org_jwks_uri: ks.organisation(org.id),
        org_jwks_inactive_uri: ks.organisationInactive(org.id),
        organisation_competent_authority_claims: org.authorityClaims.map((c) => ({
          authority_id: c.authority_id,
          authority_name: c.authority_name,
          ...(c.authority_code !== null ? { authority_code: c.authority_code } : {}),
          ...(c.registration_id !== null ? { registration_id: c.registration_id } : {}),
          authorisation_domain: c.authorisation_domain,
          authorisation_role: ecosystemRole(c.role),
          authorisations: c.member_states.map((m) => ({ member_state: m, status: titleStatus(c.status) })),
          status: titleStatus(c.status),
        })),
      }
    },
  }
}
