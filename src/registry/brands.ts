import { randomUUID } from 'node:crypto'
import type { Actor } from '../audit/audit-log.js'
import type { Tx } from '../db/database.js'
import { NotFound, ValidationFailed } from '../errors.js'
import type { Brand, BrandCreate, BrandPatch, LegalEntity, LegalEntityInput, SoftwareProduct, SoftwareProductInput } from './cdr-schemas.js'
import { bumpRegistryVersion, type RegistryDeps } from './deps.js'

type BrandRow = {
  id: string, organisationId: string, kind: string, name: string, brandGroup: string | null, logoUri: string, industries: string[], status: string
  endpointVersion: string | null, publicBaseUri: string | null, resourceBaseUri: string | null, infosecBaseUri: string | null
  productBaseUri: string | null, extensionBaseUri: string | null, websiteUri: string | null, jwksEndpoint: string | null, createdAt: Date, updatedAt: Date
}

const opt = <K extends string, V>(k: K, v: V | null | undefined): Partial<Record<K, V>> => (v === null || v === undefined ? {} : { [k]: v } as Record<K, V>)

export function brandView (r: BrandRow): Brand {
  return {
    id: r.id, organisation_id: r.organisationId, kind: r.kind as Brand['kind'], name: r.name, ...opt('brand_group', r.brandGroup), logo_uri: r.logoUri,
    industries: r.industries, status: r.status as Brand['status'],
    ...(r.endpointVersion && r.publicBaseUri && r.resourceBaseUri && r.infosecBaseUri && r.websiteUri
      ? {
          endpoint_detail: {
            version: r.endpointVersion, public_base_uri: r.publicBaseUri, resource_base_uri: r.resourceBaseUri, infosec_base_uri: r.infosecBaseUri,
            ...opt('product_base_uri', r.productBaseUri), ...opt('extension_base_uri', r.extensionBaseUri), website_uri: r.websiteUri,
          },
        }
      : {}),
    ...opt('jwks_endpoint', r.jwksEndpoint), created_at: r.createdAt, updated_at: r.updatedAt,
  }
}

const endpointData = (e: BrandCreate['endpoint_detail']) => (e
  ? {
      endpointVersion: e.version, publicBaseUri: e.public_base_uri, resourceBaseUri: e.resource_base_uri, infosecBaseUri: e.infosec_base_uri,
      productBaseUri: e.product_base_uri ?? null, extensionBaseUri: e.extension_base_uri ?? null, websiteUri: e.website_uri,
    }
  : {})

function legalEntityView (r: { organisationId: string, logoUri: string, abn: string | null, acn: string | null, arbn: string | null, anzsicDivision: string | null, organisationType: string | null, accreditationNumber: string | null, accreditationLevel: string | null, updatedAt: Date }): LegalEntity {
  return {
    organisation_id: r.organisationId, logo_uri: r.logoUri, ...opt('abn', r.abn), ...opt('acn', r.acn), ...opt('arbn', r.arbn),
    ...opt('anzsic_division', r.anzsicDivision), ...opt('organisation_type', r.organisationType as LegalEntity['organisation_type']),
    ...opt('accreditation_number', r.accreditationNumber), ...opt('accreditation_level', r.accreditationLevel as LegalEntity['accreditation_level']),
    updated_at: r.updatedAt,
  }
}

function productView (r: { softwareStatementId: string, brandId: string, recipientBaseUri: string, sectorIdentifierUri: string | null, jwksUri: string | null, revocationUri: string | null, updatedAt: Date }): SoftwareProduct {
  return {
    software_id: r.softwareStatementId, brand_id: r.brandId, recipient_base_uri: r.recipientBaseUri, ...opt('sector_identifier_uri', r.sectorIdentifierUri),
    ...opt('jwks_uri', r.jwksUri), ...opt('revocation_uri', r.revocationUri), updated_at: r.updatedAt,
  }
}

/**
 * The registry's brand layer and legal-entity details (CDR: legal entity → brand → software product).
 * Every change is audited and bumps the registry version, so the Register's documents follow at once.
 */
export class Brands {
  constructor (private readonly d: RegistryDeps) {}

  private async organisation (tx: Tx, orgId: string): Promise<void> {
    const locked = await tx.$queryRawUnsafe<unknown[]>('SELECT id FROM organisations WHERE id = $1::uuid FOR UPDATE', orgId)
    if (locked.length === 0) throw NotFound(`no organisation ${orgId}`)
  }

  async getLegalEntity (orgId: string): Promise<LegalEntity> {
    const row = await this.d.prisma.legalEntityDetail.findUnique({ where: { organisationId: orgId } })
    if (!row) throw NotFound(`organisation ${orgId} has no legal entity details`)
    return legalEntityView(row)
  }

