import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, importPKCS8, type JWK } from 'jose'
import type { Actor, AuditLog } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import type { Prisma, Tx } from '../db/database.js'
import { Conflict } from '../errors.js'
import { bumpRegistryVersion } from '../registry/deps.js'
import type { KeyVault } from './vault.js'

export type SigningAlg = 'PS256' | 'ES256'

export interface LoadedKey { kid: string, alg: SigningAlg, key: CryptoKey, publicJwk: JWK }

/** A published key as a verifier needs it: its algorithm and its SPKI PEM (what @fastify/jwt takes). */
export interface VerificationKey { alg: SigningAlg, pem: string }

function generate (alg: SigningAlg): KeyObject {
  return alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
}

/**
 * The directory's signing keys for SSAs and access tokens: one active, one next (published ahead so
 * verifiers already have it when it becomes active), and retired keys kept published for the overlap
 * (so everything signed before a rotation still verifies). kid = RFC 7638 thumbprint.
 */
export class SigningKeys {
  private active?: LoadedKey
  private published: LoadedKey[] = []
  private publishedJwks: { keys: JWK[] } = { keys: [] }
  private verificationKeys = new Map<string, VerificationKey>()
  private loadedAt = -1

  constructor (
    private readonly prisma: Prisma,
    private readonly vault: KeyVault,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly opts: { alg: SigningAlg, overlapSeconds: number },
  ) {}

  private async create (tx: Tx, alg: SigningAlg, state: 'active' | 'next', privateKey: KeyObject = generate(alg)): Promise<string> {
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK
    const kid = await calculateJwkThumbprint(jwk, 'sha256')
    const sealed = this.vault.seal(privateKey, 'directory-signing', alg, randomUUID())
    await tx.encryptedKey.create({ data: sealed })
    await tx.signingKey.create({
      data: {
        kid, alg, keyId: sealed.id, state, publicJwk: { ...jwk, kid, use: 'sig', alg },
        ...(state === 'active' ? { activatedAt: this.clock.now() } : {}),
      },
    })
    return kid
  }

  /** Creates the active and next keys when there are none (first start); returns whether it did. */
  async ensure (who: Actor): Promise<boolean> {
    const present = () => this.prisma.signingKey.count({ where: { state: { in: ['active', 'next'] } } })
    if (await present() > 0) return false
    // Generated before the transaction: two RSA keys can take seconds on a busy machine, past its time limit.
    const fresh = [generate(this.opts.alg), generate(this.opts.alg)] as const
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(7468)')
      const existing = await tx.signingKey.count({ where: { state: { in: ['active', 'next'] } } })
      if (existing > 0) return false
      const active = await this.create(tx, this.opts.alg, 'active', fresh[0])
      const next = await this.create(tx, this.opts.alg, 'next', fresh[1])
      await this.audit.append(tx, who, { action: 'signing_key.create', target: 'signing_keys', after: { active_kid: active, next_kid: next } })
      await bumpRegistryVersion(tx)
      return true
    })
  }

  /** Loads keys from the database (at start, and whenever the registry version moved). */
  async load (version = 0): Promise<void> {
    const since = new Date(this.clock.now().getTime() - this.opts.overlapSeconds * 1000)
    const rows = await this.prisma.signingKey.findMany({
      where: { OR: [{ state: { in: ['active', 'next'] } }, { state: 'retired', retiredAt: { gt: since } }] },
      include: { key: true },
      orderBy: { createdAt: 'asc' },
    })
    const loaded: LoadedKey[] = []
    const verificationKeys = new Map<string, VerificationKey>()
    let active: LoadedKey | undefined
    for (const r of rows) {
      const alg = r.alg as SigningAlg
      const privateKey = this.vault.open(r.key)
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
      const k: LoadedKey = { kid: r.kid, alg, key: await importPKCS8(pem, alg), publicJwk: r.publicJwk as JWK }
      loaded.push(k)
      verificationKeys.set(r.kid, { alg, pem: createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }) as string })
      if (r.state === 'active') active = k
    }
    if (!active) throw new Error('no active directory signing key: run init')
    this.active = active
    this.published = loaded
    this.publishedJwks = { keys: loaded.map((k) => k.publicJwk) }
    this.verificationKeys = verificationKeys
    this.loadedAt = version
  }

  get loadedVersion (): number { return this.loadedAt }
  get ready (): boolean { return this.active !== undefined }

  current (): LoadedKey {
    if (!this.active) throw new Error('signing keys not loaded')
    return this.active
  }

  /** Public keys for /jwks: active, next and retired within the overlap. */
  jwks (): { keys: JWK[] } {
    return this.publishedJwks
  }

  /** The published key with this kid (active, next, or retired within the overlap), for verifying what we signed. */
  verificationKey (kid: unknown): VerificationKey | undefined {
    return typeof kid === 'string' ? this.verificationKeys.get(kid) : undefined
  }

  /** Promotes next → active, active → retired, and creates a new next key. */
  async rotate (who: Actor): Promise<{ active_kid: string, retired_kid: string }> {
    const result = await this.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(7468)')
      const active = await tx.signingKey.findFirst({ where: { state: 'active' } })
      const next = await tx.signingKey.findFirst({ where: { state: 'next' } })
      if (!active || !next) throw Conflict('signing keys are not initialised')
      const now = this.clock.now()
      await tx.signingKey.update({ where: { kid: active.kid }, data: { state: 'retired', retiredAt: now } })
      await tx.signingKey.update({ where: { kid: next.kid }, data: { state: 'active', activatedAt: now } })
      const newNext = await this.create(tx, this.opts.alg, 'next')
      const out = { active_kid: next.kid, retired_kid: active.kid }
      await this.audit.append(tx, who, { action: 'signing_key.rotate', target: 'signing_keys', before: { active_kid: active.kid }, after: { ...out, next_kid: newNext } })
      await bumpRegistryVersion(tx)
      return out
    })
    await this.load(this.loadedAt)
    return result
  }
}
