import { keystoreUrls } from '../registry/deps.js'

/** What an SSA asserts (DESIGN.md §7): RFC 7591 client metadata first, then the organisation claims. */
export interface SsaClaims {
  software_id: string
  software_version: number
  software_mode: 'live' | 'test'
  software_roles: string[]
  org_id: string
  org_name: string
  org_status: string
  org_jwks_uri: string
  client_name: string
  client_description?: string
  client_uri?: string
  logo_uri?: string
  tos_uri?: string
  policy_uri?: string
  redirect_uris: string[]
  jwks_uri: string
  token_endpoint_auth_method: 'private_key_jwt' | 'tls_client_auth'
  scope: string
}

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
    org_status: org.status,
    org_jwks_uri: urls.organisation(org.id),
    client_name: software.clientName,
    ...optional,
    redirect_uris: software.redirectUris,
    jwks_uri: urls.software(org.id, software.id),
    token_endpoint_auth_method: software.tokenEndpointAuthMethod as SsaClaims['token_endpoint_auth_method'],
    scope,
  }
}
