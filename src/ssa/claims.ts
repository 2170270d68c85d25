import type { OrganisationStatus, SoftwareStatementAssertionClaims } from '@ecosystem-directory/sdk'
import { keystoreUrls } from '../registry/deps.js'

/** What an SSA asserts (DESIGN.md §7), as the SDK's wire contract defines it for verifiers. */
export type SsaClaims = SoftwareStatementAssertionClaims

interface Source {
  org: { id: string, legalName: string, status: string }
  software: {
    id: string, version: number, mode: 'live' | 'test', roles: string[], tokenEndpointAuthMethod: string, clientName: string, clientDescription: string | null
    clientUri: string | null, logoUri: string | null, tosUri: string | null, policyUri: string | null, redirectUris: string[]
  }
}

export function ssaClaims ({ org, software }: Source, issuer: string, roleScopes: Record<string, string[]>): SsaClaims {
  const urls = keystoreUrls(issuer)
  const scope = [...new Set(software.roles.flatMap((r) => roleScopes[r] ?? []))].join(' ')
  // Absent optional values are omitted, never null (DESIGN.md §7).
  const optional = Object.fromEntries(Object.entries({
    client_description: software.clientDescription, client_uri: software.clientUri, logo_uri: software.logoUri,
    tos_uri: software.tosUri, policy_uri: software.policyUri,
  }).filter(([, v]) => v !== null))
  return {
    software_id: software.id,
    software_version: software.version,
    software_mode: software.mode,
    software_roles: software.roles,
    org_id: org.id,
    org_name: org.legalName,
    org_status: org.status as OrganisationStatus,
    org_jwks_uri: urls.organisation(org.id),
    client_name: software.clientName,
    ...optional,
    redirect_uris: software.redirectUris,
    jwks_uri: urls.software(org.id, software.id),
    token_endpoint_auth_method: software.tokenEndpointAuthMethod as SsaClaims['token_endpoint_auth_method'],
    scope,
  }
}
