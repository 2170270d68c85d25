import { X509Certificate } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Prisma } from '../db/database.js'
import { NotFound } from '../errors.js'

export interface CertificateJwk {
  kty: string
  kid: string
  use: 'tls' | 'sig'
  x5c: string[]
  'x5t#S256': string
  [member: string]: unknown
}

/**
 * A certificate as a JWK (RFC 7517 §4.7–4.9): the public key, `kid` = `x5t#S256`, `use` tls for
 * transport (mTLS) and sig for signing certificates, `x5c` with the issuing CA after the leaf.
 */
export function certificateJwk (c: { der: Uint8Array, type: string, x5tS256: string, notBefore: Date, notAfter: Date, status: string, revokedAt: Date | null }, chain: Buffer[]): CertificateJwk {
  const jwk = new X509Certificate(Buffer.from(c.der)).publicKey.export({ format: 'jwk' }) as { kty: string } & Record<string, unknown>
  return {
    ...jwk,
    kid: c.x5tS256,
    use: c.type === 'transport' ? 'tls' : 'sig',
    x5c: [Buffer.from(c.der).toString('base64'), ...chain.map((d) => d.toString('base64'))],
    'x5t#S256': c.x5tS256,
    nbf: Math.floor(c.notBefore.getTime() / 1000),
    exp: Math.floor(c.notAfter.getTime() / 1000),
    ...(c.revokedAt ? { revoked_at: Math.floor(c.revokedAt.getTime() / 1000) } : {}),
  }
}

/**
 * `updatedSince`: the delta — active keys issued at or after it; inactive keys revoked, or expired, at or after it.
 */
export type KeystoreScope = { orgId: string, softwareId?: string, inactive?: boolean, type?: 'transport' | 'signing', updatedSince?: Date | undefined }

/** Keystore JWKS: active (not revoked, in validity) or, with `inactive`, revoked and expired keys. */
export async function loadKeystore (prisma: Prisma, clock: Clock, chain: Buffer[], scope: KeystoreScope): Promise<{ jwks: { keys: CertificateJwk[] }, validUntil?: Date }> {
  if (scope.softwareId) {
    const sw = await prisma.softwareStatement.findFirst({ where: { id: scope.softwareId, organisationId: scope.orgId }, select: { id: true } })
    if (!sw) throw NotFound(`no software statement ${scope.softwareId} in organisation ${scope.orgId}`)
  } else {
    const org = await prisma.organisation.findUnique({ where: { id: scope.orgId }, select: { id: true } })
    if (!org) throw NotFound(`no organisation ${scope.orgId}`)
  }
  const now = clock.now()
  const since = (field: 'createdAt' | 'revokedAt') => (scope.updatedSince ? { [field]: { gte: scope.updatedSince } } : {})
  const certs = await prisma.certificate.findMany({
    where: {
      organisationId: scope.orgId,
      ...(scope.softwareId ? { softwareStatementId: scope.softwareId } : {}),
      ...(scope.type ? { type: scope.type } : {}),
      ...(scope.inactive
        ? { OR: [{ status: 'revoked', ...since('revokedAt') }, { notAfter: { lte: now, ...(scope.updatedSince ? { gte: scope.updatedSince } : {}) } }] }
        : { status: 'active', notAfter: { gt: now }, notBefore: { lte: now }, ...since('createdAt') }),
    },
    orderBy: { createdAt: 'asc' },
  })
  // The active set changes when its first certificate expires, with no registry change to signal it.
  const firstExpiry = scope.inactive ? undefined : certs.map((c) => c.notAfter).sort((a, b) => a.getTime() - b.getTime())[0]
  return { jwks: { keys: certs.map((c) => certificateJwk(c, chain)) }, ...(firstExpiry ? { validUntil: firstExpiry } : {}) }
}
