import { z } from 'zod'
import type { App } from '../../app.js'
import { scopes } from '../../auth/scopes.js'
import {
  authorisationServer, authorisationServerCreate, authorisationServerPatch, organisation, organisationCreate, organisationList, organisationPatch,
  organisationQuery, softwareCreate, softwarePatch, softwareStatement,
} from '../../registry/schemas.js'
import { certificate, orgParams, revokeRequest, serverParams, softwareParams } from '../mtls/schemas.js'

const tags = ['admin']

const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().regex(/^\d{1,19}$/).optional(),
  target: z.string().max(200).optional(),
}).strict()

/** The operator's API: every route needs directory:admin. */
export default async function adminRoutes (app: App): Promise<void> {
  const s = app.services
  app.addHook('preHandler', app.requireScope(scopes.admin))
  const who = (r: { principal?: { clientId: string }, id: string }) => ({ actor: `operator:${r.principal!.clientId}`, requestId: r.id })

  app.post('/admin/organisations', { schema: { tags, body: organisationCreate, response: { 201: organisation } } },
    async (r, reply) => reply.code(201).send(await s.organisations.create(r.body, who(r))))
  app.get('/admin/organisations', { schema: { tags, querystring: organisationQuery, response: { 200: organisationList } } },
    async (r) => s.organisations.list(r.query))
  app.get('/admin/organisations/:orgId', { schema: { tags, params: orgParams, response: { 200: organisation } } },
    async (r) => s.organisations.get(r.params.orgId))
  app.patch('/admin/organisations/:orgId', { schema: { tags, params: orgParams, body: organisationPatch, response: { 200: organisation } } },
    async (r) => s.organisations.update(r.params.orgId, r.body, who(r)))

  app.post('/admin/organisations/:orgId/enrolment-codes', {
    schema: { tags, params: orgParams, response: { 201: z.object({ code: z.string(), expires_at: z.date() }) } },
  }, async (r, reply) => reply.code(201).header('cache-control', 'no-store').send(await s.enrolment.createCode(r.params.orgId, who(r))))

  app.get('/admin/organisations/:orgId/software-statements', { schema: { tags, params: orgParams, response: { 200: z.array(softwareStatement) } } },
    async (r) => s.software.list(r.params.orgId))
  app.post('/admin/organisations/:orgId/software-statements', { schema: { tags, params: orgParams, body: softwareCreate, response: { 201: softwareStatement } } },
    async (r, reply) => reply.code(201).send(await s.software.create(r.params.orgId, r.body, who(r))))
  app.patch('/admin/organisations/:orgId/software-statements/:softwareId', { schema: { tags, params: softwareParams, body: softwarePatch, response: { 200: softwareStatement } } },
    async (r) => s.software.update(r.params.orgId, r.params.softwareId, r.body, who(r)))

  app.post('/admin/organisations/:orgId/authorisation-servers', { schema: { tags, params: orgParams, body: authorisationServerCreate, response: { 201: authorisationServer } } },
    async (r, reply) => reply.code(201).send(await s.authorisationServers.create(r.params.orgId, r.body, who(r))))
  app.patch('/admin/organisations/:orgId/authorisation-servers/:serverId', { schema: { tags, params: serverParams, body: authorisationServerPatch, response: { 200: authorisationServer } } },
    async (r) => s.authorisationServers.update(r.params.orgId, r.params.serverId, r.body, who(r)))

  app.post('/admin/certificates/:serial/revoke', {
    schema: { tags, params: z.object({ serial: z.string().regex(/^[0-9a-fA-F]{1,64}$/) }), body: revokeRequest, response: { 200: certificate } },
  }, async (r) => s.authority.revoke(r.params.serial, r.body.reason, who(r)))

  app.post('/admin/keys/rotate', { schema: { tags, response: { 200: z.object({ active_kid: z.string(), retired_kid: z.string() }) } } },
    async (r) => s.keys.rotate(who(r)))

  app.get('/admin/audit', { schema: { tags, querystring: auditQuery } }, async (r) => s.audit.list(s.db.prisma, r.query))
  app.get('/admin/audit/verify', { schema: { tags } }, async () => s.audit.verify(s.db.prisma))
}