  async putLegalEntity (orgId: string, input: LegalEntityInput, who: Actor): Promise<LegalEntity> {
    return this.d.prisma.$transaction(async (tx) => {
      await this.organisation(tx, orgId)
      const prior = await tx.legalEntityDetail.findUnique({ where: { organisationId: orgId } })
      const data = {
        logoUri: input.logo_uri, abn: input.abn ?? null, acn: input.acn ?? null, arbn: input.arbn ?? null, anzsicDivision: input.anzsic_division ?? null,
        organisationType: input.organisation_type ?? null, accreditationNumber: input.accreditation_number ?? null, accreditationLevel: input.accreditation_level ?? null,
      }
      const row = await tx.legalEntityDetail.upsert({ where: { organisationId: orgId }, create: { organisationId: orgId, ...data }, update: data })
      const after = legalEntityView(row)
      await this.d.audit.append(tx, who, { action: 'legal_entity.update', target: `organisation:${orgId}`, ...(prior ? { before: legalEntityView(prior) } : {}), after })
      await bumpRegistryVersion(tx)
      return after
    })
  }

  async list (orgId: string): Promise<Brand[]> {
    const org = await this.d.prisma.organisation.findUnique({ where: { id: orgId }, select: { id: true } })
    if (!org) throw NotFound(`no organisation ${orgId}`)
    return (await this.d.prisma.brand.findMany({ where: { organisationId: orgId }, orderBy: { createdAt: 'asc' } })).map(brandView)
  }

  async create (orgId: string, input: BrandCreate, who: Actor): Promise<Brand> {
    return this.d.prisma.$transaction(async (tx) => {
      await this.organisation(tx, orgId)
      const row = await tx.brand.create({
        data: {
          id: randomUUID(), organisationId: orgId, kind: input.kind, name: input.name, brandGroup: input.brand_group ?? null, logoUri: input.logo_uri,
          industries: input.industries, status: input.status, ...endpointData(input.endpoint_detail), jwksEndpoint: input.jwks_endpoint ?? null,
        },
      })
      const after = brandView(row)
      await this.d.audit.append(tx, who, { action: 'brand.create', target: `brand:${row.id}`, after })
      await bumpRegistryVersion(tx)
      return after
    })
  }

  async update (orgId: string, brandId: string, patch: BrandPatch, who: Actor): Promise<Brand> {
    return this.d.prisma.$transaction(async (tx) => {
      await this.organisation(tx, orgId)
      const prior = await tx.brand.findFirst({ where: { id: brandId, organisationId: orgId } })
      if (!prior) throw NotFound(`no brand ${brandId} in organisation ${orgId}`)
      const row = await tx.brand.update({
        where: { id: brandId },
        data: {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.brand_group !== undefined ? { brandGroup: patch.brand_group } : {}),
          ...(patch.logo_uri !== undefined ? { logoUri: patch.logo_uri } : {}),
          ...(patch.industries !== undefined ? { industries: patch.industries } : {}),
          ...(patch.status !== undefined ? { status: patch.status } : {}),
          ...endpointData(patch.endpoint_detail),
          ...(patch.jwks_endpoint !== undefined ? { jwksEndpoint: patch.jwks_endpoint } : {}),
        },
      })
      const before = brandView(prior)
      const after = brandView(row)
      await this.d.audit.append(tx, who, { action: 'brand.update', target: `brand:${brandId}`, before, after })
      await bumpRegistryVersion(tx)
      return after
    })
  }

  async getSoftwareProduct (orgId: string, softwareId: string): Promise<SoftwareProduct> {
    const row = await this.d.prisma.softwareProduct.findFirst({ where: { softwareStatementId: softwareId, softwareStatement: { organisationId: orgId } } })
    if (!row) throw NotFound(`software statement ${softwareId} of organisation ${orgId} is not a software product`)
    return productView(row)
  }

  /** Makes a software statement a software product of one of its organisation's recipient brands. */
  async putSoftwareProduct (orgId: string, softwareId: string, input: SoftwareProductInput, who: Actor): Promise<SoftwareProduct> {
    return this.d.prisma.$transaction(async (tx) => {
      await this.organisation(tx, orgId)
      const sw = await tx.softwareStatement.findFirst({ where: { id: softwareId, organisationId: orgId }, select: { id: true } })
      if (!sw) throw NotFound(`no software statement ${softwareId} in organisation ${orgId}`)
      const b = await tx.brand.findFirst({ where: { id: input.brand_id, organisationId: orgId }, select: { kind: true } })
      if (!b) throw ValidationFailed([{ path: 'body.brand_id', message: `no brand ${input.brand_id} in organisation ${orgId}` }])
      if (b.kind !== 'data-recipient') throw ValidationFailed([{ path: 'body.brand_id', message: 'software products belong to data recipient brands' }])
      const prior = await tx.softwareProduct.findUnique({ where: { softwareStatementId: softwareId } })
      const data = {
        brandId: input.brand_id, recipientBaseUri: input.recipient_base_uri, sectorIdentifierUri: input.sector_identifier_uri ?? null,
        jwksUri: input.jwks_uri ?? null, revocationUri: input.revocation_uri ?? null,
      }
      const row = await tx.softwareProduct.upsert({ where: { softwareStatementId: softwareId }, create: { softwareStatementId: softwareId, ...data }, update: data })
      const after = productView(row)
      await this.d.audit.append(tx, who, { action: 'software_product.update', target: `software_statement:${softwareId}`, ...(prior ? { before: productView(prior) } : {}), after })
      await bumpRegistryVersion(tx)
      return after
    })
  }
}
