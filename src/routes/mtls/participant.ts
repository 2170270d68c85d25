import { z } from 'zod'
import type { App } from '../../app.js'
import { scopes } from '../../auth/scopes.js'
import {
  authorisationServer, authorisationServerCreate, authorisationServerPatch, organisation, softwareCreate, softwarePatch, softwareStatement,
} from '../../registry/schemas.js'
import { certificate, certificateListItem, certificateRequest, orgParams, revokeRequest, serialParams, serverParams, softwareParams } from './schemas.js'

const tags = ['participant']

/** The participant API (mTLS + certificate-bound token), scoped to the caller's own organisation. */
export default async function participantRoutes (app: App): Promise<void> {
  const s = app.services
  const who = (r: { principal?: { clientId: string }, id: string }) => ({ actor: `client:${r.principal!.clientId}`, requestId: r.id })
  const read = { preHandler: app.requireScope(scopes.read) }
  const write = { preHandler: app.requireScope(scopes.software) }

  app.get('/organisations/:orgId', { ...read, schema: { tags, params: orgParams, response: { 200: organisation } } },
    async (r) => s.organisations.get(r.params.orgId))

  app.get('/organisations/:orgId/software-statements', { ...read, schema: { tags, params: orgParams, response: { 200: z.array(softwareStatement) } } },
    async (r) => s.software.list(r.params.orgId))

  app.post('/organisations/:orgId/software-statements', { ...write, schema: { tags, params: orgParams, body: softwareCreate, response: { 201: softwareStatement } } },
    async (r, reply) => reply.code(201).send(await s.software.create(r.params.orgId, r.body, who(r))))

  app.get('/organisations/:orgId/software-statements/:softwareId', { ...read, schema: { tags, params: softwareParams, response: { 200: softwareStatement } } },
    async (r) => s.software.get(r.params.orgId, r.params.softwareId))

  app.patch('/organisations/:orgId/software-statements/:softwareId', { ...write, schema: { tags, params: softwareParams, body: softwarePatch, response: { 200: softwareStatement } } },
    async (r) => s.software.update(r.params.orgId, r.params.softwareId, r.body, who(r)))

  app.get('/organisations/:orgId/software-statements/:softwareId/ssa', {
    ...write, schema: { tags, params: softwareParams, summary: 'A freshly signed Software Statement Assertion (application/jwt)' },
  }, async (r, reply) => reply.type('application/jwt').header('cache-control', 'no-store')
    .send(await s.ssa.issue(r.params.orgId, r.params.softwareId, who(r))))

  app.post('/organisations/:orgId/software-statements/:softwareId/certificates', {
    ...write, schema: { tags, params: softwareParams, body: certificateRequest, response: { 201: certificate } }, bodyLimit: 64 * 1024,
  }, async (r, reply) => reply.code(201).send(await s.authority.issue({
    orgId: r.params.orgId, softwareId: r.params.softwareId, type: r.body.type, csr: r.body.csr, dnsNames: r.body.dns_names,
  }, who(r))))

  app.get('/organisations/:orgId/certificates', { ...read, schema: { tags, params: orgParams, response: { 200: z.array(certificateListItem) } } },
    async (r) => s.authority.list(r.params.orgId))

  app.post('/organisations/:orgId/certificates/:serial/revoke', { ...write, schema: { tags, params: serialParams, body: revokeRequest, response: { 200: certificate } } },
    async (r) => s.authority.revoke(r.params.serial, r.body.reason, who(r), r.params.orgId))

  app.get('/organisations/:orgId/authorisation-servers', { ...read, schema: { tags, params: orgParams, response: { 200: z.array(authorisationServer) } } },
    async (r) => s.authorisationServers.list(r.params.orgId))

  app.post('/organisations/:orgId/authorisation-servers', { ...write, schema: { tags, params: orgParams, body: authorisationServerCreate, response: { 201: authorisationServer } } },
    async (r, reply) => reply.code(201).send(await s.authorisationServers.create(r.params.orgId, r.body, who(r))))

  app.get('/organisations/:orgId/authorisation-servers/:serverId', { ...read, schema: { tags, params: serverParams, response: { 200: authorisationServer } } },
    async (r) => s.authorisationServers.get(r.params.orgId, r.params.serverId))

  app.patch('/organisations/:orgId/authorisation-servers/:serverId', { ...write, schema: { tags, params: serverParams, body: authorisationServerPatch, response: { 200: authorisationServer } } },
    async (r) => s.authorisationServers.update(r.params.orgId, r.params.serverId, r.body, who(r)))
}
