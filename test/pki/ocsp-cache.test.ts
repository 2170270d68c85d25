import { randomBytes, randomUUID } from 'node:crypto'
import t from 'tap'
import { bumpRegistryVersion } from '../../src/registry/deps.js'
import { OcspCache } from '../../src/pki/ocsp-cache.js'
import { DocumentCache } from '../../src/publication/document-cache.js'
import { testDatabase } from '../helpers/database.js'

// The pre-produced OCSP answers against a real database and the real registry version: what another instance's
// revocation looks like from here is a certificate row turned revoked and the version bumped.
async function setup (t: { teardown: (fn: () => unknown) => void }) {
  const { db } = await testDatabase(t)
  const orgId = randomUUID()
  await db.prisma.organisation.create({ data: { id: orgId, legalName: 'Cache Test Ltd', registrationNumber: 'CT-1', country: 'GB', status: 'active' } })
  const certificate = async (): Promise<string> => {
    const serial = randomBytes(16).toString('hex')
    await db.prisma.certificate.create({
      data: { serial, type: 'transport', organisationId: orgId, der: new Uint8Array([0x30, 0]), x5tS256: randomBytes(32).toString('base64url'), notBefore: new Date(), notAfter: new Date(Date.now() + 86_400_000) },
    })
    return serial
  }
  const revokeElsewhere = async (serial: string): Promise<void> => {
    await db.prisma.$transaction(async (tx) => {
      await tx.certificate.update({ where: { serial }, data: { status: 'revoked', revokedAt: new Date(), revocationReason: 'keyCompromise' } })
      await bumpRegistryVersion(tx)
    })
  }
  const documents = new DocumentCache(db.prisma)
  const cache = new OcspCache({ sql: db.sql, registryVersion: () => documents.registryVersion() })
  const now = new Date()
  const response = (tag: string) => ({ der: Buffer.from(tag), thisUpdate: new Date(now.getTime() - 1000), nextUpdate: new Date(now.getTime() + 3_600_000) })
  return { db, documents, cache, certificate, revokeElsewhere, now, response }
}

t.test('an answer is kept under the version its status was read with, and dropped when that status changes', async (t) => {
  const { documents, cache, certificate, revokeElsewhere, now, response } = await setup(t)
  const a = await certificate()
  const b = await certificate()
  const v1 = await cache.current()
  t.not(v1, undefined)
  const kept = cache.put('req-a', response('a'), { serial: a, status: 'good', version: v1! })
  t.match(kept.etag, /^"[A-Za-z0-9_-]{27}"$/)
  cache.put('req-b', response('b'), { serial: b, status: 'good', version: v1! })
  t.equal(cache.get('req-a', now)?.der.toString(), 'a')

  await revokeElsewhere(a)
  documents.markStale() // what the poll does every 250 ms
  const v2 = await cache.current()
  t.ok(v2! > v1!, 'the version moved')
  t.equal(cache.get('req-a', now), undefined, 'the revoked certificate\'s good answer is gone')
  t.equal(cache.get('req-b', now)?.der.toString(), 'b', 'an unchanged certificate keeps its answer')

  // An answer built from a status read under the old version is not kept.
  cache.put('req-late', response('late'), { serial: b, status: 'good', version: v1! })
  t.equal(cache.get('req-late', now), undefined)
})

t.test('answers are replaced at half their validity; forget() drops one certificate\'s', async (t) => {
  const { cache, certificate, now } = await setup(t)
  const a = await certificate()
  const v = (await cache.current())!
  cache.put('req', { der: Buffer.from('x'), thisUpdate: now, nextUpdate: new Date(now.getTime() + 3_600_000) }, { serial: a, status: 'good', version: v })
  t.ok(cache.get('req', new Date(now.getTime() + 1_799_000)))
  t.equal(cache.get('req', new Date(now.getTime() + 1_800_000)), undefined, 'refreshed from half-life on')
  cache.put('req', { der: Buffer.from('x'), thisUpdate: now, nextUpdate: new Date(now.getTime() + 3_600_000) }, { serial: a, status: 'good', version: v })
  cache.forget(a)
  t.equal(cache.get('req', now), undefined)
})
