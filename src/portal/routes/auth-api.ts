import { z } from 'zod'
import type { App } from '../../app.js'
import { setSessionCookie, sessionCookie, viewer } from '../plugin.js'
import { PasskeyRefused } from '../passkeys.js'

// Sign-in without passwords: setup link → first passkey; passkey → session; passkey again → step-up.

const token = z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, 'not a setup link token')
const challengeId = z.uuid()
// The browser library's JSON; @simplewebauthn/server checks every member.
const credential = z.object({ id: z.string().max(1024), rawId: z.string().max(1024), type: z.literal('public-key') }).passthrough()
const passkeyName = z.string().trim().min(1, 'give the passkey a name').max(100).default('Passkey')

export default async function authApi (app: App): Promise<void> {
  const { config, portal: p } = app.services
  const limited = { rateLimit: { max: config.PORTAL_LOGIN_RATE_LIMIT, timeWindow: '1 minute' } }
  const who = (userId: string, requestId: string) => ({ actor: `user:${userId}`, requestId })
  const signIn = async (reply: import('fastify').FastifyReply, userId: string, how: string, requestId: string) => {
    const { token: t } = await p.sessions.create(userId, how, who(userId, requestId))
    setSessionCookie(reply, t, config.PORTAL_SESSION_LIFETIME_SECONDS)
    return { user_id: userId }
  }

  app.post('/setup/options', { config: limited, schema: { hide: true, body: z.object({ token }).strict() } }, async (r) => {
    const { user } = await p.users.setupLinkUser(r.body.token)
    return p.passkeys.registrationOptions(user)
  })

  app.post('/setup/verify', {
    config: limited, schema: { hide: true, body: z.object({ token, challenge_id: challengeId, response: credential, name: passkeyName }).strict() },
  }, async (r, reply) => {
    const { linkId, user } = await p.users.setupLinkUser(r.body.token)
    await p.passkeys.register(user.id, r.body.challenge_id, r.body.response as never, r.body.name, who(user.id, r.id), async (tx) => {
      // Single use, also when two tabs race: only one update finds the link unused.
      const used = await tx.setupLink.updateMany({ where: { id: linkId, usedAt: null }, data: { usedAt: app.services.clock.now() } })
      if (used.count !== 1) throw PasskeyRefused('this setup link has been used already')
    })
    return signIn(reply, user.id, 'setup-link', r.id)
  })

  app.post('/login/options', { config: limited, schema: { hide: true } }, async () => p.passkeys.authenticationOptions('login'))

  app.post('/login/verify', { config: limited, schema: { hide: true, body: z.object({ challenge_id: challengeId, response: credential }).strict() } }, async (r, reply) => {
    const userId = await p.passkeys.authenticate('login', r.body.challenge_id, r.body.response as never)
    return signIn(reply, userId, 'passkey', r.id)
  })

  app.post('/step-up/options', { config: limited, schema: { hide: true } }, async (r) => p.passkeys.authenticationOptions('step-up', viewer(r).user.id))

  app.post('/step-up/verify', { config: limited, schema: { hide: true, body: z.object({ challenge_id: challengeId, response: credential }).strict() } }, async (r) => {
    const { user, session } = viewer(r)
    await p.passkeys.authenticate('step-up', r.body.challenge_id, r.body.response as never, user.id)
    await p.sessions.stepUp(session.id)
    return { ok: true }
  })

  app.post('/logout', { schema: { hide: true } }, async (r, reply) => {
    if (r.portal) await p.sessions.end(r.portal.session.id)
    reply.clearCookie(sessionCookie, { path: '/', secure: true, httpOnly: true, sameSite: 'strict' })
    return { ok: true }
  })

  app.post('/logout-everywhere', { schema: { hide: true } }, async (r, reply) => {
    const { user } = viewer(r)
    const sessions = await p.sessions.endAll(user.id, who(user.id, r.id))
    reply.clearCookie(sessionCookie, { path: '/', secure: true, httpOnly: true, sameSite: 'strict' })
    return { sessions }
  })

  app.get('/me', { schema: { hide: true } }, async (r) => viewer(r).user)

  app.post('/passkeys/options', { schema: { hide: true } }, async (r) => p.passkeys.registrationOptions(viewer(r).user))
  app.post('/passkeys', { schema: { hide: true, body: z.object({ challenge_id: challengeId, response: credential, name: passkeyName }).strict() } }, async (r, reply) => {
    const { user } = viewer(r)
    return reply.code(201).send(await p.passkeys.register(user.id, r.body.challenge_id, r.body.response as never, r.body.name, who(user.id, r.id)))
  })
  app.delete('/passkeys/:id', { schema: { hide: true, params: z.object({ id: z.string().max(1024) }) } }, async (r) => {
    const { user } = viewer(r)
    await p.passkeys.remove(user.id, r.params.id, who(user.id, r.id))
    return { ok: true }
  })
}
