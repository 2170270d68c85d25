import { createCipheriv, createDecipheriv, createPrivateKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto'
import type { MasterKey } from './master-key.js'

/** The stored form of a sealed key (the `encrypted_keys` row). */
export interface SealedKey {
  id: string
  purpose: string
  keyType: string
  masterKeyId: string
  algorithm: string
  wrappedKey: Bytes
  wrapNonce: Bytes
  nonce: Bytes
  ciphertext: Bytes
}

type Bytes = Uint8Array<ArrayBuffer>
const TAG = 16
const bytes = (b: Buffer): Bytes => new Uint8Array(b)

function encrypt (key: Buffer, plaintext: Buffer, aad: string): { nonce: Buffer, sealed: Buffer } {
  const nonce = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, nonce)
  cipher.setAAD(Buffer.from(aad))
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
  return { nonce, sealed }
}

function decrypt (key: Buffer, nonce: Uint8Array, sealed: Uint8Array, aad: string): Buffer {
  const body = Buffer.from(sealed)
  const decipher = createDecipheriv('aes-256-gcm', key, nonce)
  decipher.setAAD(Buffer.from(aad))
  decipher.setAuthTag(body.subarray(body.length - TAG))
  return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG)), decipher.final()])
}

/**
 * Envelope encryption (AES-256-GCM twice): each private key is encrypted under its own random data
 * key, and the data key is wrapped under the master key. The row's id, purpose and key type are
 * authenticated data, so a ciphertext cannot be moved to another row or role undetected; rotating
 * the master key rewraps data keys only.
 */
export class KeyVault {
  constructor (private readonly master: MasterKey) {}

  get masterKeyId (): string { return this.master.id }

  seal (privateKey: KeyObject, purpose: string, keyType: string, id: string = randomUUID()): SealedKey {
    const dataKey = randomBytes(32)
    const aad = `${id}|${purpose}|${keyType}`
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' })
    const body = encrypt(dataKey, pkcs8, aad)
    const wrap = encrypt(this.master.key, dataKey, aad)
    dataKey.fill(0)
    pkcs8.fill(0)
    return {
      id, purpose, keyType, masterKeyId: this.master.id, algorithm: 'A256GCM',
      wrappedKey: bytes(wrap.sealed), wrapNonce: bytes(wrap.nonce), nonce: bytes(body.nonce), ciphertext: bytes(body.sealed),
    }
  }

  open (row: SealedKey): KeyObject {
    if (row.masterKeyId !== this.master.id) throw new Error(`key ${row.id} is sealed by another master key (${row.masterKeyId})`)
    const aad = `${row.id}|${row.purpose}|${row.keyType}`
    const dataKey = decrypt(this.master.key, row.wrapNonce, row.wrappedKey, aad)
    const pkcs8 = decrypt(dataKey, row.nonce, row.ciphertext, aad)
    dataKey.fill(0)
    try {
      return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
    } finally {
      pkcs8.fill(0)
    }
  }

  /** The same key under a new master key (master-key rotation). */
  rewrap (row: SealedKey, next: KeyVault): SealedKey {
    return next.seal(this.open(row), row.purpose, row.keyType, row.id)
  }
}
