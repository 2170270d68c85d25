import type { App } from '../../app.js'
import { operatorScopes } from '../../auth/scopes.js'
import { ecosystemProfiles } from '../../profiles/common.js'
import { sendDocument } from '../send-document.js'

/** RFC 8414 metadata, with the RFC 8705 mTLS aliases and our extra endpoints. */
export default async function discoveryRoutes (app: App): Promise<void> {
  const { config, documents, authority } = app.services
  const issuer = config.DIRECTORY_ISSUER
  const mtls = config.MTLS_BASE_URL
  const metadata = {
    issuer,
    token_endpoint: `${mtls}/token`,
    mtls_endpoint_aliases: { token_endpoint: `${mtls}/token` },
    jwks_uri: `${issuer}/jwks`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['PS256', 'ES256'],
    tls_client_certificate_bound_access_tokens: true,
    scopes_supported: operatorScopes,
    response_types_supported: [],
    service_documentation: `${issuer}/docs`,
    participants_endpoint: `${issuer}/participants`,
    ca_bundle_uri: `${issuer}/pki/ca.pem`,
    crl_uri: `${issuer}/pki/crl`,
    // The root's CRL about the issuing CA: ours when we hold the root key, else where its owner publishes it.
    ...(authority.hasRootKey() ? { root_crl_uri: `${issuer}/pki/root.crl` } : config.CA_ROOT_CRL_URL !== undefined ? { root_crl_uri: config.CA_ROOT_CRL_URL } : {}),
    ocsp_uri: `${issuer}/pki/ocsp`,
    enrolment_endpoint: `${issuer}/enrol`,
    api_base_uri: mtls,
    software_statement_signing_alg_values_supported: [config.SIGNING_ALG],
    // Each enabled ecosystem profile's base URLs on the public and mTLS listeners.
    ...(config.ECOSYSTEM_PROFILES.length > 0 ? { ecosystem_profiles: ecosystemProfiles(config) } : {}),
  }
  const body = JSON.stringify(metadata)
  app.get('/.well-known/openid-configuration', {
    schema: { tags: ['trust anchors'], summary: 'Authorization server metadata (RFC 8414)' },
  }, async (request, reply) => sendDocument(request, reply, await documents.get('discovery', async () => ({ body, contentType: 'application/json' })), 3600))
}
