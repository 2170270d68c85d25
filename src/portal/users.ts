import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { Actor } from '../audit/audit-log.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import type { Prisma } from '../db/database.js'
import { Conflict, NotFound, Problem } from '../errors.js'
import { newToken, tokenHash } from './secrets.js'

export const operatorRoles = ['operator-admin', 'operator-auditor'] as const
export const organisationRoles = ['org-admin', 'org-viewer'] as const
export type OperatorRole = typeof operatorRoles[number]
export type OrganisationRole = typeof organisationRoles[number]

export const invitation = z.discriminatedUnion('scope', [
  z.object({ scope: z.literal('operator'), email: z.email().max(254), name: z.string().trim().max(200).optional(), role: z.enum(operatorRoles) }).strict(),
  z.object({ scope: z.literal('organisation'), email: z.email().max(254), name: z.string().trim().max(200).optional(), role: z.enum(organisationRoles), org_id: z.uuid() }).strict(),
])
export type Invitation = z.infer<typeof invitation>

export interface PortalUserView {
  id: string
  email: string
  name: string | null
  operator_role: OperatorRole | null
  memberships: Array<{ org_id: string, role: OrganisationRole, legal_name?: string }>
  passkeys: number
  active: boolean
  created_at: Date
}

export interface SetupLinkIssued { user_id: string, setup_url: string, expires_at: Date }

export const SetupLinkRefused = (detail: string): Problem => new Problem(410, 'setup-link-refused', 'Setup Link Cannot Be Used', detail)

type UserRow = {
  id: string, email: string, name: string | null, operatorRole: string | null, active: boolean, createdAt: Date
  memberships: Array<{ organisationId: string, role: string, organisation?: { legalName: string } }>, _count?: { passkeys: number }
}

export function userView (u: UserRow): PortalUserView {
  return {
    id: u.id, email: u.email, name: u.name, operator_role: u.operatorRole as OperatorRole | null, active: u.active, created_at: u.createdAt,
    memberships: u.memberships.map((m) => ({ org_id: m.organisationId, role: m.role as OrganisationRole, ...(m.organisation ? { legal_name: m.organisation.legalName } : {}) })),
    passkeys: u._count?.passkeys ?? 0,
  }
}

const include = { memberships: { include: { organisation: { select: { legalName: true } } } }, _count: { select: { passkeys: true } } } as const

/**
 * People who use the portal and their one-time setup links. Permission checks belong to the caller
 * (src/portal/access.ts); this service keeps the data rules: one account per email, links single use.
 */
export class PortalUsers {
  constructor (private readonly d: { prisma: Prisma, audit: AuditLog, clock: Clock, portalUrl: string, setupLinkTtl: number }) {}

  /**
   * Invites a person (or gives an existing account a further role) and issues a fresh setup link when the
   * account has no passkey yet. The link is returned once and never stored in clear.
   */
  async invite (input: Invitation, who: Actor, opts: { reissue?: boolean } = {}): Promise<SetupLinkIssued & { created: boolean }> {
    const email = input.email.toLowerCase()
    return this.d.prisma.$transaction(async (tx) => {
      let user = await tx.portalUser.findUnique({ where: { email }, include })
      const created = user === null
      if (!user) {
        user = await tx.portalUser.create({ data: { id: randomUUID(), email, name: input.name ?? null }, include })
      }
      if (input.scope === 'operator') {
        if (user.operatorRole === input.role && !created && !opts.reissue) throw Conflict(`${email} is ${input.role} already`)
        await tx.portalUser.update({ where: { id: user.id }, data: { operatorRole: input.role } })
      } else {
        const org = await tx.organisation.findUnique({ where: { id: input.org_id }, select: { id: true } })
        if (!org) throw NotFound(`no organisation ${input.org_id}`)
        await tx.portalMembership.upsert({
          where: { userId_organisationId: { userId: user.id, organisationId: input.org_id } },
          create: { userId: user.id, organisationId: input.org_id, role: input.role },
          update: { role: input.role },
        })
      }
      const token = newToken()
      const expiresAt = new Date(this.d.clock.now().getTime() + this.d.setupLinkTtl * 1000)
      // An earlier unused link stops working: only the newest one handed out is valid.
      await tx.setupLink.updateMany({ where: { userId: user.id, usedAt: null }, data: { expiresAt: this.d.clock.now() } })
      await tx.setupLink.create({ data: { id: randomUUID(), userId: user.id, tokenHash: tokenHash(token), expiresAt, createdBy: who.actor } })
      const after = input.scope === 'operator' ? { email, operator_role: input.role } : { email, org_id: input.org_id, role: input.role }
      await this.d.audit.append(tx, who, { action: 'user.invite', target: `user:${user.id}`, after })
      return { user_id: user.id, setup_url: `${this.d.portalUrl}/setup/${token}`, expires_at: expiresAt, created }
    })
  }

  /** The user a setup link is for, or a 410 saying why it cannot be used. */
  async setupLinkUser (token: string): Promise<{ linkId: string, user: PortalUserView }> {
    const link = await this.d.prisma.setupLink.findUnique({ where: { tokenHash: tokenHash(token) }, include: { user: { include } } })
    if (!link) throw SetupLinkRefused('This setup link is not valid. Ask an administrator for a new one.')
    if (link.usedAt) throw SetupLinkRefused('This setup link has been used already. Sign in with your passkey, or ask an administrator for a new link.')
    if (link.expiresAt <= this.d.clock.now()) throw SetupLinkRefused('This setup link has expired. Ask an administrator for a new one.')
    if (!link.user.active) throw SetupLinkRefused('This account is disabled.')
    return { linkId: link.id, user: userView(link.user) }
  }

  async get (id: string): Promise<PortalUserView> {
    const u = await this.d.prisma.portalUser.findUnique({ where: { id }, include })
    if (!u) throw NotFound(`no user ${id}`)
    return userView(u)
  }

  async list (filter: { orgId?: string, operators?: boolean }): Promise<PortalUserView[]> {
    const rows = await this.d.prisma.portalUser.findMany({
      where: {
        ...(filter.orgId ? { memberships: { some: { organisationId: filter.orgId } } } : {}),
        ...(filter.operators ? { operatorRole: { not: null } } : {}),
      },
      include, orderBy: { email: 'asc' }, take: 500,
    })
    return rows.map(userView)
  }

  /** Removes a person's role in one organisation (their account and other roles stay). */
  async removeMembership (userId: string, orgId: string, who: Actor): Promise<void> {
    await this.d.prisma.$transaction(async (tx) => {
      const m = await tx.portalMembership.findUnique({ where: { userId_organisationId: { userId, organisationId: orgId } } })
      if (!m) throw NotFound(`user ${userId} has no role in organisation ${orgId}`)
      await tx.portalMembership.delete({ where: { userId_organisationId: { userId, organisationId: orgId } } })
      await tx.portalSession.deleteMany({ where: { userId } })
      await this.d.audit.append(tx, who, { action: 'user.membership.remove', target: `user:${userId}`, before: { org_id: orgId, role: m.role } })
    })
  }
}
