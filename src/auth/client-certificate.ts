import { createHash } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Prisma } from '../db/database.js'
import { Unauthorized } from '../errors.js'

/** A client certificate presented on this connection, matched to one we issued. */
export interface PresentedCertificate {
  der: Buffer
  x5tS256: string
  serial: string
  organisationId: string
  softwareStatementId: string | null
}

export const thumbprint = (der: Buffer): string => createHash('sha256').update(der).digest('base64url')

/**
 * Beyond the TLS chain check: the exact certificate must be one this directory issued, a transport
 * certificate, in its validity period and not revoked — read from the store on every request, so a
 * revocation bites on the next request, not when a cache expires.
 */
export async function resolveClientCertificate (prisma: Prisma, clock: Clock, der: Buffer): Promise<PresentedCertificate> {
  const x5t = thumbprint(der)
  const row = await prisma.certificate.findUnique({
    where: { x5tS256: x5t }, select: { serial: true, type: true, status: true, notBefore: true, notAfter: true, organisationId: true, softwareStatementId: true },
  })
  if (!row) throw Unauthorized('the client certificate was not issued by this directory')
  if (row.type !== 'transport') throw Unauthorized('the client certificate is not a transport certificate')
  if (row.status === 'revoked') throw Unauthorized('the client certificate is revoked')
  const now = clock.now()
  if (now < row.notBefore || now >= row.notAfter) throw Unauthorized('the client certificate is outside its validity period')
  return { der, x5tS256: x5t, serial: row.serial, organisationId: row.organisationId, softwareStatementId: row.softwareStatementId }
}
