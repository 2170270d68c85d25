import t from 'tap'
import type { Prisma } from '../../src/db/database.js'
import { DocumentCache } from '../../src/publication/document-cache.js'

// The counter read is the only database call the cache makes; here it is held open on purpose to
// order events exactly as a concurrent request would meet them.
function counterStore () {
  let value = 1n
  let gate: Promise<void> = Promise.resolve()
  let release = (): void => {}
  const store = {
    counter: { findUnique: async () => { const v = value; await gate; return { value: v } } },
  }
  return {
    prisma: store as unknown as Prisma,
    set: (v: bigint) => { value = v },
    hold: () => { gate = new Promise((r) => { release = r }) },
    release: () => release(),
  }
}

t.test('a caller arriving while a version read is in flight waits for it (read-your-writes)', async (t) => {
  const db = counterStore()
  const cache = new DocumentCache(db.prisma)
  let builds = 0
  const build = async () => ({ body: `v${++builds}`, contentType: 'text/plain' })
  t.equal((await cache.get('doc', build)).body.toString(), 'v1')

  db.set(2n) // another request committed a change...
  db.hold()
  cache.markStale() // ...and marked the cache stale
  const first = cache.get('doc', build) // starts the version read, held open
  const second = cache.get('doc', build) // arrives while that read is in flight
  db.release()
  const [a, b] = await Promise.all([first, second])
  t.equal(a.body.toString(), 'v2')
  t.equal(b.body.toString(), 'v2', 'the second caller did not get the stale document')
  t.equal(builds, 2, 'one rebuild for both')
})

t.test('a change marked during an in-flight read is read again by the next caller', async (t) => {
  const db = counterStore()
  const cache = new DocumentCache(db.prisma)
  let builds = 0
  const build = async () => ({ body: `v${++builds}`, contentType: 'text/plain' })
  await cache.get('doc', build)
  db.hold()
  cache.markStale()
  const during = cache.get('doc', build) // reads version 1 (held)
  db.set(3n)
  cache.markStale() // a write lands while that read is in flight
  db.release()
  await during
  t.equal((await cache.get('doc', build)).version, 3n)
})

t.test('unchanged version: served from memory, no rebuild', async (t) => {
  const db = counterStore()
  const cache = new DocumentCache(db.prisma)
  let builds = 0
  const build = async () => ({ body: 'same', contentType: 'text/plain' })
  for (let i = 0; i < 5; i++) { cache.markStale(); await cache.get('doc', async () => { builds++; return build() }) }
  t.equal(builds, 1)
})
