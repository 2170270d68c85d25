import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isResponseSerializationError } from 'fastify-type-provider-zod'
import { Internal, NotFound, type Problem } from '../errors.js'
import { toProblem } from '../plugins/errors.js'

/**
 * Error rendering inside one profile's routes: the same Problems the services throw, in the body the
 * ecosystem's specification defines (OBBR `{errors: [string]}`, CDR ResponseErrorListV2 …).
 */
export function profileErrors (app: FastifyInstance, opts: { bodyLimit: number, render: (problem: Problem, reply: FastifyReply, request: FastifyRequest) => FastifyReply }): void {
  app.setNotFoundHandler((request, reply) => opts.render(NotFound(`No route for ${request.method} ${request.url.split('?')[0]}`), reply, request))
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, 'response failed its schema')
      return opts.render(Internal(), reply, request)
    }
    const problem = toProblem(error, opts.bodyLimit)
    if (problem) {
      request.log.info({ problem: problem.code, status: problem.status }, problem.detail)
      return opts.render(problem, reply, request)
    }
    request.log.error({ err: error }, 'unexpected error')
    return opts.render(Internal(), reply, request)
  })
}
