import type { Prisma } from '../../db/database.js'

// The CDR Register's documents (cdr-register-openapi.yaml 1.36), read from the registry: an
// organisation with legal-entity details is a legal entity; its brands are data holder or data
// recipient brands; a software statement linked to a recipient brand is a software product.
// Pending organisations are not (yet) on the Register.

type OrgStatus = 'pending' | 'active' | 'suspended' | 'revoked' | 'withdrawn'
type Upper = 'ACTIVE' | 'INACTIVE' | 'REMOVED'

const recipientStatus: Record<OrgStatus, 'ACTIVE' | 'SUSPENDED' | 'REVOKED' | 'SURRENDERED'> = {
  pending: 'SUSPENDED', active: 'ACTIVE', suspended: 'SUSPENDED', revoked: 'REVOKED', withdrawn: 'SURRENDERED',
}
const gone = (s: OrgStatus) => s === 'revoked' || s === 'withdrawn'
const upper = (s: string): Upper => s.toUpperCase() as Upper

/** A brand is what its record says while its organisation is active; inactive while suspended, removed once it has left. */
const brandStatus = (org: OrgStatus, brand: string): Upper => (gone(org) ? 'REMOVED' : org !== 'active' ? 'INACTIVE' : upper(brand))
const productStatus = (org: OrgStatus, brand: string, software: string): Upper => {
  const b = brandStatus(org, brand)
  if (b === 'REMOVED' || software === 'removed') return 'REMOVED'
  return b === 'ACTIVE' && software === 'active' ? 'ACTIVE' : 'INACTIVE'
}
const latest = (...ds: Date[]): string => new Date(Math.max(...ds.map((d) => d.getTime()))).toISOString()
const opt = <K extends string>(k: K, v: string | null | undefined): Partial<Record<K, string>> => (v ? { [k]: v } as Record<K, string> : {})

async function loadOrganisations (prisma: Prisma, kind: 'data-holder' | 'data-recipient') {
  const orgs = await prisma.organisation.findMany({
    where: { status: { not: 'pending' }, legalEntity: { isNot: null }, brands: { some: { kind } } },
    include: {
      legalEntity: true,
      brands: { where: { kind }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], include: { softwareProducts: { include: { softwareStatement: true }, orderBy: { softwareStatementId: 'asc' } } } },
    },
    orderBy: { id: 'asc' },
  })
  return orgs.map((o) => ({ ...o, legalEntity: o.legalEntity!, status: o.status as OrgStatus }))
}

/** RegisterDataRecipient[] (GetDataRecipients x-v 4). */
export async function dataRecipients (prisma: Prisma): Promise<unknown[]> {
  return (await loadOrganisations(prisma, 'data-recipient')).map((o) => {
    const dates = [o.updatedAt, o.legalEntity.updatedAt, ...o.brands.flatMap((b) => [b.updatedAt, ...b.softwareProducts.flatMap((p) => [p.updatedAt, p.softwareStatement.updatedAt])])]
    return {
      legalEntityId: o.id,
      legalEntityName: o.legalName,
      // The accreditation number the operator recorded, or the registration number it stands in for.
      accreditationNumber: o.legalEntity.accreditationNumber ?? o.registrationNumber,
      accreditationLevel: o.legalEntity.accreditationLevel ?? 'UNRESTRICTED',
      logoUri: o.legalEntity.logoUri,
      dataRecipientBrands: o.brands.map((b) => ({
        dataRecipientBrandId: b.id,
        brandName: b.name,
        logoUri: b.logoUri,
        softwareProducts: b.softwareProducts.map((p) => ({
          softwareProductId: p.softwareStatementId,
          softwareProductName: p.softwareStatement.clientName,
          softwareProductDescription: p.softwareStatement.clientDescription ?? p.softwareStatement.clientName,
          logoUri: p.softwareStatement.logoUri ?? b.logoUri,
          status: productStatus(o.status, b.status, p.softwareStatement.status),
        })),
        status: brandStatus(o.status, b.status),
      })),
      status: recipientStatus[o.status],
      lastUpdated: latest(...dates),
    }
  })
}

