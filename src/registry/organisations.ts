import { randomUUID } from 'node:crypto'
import type { Actor } from '../audit/audit-log.js'
import { Conflict, NotFound, ValidationFailed } from '../errors.js'
import type { Tx } from '../db/database.js'
import { revokeCertificates } from '../pki/revocation.js'
import { bumpRegistryVersion, type RegistryDeps } from './deps.js'
import { assertOrganisationMove, revokesCertificates, type OrganisationStatus } from './lifecycle.js'
import type { AuthorityClaimInput, Organisation, OrganisationCreate, OrganisationPatch, OrganisationQuery } from './schemas.js'

type ClaimRow = {
  role: string, authorisationDomain: string, authorityId: string, authorityName: string, authorityCode: string | null
  registrationId: string | null, memberStates: string[], status: 'active' | 'inactive'
}

type Row = {
  id: string, legalName: string, registrationNumber: string, country: string, status: OrganisationStatus, version: number
  companyRegister: string | null, registrationId: string | null
  createdAt: Date, updatedAt: Date, roles: Array<{ role: string, status: 'active' | 'inactive' }>, authorityClaims: ClaimRow[]
}

/** What every organisation read loads with it. */
export const organisationInclude = { roles: true, authorityClaims: { orderBy: [{ role: 'asc' as const }, { authorisationDomain: 'asc' as const }, { authorityId: 'asc' as const }] } }

export function organisationView (r: Row): Organisation {
  return {
    id: r.id, legal_name: r.legalName, registration_number: r.registrationNumber, country: r.country, status: r.status,
    roles: [...r.roles].sort((a, b) => a.role.localeCompare(b.role)).map((x) => ({ role: x.role, status: x.status })),
    ...(r.companyRegister !== null ? { company_register: r.companyRegister } : {}),
    ...(r.registrationId !== null ? { registration_id: r.registrationId } : {}),
    authority_claims: r.authorityClaims.map((c) => ({
      role: c.role, authorisation_domain: c.authorisationDomain, authority_id: c.authorityId, authority_name: c.authorityName,
      ...(c.authorityCode !== null ? { authority_code: c.authorityCode } : {}),
      ...(c.registrationId !== null ? { registration_id: c.registrationId } : {}),
      member_states: c.memberStates, status: c.status,
    })),
    version: r.version, created_at: r.createdAt, updated_at: r.updatedAt,
  }
}

const claimData = (orgId: string, c: AuthorityClaimInput) => ({
  id: randomUUID(), organisationId: orgId, role: c.role, authorisationDomain: c.authorisation_domain, authorityId: c.authority_id,
  authorityName: c.authority_name, authorityCode: c.authority_code ?? null, registrationId: c.registration_id ?? null,
  memberStates: c.member_states, status: c.status,
})

export class Organisations {
  constructor (private readonly d: RegistryDeps) {}

  private checkRoles (roles: Array<{ role: string }> | undefined, path = 'body.roles'): void {
    const unknown = (roles ?? []).filter((r) => !(r.role in this.d.config.ROLES))
    if (unknown.length > 0) {
      throw ValidationFailed(unknown.map((r) => ({ path, message: `unknown role ${r.role}; known: ${Object.keys(this.d.config.ROLES).join(', ')}` })))
    }
  }

  async create (input: OrganisationCreate, who: Actor): Promise<Organisation> {
    this.checkRoles(input.roles)
    this.checkRoles(input.authority_claims, 'body.authority_claims')
    const id = randomUUID()
    return this.d.prisma.$transaction(async (tx) => {
      const exists = await tx.organisation.findUnique({
        where: { country_registrationNumber: { country: input.country, registrationNumber: input.registration_number } }, select: { id: true },
      })
      if (exists) throw Conflict(`an organisation with registration number ${input.registration_number} in ${input.country} exists already`, { existing_id: exists.id })
      const row = await tx.organisation.create({
        data: {
          id, legalName: input.legal_name, registrationNumber: input.registration_number, country: input.country,
          status: input.status ?? 'pending', roles: { create: (input.roles ?? []).map((r) => ({ role: r.role, status: r.status })) },
          companyRegister: input.company_register ?? null, registrationId: input.registration_id ?? null,
          authorityClaims: { create: (input.authority_claims ?? []).map((c) => { const { organisationId: _, ...d } = claimData(id, c); return d }) },
        },
        include: organisationInclude,
      })
      const view = organisationView(row)
      await this.d.audit.append(tx, who, { action: 'organisation.create', target: `organisation:${id}`, after: view })
      await bumpRegistryVersion(tx)
      return view
    })
  }

