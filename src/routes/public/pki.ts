import { z } from 'zod'
import type { App } from '../../app.js'
import { sendDocument } from '../send-document.js'

/** The CA's public face: chain bundle, CRL (RFC 5280), OCSP responder (RFC 6960 GET and POST). */
export default async function pkiRoutes (app: App): Promise<void> {
  const { documents, authority, config, clock } = app.services
  const maxAge = config.CACHE_MAX_AGE

  app.get('/pki/ca.pem', { schema: { tags: ['pki'], summary: 'Issuing and root CA certificates (PEM bundle)' } }, async (request, reply) => {
    const doc = await documents.get('ca.pem', async () => ({ body: authority.caBundlePem(), contentType: 'application/pem-certificate-chain' }))
    return sendDocument(request, reply, doc, 3600)
  })

  app.get('/pki/crl', { schema: { tags: ['pki'], summary: 'Current CRL (DER)' } }, async (request, reply) => {
    // Rebuilt when a revocation changes the registry version, and well before nextUpdate.
    const doc = await documents.get('crl', async () => {
      const { der, nextUpdate } = await authority.crl()
      const half = new Date(clock.now().getTime() + (nextUpdate.getTime() - clock.now().getTime()) / 2)
      return { body: der, contentType: 'application/pkix-crl', validUntil: half }
    }, clock.now())
    return sendDocument(request, reply, doc, maxAge)
  })

  // OCSP bodies are DER: take them as bytes (RFC 6960 appendix A.1).
  app.addContentTypeParser('application/ocsp-request', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, (_req, body, done) => done(null, body))

  app.post('/pki/ocsp', {
    schema: { tags: ['pki'], summary: 'OCSP responder (POST, application/ocsp-request)' },
  }, async (request, reply) => {
    const body = request.body
    const der = Buffer.isBuffer(body) ? body : Buffer.alloc(0)
    return reply.type('application/ocsp-response').header('cache-control', 'no-store').send(await authority.ocsp(der))
  })

  app.get('/pki/ocsp/*', {
    schema: { tags: ['pki'], summary: 'OCSP responder (GET, base64 request in the path)', params: z.object({ '*': z.string().max(4096) }) },
  }, async (request, reply) => {
    const encoded = decodeURIComponent(request.params['*'])
    const der = Buffer.from(encoded, 'base64')
    return reply.type('application/ocsp-response').header('cache-control', `public, max-age=${Math.min(maxAge, 300)}`).send(await authority.ocsp(der))
  })
}
