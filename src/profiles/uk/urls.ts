import { toBase62 } from './ids.js'

/**
 * The OBIE keystore layout (keystore.openbanking.org.uk) under the profile's public base:
 * `/{org_id}/{org_id}.jwks`, `/{org_id}/{software_id}.jwks` and their `revoked/` twins.
 */
export const ukKeystore = (base: string) => ({
  directory: `${base}/openbanking.jwks`,
  organisation: (orgId: string) => `${base}/${orgId}/${orgId}.jwks`,
  organisationRevoked: (orgId: string) => `${base}/${orgId}/revoked/${orgId}.jwks`,
  software: (orgId: string, softwareId: string) => `${base}/${orgId}/${toBase62(softwareId)}.jwks`,
  softwareRevoked: (orgId: string, softwareId: string) => `${base}/${orgId}/revoked/${toBase62(softwareId)}.jwks`,
})
