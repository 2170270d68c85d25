import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Actor, AuditLog } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { Prisma } from '../db/database.js'
import { Conflict, NotFound, Unauthorized } from '../errors.js'
import type { CertificateAuthority } from '../pki/authority.js'
import { parseCsr } from '../pki/csr.js'
import type { ClientJwks } from './client-jwks.js'
import { participantScopes } from './scopes.js'

const hashCode = (code: string): string => createHash('sha256').update(code).digest('hex')

/**
 * Bootstrap of a participant's first credentials (DESIGN.md §5): the operator makes a one-time code
 * (only its hash is stored; short-lived; single use; bound to one organisation); the participant
 * trades it, with a transport CSR and its public JWKS, for a client id and a certificate.
 */
export class Enrolment {
  constructor (private readonly d: { prisma: Prisma, clock: Clock, audit: AuditLog, authority: CertificateAuthority, config: Pick<Config, 'ENROLMENT_CODE_TTL'> }) {}

  async createCode (orgId: string, who: Actor): Promise<{ code: string, expires_at: Date }> {
    const code = randomBytes(32).toString('base64url')
    const expiresAt = new Date(this.d.clock.now().getTime() + this.d.config.ENROLMENT_CODE_TTL * 1000)
    await this.d.prisma.$transaction(async (tx) => {
      const org = await tx.organisation.findUnique({ where: { id: orgId }, select: { status: true } })
      if (!org) throw NotFound(`no organisation ${orgId}`)
      if (org.status !== 'active' && org.status !== 'pending') throw Conflict(`the organisation is ${org.status}: it cannot enrol`)
      const id = randomUUID()
      await tx.enrolmentCode.create({ data: { id, organisationId: orgId, codeHash: hashCode(code), expiresAt } })
      await this.d.audit.append(tx, who, { action: 'enrolment_code.create', target: `organisation:${orgId}`, after: { enrolment_code_id: id, expires_at: expiresAt } })
    })
    return { code, expires_at: expiresAt }
  }

  async enrol (input: { code: string, csr: string, jwks: ClientJwks }, who: Actor): Promise<{ client_id: string, org_id: string, certificate: string, chain: string[] }> {
    parseCsr(input.csr) // refuse a bad CSR before the code is spent
    const now = this.d.clock.now()
    const clientId = randomUUID()
    // The code is consumed first, in its own transaction: a failure after it leaves the code spent,
    // which is the safe side for a one-time credential.
    const orgId = await this.d.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRawUnsafe<Array<{ id: string, organisation_id: string, expires_at: Date, used_at: Date | null }>>(
        'SELECT id, organisation_id, expires_at, used_at FROM enrolment_codes WHERE code_hash = $1 FOR UPDATE', hashCode(input.code))
      const row = rows[0]
      if (!row || row.used_at || row.expires_at <= now) throw Unauthorized('the enrolment code is unknown, used or expired')
      const org = await tx.organisation.findUniqueOrThrow({ where: { id: row.organisation_id }, select: { status: true } })
      if (org.status !== 'active' && org.status !== 'pending') throw Unauthorized(`the organisation is ${org.status}: it cannot enrol`)
      await tx.enrolmentCode.update({ where: { id: row.id }, data: { usedAt: now } })
      await tx.client.create({ data: { id: clientId, organisationId: row.organisation_id, jwks: input.jwks as never, scopes: participantScopes } })
      await this.d.audit.append(tx, who, { action: 'enrolment.complete', target: `organisation:${row.organisation_id}`, after: { client_id: clientId, enrolment_code_id: row.id } })
      return row.organisation_id
    })
    const issued = await this.d.authority.issue({ orgId, subjectId: clientId, type: 'transport', csr: input.csr }, who)
    return { client_id: clientId, org_id: orgId, certificate: issued.certificate, chain: issued.chain }
  }
}
