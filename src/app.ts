import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Config } from './config.js'
import { loggerOptions } from './log.js'
import errors from './plugins/errors.js'
import openapi from './plugins/openapi.js'
import healthRoutes from './routes/public/health.js'
import type { Services } from './services.js'

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>

declare module 'fastify' {
  interface FastifyInstance { services: Services }
}

const requestId = /^[A-Za-z0-9._-]{1,64}$/

/** Settings both listeners share: logging, ids, body limit, zod validation, errors. */
export interface AppOptions {
  /** Where log lines go (default stdout): tests read them to check redaction. */
  logStream?: { write: (line: string) => void }
}

function baseApp (config: Config, services: Services, options: AppOptions): App {
  const app = Fastify({
    logger: loggerOptions(config.LOG_LEVEL, options.logStream),
    bodyLimit: config.BODY_LIMIT,
    requestIdHeader: false,
    // Honour a well-formed upstream request id so logs correlate across a proxy; otherwise make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && requestId.test(given) ? given : randomUUID()
    },
    routerOptions: { ignoreTrailingSlash: true },
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.decorate('services', services)
  app.addHook('onSend', async (request, reply) => { reply.header('x-request-id', request.id) })
  return app
}

/** The public listener: trust anchors, discovery, enrolment, health and the API description. */
export async function buildPublicApp (config: Config, services: Services, options: AppOptions = {}): Promise<App> {
  const app = baseApp(config, services, options)
  await app.register(errors, { bodyLimit: config.BODY_LIMIT })
  await app.register(openapi, { title: 'Ecosystem Directory', serverUrl: config.DIRECTORY_ISSUER })
  await app.register(healthRoutes)
  return app
}
