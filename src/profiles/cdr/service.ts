import type { Actor, AuditLog } from '../../audit/audit-log.js'
import type { Clock } from '../../clock.js'
import type { Config } from '../../config.js'
import type { Prisma } from '../../db/database.js'
import type { SigningKeys } from '../../keys/signing-keys.js'
import type { CertificateAuthority } from '../../pki/authority.js'
import { Brands } from '../../registry/brands.js'
import { keystoreUrls } from '../../registry/deps.js'
import type { SsaService } from '../../ssa/ssa-service.js'
import { CdrError, cdrCodes } from './errors.js'
import * as register from './register.js'
import { cdrSsaProfile } from './ssa.js'
import { RegisterTokens, registerScope } from './tokens.js'

/** Where the Register's IdP lives (CDS: `/idp/.well-known/openid-configuration`, mock-register `/idp/connect/token`). */
export const idpPath = '/idp'

/** The CDR Register (Australia): discovery, status and SSA endpoints, read from the registry. */
export class CdrProfile {
  readonly tokens: RegisterTokens
  readonly issuer: string
  /** The registry's legal-entity details, brands and software products (admin API). */
  readonly brands: Brands
  constructor (private readonly d: {
    prisma: Prisma, clock: Clock, keys: SigningKeys, authority: CertificateAuthority, ssa: SsaService, audit: AuditLog
    config: Pick<Config, 'DIRECTORY_ISSUER' | 'MTLS_BASE_URL' | 'ROLES'>
  }) {
    this.brands = new Brands({ prisma: d.prisma, audit: d.audit, clock: d.clock, config: d.config })
    this.issuer = d.config.MTLS_BASE_URL + idpPath
    this.tokens = new RegisterTokens({ ...d, issuer: this.issuer, tokenEndpoint: `${this.issuer}/connect/token` })
  }

  /** ResponseOpenIDProviderConfigMetadata: the Register as a client-credentials-only authorisation server. */
  openidConfiguration (): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.d.config.DIRECTORY_ISSUER}${idpPath}/.well-known/openid-configuration/jwks`,
      token_endpoint: `${this.issuer}/connect/token`,
      claims_supported: ['sub'],
      id_token_signing_alg_values_supported: ['PS256', 'ES256'],
      subject_types_supported: ['public'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: [registerScope],
      response_types_supported: ['token'],
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      tls_client_certificate_bound_access_tokens: true,
      token_endpoint_auth_signing_alg_values_supported: ['PS256', 'ES256'],
    }
  }

  /** The directory's keys as the Register's JWK shape (alg, key_ops, kid …). */
  jwks (): { keys: unknown[] } {
    return { keys: this.d.keys.jwks().keys.map((k) => ({ ...k, key_ops: ['verify'] })) }
  }

  dataRecipients (): Promise<unknown[]> { return register.dataRecipients(this.d.prisma) }
  dataRecipientStatuses (): Promise<unknown[]> { return register.dataRecipientStatuses(this.d.prisma) }
  softwareProductStatuses (): Promise<unknown[]> { return register.softwareProductStatuses(this.d.prisma) }
  dataHolderStatuses (industry: string): Promise<unknown[]> { return register.dataHolderStatuses(this.d.prisma, industry) }
  dataHolderBrands (industry: string): Promise<register.HolderBrand[]> { return register.dataHolderBrands(this.d.prisma, industry) }

  /**
   * Whether a software product may use the Register now: it, its brand and its legal entity are all
   * active (read on every request, so a suspension bites at once). Returns why not, or undefined.
   */
  async standing (productId: string): Promise<string | undefined> {
    const p = await this.d.prisma.softwareProduct.findUnique({
      where: { softwareStatementId: productId },
      select: { brand: { select: { status: true } }, softwareStatement: { select: { status: true, organisation: { select: { status: true } } } } },
    })
    if (!p) return 'the software product is not on the Register'
    if (p.softwareStatement.organisation.status !== 'active') return `the data recipient is ${p.softwareStatement.organisation.status}`
    if (p.brand.status !== 'active') return `the data recipient brand is ${p.brand.status}`
    if (p.softwareStatement.status !== 'active') return `the software product is ${p.softwareStatement.status}`
    return undefined
  }

  /** GetSoftwareStatementAssertion: the product must be the caller's own and belong to the brand in the path. */
  async assertion (brandId: string, productId: string, callerProductId: string, who: Actor): Promise<string> {
    const p = await this.d.prisma.softwareProduct.findUnique({ where: { softwareStatementId: productId }, include: { brand: true, softwareStatement: true } })
    if (!p || productId !== callerProductId) throw CdrError(404, cdrCodes.notFound, `no software product ${productId} for this client`)
    if (p.brandId !== brandId) throw CdrError(403, cdrCodes.invalidBrand, `software product ${productId} is not a product of brand ${brandId}`)
    const sw = p.softwareStatement
    const missing = (['clientDescription', 'clientUri', 'logoUri'] as const).filter((k) => sw[k] === null)
    if (missing.length > 0) {
      const names = { clientDescription: 'client_description', clientUri: 'client_uri', logoUri: 'logo_uri' }
      throw CdrError(422, cdrCodes.fieldInvalid, `SSA validation failed: the software product has no ${missing.map((m) => names[m]).join(', ')}`)
    }
    const profile = cdrSsaProfile({
      brandId: p.brandId, brandName: p.brand.name, recipientBaseUri: p.recipientBaseUri, sectorIdentifierUri: p.sectorIdentifierUri,
      jwksUri: p.jwksUri ?? keystoreUrls(this.d.config.DIRECTORY_ISSUER).software(sw.organisationId, sw.id), revocationUri: p.revocationUri,
    }, this.d.config.ROLES)
    return this.d.ssa.issueAs(profile, sw.organisationId, sw.id, who)
  }
}
