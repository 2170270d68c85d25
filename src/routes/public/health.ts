import { z } from 'zod'
import type { App } from '../../app.js'
import { render, sendProblem } from '../../plugins/errors.js'
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
    const { db, readiness, config } = app.services
    // A frozen database must not hold the probe: answer not-ready within READY_TIMEOUT_MS.
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), config.READY_TIMEOUT_MS) })
    try {
      const pending = await Promise.race([pendingMigrations(db), late])
      if (pending === 'late') {
        request.log.warn({ timeout_ms: config.READY_TIMEOUT_MS }, 'readiness: database did not answer in time')
        return render(request, reply, Unavailable(`database did not answer within ${config.READY_TIMEOUT_MS} ms`))
      }
      if (pending.length > 0) return sendProblem(reply, Unavailable(`migrations not applied: ${pending.join(', ')}`))
    } catch (err) {
      request.log.warn({ err }, 'readiness: database unreachable')
      return render(request, reply, Unavailable('database unreachable'))
    } finally {
      clearTimeout(timer)
    }
    const notReady = readiness()
    if (notReady) return sendProblem(reply, Unavailable(notReady))
    return { status: 'ok' as const }
  })
}
