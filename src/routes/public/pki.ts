import type { FastifyReply } from 'fastify'
import { z } from 'zod'
import type { App } from '../../app.js'
import { NotFound } from '../../errors.js'
import { databaseUnavailable } from '../../db/errors.js'
import { retryAfterSeconds } from '../../plugins/errors.js'
import { ocspTryLater as tryLater } from '../../plugins/rate-limits.js'
import { sendDocument } from '../send-document.js'
import type { OcspAnswer } from '../../pki/authority.js'

/**
 * The CA's public face: chain bundle, one DER certificate per issuer (AIA caIssuers), the issuing CA's CRL and the
 * root's CRL (RFC 5280), the OCSP responder for both levels (RFC 6960 GET and POST).
 */
export default async function pkiRoutes (app: App): Promise<void> {
  const { documents, authority, config, clock } = app.services
  const maxAge = config.CACHE_MAX_AGE
  const ocspMaxAge = Math.min(maxAge, 300)

  app.get('/pki/ca.pem', { schema: { tags: ['pki'], summary: 'Issuing and root CA certificates (PEM bundle)' } }, async (request, reply) => {
    const doc = await documents.get('ca.pem', async () => ({ body: authority.caBundlePem(), contentType: 'application/pem-certificate-chain' }))
    return sendDocument(request, reply, doc, 3600)
  })

  // AIA caIssuers: a single DER certificate, application/pkix-cert (RFC 5280 §4.2.2.1, RFC 2585 §4.1).
  app.get('/pki/issuing-ca.cer', { schema: { tags: ['pki'], summary: 'Issuing CA certificate (DER)' } }, async (request, reply) => {
    const doc = await documents.get('issuing-ca.cer', async () => ({ body: authority.issuingCaDer(), contentType: 'application/pkix-cert' }))
    return sendDocument(request, reply, doc, 3600)
  })
  app.get('/pki/root-ca.cer', { schema: { tags: ['pki'], summary: 'Root CA certificate (DER)' } }, async (request, reply) => {
    const doc = await documents.get('root-ca.cer', async () => ({ body: authority.rootCaDer(), contentType: 'application/pkix-cert' }))
    return sendDocument(request, reply, doc, 3600)
  })

  app.get('/pki/crl', { schema: { tags: ['pki'], summary: 'Current CRL of the issuing CA (DER)' } }, async (request, reply) => {
    // Rebuilt when a revocation changes the registry version, and well before nextUpdate.
    const doc = await documents.get('crl', async () => {
      const { der, nextUpdate } = await authority.crl()
      const half = new Date(clock.now().getTime() + (nextUpdate.getTime() - clock.now().getTime()) / 2)
      return { body: der, contentType: 'application/pkix-crl', validUntil: half }
    }, clock.now())
    return sendDocument(request, reply, doc, maxAge)
  })

  app.get('/pki/root.crl', { schema: { tags: ['pki'], summary: 'Current CRL of the root CA, about the issuing CA (DER)' } }, async (request, reply) => {
    if (!authority.hasRootKey()) {
      // An imported CA whose root key stays with its owner: the owner publishes the root's CRL.
      if (config.CA_ROOT_CRL_URL !== undefined) return reply.redirect(config.CA_ROOT_CRL_URL, 302)
      throw NotFound('this directory does not hold the root key; the root CA\'s owner publishes its CRL (set CA_ROOT_CRL_URL to redirect there)')
    }
    const doc = await documents.get('root.crl', async () => {
      const { der, nextUpdate } = (await authority.rootCrl())!
      const half = new Date(clock.now().getTime() + (nextUpdate.getTime() - clock.now().getTime()) / 2)
      return { body: der, contentType: 'application/pkix-crl', validUntil: half }
    }, clock.now())
    return sendDocument(request, reply, doc, maxAge)
  })

  // While the database is away the responder cannot know a status: RFC 6960 §2.3 tryLater, in OCSP's own format.
  const ocspOrTryLater = async (der: Buffer, reply: FastifyReply): Promise<OcspAnswer> => {
    try {
      return await authority.ocsp(der)
    } catch (err) {
      if (!databaseUnavailable(err)) throw err
      reply.log.warn({ err }, 'OCSP: database unavailable, answering tryLater')
      reply.code(503).header('retry-after', String(retryAfterSeconds))
      return { der: tryLater }
    }
  }

  // OCSP bodies are DER: take them as bytes (RFC 6960 appendix A.1).
  app.addContentTypeParser('application/ocsp-request', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, (_req, body, done) => done(null, body))

  app.post('/pki/ocsp', {
    schema: { tags: ['pki'], summary: 'OCSP responder (POST, application/ocsp-request)' },
    bodyLimit: 16 * 1024,
  }, async (request, reply) => {
    const body = request.body
    const der = Buffer.isBuffer(body) ? body : Buffer.alloc(0)
    // RFC 5019 §5: HTTP caches do not keep POST answers.
    return reply.type('application/ocsp-response').header('cache-control', 'no-store').send((await ocspOrTryLater(der, reply)).der)
  })

  app.get('/pki/ocsp/*', {
    schema: { tags: ['pki'], summary: 'OCSP responder (GET, base64 request in the path)', params: z.object({ '*': z.string() }) },
  }, async (request, reply) => {
    // RFC 6960 §A.1: url-encoding of base64 of the DER. Anything that does not decode is a malformed request, not
    // a server error; an empty DER makes the responder answer malformedRequest.
    const answer = await ocspOrTryLater(decodeOcspPath(request.params['*']), reply)
    reply.type('application/ocsp-response')
    const prepared = answer.prepared
    if (!prepared) return reply.header('cache-control', 'no-store').send(answer.der)
    // RFC 5019 §6.2: a pre-produced response may be cached until nextUpdate; ETag and Last-Modified let caches revalidate.
    const fresh = Math.max(0, Math.min(ocspMaxAge, Math.floor((prepared.nextUpdate.getTime() - clock.now().getTime()) / 1000)))
    reply.header('cache-control', `max-age=${fresh}, public, no-transform, must-revalidate`)
      .header('etag', prepared.etag).header('last-modified', prepared.thisUpdate.toUTCString()).header('expires', prepared.nextUpdate.toUTCString())
    if (request.headers['if-none-match'] === prepared.etag) return reply.code(304).send()
    return reply.send(prepared.der)
  })
}

function decodeOcspPath (path: string): Buffer {
  // far beyond any single-certificate request (RFC 5019 §5 keeps GET requests under 255 bytes)
  if (path.length > 4096) return Buffer.alloc(0)
  let text: string
  try {
    text = decodeURIComponent(path)
  } catch {
    return Buffer.alloc(0)
  }
  // base64 only (clients also send base64url); Buffer.from would skip any other character silently.
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return Buffer.alloc(0)
  return Buffer.from(text, 'base64')
}
