import { z } from 'zod'
import { uuid } from './schemas.js'
import { displayText, httpsUri } from './text.js'

// Registry data the CDR Register API publishes (cdr-register-openapi.yaml: LegalEntityDetail,
// RegisterDataHolderBrandV2, DataRecipientBrandMetaData, the CDR SSA): bounds as the document sets them.

const digits = (n: number, what: string) => z.string().regex(new RegExp(`^\\d{${n}}$`), `must be the ${n}-digit ${what}`)
const uri = httpsUri.pipe(z.string().max(1000, 'must be at most 1000 characters'))

export const cdrIndustries = ['banking', 'energy', 'non-bank-lending', 'telco'] as const
export const brandKinds = ['data-holder', 'data-recipient'] as const
export const brandStatuses = ['active', 'inactive', 'removed'] as const

export const legalEntityInput = z.object({
  logo_uri: uri,
  abn: digits(11, 'Australian Business Number').optional(),
  acn: digits(9, 'Australian Company Number').optional(),
  arbn: digits(9, 'Australian Registered Body Number').optional(),
  anzsic_division: displayText(100).optional(),
  organisation_type: z.enum(['SOLE_TRADER', 'COMPANY', 'PARTNERSHIP', 'TRUST', 'GOVERNMENT_ENTITY', 'OTHER']).optional(),
  accreditation_number: displayText(100).optional(),
  accreditation_level: z.enum(['UNRESTRICTED', 'SPONSORED']).optional(),
}).strict()

export const legalEntity = z.object({
  organisation_id: uuid, logo_uri: z.string(), abn: z.string().optional(), acn: z.string().optional(), arbn: z.string().optional(),
  anzsic_division: z.string().optional(), organisation_type: legalEntityInput.shape.organisation_type, accreditation_number: z.string().optional(),
  accreditation_level: legalEntityInput.shape.accreditation_level, updated_at: z.date(),
})

const endpointDetail = z.object({
  version: z.string().regex(/^v[1-9]\d{0,3}$/, 'must be "v" and the major version of the standards, e.g. v1'),
  public_base_uri: uri,
  resource_base_uri: uri,
  infosec_base_uri: uri,
  product_base_uri: uri.optional(),
  extension_base_uri: uri.optional(),
  website_uri: uri,
}).strict()

const industries = z.array(z.enum(cdrIndustries)).min(1, 'at least one industry').max(4)
  .refine((xs) => new Set(xs).size === xs.length, 'each industry at most once')

const brandFields = {
  name: displayText(200),
  brand_group: displayText(200).optional(),
  logo_uri: uri,
  industries,
  status: z.enum(brandStatuses).default('active'),
  endpoint_detail: endpointDetail.optional(),
  // Where the data holder's keys are for authenticating to recipients (RegisterDataHolderAuth).
  jwks_endpoint: uri.optional(),
}

// A data holder brand is only useful with its endpoints: the Register publishes them.
const holderNeeds = (b: { kind?: string, endpoint_detail?: unknown, jwks_endpoint?: unknown }, ctx: z.RefinementCtx) => {
  if (b.kind !== 'data-holder') return
  if (!b.endpoint_detail) ctx.addIssue({ code: 'custom', path: ['endpoint_detail'], message: 'a data holder brand needs its endpoint_detail' })
  if (!b.jwks_endpoint) ctx.addIssue({ code: 'custom', path: ['jwks_endpoint'], message: 'a data holder brand needs its jwks_endpoint' })
}

export const brandCreate = z.object({ kind: z.enum(brandKinds), ...brandFields }).strict().superRefine(holderNeeds)

export const brandPatch = z.object({
  name: brandFields.name.optional(),
  brand_group: brandFields.brand_group.nullable().optional(),
  logo_uri: brandFields.logo_uri.optional(),
  industries: industries.optional(),
  status: z.enum(brandStatuses).optional(),
  endpoint_detail: endpointDetail.optional(),
  jwks_endpoint: uri.optional(),
}).strict().refine((p) => Object.keys(p).length > 0, 'give at least one field to change')

export const brand = z.object({
  id: uuid, organisation_id: uuid, kind: z.enum(brandKinds), name: z.string(), brand_group: z.string().optional(), logo_uri: z.string(),
  industries: z.array(z.string()), status: z.enum(brandStatuses), endpoint_detail: endpointDetail.optional(), jwks_endpoint: z.string().optional(),
  created_at: z.date(), updated_at: z.date(),
})

/** A software statement as a CDR software product of one of its organisation's recipient brands. */
export const softwareProductInput = z.object({
  brand_id: uuid,
  recipient_base_uri: uri,
  sector_identifier_uri: uri.optional(),
  // The recipient's own JWKS; unset, the SSA names the software's keystore at this directory.
  jwks_uri: uri.optional(),
  revocation_uri: uri.optional(),
}).strict()

export const softwareProduct = z.object({
  software_id: uuid, brand_id: uuid, recipient_base_uri: z.string(), sector_identifier_uri: z.string().optional(), jwks_uri: z.string().optional(),
  revocation_uri: z.string().optional(), updated_at: z.date(),
})

export const brandParams = z.object({ orgId: uuid, brandId: uuid })

export type LegalEntityInput = z.infer<typeof legalEntityInput>
export type LegalEntity = z.infer<typeof legalEntity>
export type BrandCreate = z.infer<typeof brandCreate>
export type BrandPatch = z.infer<typeof brandPatch>
export type Brand = z.infer<typeof brand>
export type SoftwareProductInput = z.infer<typeof softwareProductInput>
export type SoftwareProduct = z.infer<typeof softwareProduct>
