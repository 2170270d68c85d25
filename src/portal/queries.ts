import type { Clock } from '../clock.js'
import type { Prisma } from '../db/database.js'
import { revokesCertificates, type OrganisationStatus } from '../registry/lifecycle.js'
import { organisationInclude, organisationView } from '../registry/organisations.js'
import type { Organisation } from '../registry/schemas.js'

// What the portal's pages read and the APIs do not offer: search and page-numbered lists, filters, the
// cascade a status change would cause. Reads only; every change goes through the registry and PKI services.

export const pageSize = 20

export interface Paged<T> { items: T[], page: number, pages: number, total: number }

export interface OrganisationSearch { q?: string | undefined, status?: OrganisationStatus | undefined, role?: string | undefined, page: number, orgIds?: string[] | undefined }

export async function searchOrganisations (prisma: Prisma, s: OrganisationSearch): Promise<Paged<Organisation>> {
  const q = s.q?.trim()
  const where = {
    ...(s.orgIds ? { id: { in: s.orgIds } } : {}),
    ...(s.status ? { status: s.status } : {}),
    ...(s.role ? { roles: { some: { role: s.role } } } : {}),
    ...(q ? { OR: [{ legalName: { contains: q, mode: 'insensitive' as const } }, { registrationNumber: { contains: q, mode: 'insensitive' as const } }] } : {}),
  }
  const [total, rows] = await Promise.all([
    prisma.organisation.count({ where }),
    prisma.organisation.findMany({ where, include: organisationInclude, orderBy: [{ legalName: 'asc' }, { id: 'asc' }], skip: (s.page - 1) * pageSize, take: pageSize }),
  ])
  return { items: rows.map(organisationView), page: s.page, pages: Math.max(1, Math.ceil(total / pageSize)), total }
}

export interface Cascade {
  from: OrganisationStatus
  to: OrganisationStatus
  /** Software statements that stop working (no tokens, no SSAs, no certificates) with the move. */
  software_stopping: Array<{ software_id: string, client_name: string }>
  certificates_revoked: number
  /** Clients (API credentials) refused from the next request. */
  clients_refused: number
}

/** What a status change would do, read before it happens (DESIGN.md §6 cascade). */
export async function cascadePreview (prisma: Prisma, clock: Clock, orgId: string, from: OrganisationStatus, to: OrganisationStatus): Promise<Cascade> {
  const stops = to === 'suspended' || to === 'revoked' || to === 'withdrawn'
  const [software, certificates, clients] = await Promise.all([
    stops ? prisma.softwareStatement.findMany({ where: { organisationId: orgId, status: 'active' }, select: { id: true, clientName: true }, orderBy: { clientName: 'asc' } }) : [],
    revokesCertificates(to) ? prisma.certificate.count({ where: { organisationId: orgId, status: 'active', notAfter: { gt: clock.now() } } }) : 0,
    stops ? prisma.client.count({ where: { organisationId: orgId } }) : 0,
  ])
  return { from, to, software_stopping: software.map((x) => ({ software_id: x.id, client_name: x.clientName })), certificates_revoked: certificates, clients_refused: clients }
}

export interface CertificateFilter { orgIds?: string[] | undefined, orgId?: string | undefined, type?: 'transport' | 'signing' | undefined, status?: 'active' | 'revoked' | undefined, expiring?: number | undefined, page: number }

export interface CertificateRow {
  serial: string, type: string, status: string, org_id: string, legal_name: string, software_id: string | null, client_name: string | null
  not_before: Date, not_after: Date, revoked_at: Date | null, revocation_reason: string | null
}