  async get (id: string): Promise<Organisation> {
    const row = await this.d.prisma.organisation.findUnique({ where: { id }, include: organisationInclude })
    if (!row) throw NotFound(`no organisation ${id}`)
    return organisationView(row)
  }

  async list (q: OrganisationQuery): Promise<{ organisations: Organisation[], next_cursor: string | null }> {
    const rows = await this.d.prisma.organisation.findMany({
      where: {
        ...(q.status ? { status: q.status } : {}),
        ...(q.role ? { roles: { some: { role: q.role } } } : {}),
        ...(q.cursor ? { id: { gt: q.cursor } } : {}),
      },
      include: organisationInclude,
      orderBy: { id: 'asc' },
      take: q.limit + 1,
    })
    const page = rows.slice(0, q.limit)
    return { organisations: page.map(organisationView), next_cursor: rows.length > q.limit ? page[page.length - 1]!.id : null }
  }

  /** Status and/or roles; a status move follows the lifecycle and cascades (DESIGN.md §6). */
  async update (id: string, patch: OrganisationPatch, who: Actor): Promise<Organisation> {
    this.checkRoles(patch.roles)
    this.checkRoles(patch.authority_claims, 'body.authority_claims')
    return this.d.prisma.$transaction(async (tx) => {
      const before = await this.lock(tx, id)
      if (patch.status !== undefined && patch.status !== before.status) assertOrganisationMove(before.status, patch.status)
      if (patch.roles) {
        await tx.organisationRole.deleteMany({ where: { organisationId: id } })
        await tx.organisationRole.createMany({ data: patch.roles.map((r) => ({ organisationId: id, role: r.role, status: r.status })) })
      }
      if (patch.authority_claims) {
        await tx.authorityClaim.deleteMany({ where: { organisationId: id } })
        await tx.authorityClaim.createMany({ data: patch.authority_claims.map((c) => claimData(id, c)) })
      }
      const row = await tx.organisation.update({
        where: { id },
        data: {
          ...(patch.status ? { status: patch.status } : {}),
          ...(patch.company_register !== undefined ? { companyRegister: patch.company_register } : {}),
          ...(patch.registration_id !== undefined ? { registrationId: patch.registration_id } : {}),
          version: { increment: 1 },
        },
        include: organisationInclude,
      })
      const after = organisationView(row)
      await this.d.audit.append(tx, who, { action: 'organisation.update', target: `organisation:${id}`, before, after })
      if (patch.status && patch.status !== before.status && revokesCertificates(patch.status)) {
        await revokeCertificates(tx, this.d, { organisationId: id }, patch.status === 'withdrawn' ? 'cessationOfOperation' : 'privilegeWithdrawn', who)
      }
      await bumpRegistryVersion(tx)
      return after
    })
  }

  /** Reads the row under FOR UPDATE, so concurrent status changes serialise. */
  private async lock (tx: Tx, id: string): Promise<Organisation> {
    const locked = await tx.$queryRawUnsafe<unknown[]>('SELECT id FROM organisations WHERE id = $1::uuid FOR UPDATE', id)
    if (locked.length === 0) throw NotFound(`no organisation ${id}`)
    const row = await tx.organisation.findUniqueOrThrow({ where: { id }, include: organisationInclude })
    return organisationView(row)
  }
}
