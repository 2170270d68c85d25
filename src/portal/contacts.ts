import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { Actor, AuditLog } from '../audit/audit-log.js'
import type { Prisma } from '../db/database.js'
import { NotFound } from '../errors.js'
import { displayText } from '../registry/text.js'

export const contactTypes = ['business', 'technical', 'security-incident'] as const

export const contactCreate = z.object({
  type: z.enum(contactTypes),
  name: displayText(200),
  email: z.email('must be an email address').max(254),
  phone: z.string().trim().regex(/^\+?[0-9 ()-]{5,30}$/, 'must be a phone number (digits, spaces, + - ( ))').optional(),
}).strict()
export type ContactCreate = z.infer<typeof contactCreate>

export interface ContactView { id: string, type: string, name: string, email: string, phone: string | null }

/** An organisation's business, technical and security-incident contacts; every change audited. */
export class OrganisationContacts {
  constructor (private readonly d: { prisma: Prisma, audit: AuditLog }) {}

  async list (orgId: string): Promise<ContactView[]> {
    const rows = await this.d.prisma.organisationContact.findMany({ where: { organisationId: orgId }, orderBy: [{ type: 'asc' }, { name: 'asc' }] })
    return rows.map((r) => ({ id: r.id, type: r.type, name: r.name, email: r.email, phone: r.phone }))
  }

  async add (orgId: string, input: ContactCreate, who: Actor): Promise<ContactView> {
    return this.d.prisma.$transaction(async (tx) => {
      if (!await tx.organisation.findUnique({ where: { id: orgId }, select: { id: true } })) throw NotFound(`no organisation ${orgId}`)
      const row = await tx.organisationContact.create({ data: { id: randomUUID(), organisationId: orgId, type: input.type, name: input.name, email: input.email, phone: input.phone ?? null } })
      const view = { id: row.id, type: row.type, name: row.name, email: row.email, phone: row.phone }
      await this.d.audit.append(tx, who, { action: 'organisation.contact.add', target: `organisation:${orgId}`, after: view })
      return view
    })
  }

  async remove (orgId: string, contactId: string, who: Actor): Promise<void> {
    await this.d.prisma.$transaction(async (tx) => {
      const row = await tx.organisationContact.findFirst({ where: { id: contactId, organisationId: orgId } })
      if (!row) throw NotFound(`no contact ${contactId} in organisation ${orgId}`)
      await tx.organisationContact.delete({ where: { id: contactId } })
      await this.d.audit.append(tx, who, { action: 'organisation.contact.remove', target: `organisation:${orgId}`, before: { id: row.id, type: row.type, name: row.name, email: row.email } })
    })
  }
}
