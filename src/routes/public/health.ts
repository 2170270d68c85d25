import { z } from 'zod'
import type { App } from '../../app.js'
import { sendProblem } from '../../plugins/errors.js'
import { Unavailable } from '../../errors.js'
import { pendingMigrations } from '../../db/migrations.js'

const ok = z.object({ status: z.literal('ok') })

export default async function healthRoutes (app: App): Promise<void> {
  app.get('/healthz', {
    schema: { tags: ['operations'], summary: 'Liveness: the process answers', response: { 200: ok } },
    logLevel: 'warn',
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: {
      tags: ['operations'],
      summary: 'Readiness: database reachable, migrations applied, keys loaded',
      response: { 200: ok },
    },
    logLevel: 'warn',
  }, async (request, reply) => {
    const { db, readiness } = app.services
    try {
      const pending = await pendingMigrations(db)
      if (pending.length > 0) return sendProblem(reply, Unavailable(`migrations not applied: ${pending.join(', ')}`))
    } catch (err) {
      request.log.warn({ err }, 'readiness: database unreachable')
      return sendProblem(reply, Unavailable('database unreachable'))
    }
    const notReady = readiness()
    if (notReady) return sendProblem(reply, Unavailable(notReady))
    return { status: 'ok' as const }
  })
}
