import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Config } from './config.js'
import { loggerOptions } from './log.js'
import errors, { clientErrorHandler, frameworkErrors } from './plugins/errors.js'
import openapi from './plugins/openapi.js'
import rateLimits from './plugins/rate-limits.js'
import { X509Certificate } from 'node:crypto'
import clientCertificate from './plugins/client-certificate.js'
import guard from './plugins/guard.js'
import adminRoutes from './routes/admin/admin.js'
import adminEventRoutes from './routes/admin/events.js'
import participantEventRoutes from './routes/mtls/events.js'
import participantRoutes from './routes/mtls/participant.js'
import tokenRoutes from './routes/mtls/token.js'
import discoveryRoutes from './routes/public/discovery.js'
import enrolRoutes from './routes/public/enrol.js'
import healthRoutes from './routes/public/health.js'
import pkiRoutes from './routes/public/pki.js'
import trustAnchorRoutes from './routes/public/trust-anchors.js'
import portal from './portal/plugin.js'
import type { Services } from './services.js'
import { registerProtectedProfiles, registerPublicProfiles } from './profiles/index.js'

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>

declare module 'fastify' {
  interface FastifyInstance { services: Services }
}

const requestId = /^[A-Za-z0-9._-]{1,64}$/
const readOnlyPosts = new Set(['/token', '/pki/ocsp'])

/** Settings both listeners share: logging, ids, body limit, zod validation, errors. */
export interface AppOptions {
  /** Where log lines go (default stdout): tests read them to check redaction. */
  logStream?: { write: (line: string) => void }
}

// FAPI 2.0 security profile §5.2.1: TLS 1.2 with these suites (ECDSA variants for our EC server key), or TLS 1.3.
const fapiCiphers = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384',
].join(':')

function baseApp (config: Config, services: Services, options: AppOptions, https?: object): App {
  const app = Fastify({
    ...(https ? { https } : {}),
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
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.decorate('services', services)
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
    // A write on this instance is visible in its public documents at the client's next request.
    // Token and OCSP requests change nothing the documents show.
    if (request.method !== 'GET' && request.method !== 'HEAD' && !readOnlyPosts.has(request.routeOptions.url ?? '')) services.documents.markStale()
  })
  return app
}

/** The public listener: trust anchors, discovery, enrolment, health and the API description. */
export async function buildPublicApp (config: Config, services: Services, options: AppOptions = {}): Promise<App> {
  const app = baseApp(config, services, options)
  await app.register(errors, { bodyLimit: config.BODY_LIMIT })
  await app.register(openapi, { title: 'Ecosystem Directory', serverUrl: config.DIRECTORY_ISSUER })
  await app.register(rateLimits)
  await app.register(healthRoutes)
  await app.register(discoveryRoutes)
  await app.register(trustAnchorRoutes)
  await app.register(pkiRoutes)
  await app.register(enrolRoutes)
  await registerPublicProfiles(app)
  if (config.PORTAL_ENABLED) await app.register(portal)
  return app
}

/**
 * The mTLS listener: TLS with requestCert against our CA. The handshake admits a connection without a
 * valid certificate so that the refusal comes as a clear problem+json (or OAuth) error, not a reset.
 */
export async function buildMtlsApp (config: Config, services: Services, options: AppOptions = {}): Promise<App> {
  const { authority } = services
  const app = baseApp(config, services, options, {
    // One key per TLS_SERVER_KEY type (e.g. RSA and EC side by side); TLS picks the one the client's suites allow.
    key: authority.material.tls.map((t) => t.keyPem),
    cert: authority.material.tls.map((t) => t.certPem + authority.caBundlePem()),
    ca: authority.caBundlePem(),
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    ciphers: fapiCiphers,
    honorCipherOrder: true,
  })
  await app.register(errors, { bodyLimit: config.BODY_LIMIT })
  await app.register(openapi, { title: 'Ecosystem Directory — participant and admin API (mTLS)', serverUrl: config.MTLS_BASE_URL })
  await app.register(clientCertificate, {
    trustProxyHeader: config.TRUSTED_PROXY_CLIENT_CERT, trustedProxies: config.TRUSTED_PROXIES,
    issuingCa: new X509Certificate(authority.material.issuingDer),
  })
  await app.register(rateLimits)
  await app.register(guard)
  await app.register(healthRoutes)
  await app.register(tokenRoutes)
  await app.register(participantRoutes)
  await app.register(adminRoutes)
  await registerProtectedProfiles(app)
  await app.register(participantEventRoutes)
  await app.register(adminEventRoutes)
  return app
}
