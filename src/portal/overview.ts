import type { Clock } from '../clock.js'
import type { Prisma } from '../db/database.js'

export interface Overview {
  organisations: Record<string, number>
  software_statements: Record<string, number>
  certificates_active: number
  certificates_expiring: Array<{ serial: string, org_id: string, legal_name: string, type: string, not_after: Date }>
  recent_events: Array<{ seq: string, at: Date, actor: string, action: string, target: string }>
}

/** The dashboard's numbers, over every organisation (operators) or only the given ones (organisation users). */
export async function overview (prisma: Prisma, clock: Clock, orgIds?: string[]): Promise<Overview> {
  const now = clock.now()
  const soon = new Date(now.getTime() + 30 * 24 * 3600 * 1000)
  const inOrgs = orgIds ? { organisationId: { in: orgIds } } : {}
  const [orgs, software, active, expiring, events] = await Promise.all([
    prisma.organisation.groupBy({ by: ['status'], _count: { _all: true }, where: orgIds ? { id: { in: orgIds } } : {} }),
    prisma.softwareStatement.groupBy({ by: ['status'], _count: { _all: true }, where: inOrgs }),
    prisma.certificate.count({ where: { ...inOrgs, status: 'active', notAfter: { gt: now } } }),
    prisma.certificate.findMany({
      where: { ...inOrgs, status: 'active', notAfter: { gt: now, lte: soon } }, orderBy: { notAfter: 'asc' }, take: 20,
      select: { serial: true, organisationId: true, type: true, notAfter: true, organisation: { select: { legalName: true } } },
    }),
    // The audit log is the operators' to read.
    orgIds ? Promise.resolve([]) : prisma.auditEvent.findMany({ orderBy: { seq: 'desc' }, take: 10, select: { seq: true, at: true, actor: true, action: true, target: true } }),
  ])
  return {
    organisations: Object.fromEntries(orgs.map((g) => [g.status, g._count._all])),
    software_statements: Object.fromEntries(software.map((g) => [g.status, g._count._all])),
    certificates_active: active,
    certificates_expiring: expiring.map((c) => ({ serial: c.serial, org_id: c.organisationId, legal_name: c.organisation.legalName, type: c.type, not_after: c.notAfter })),
    recent_events: events.map((e) => ({ ...e, seq: e.seq.toString() })),
  }
}
