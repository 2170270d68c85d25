import { randomUUID } from 'node:crypto'
import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type AuthenticatorTransportFuture, type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON, type RegistrationResponseJSON,
} from '@simplewebauthn/server'
import type { Actor, AuditLog } from '../audit/audit-log.js'
import type { Clock } from '../clock.js'
import type { Prisma } from '../db/database.js'
import { Conflict, NotFound, Problem } from '../errors.js'

export const PasskeyRefused = (detail: string): Problem => new Problem(401, 'passkey-refused', 'Passkey Refused', detail)

export interface PasskeyView { id: string, name: string, created_at: Date, last_used_at: Date | null }

type Purpose = 'register' | 'login' | 'step-up'
const challengeTtlMs = 5 * 60 * 1000

/**
 * WebAuthn ceremonies (@simplewebauthn/server). The relying party is the directory's public origin.
 * Challenges live in the database between options and verification, single use, so any instance can verify.
 */
export class Passkeys {
  constructor (private readonly d: { prisma: Prisma, audit: AuditLog, clock: Clock, origin: string, rpId: string, rpName: string }) {}

  private async saveChallenge (challenge: string, purpose: Purpose, userId?: string): Promise<string> {
    const id = randomUUID()
    const now = this.d.clock.now()
    await this.d.prisma.webauthnChallenge.deleteMany({ where: { expiresAt: { lt: now } } })
    await this.d.prisma.webauthnChallenge.create({ data: { id, challenge, purpose, userId: userId ?? null, expiresAt: new Date(now.getTime() + challengeTtlMs) } })
    return id
  }

  /** Takes the challenge (deleting it, so it cannot be answered twice). */
  private async takeChallenge (id: string, purpose: Purpose, userId?: string): Promise<string> {
    const row = await this.d.prisma.webauthnChallenge.findUnique({ where: { id } })
    if (!row) throw PasskeyRefused('the passkey challenge is unknown or was used already: try again')
    await this.d.prisma.webauthnChallenge.deleteMany({ where: { id } })
    if (row.purpose !== purpose || (userId !== undefined && row.userId !== userId)) throw PasskeyRefused('the passkey challenge was made for something else')
    if (row.expiresAt <= this.d.clock.now()) throw PasskeyRefused('the passkey challenge expired: try again')
    return row.challenge
  }

  async registrationOptions (user: { id: string, email: string, name: string | null }): Promise<{ challenge_id: string, options: PublicKeyCredentialCreationOptionsJSON }> {
    const existing = await this.d.prisma.passkey.findMany({ where: { userId: user.id }, select: { id: true, transports: true } })
    const options = await generateRegistrationOptions({
      rpName: this.d.rpName, rpID: this.d.rpId, userName: user.email, userDisplayName: user.name ?? user.email,
      userID: new TextEncoder().encode(user.id), attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.id, transports: p.transports as AuthenticatorTransportFuture[] })),
      // Discoverable credentials: sign-in needs no user name, the passkey says who it is.
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    })
    return { challenge_id: await this.saveChallenge(options.challenge, 'register', user.id), options }
  }

  async register (userId: string, challengeId: string, response: RegistrationResponseJSON, name: string, who: Actor, extra?: (tx: Parameters<Parameters<Prisma['$transaction']>[0]>[0]) => Promise<void>): Promise<PasskeyView> {
    const expectedChallenge = await this.takeChallenge(challengeId, 'register', userId)
    let result
    try {
      result = await verifyRegistrationResponse({ response, expectedChallenge, expectedOrigin: this.d.origin, expectedRPID: this.d.rpId, requireUserVerification: true })
    } catch (err) {
      throw PasskeyRefused(`the passkey could not be verified: ${(err as Error).message}`)
    }
    if (!result.verified || !result.registrationInfo) throw PasskeyRefused('the passkey could not be verified')
    const { credential } = result.registrationInfo
    return this.d.prisma.$transaction(async (tx) => {
      if (await tx.passkey.findUnique({ where: { id: credential.id }, select: { id: true } })) throw Conflict('this passkey is registered already')
      const row = await tx.passkey.create({
        data: { id: credential.id, userId, name, publicKey: Buffer.from(credential.publicKey), counter: BigInt(credential.counter), transports: credential.transports ?? [] },
      })
      await this.d.audit.append(tx, who, { action: 'passkey.register', target: `user:${userId}`, after: { passkey_id: row.id, name } })
      await extra?.(tx)
      return view(row)
    })
  }

  async authenticationOptions (purpose: 'login' | 'step-up', userId?: string): Promise<{ challenge_id: string, options: PublicKeyCredentialRequestOptionsJSON }> {
    const allow = userId ? await this.d.prisma.passkey.findMany({ where: { userId }, select: { id: true, transports: true } }) : []
    const options = await generateAuthenticationOptions({
      rpID: this.d.rpId, userVerification: 'required',
      allowCredentials: allow.map((p) => ({ id: p.id, transports: p.transports as AuthenticatorTransportFuture[] })),
    })
    return { challenge_id: await this.saveChallenge(options.challenge, purpose, userId), options }
  }

  /** Verifies an assertion; returns the user it proves. For step-up, the passkey must be the session user's. */
  async authenticate (purpose: 'login' | 'step-up', challengeId: string, response: AuthenticationResponseJSON, userId?: string): Promise<string> {
    const expectedChallenge = await this.takeChallenge(challengeId, purpose, userId)
    const passkey = await this.d.prisma.passkey.findUnique({ where: { id: response.id }, include: { user: { select: { active: true } } } })
    if (!passkey || !passkey.user.active || (userId !== undefined && passkey.userId !== userId)) throw PasskeyRefused('this passkey is not registered here')
    let result
    try {
      result = await verifyAuthenticationResponse({
        response, expectedChallenge, expectedOrigin: this.d.origin, expectedRPID: this.d.rpId, requireUserVerification: true,
        credential: { id: passkey.id, publicKey: new Uint8Array(passkey.publicKey), counter: Number(passkey.counter), transports: passkey.transports as AuthenticatorTransportFuture[] },
      })
    } catch (err) {
      throw PasskeyRefused(`the passkey could not be verified: ${(err as Error).message}`)
    }
    if (!result.verified) throw PasskeyRefused('the passkey could not be verified')
    await this.d.prisma.passkey.update({ where: { id: passkey.id }, data: { counter: BigInt(result.authenticationInfo.newCounter), lastUsedAt: this.d.clock.now() } })
    return passkey.userId
  }

  async list (userId: string): Promise<PasskeyView[]> {
    return (await this.d.prisma.passkey.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } })).map(view)
  }

  /** Removes one of the user's own passkeys; the last one stays, or the account could not sign in again. */
  async remove (userId: string, passkeyId: string, who: Actor): Promise<void> {
    await this.d.prisma.$transaction(async (tx) => {
      const keys = await tx.passkey.findMany({ where: { userId }, select: { id: true, name: true } })
      const key = keys.find((k) => k.id === passkeyId)
      if (!key) throw NotFound('no such passkey')
      if (keys.length === 1) throw Conflict('this is your only passkey: add another before removing it')
      await tx.passkey.delete({ where: { id: passkeyId } })
      await this.d.audit.append(tx, who, { action: 'passkey.remove', target: `user:${userId}`, before: { passkey_id: passkeyId, name: key.name } })
    })
  }
}

const view = (r: { id: string, name: string, createdAt: Date, lastUsedAt: Date | null }): PasskeyView =>
  ({ id: r.id, name: r.name, created_at: r.createdAt, last_used_at: r.lastUsedAt })
