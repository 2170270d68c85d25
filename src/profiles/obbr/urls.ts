/** The Raidiam keystore layout under the profile's public base (e.g. https://keystore.directory.openbankingbrasil.org.br). */
export const obbrKeystore = (base: string) => ({
  directory: `${base}/openbanking.jwks`,
  organisation: (orgId: string) => `${base}/${orgId}/application.jwks`,
  organisationInactive: (orgId: string) => `${base}/${orgId}/inactive/application.jwks`,
  application: (orgId: string, softwareId: string) => `${base}/${orgId}/${softwareId}/application.jwks`,
  applicationInactive: (orgId: string, softwareId: string) => `${base}/${orgId}/${softwareId}/inactive/application.jwks`,
  transport: (orgId: string, softwareId: string) => `${base}/${orgId}/${softwareId}/transport.jwks`,
  transportInactive: (orgId: string, softwareId: string) => `${base}/${orgId}/${softwareId}/inactive/transport.jwks`,
})
