import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import FindMyWay, { type HTTPMethod } from 'find-my-way'
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod'
import type { Socket } from 'node:net'
import { STATUS_CODES } from 'node:http'
import { databaseUnavailable, uniqueViolation } from '../db/errors.js'
import { ocspErrorResponse } from '../pki/ocsp.js'
import {
  Internal, MalformedJson, MethodNotAllowed, NotFound, OAuthError, PayloadTooLarge, Problem,
  UnsupportedMediaType, ValidationFailed, BadRequest, DependencyUnavailable, UniqueConflict, UriTooLong,
  HeadersTooLarge, oauthErrorOf, type FieldError,
} from '../errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route answers errors as RFC 6749 §5.2 JSON (the token endpoint), not problem+json. */
    oauthErrors?: boolean
  }
}

/** Seconds a client should wait before retrying while a dependency is away. */
export const retryAfterSeconds = 5

export function sendProblem (reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problem.toJSON())
}

function fieldErrors (error: FastifyError): FieldError[] {
  if (hasZodFastifySchemaValidationErrors(error)) {
    return error.validation.map((v) => {
      const where = error.validationContext ?? 'body'
      const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.')
      return { path: path ? `${where}.${path}` : where, message: v.message ?? 'invalid' }
    })
  }
  return (error.validation ?? []).map((v) => ({ path: v.instancePath || (error.validationContext ?? 'body'), message: v.message ?? 'invalid' }))
}

/** Turns anything thrown into RFC 9457 problem+json (RFC 6749 JSON for OAuthError). */
export function toProblem (error: FastifyError | Error, bodyLimit: number): Problem | undefined {
  if (error instanceof Problem) return error
  const unique = uniqueViolation(error)
  if (unique) return UniqueConflict(unique)
  if (databaseUnavailable(error)) return DependencyUnavailable()
  const e = error as FastifyError
  if (e.validation) return ValidationFailed(fieldErrors(e))
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return MalformedJson('The body is not valid JSON')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return MalformedJson('The body is empty but declared as JSON')
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return PayloadTooLarge(bodyLimit)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return UnsupportedMediaType('The Content-Type of the body is not accepted here')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return BadRequest('Content-Length does not match the body')
    case 'FST_ERR_BAD_URL': return BadRequest('The URL is not valid: a percent-encoded sequence does not decode')
    case 'FST_ERR_MAX_PARAM_LENGTH': return UriTooLong('A path segment of the URL is too long')
  }
  if (error instanceof SyntaxError && e.statusCode === 400) return MalformedJson('The body is not valid JSON')
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return new Problem(e.statusCode, 'http-' + e.statusCode, e.name === 'FastifyError' ? 'Bad Request' : (e.name || 'Error'), e.message)
  }
  return undefined
}

function sendOAuth (reply: FastifyReply, error: OAuthError): FastifyReply {
  if (error.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(retryAfterSeconds))
  return reply.code(error.status).header('cache-control', 'no-store').type('application/json; charset=utf-8').send(error.toJSON())
}

/** A problem in the route's format: RFC 6749 JSON at the token endpoint, problem+json everywhere else. */
export function render (request: FastifyRequest, reply: FastifyReply, problem: Problem): FastifyReply {
  if (request.routeOptions?.config?.oauthErrors) return sendOAuth(reply, oauthErrorOf(problem))
  if (problem.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(retryAfterSeconds))
  return sendProblem(reply, problem)
}

/**
 * Fastify's router errors (a URL that does not percent-decode, a path parameter over maxParamLength)
 * arrive before any route: answer them as problem+json too.
 */
export function frameworkErrors (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const problem = toProblem(error, 0) ?? BadRequest(error.message)
  request.log.info({ problem: problem.code, status: problem.status }, problem.detail)
  // An OCSP GET (RFC 6960 A.1) is answered in OCSP's own format: malformedRequest, as the route does for bad base64.
  if (request.method === 'GET' && request.url.startsWith('/pki/ocsp/')) {
    void reply.code(200).type('application/ocsp-response').header('cache-control', 'no-store').send(ocspErrorResponse('malformedRequest'))
    return
  }
  void sendProblem(reply, problem)
}

/**
 * Errors of Node's HTTP parser (oversized headers, a NUL or other bad byte in a header, a malformed
 * request line) never reach Fastify's routing: write the problem+json response on the socket ourselves.
 */
export function clientErrorHandler (err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const problem = err.code === 'HPE_HEADER_OVERFLOW'
    ? HeadersTooLarge()
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new Problem(408, 'request-timeout', 'Request Timeout', 'The request was not received in time')
      : BadRequest('The request is not valid HTTP/1.1 (request line or header fields)')
  const body = JSON.stringify(problem.toJSON())
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}

async function errorsPlugin (app: FastifyInstance, opts: { bodyLimit: number }): Promise<void> {
  // A shadow router of every declared route, so that a known path with the wrong method can
  // answer 405 with Allow (Fastify itself only knows "not found").
  const shadow = FindMyWay({ ignoreTrailingSlash: true })
  app.addHook('onRoute', (route) => {
    const methods = ([] as string[]).concat(route.method)
    for (const m of methods) {
      if (m === 'HEAD') continue
      try { shadow.on(m as HTTPMethod, route.url, () => {}) } catch { /* duplicate from prefix handling */ }
    }
  })

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/'
    const allowed = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => shadow.find(m as HTTPMethod, path) !== null)
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '))
      return sendProblem(reply, MethodNotAllowed(`${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`))
    }
    return sendProblem(reply, NotFound(`No route for ${request.method} ${path}`))
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof OAuthError) return sendOAuth(reply, error)
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, 'response failed its schema')
      return render(request, reply, Internal())
    }
    const problem = toProblem(error, request.routeOptions.bodyLimit ?? opts.bodyLimit)
    if (problem) {
      if (problem.status === 503) request.log.warn({ err: error }, 'dependency unavailable')
      else request.log.info({ problem: problem.code, status: problem.status }, problem.detail)
      return render(request, reply, problem)
    }
    request.log.error({ err: error }, 'unexpected error')
    return render(request, reply, Internal())
  })
}

export default fp(errorsPlugin, { name: 'errors' })
