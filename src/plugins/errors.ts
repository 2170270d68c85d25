import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import FindMyWay, { type HTTPMethod } from 'find-my-way'
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod'
import {
  Internal, MalformedJson, MethodNotAllowed, NotFound, OAuthError, PayloadTooLarge, Problem,
  UnsupportedMediaType, ValidationFailed, BadRequest, type FieldError,
} from '../errors.js'

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
  const e = error as FastifyError
  if (e.validation) return ValidationFailed(fieldErrors(e))
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return MalformedJson('The body is not valid JSON')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return MalformedJson('The body is empty but declared as JSON')
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return PayloadTooLarge(bodyLimit)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return UnsupportedMediaType('The Content-Type of the body is not accepted here')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return BadRequest('Content-Length does not match the body')
  }
  if (error instanceof SyntaxError && e.statusCode === 400) return MalformedJson('The body is not valid JSON')
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return new Problem(e.statusCode, 'http-' + e.statusCode, e.name === 'FastifyError' ? 'Bad Request' : (e.name || 'Error'), e.message)
  }
  return undefined
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
    if (error instanceof OAuthError) {
      return reply.code(error.status).header('cache-control', 'no-store').send(error.toJSON())
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, 'response failed its schema')
      return sendProblem(reply, Internal())
    }
    const problem = toProblem(error, opts.bodyLimit)
    if (problem) {
      request.log.info({ problem: problem.code, status: problem.status }, problem.detail)
      return sendProblem(reply, problem)
    }
    request.log.error({ err: error }, 'unexpected error')
    return sendProblem(reply, Internal())
  })
}

export default fp(errorsPlugin, { name: 'errors' })
