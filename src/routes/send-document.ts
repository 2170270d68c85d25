import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Document } from '../publication/document-cache.js'

// RFC 9110 §13.1.2: If-None-Match holds "*" or a list of entity tags; weak comparison for GET.
function matches (header: string | undefined, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)
}

/** Sends a cached public document: pre-serialized bytes, strong ETag, Cache-Control, 304, br/gzip. */
export async function sendDocument (request: FastifyRequest, reply: FastifyReply, doc: Document, maxAge: number): Promise<FastifyReply> {
  const v = await doc.variant(request.headers['accept-encoding'])
  reply.header('etag', v.etag)
  reply.header('cache-control', `public, max-age=${maxAge}`)
  reply.header('vary', 'accept-encoding')
  if (matches(request.headers['if-none-match'], v.etag)) return reply.code(304).send()
  if (v.encoding) reply.header('content-encoding', v.encoding)
  return reply.type(doc.contentType).send(v.body)
}
