import { randomUUID } from 'node:crypto'
import type { Actor } from '../audit/audit-log.js'
import { Conflict, NotFound, ValidationFailed } from '../errors.js'
import type { Tx } from '../db/database.js'
import { revokeCertificates } from '../pki/revocation.js'
import { bumpRegistryVersion, type RegistryDeps } from './deps.js'
import { assertOrganisationMove, revokesCertificates, type OrganisationStatus } from './lifecycle.js'
import type { Organisation, OrganisationCreate, OrganisationPatch, OrganisationQuery } from './schemas.js'

type Row = {
  id: string, legalName: string, registrationNumber: string, country: string, status: OrganisationStatus, version: number
  createdAt: Date, updatedAt: Date, roles: Array<{ role: string, status: 'active' | 'inactive' }>
}

export function organisationView (r: Row): Organisation {
  return {
    id: r.id, legal_name: r.legalName, registration_number: r.registrationNumber, country: r.country, status: r.status,
    roles: [...r.roles].sort((a, b) => a.role.localeCompare(b.role)).map((x) => ({ role: x.role, status: x.status })),
    version: r.version, created_at: r.createdAt, updated_at: r.updatedAt,
  }
}

export class Organisations {
  constructor (private readonly d: RegistryDeps) {}

  private checkRoles (roles: Array<{ role: string }> | undefined): void {
    const unknown = (roles ?? []).filter((r) => !(r.role in this.d.config.ROLES))
    if (unknown.length > 0) {
      throw ValidationFailed(unknown.map((r) => ({ path: 'body.roles', message: `unknown role ${r.role}; known: ${Object.keys(this.d.config.ROLES).join(', ')}` })))
    }
  }

  async create (input: OrganisationCreate, who: Actor): Promise<Organisation> {
    this.checkRoles(input.roles)
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
        },
        include: { roles: true },
      })
      const view = organisationView(row)
      await this.d.audit.append(tx, who, { action: 'organisation.create', target: `organisation:${id}`, after: view })
      await bumpRegistryVersion(tx)
      return view
    })
  }

  async get (id: string): Promise<Organisation> {
    const row = await this.d.prisma.organisation.findUnique({ where: { id }, include: { roles: true } })
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
      include: { roles: true },
      orderBy: { id: 'asc' },
      take: q.limit + 1,
    })
    const page = rows.slice(0, q.limit)
    return { organisations: page.map(organisationView), next_cursor: rows.length > q.limit ? page[page.length - 1]!.id : null }
  }

  /** Status and/or roles; a status move follows the lifecycle and cascades (DESIGN.md §6). */
  async update (id: string, patch: OrganisationPatch, who: Actor): Promise<Organisation> {
    this.checkRoles(patch.roles)
    return this.d.prisma.$transaction(async (tx) => {
      const before = await this.lock(tx, id)
      if (patch.status !== undefined && patch.status !== before.status) assertOrganisationMove(before.status, patch.status)
      if (patch.roles) {
        await tx.organisationRole.deleteMany({ where: { organisationId: id } })
        await tx.organisationRole.createMany({ data: patch.roles.map((r) => ({ organisationId: id, role: r.role, status: r.status })) })
      }
      const row = await tx.organisation.update({
        where: { id },
        data: { ...(patch.status ? { status: patch.status } : {}), version: { increment: 1 } },
        include: { roles: true },
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
    const row = await tx.organisation.findUniqueOrThrow({ where: { id }, include: { roles: true } })
    return organisationView(row)
  }
}
