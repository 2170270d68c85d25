import type { Prisma } from '../db/database.js'
import type { NameAttribute } from './certificate.js'

// Certificate subject profiles per ecosystem (CERTIFICATE_PROFILE). The directory writes every
// attribute from the registry; nothing is copied from the CSR but its public key.

export const certificateProfiles = ['native', 'obbr', 'uk', 'cdr'] as const
export type CertificateProfile = typeof certificateProfiles[number]

/** What the registry knows that a subject profile may write. */
export interface SubjectFacts {
  orgId: string
  legalName: string
  country: string
  registrationNumber: string
  /** UID/CN: the software statement id, or the client id of an enrolment certificate. */
  subjectId: string
  software?: { clientName: string, clientUri: string | null, redirectUris: string[], brandName: string | null } | undefined
  /** CDR organisationType, read for the EV businessCategory. */
  organisationType: string | null
  /** Active competent-authority claims, for the ETSI organizationIdentifier. */
  authorityClaims: Array<{ authorityId: string, authorityCode: string | null, registrationId: string | null, memberStates: string[] }>
}

export interface Subject { subject: NameAttribute[], dnsNames: string[] }

const dnsName = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/

/** The software's FQDN: its client_uri host, else its first redirect URI's host. */
function softwareFqdn (s: SubjectFacts['software']): string | undefined {
  for (const u of [s?.clientUri, ...(s?.redirectUris ?? [])]) {
    if (!u) continue
    try {
      const host = new URL(u).hostname.toLowerCase()
      if (dnsName.test(host)) return host
    } catch {}
  }
  return undefined
}

/**
 * ETSI TS 119 495 §5.2.1 organizationIdentifier: "PSD" + country + "-" + NCA id + "-" + authorisation
 * number, from the organisation's competent-authority claim; without one, the national trade register
 * form "NTR" + country + "-" + registration number (ETSI EN 319 412-1 §5.1.4).
 */
export function etsiOrganizationIdentifier (f: SubjectFacts): string {
  const c = f.authorityClaims[0]
  if (c) {
    const nca = (c.authorityCode ?? c.authorityId).replace(/[^A-Za-z0-9]/g, '').toUpperCase().slice(0, 8)
    return `PSD${c.memberStates[0] ?? f.country}-${nca}-${c.registrationId ?? f.registrationNumber}`
  }
  return `NTR${f.country}-${f.registrationNumber}`
}

/** The subject (and any DNS names it implies) for a certificate under the configured profile. */
export function certificateSubject (profile: CertificateProfile, f: SubjectFacts, type: 'transport' | 'signing'): Subject {
  switch (profile) {
    case 'obbr': {
      // Open Finance Brasil client certificate (Padrão de Certificados OFB): EV-style subject, the
      // organisation in its ecosystem form, UID = software statement, CN = the software's FQDN.
      const fqdn = softwareFqdn(f.software)
      return {
        subject: [
          { type: 'businessCategory', value: f.organisationType === 'GOVERNMENT_ENTITY' ? 'Government Entity' : 'Private Organization' },
          { type: 'jurisdictionCountryName', value: f.country },
          // serialNumber is a PrintableString: the CNPJ's digits and punctuation survive, anything else is dropped.
          { type: 'serialNumber', value: f.registrationNumber.replace(/[^A-Za-z0-9 '()+,\-./:=?]/g, '') || f.orgId },
          { type: 'C', value: f.country },
          { type: 'O', value: f.legalName },
          { type: 'organizationIdentifier', value: `OFBBR-${f.orgId}` },
          { type: 'UID', value: f.subjectId },
          { type: 'CN', value: fqdn ?? f.subjectId },
        ],
        dnsNames: fqdn && type === 'transport' ? [fqdn] : [],
      }
    }
    case 'uk':
      // OBIE/eIDAS: organizationIdentifier in ETSI form; OU the directory's organisation id, CN the software id.
      return {
        subject: [
          { type: 'C', value: f.country },
          { type: 'O', value: f.legalName },
          { type: 'organizationIdentifier', value: etsiOrganizationIdentifier(f) },
          { type: 'OU', value: f.orgId },
          { type: 'CN', value: f.subjectId },
        ],
        dnsNames: [],
      }
    case 'cdr':
      // CDR: CN the software product's name, O its brand, OU "Consumer Data Right".
      return {
        subject: [
          { type: 'C', value: f.country },
          // RFC 5280 upper bounds: ub-organization-name and ub-common-name are 64.
          { type: 'O', value: (f.software?.brandName ?? f.legalName).slice(0, 64) },
          { type: 'OU', value: 'Consumer Data Right' },
          { type: 'CN', value: (f.software?.clientName ?? f.subjectId).slice(0, 64) },
        ],
        dnsNames: [],
      }
    case 'native':
      return {
        subject: [
          { type: 'C', value: f.country },
          { type: 'O', value: f.legalName },
          { type: 'organizationIdentifier', value: f.orgId },
          { type: 'UID', value: f.subjectId },
          { type: 'CN', value: f.subjectId },
        ],
        dnsNames: [],
      }
  }
}

/** Reads the subject facts in one round trip (only profiles other than native need more than issuance reads). */
export async function loadSubjectFacts (prisma: Prisma, orgId: string, softwareId: string | undefined, subjectId: string): Promise<SubjectFacts> {
  const [row] = await prisma.$queryRawUnsafe<Array<{
    legal_name: string, country: string, registration_number: string, client_name: string | null, client_uri: string | null, redirect_uris: string[] | null
    brand_name: string | null, organisation_type: string | null, claims: unknown
  }>>(
    `SELECT o.legal_name, o.country::text AS country, o.registration_number, s.client_name, s.client_uri, s.redirect_uris,
            (SELECT b.name FROM software_products p JOIN brands b ON b.id = p.brand_id WHERE p.software_statement_id = s.id) AS brand_name,
            (SELECT l.organisation_type FROM legal_entity_details l WHERE l.organisation_id = o.id) AS organisation_type,
            COALESCE((SELECT json_agg(json_build_object('authorityId', c.authority_id, 'authorityCode', c.authority_code,
                'registrationId', c.registration_id, 'memberStates', c.member_states) ORDER BY c.role, c.authorisation_domain, c.authority_id)
              FROM authority_claims c WHERE c.organisation_id = o.id AND c.status = 'active'), '[]'::json) AS claims
       FROM organisations o LEFT JOIN software_statements s ON s.id = $2::uuid AND s.organisation_id = o.id
      WHERE o.id = $1::uuid`, orgId, softwareId ?? null)
  if (!row) throw new Error(`no organisation ${orgId}`)
  const claims = (typeof row.claims === 'string' ? JSON.parse(row.claims) : row.claims) as SubjectFacts['authorityClaims']
  return {
    orgId, legalName: row.legal_name, country: row.country.trim(), registrationNumber: row.registration_number, subjectId,
    software: row.client_name !== null ? { clientName: row.client_name, clientUri: row.client_uri, redirectUris: row.redirect_uris ?? [], brandName: row.brand_name } : undefined,
    organisationType: row.organisation_type, authorityClaims: claims.map((c) => ({ ...c, memberStates: c.memberStates ?? [] })),
  }
}
