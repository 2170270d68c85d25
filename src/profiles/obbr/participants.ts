import type { Prisma } from '../../db/database.js'
import { derivedId, ecosystemRole, titleStatus } from '../common.js'

// The public participants list of Open Finance Brasil (obbr-participants-openapi.yaml, ParticipantObject),
// built from the registry. Software statements are not in it: the Raidiam list shows organisations
// and their authorisation servers only.

/** Raidiam knows Active, Pending and Withdrawn: a suspended organisation is not (yet) trusted, a revoked one has left. */
const statusOf: Record<string, 'Active' | 'Pending' | 'Withdrawn'> = {
  active: 'Active', pending: 'Pending', suspended: 'Pending', revoked: 'Withdrawn', withdrawn: 'Withdrawn',
}

/** ApiVersion must be `major.minor.patch`: "1" and "1.0" are completed with zeros; anything else is left out. */
function apiVersion (v: string): string | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(v)
  return m ? `${m[1]}.${m[2] ?? '0'}.${m[3] ?? '0'}` : undefined
}

interface ApiResourceRow { family: string, version: string, base_url: string, discovery_endpoints?: string[] }

export async function loadObbrParticipants (prisma: Prisma, defaultDomain: string): Promise<unknown[]> {
  const [orgs, roles, claims, servers] = await Promise.all([
    prisma.organisation.findMany({ orderBy: { id: 'asc' } }),
    prisma.organisationRole.findMany({ orderBy: { role: 'asc' } }),
    prisma.authorityClaim.findMany({ orderBy: [{ role: 'asc' }, { authorisationDomain: 'asc' }, { authorityId: 'asc' }] }),
    prisma.authorisationServer.findMany({ orderBy: { createdAt: 'asc' } }),
  ])
  const group = <T extends { organisationId: string }>(rows: T[]): Map<string, T[]> => {
    const m = new Map<string, T[]>()
    for (const r of rows) m.set(r.organisationId, [...(m.get(r.organisationId) ?? []), r])
    return m
  }
  const rolesBy = group(roles)
  const claimsBy = group(claims)
  const serversBy = group(servers)
  return orgs.map((o) => {
    const orgClaims = claimsBy.get(o.id) ?? []
    const orgRoles = rolesBy.get(o.id) ?? []
    const roleStatus = new Map(orgRoles.map((r) => [r.role, r.status]))
    // A claim is Active only while the authority says so and the organisation still holds the role.
    const roleClaims: Array<Record<string, unknown>> = orgClaims.map((c) => ({
      OrganisationId: o.id,
      OrganisationAuthorityClaimId: c.id,
      AuthorityId: c.authorityId,
      Status: c.status === 'active' && roleStatus.get(c.role) === 'active' ? 'Active' : 'Inactive',
      AuthorisationDomain: c.authorisationDomain,
      Role: ecosystemRole(c.role),
      Authorisations: c.memberStates.map((m) => ({ Status: titleStatus(c.status), MemberState: m })),
      ...(c.registrationId !== null ? { RegistrationId: c.registrationId } : {}),
    }))
    // Roles the directory granted without an authority claim still show, in the default domain.
    for (const r of orgRoles.filter((r) => !orgClaims.some((c) => c.role === r.role))) {
      roleClaims.push({
        OrganisationId: o.id, OrganisationAuthorityClaimId: derivedId(o.id, 'role', r.role),
        Status: titleStatus(r.status), AuthorisationDomain: defaultDomain, Role: ecosystemRole(r.role), Authorisations: [],
      })
    }
    const domains = new Map<string, typeof orgClaims>()
    for (const c of orgClaims) domains.set(`${c.authorityId}\u0000${c.authorisationDomain}`, [...(domains.get(`${c.authorityId}\u0000${c.authorisationDomain}`) ?? []), c])
    const domainClaims = [...domains.values()].map((cs) => {
      const c = cs[0]!
      return {
        OrganisationAuthorityDomainClaimId: derivedId(o.id, 'domain', c.authorityId, c.authorisationDomain),
        AuthorisationDomainName: c.authorisationDomain,
        AuthorityId: c.authorityId,
        AuthorityName: c.authorityName,
        ...(c.registrationId !== null ? { RegistrationId: c.registrationId } : {}),
        Status: cs.some((x) => x.status === 'active') ? 'Active' : 'Inactive',
      }
    })
    return {
      OrganisationId: o.id,
      Status: statusOf[o.status],
      OrganisationName: o.legalName,
      CreatedOn: o.createdAt.toISOString(),
      LegalEntityName: o.legalName,
      CountryOfRegistration: o.country.trim(),
      ...(o.companyRegister !== null ? { CompanyRegister: o.companyRegister } : {}),
      RegistrationNumber: o.registrationNumber,
      ...(o.registrationId !== null ? { RegistrationId: o.registrationId } : {}),
      RegisteredName: o.legalName,
      Country: o.country.trim(),
      AuthorisationServers: (serversBy.get(o.id) ?? []).map((a) => ({
        AuthorisationServerId: a.id,
        OrganisationId: o.id,
        ApiResources: (a.apiResources as unknown as ApiResourceRow[]).map((r) => {
          const resourceId = derivedId(a.id, 'api', r.family, r.version)
          const version = apiVersion(r.version)
          return {
            ApiResourceId: resourceId,
            ...(version ? { ApiVersion: version } : {}),
            ApiFamilyType: r.family,
            ApiDiscoveryEndpoints: (r.discovery_endpoints ?? [r.base_url]).map((e) => ({ ApiDiscoveryId: derivedId(resourceId, e), ApiEndpoint: e })),
          }
        }),
        AuthorisationServerCertifications: [],
        CustomerFriendlyName: a.customerFriendlyName,
        // The schema admits SVG logos only.
        ...(a.logoUri && /\.svg$/i.test(a.logoUri) ? { CustomerFriendlyLogoUri: a.logoUri } : {}),
        OpenIDDiscoveryDocument: a.discoveryUrl,
        Issuer: a.issuer,
      })),
      OrgDomainClaims: domainClaims,
      OrgDomainRoleClaims: roleClaims,
    }
  })
}