export async function searchCertificates (prisma: Prisma, clock: Clock, f: CertificateFilter): Promise<Paged<CertificateRow>> {
  const now = clock.now()
  const where = {
    ...(f.orgId ? { organisationId: f.orgId } : f.orgIds ? { organisationId: { in: f.orgIds } } : {}),
    ...(f.type ? { type: f.type } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(f.expiring ? { status: 'active' as const, notAfter: { gt: now, lte: new Date(now.getTime() + f.expiring * 86_400_000) } } : {}),
  }
  const [total, rows] = await Promise.all([
    prisma.certificate.count({ where }),
    prisma.certificate.findMany({
      where, orderBy: [{ createdAt: 'desc' }, { serial: 'asc' }], skip: (f.page - 1) * pageSize, take: pageSize,
      select: {
        serial: true, type: true, status: true, organisationId: true, softwareStatementId: true, notBefore: true, notAfter: true, revokedAt: true, revocationReason: true,
        organisation: { select: { legalName: true } }, softwareStatement: { select: { clientName: true } },
      },
    }),
  ])
  return {
    items: rows.map((r) => ({
      serial: r.serial, type: r.type, status: r.status, org_id: r.organisationId, legal_name: r.organisation.legalName, software_id: r.softwareStatementId,
      client_name: r.softwareStatement?.clientName ?? null, not_before: r.notBefore, not_after: r.notAfter, revoked_at: r.revokedAt, revocation_reason: r.revocationReason,
    })),
    page: f.page, pages: Math.max(1, Math.ceil(total / pageSize)), total,
  }
}

export async function certificateOf (prisma: Prisma, orgId: string, serial: string) {
  return prisma.certificate.findFirst({
    where: { serial: serial.toLowerCase(), organisationId: orgId },
    include: { softwareStatement: { select: { clientName: true } } },
  })
}

export interface AuditFilter { actor?: string | undefined, action?: string | undefined, orgId?: string | undefined, from?: Date | undefined, to?: Date | undefined, before?: bigint | undefined }

export interface AuditRow { seq: string, at: Date, actor: string, action: string, target: string, request_id: string | null }

/** The audit log newest first, filtered; pages by sequence number (`before`), so new events never shift a page. */
export async function searchAudit (prisma: Prisma, f: AuditFilter, limit = 50): Promise<{ events: AuditRow[], next: string | null }> {
  let targets: string[] | undefined
  if (f.orgId) {
    // An organisation's events: its own, and those about its software statements, servers and certificates.
    const [software, servers, certs] = await Promise.all([
      prisma.softwareStatement.findMany({ where: { organisationId: f.orgId }, select: { id: true } }),
      prisma.authorisationServer.findMany({ where: { organisationId: f.orgId }, select: { id: true } }),
      prisma.certificate.findMany({ where: { organisationId: f.orgId }, select: { serial: true } }),
    ])
    targets = [`organisation:${f.orgId}`, ...software.map((x) => `software_statement:${x.id}`), ...servers.map((x) => `authorisation_server:${x.id}`), ...certs.map((x) => `certificate:${x.serial}`)]
  }
  const rows = await prisma.auditEvent.findMany({
    where: {
      ...(f.actor ? { actor: f.actor } : {}),
      ...(f.action ? { action: { startsWith: f.action } } : {}),
      ...(targets ? { target: { in: targets } } : {}),
      ...(f.from || f.to ? { at: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) } } : {}),
      ...(f.before !== undefined ? { seq: { lt: f.before } } : {}),
    },
    orderBy: { seq: 'desc' }, take: limit + 1,
    select: { seq: true, at: true, actor: true, action: true, target: true, requestId: true },
  })
  const page = rows.slice(0, limit)
  return {
    events: page.map((e) => ({ seq: e.seq.toString(), at: e.at, actor: e.actor, action: e.action, target: e.target, request_id: e.requestId })),
    next: rows.length > limit ? page[page.length - 1]!.seq.toString() : null,
  }
}

export async function signingKeys (prisma: Prisma) {
  return prisma.signingKey.findMany({
    select: { kid: true, alg: true, state: true, createdAt: true, activatedAt: true, retiredAt: true },
    orderBy: [{ createdAt: 'desc' }], take: 50,
  })
}

/**
 * The operator's organisation (init's, holding the directory:admin client): the audience of the SETs for
 * the subscriptions operators make in the portal, as for those the admin API makes.
 */
export async function operatorOrganisationId (prisma: Prisma): Promise<string | undefined> {
  const client = await prisma.client.findFirst({ where: { scopes: { has: 'directory:admin' } }, orderBy: { createdAt: 'asc' }, select: { organisationId: true } })
  return client?.organisationId
}