/** DataRecipientStatus[] (x-v 3). */
export async function dataRecipientStatuses (prisma: Prisma): Promise<unknown[]> {
  return (await loadOrganisations(prisma, 'data-recipient')).map((o) => ({ legalEntityId: o.id, status: recipientStatus[o.status] }))
}

/** SoftwareProductStatus[] (x-v 3). */
export async function softwareProductStatuses (prisma: Prisma): Promise<unknown[]> {
  return (await loadOrganisations(prisma, 'data-recipient')).flatMap((o) => o.brands.flatMap((b) => b.softwareProducts.map((p) => ({
    softwareProductId: p.softwareStatementId, status: productStatus(o.status, b.status, p.softwareStatement.status),
  }))))
}

const inIndustry = (industry: string) => (b: { industries: string[] }) => industry === 'all' || b.industries.includes(industry)

/** DataHolderStatus[] (x-v 2): a data holder is ACTIVE until it has left. */
export async function dataHolderStatuses (prisma: Prisma, industry: string): Promise<unknown[]> {
  return (await loadOrganisations(prisma, 'data-holder')).filter((o) => o.brands.some(inIndustry(industry)))
    .map((o) => ({ legalEntityId: o.id, status: gone(o.status) ? 'REMOVED' : 'ACTIVE' }))
}

export interface HolderBrand { lastUpdated: string, record: Record<string, unknown>, summary: Record<string, unknown> }

/** Each data holder brand as RegisterDataHolderBrandV2 (x-v 3) and as DataHolderBrandSummaryV2 (x-v 2). */
export async function dataHolderBrands (prisma: Prisma, industry: string): Promise<HolderBrand[]> {
  return (await loadOrganisations(prisma, 'data-holder')).flatMap((o) => o.brands.filter(inIndustry(industry)).map((b) => {
    const le = o.legalEntity
    const lastUpdated = latest(o.updatedAt, le.updatedAt, b.updatedAt)
    const country = o.country.trim()
    return {
      lastUpdated,
      record: {
        dataHolderBrandId: b.id,
        brandName: b.name,
        ...opt('brandGroup', b.brandGroup),
        industries: b.industries,
        logoUri: b.logoUri,
        legalEntity: {
          legalEntityId: o.id,
          // The document bounds legalEntityName to 36 characters.
          legalEntityName: o.legalName.slice(0, 36),
          logoUri: le.logoUri,
          // Registration number and country are published for entities registered outside Australia.
          ...(country !== 'AU' ? { registrationNumber: o.registrationNumber, registeredCountry: country } : {}),
          ...opt('abn', le.abn), ...opt('acn', le.acn), ...opt('arbn', le.arbn), ...opt('anzsicDivision', le.anzsicDivision), ...opt('organisationType', le.organisationType),
          status: gone(o.status) ? 'REMOVED' : 'ACTIVE',
        },
        status: brandStatus(o.status, b.status),
        endpointDetail: {
          version: b.endpointVersion, publicBaseUri: b.publicBaseUri, ...opt('productBaseUri', b.productBaseUri), resourceBaseUri: b.resourceBaseUri,
          infosecBaseUri: b.infosecBaseUri, ...opt('extensionBaseUri', b.extensionBaseUri), websiteUri: b.websiteUri,
        },
        authDetails: b.jwksEndpoint ? [{ registerUType: 'SIGNED-JWT', jwksEndpoint: b.jwksEndpoint }] : [],
        lastUpdated,
      },
      summary: {
        dataHolderBrandId: b.id,
        brandName: b.name,
        ...opt('brandGroup', b.brandGroup),
        publicBaseUri: b.publicBaseUri,
        ...opt('productBaseUri', b.productBaseUri),
        logoUri: b.logoUri,
        industries: b.industries,
        lastUpdated,
        ...opt('abn', le.abn), ...opt('acn', le.acn), ...opt('arbn', le.arbn),
      },
    }
  }))
}
