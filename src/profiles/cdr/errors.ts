import { Problem } from '../../errors.js'

// CDR error codes (Consumer Data Standards, "Error Codes"): the URN, its fixed title, and our status.
const urn = 'urn:au-cds:error:cds-all:'
export const cdrCodes = {
  headerMissing: { code: `${urn}Header/Missing`, title: 'Missing Required Header' },
  headerInvalidVersion: { code: `${urn}Header/InvalidVersion`, title: 'Invalid Version' },
  unsupportedVersion: { code: `${urn}Header/UnsupportedVersion`, title: 'Unsupported Version' },
  fieldInvalid: { code: `${urn}Field/Invalid`, title: 'Invalid Field' },
  invalidDateTime: { code: `${urn}Field/InvalidDateTime`, title: 'Invalid Date' },
  invalidPageSize: { code: `${urn}Field/InvalidPageSize`, title: 'Invalid Page Size' },
  invalidPage: { code: `${urn}Field/InvalidPage`, title: 'Invalid Page' },
  notFound: { code: `${urn}Resource/NotFound`, title: 'Resource Not Found' },
  adrNotActive: { code: `${urn}Authorisation/AdrStatusNotActive`, title: 'ADR Status Is Not Active' },
  invalidBrand: { code: `${urn}Field/InvalidBrandId`, title: 'Invalid Brand' },
  unexpected: { code: `${urn}GeneralError/Unexpected`, title: 'Unexpected Error Encountered' },
} as const

type Code = typeof cdrCodes[keyof typeof cdrCodes]

/** A refusal in CDR terms: the error code rides on the Problem the profile's renderer reads. */
export const CdrError = (status: number, c: Code, detail: string): Problem => new Problem(status, 'cdr', c.title, detail, { cdr: c })

/** ResponseErrorListV2 for any Problem: its own CDR code, or the standard one for its status. */
export function errorList (p: Problem): { errors: Array<{ code: string, title: string, detail: string }> } {
  const fallback: Record<number, Code> = { 400: cdrCodes.fieldInvalid, 403: cdrCodes.adrNotActive, 404: cdrCodes.notFound, 406: cdrCodes.unsupportedVersion, 422: cdrCodes.fieldInvalid }
  const c = (p.extensions.cdr as Code | undefined) ?? fallback[p.status] ?? cdrCodes.unexpected
  const details = p.extensions.errors?.length ? p.extensions.errors.map((e) => `${e.path}: ${e.message}`) : [p.detail ?? p.title]
  return { errors: details.map((detail) => ({ code: c.code, title: c.title, detail })) }
}
