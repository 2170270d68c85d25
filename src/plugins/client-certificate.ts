import { X509Certificate } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { resolveClientCertificate, type PresentedCertificate } from '../auth/client-certificate.js'
import { Unauthorized } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** DER of the client certificate on this connection, chain-checked but not yet looked up (no database). */
    presentedCertificate: () => Buffer
    /** The client certificate matched to one we issued, current and unrevoked; or why not. */
    clientCertificate: () => Promise<PresentedCertificate>
  }
}

export interface ClientCertificateOptions {
  /** RFC 9440: accept the certificate from a TLS-terminating proxy's Client-Cert header. */
  trustProxyHeader: boolean
  trustedProxies: string[]
  /** The issuing CA, to check a header certificate's signature ourselves (TLS did not). */
  issuingCa: X509Certificate
}

function fromHeader (request: FastifyRequest, opts: ClientCertificateOptions): Buffer | undefined {
  const value = request.headers['client-cert']
  if (typeof value !== 'string') return undefined
  if (!opts.trustedProxies.includes(request.socket.remoteAddress ?? '')) throw Unauthorized('Client-Cert is accepted only from a trusted proxy')
  // RFC 9440 §2.2: a Structured Field Byte Sequence, ":" base64 ":".
  const m = /^:([A-Za-z0-9+/]+={0,2}):$/.exec(value.trim())
  if (!m) throw Unauthorized('Client-Cert is not an RFC 9440 byte sequence')
  const der = Buffer.from(m[1]!, 'base64')
  let cert: X509Certificate
  try { cert = new X509Certificate(der) } catch { throw Unauthorized('Client-Cert does not hold a certificate') }
  if (!cert.checkIssued(opts.issuingCa) || !cert.verify(opts.issuingCa.publicKey)) throw Unauthorized('the client certificate was not issued by this directory')
  return der
}

/**
 * Resolves the client certificate of each mTLS request once, on demand: the TLS layer has checked the
 * chain (requestCert with our CA); here it must also be a current, unrevoked certificate we issued.
 */
async function clientCertificate (app: FastifyInstance, opts: ClientCertificateOptions): Promise<void> {
  const { sql } = app.services.db
  const { clock } = app.services
  app.decorateRequest('presentedCertificate', function (this: FastifyRequest): Buffer { throw Unauthorized('no client certificate') })
  app.decorateRequest('clientCertificate', function (this: FastifyRequest) { return Promise.reject(Unauthorized('no client certificate')) })
  app.addHook('onRequest', async (request) => {
    let der: Buffer | undefined
    let memo: Promise<PresentedCertificate> | undefined
    request.presentedCertificate = () => {
      if (der) return der
      const header = opts.trustProxyHeader ? fromHeader(request, opts) : undefined
      if (header) return (der = header)
      const socket = request.socket as TLSSocket
      const peer = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined
      if (!peer) throw Unauthorized('a client certificate issued by this directory is required (mutual TLS)')
      if (!socket.authorized) throw Unauthorized(`the client certificate is not trusted: ${String(socket.authorizationError ?? 'unknown issuer')}`)
      return (der = peer.raw)
    }
    request.clientCertificate = () => {
      memo ??= (async () => resolveClientCertificate(sql, clock, request.presentedCertificate()))()
      memo.catch(() => {})
      return memo
    }
  })
}

export default fp(clientCertificate, { name: 'client-certificate' })
