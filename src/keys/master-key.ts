import { createHmac } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Prisma } from '../db/database.js'

/** The key-encryption key. `id` (not secret) is stored beside every ciphertext it wraps. */
export interface MasterKey { readonly id: string, readonly key: Buffer }

export class MasterKeyError extends Error {
  override name = 'MasterKeyError'
}

export function masterKeyFrom (key: Buffer): MasterKey {
  if (key.length !== 32) throw new MasterKeyError('the master key must be 32 bytes')
  return { id: createHmac('sha256', key).update('ecosystem-directory master key id').digest('hex').slice(0, 16), key }
}

/**
 * DIRECTORY_MASTER_KEY (base64) or DATA_DIR/master.key, created (mode 0600) only when the database
 * holds no sealed keys yet: a missing or different key for existing data stops start-up, it never
 * replaces keys that something else sealed.
 */
export async function loadMasterKey (
  config: { DIRECTORY_MASTER_KEY?: string | undefined, DATA_DIR: string },
  prisma: Prisma,
): Promise<MasterKey> {
  const sealed = await prisma.encryptedKey.findFirst({ select: { masterKeyId: true } })
  let master: MasterKey
  if (config.DIRECTORY_MASTER_KEY) {
    master = masterKeyFrom(Buffer.from(config.DIRECTORY_MASTER_KEY, 'base64'))
  } else {
    const file = join(config.DATA_DIR, 'master.key')
    const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined
      throw new MasterKeyError(`cannot read ${file}: ${e.message}`)
    })
    if (text !== undefined) {
      master = masterKeyFrom(Buffer.from(text.trim(), 'base64'))
    } else {
      if (sealed) {
        throw new MasterKeyError(`the database holds keys sealed by master key ${sealed.masterKeyId}, but ${file} is missing and ` +
          'DIRECTORY_MASTER_KEY is not set: restore the master key (see README "Backup and restore")')
      }
      master = masterKeyFrom(randomBytes(32))
      await mkdir(config.DATA_DIR, { recursive: true, mode: 0o700 })
      await writeFile(file, master.key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
    }
  }
  if (sealed && sealed.masterKeyId !== master.id) {
    throw new MasterKeyError(`the master key (id ${master.id}) is not the one that sealed the stored keys (id ${sealed.masterKeyId}): ` +
      'refusing to start with the wrong key')
  }
  return master
}
