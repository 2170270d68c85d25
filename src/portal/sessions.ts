import { randomUUID } from 'node:crypto'
import type { Actor, AuditLog } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import type { Prisma } from '../db/database.js'
import { newToken, tokenHash } from './secrets.js'

export interface Session {
  id: string
  userId: string
  csrfToken: string
  expiresAt: Date
  stepUpAt: Date | null
}

/**
 * Portal sessions, kept in the database so every instance shares them. The cookie holds a random token;
 * the row holds its hash. A session ends after `idleSeconds` without a request or `lifetimeSeconds` in all.
 */
export class PortalSessions {
  constructor (private readonly d: { prisma: Prisma, audit: AuditLog, clock: Clock, idleSeconds: number, lifetimeSeconds: number }) {}

  async create (userId: string, how: string, who: Actor, stepUp = true): Promise<{ token: string, session: Session }> {
    const token = newToken()
    const now = this.d.clock.now()
    const row = await this.d.prisma.$transaction(async (tx) => {
      const s = await tx.portalSession.create({
        data: {
          id: randomUUID(), tokenHash: tokenHash(token), userId, csrfToken: newToken(), createdAt: now, lastSeenAt: now,
          expiresAt: new Date(now.getTime() + this.d.lifetimeSeconds * 1000), stepUpAt: stepUp ? now : null,
        },
      })
      await this.d.audit.append(tx, who, { action: 'session.create', target: `user:${userId}`, after: { session_id: s.id, method: how } })
      return s
    })
    return { token, session: row }
  }

  /** The live session for a cookie token, touched; undefined when unknown, idle too long or past its lifetime. */
  async resolve (token: string): Promise<Session | undefined> {
    const now = this.d.clock.now()
    const row = await this.d.prisma.portalSession.findUnique({ where: { tokenHash: tokenHash(token) }, include: { user: { select: { active: true } } } })
    if (!row) return undefined
    const idleUntil = row.lastSeenAt.getTime() + this.d.idleSeconds * 1000
    if (row.expiresAt <= now || idleUntil <= now.getTime() || !row.user.active) {
      await this.d.prisma.portalSession.deleteMany({ where: { id: row.id } })
      return undefined
    }
    // Touch at most every few seconds: a page load makes several requests.
    if (now.getTime() - row.lastSeenAt.getTime() > 5000) {
      await this.d.prisma.portalSession.update({ where: { id: row.id }, data: { lastSeenAt: now } })
    }
    return row
  }

  /** Records a fresh passkey assertion: dangerous actions need one within `windowSeconds`. */
  async stepUp (sessionId: string): Promise<void> {
    await this.d.prisma.portalSession.update({ where: { id: sessionId }, data: { stepUpAt: this.d.clock.now() } })
  }

  hasFreshStepUp (s: Session, windowSeconds = 300): boolean {
    return s.stepUpAt !== null && this.d.clock.now().getTime() - s.stepUpAt.getTime() <= windowSeconds * 1000
  }

  async end (sessionId: string): Promise<void> {
    await this.d.prisma.portalSession.deleteMany({ where: { id: sessionId } })
  }

  /** Logout everywhere: every session of the user, on every instance. */
  async endAll (userId: string, who: Actor): Promise<number> {
    return this.d.prisma.$transaction(async (tx) => {
      const { count } = await tx.portalSession.deleteMany({ where: { userId } })
      await this.d.audit.append(tx, who, { action: 'session.end-all', target: `user:${userId}`, after: { sessions: count } })
      return count
    })
  }
}
