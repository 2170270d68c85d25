import { z } from 'zod'
import type { App } from '../../app.js'
import { clientJwks } from '../../auth/client-jwks.js'

const enrolRequest = z.object({
  code: z.string().min(16).max(128),
  csr: z.string().min(1).max(16 * 1024),
  jwks: clientJwks,
}).strict()

const enrolResponse = z.object({ client_id: z.uuid(), org_id: z.uuid(), certificate: z.string(), chain: z.array(z.string()) })

/** Enrolment: a one-time code + transport CSR + public JWKS → client id and certificate (DESIGN.md §5). */
export default async function enrolRoutes (app: App): Promise<void> {
  app.post('/enrol', {
    schema: { tags: ['enrolment'], summary: 'Trade a one-time enrolment code for a client id and a transport certificate', body: enrolRequest, response: { 201: enrolResponse } },
    bodyLimit: 64 * 1024,
  }, async (request, reply) => {
    const out = await app.services.enrolment.enrol(request.body, { actor: 'enrolment', requestId: request.id })
    return reply.code(201).header('cache-control', 'no-store').send(out)
  })
}
