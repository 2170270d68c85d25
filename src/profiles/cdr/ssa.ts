import type { SsaProfile, SsaSource } from '../../ssa/ssa-service.js'

/** What the CDR SSA needs beyond the SSA source: the product's brand and the URIs it carries. */
export interface CdrProduct {
  brandId: string, brandName: string, recipientBaseUri: string, sectorIdentifierUri: string | null, jwksUri: string, revocationUri: string | null
}

/** The Register's `iss` is this string, not a URL (CDS "CDR Register" SSA). */
export const cdrIssuer = 'cdr-register'
/** SSAs live ten minutes (CDS: "exp" = iat + 600). */
export const cdrSsaTtl = 600

/**
 * The CDR SSA claim set (CDS "Software Statement Assertion"): RFC 7591 client metadata names, the
 * legal entity, org_* naming the **brand**, software_roles as one string, scope from the roles.
 */
export function cdrSsaProfile (product: CdrProduct, rolesScopes: Record<string, string[]>): SsaProfile {
  return {
    issuer: cdrIssuer,
    ttl: cdrSsaTtl,
    claims: ({ org, software }: SsaSource) => ({
      legal_entity_id: org.id,
      legal_entity_name: org.legalName,
      org_id: product.brandId,
      org_name: product.brandName,
      client_name: software.clientName,
      client_description: software.clientDescription,
      client_uri: software.clientUri,
      redirect_uris: software.redirectUris,
      logo_uri: software.logoUri,
      ...(software.tosUri !== null ? { tos_uri: software.tosUri } : {}),
      ...(software.policyUri !== null ? { policy_uri: software.policyUri } : {}),
      jwks_uri: product.jwksUri,
      ...(product.revocationUri !== null ? { revocation_uri: product.revocationUri } : {}),
      recipient_base_uri: product.recipientBaseUri,
      software_id: software.id,
      software_roles: 'data-recipient-software-product',
      scope: [...new Set(software.roles.flatMap((r) => rolesScopes[r] ?? []))].join(' '),
      ...(product.sectorIdentifierUri !== null ? { sector_identifier_uri: product.sectorIdentifierUri } : {}),
    }),
  }
}
