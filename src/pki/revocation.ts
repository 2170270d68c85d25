import type { Actor, AuditLog } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import type { Tx } from '../db/database.js'
import { bumpRegistryVersion } from '../registry/deps.js'
import type { RevocationReason } from './reasons.js'

export interface RevocationScope { serial?: string, organisationId?: string, softwareStatementId?: string }

/**
 * Revokes every active certificate in scope, inside the caller's transaction. The CRL, the OCSP
 * responder and the keystores all read certificate status from the database, so the revocation is
 * visible everywhere as soon as the transaction commits (RFC 5280 §5, RFC 6960).
 */
export async function revokeCertificates (
  tx: Tx, d: { audit: AuditLog, clock: Clock }, scope: RevocationScope, reason: RevocationReason, who: Actor,
): Promise<string[]> {
  const where = { ...scope, status: 'active' as const }
  const serials = (await tx.certificate.findMany({ where, select: { serial: true } })).map((c) => c.serial)
  if (serials.length === 0) return []
  const now = d.clock.now()
  await tx.certificate.updateMany({ where: { serial: { in: serials } }, data: { status: 'revoked', revokedAt: now, revocationReason: reason } })
  for (const serial of serials) {
    await d.audit.append(tx, who, {
      action: 'certificate.revoke', target: `certificate:${serial}`,
      before: { status: 'active' }, after: { status: 'revoked', reason, revoked_at: now },
    })
  }
  await bumpRegistryVersion(tx)
  return serials
}
