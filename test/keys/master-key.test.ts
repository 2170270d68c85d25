import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { initDirectory } from '../../src/init.js'
import { loadMasterKey, masterKeyFrom } from '../../src/keys/master-key.js'
import { KeyVault } from '../../src/keys/vault.js'
import { TestClock } from '../helpers/app.js'
import { testDatabase } from '../helpers/database.js'

async function dataDir (t: { teardown: (f: () => unknown) => void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'master-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  return d
}

t.test('first start creates DATA_DIR/master.key with mode 0600; later starts reuse it', async (t) => {
  const { db } = await testDatabase(t)
  const dir = await dataDir(t)
  const first = await loadMasterKey({ DATA_DIR: dir }, db.prisma)
  const s = await stat(join(dir, 'master.key'))
  t.equal(s.mode & 0o777, 0o600)
  t.equal(Buffer.from((await readFile(join(dir, 'master.key'), 'utf8')).trim(), 'base64').length, 32)
  const again = await loadMasterKey({ DATA_DIR: dir }, db.prisma)
  t.equal(again.id, first.id)
})

t.test('a wrong master key for existing data stops start-up; nothing is replaced', async (t) => {
  const { db } = await testDatabase(t)
  const dir = await dataDir(t)
  const key = randomBytes(32).toString('base64')
  const config = loadConfig({ DATA_DIR: dir, DIRECTORY_MASTER_KEY: key })
  await initDirectory(config, db, new TestClock())
  const before = await db.prisma.encryptedKey.count()
  const wrong = loadConfig({ DATA_DIR: dir, DIRECTORY_MASTER_KEY: randomBytes(32).toString('base64') })
  await t.rejects(initDirectory(wrong, db, new TestClock()), { name: 'MasterKeyError', message: /is not the one that sealed the stored keys/ })
  t.equal(await db.prisma.encryptedKey.count(), before, 'no keys created over existing ones')
})

t.test('a missing master key file for existing data stops start-up instead of creating a new key', async (t) => {
  const { db } = await testDatabase(t)
  const dir = await dataDir(t)
  await initDirectory(loadConfig({ DATA_DIR: dir }), db, new TestClock())
  await unlink(join(dir, 'master.key'))
  await t.rejects(loadMasterKey({ DATA_DIR: dir }, db.prisma), { name: 'MasterKeyError', message: /master.key is missing/ })
  await t.rejects(stat(join(dir, 'master.key')), 'no new key file was written')
})

t.test('the vault: round trip; tampering or moving a ciphertext fails', async (t) => {
  const vault = new KeyVault(masterKeyFrom(randomBytes(32)))
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  const sealed = vault.seal(key, 'issuing-ca', 'ec-p256')
  t.ok(vault.open(sealed).equals(key))
  const flipped = new Uint8Array(sealed.ciphertext)
  flipped[5] = flipped[5]! ^ 1
  t.throws(() => vault.open({ ...sealed, ciphertext: flipped }), 'a flipped bit fails authentication')
  t.throws(() => vault.open({ ...sealed, purpose: 'tls-server' }), 'a ciphertext moved to another purpose fails')
  t.throws(() => vault.open({ ...sealed, id: '00000000-0000-4000-8000-000000000000' }), 'a ciphertext moved to another row fails')
  t.throws(() => new KeyVault(masterKeyFrom(randomBytes(32))).open(sealed), /another master key/)
  const other = new KeyVault(masterKeyFrom(randomBytes(32)))
  t.ok(other.open(vault.rewrap(sealed, other)).equals(key), 'rewrap moves a key under a new master key')
})
