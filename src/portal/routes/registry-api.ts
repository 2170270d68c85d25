import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { App } from '../../app.js'
import { ValidationFailed } from '../../errors.js'
import { organisationStatuses, revokesCertificates } from '../../registry/lifecycle.js'
import { authorisationServerCreate, authorisationServerPatch, organisationCreate, organisationPatch, softwareCreate, softwarePatch, uuid } from '../../registry/schemas.js'
import { certificateRequest, revokeRequest } from '../../routes/mtls/schemas.js'
import { assertManage, assertOperator, assertOperatorAdmin, assertRead } from '../access.js'
import { contactCreate } from '../contacts.js'
import { StepUpRequired, viewer } from '../plugin.js'
import { cascadePreview } from '../queries.js'
import { organisationRoles, operatorRoles } from '../users.js'

// The portal's JSON API for the registry, certificates and people. Each route checks the signed-in
// person's permission (access.ts), then calls the same service the admin and participant APIs call,
// with the actor `user:<id>`.

const org = z.object({ orgId: uuid })
const software = z.object({ orgId: uuid, softwareId: uuid })
const server = z.object({ orgId: uuid, serverId: uuid })
const serial = z.object({ orgId: uuid, serial: z.string().regex(/^[0-9a-fA-F]{1,64}$/, 'must be a hexadecimal serial number') })

/** "family version base_url" lines (the portal's text box) or the API's objects. */
const apiResources = z.preprocess((v) => Array.isArray(v)
  ? v.map((l) => {
    if (typeof l !== 'string') return l
    const [family, version, baseUrl, ...rest] = l.trim().split(/\s+/)
    return { family, version, base_url: baseUrl, ...(rest.length ? { discovery_endpoints: rest } : {}) }
  })
  : v, z.array(z.object({ family: z.string(), version: z.string(), base_url: z.string(), discovery_endpoints: z.array(z.string()).optional() })).max(100))

/** Validates inside a handler with the same field-error shape as route validation. */
function parse<T extends z.ZodType> (schema: T, value: unknown): z.output<T> {
  const out = schema.safeParse(value)
  if (!out.success) throw ValidationFailed(out.error.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message })))
  return out.data
}

const statusChange = z.object({ status: z.enum(organisationStatuses), confirm_name: z.string().max(200).optional() }).strict()
const invite = z.object({ email: z.email('must be an email address').max(254), name: z.string().trim().max(200).optional() })

export default async function registryApi (app: App): Promise<void> {
  const s = app.services
  const who = (r: FastifyRequest) => ({ actor: `user:${viewer(r).user.id}`, requestId: r.id })
  const me = (r: FastifyRequest) => viewer(r).user
  const stepUp = (r: FastifyRequest): void => { if (!s.portal.sessions.hasFreshStepUp(viewer(r).session)) throw StepUpRequired() }
  const hide = { hide: true }

  // ---- organisations (operators) ----
  app.post('/organisations', { schema: { ...hide, body: organisationCreate } }, async (r, reply) => {
    assertOperatorAdmin(me(r))
    return reply.code(201).send(await s.organisations.create(r.body, who(r)))
  })

  app.patch('/organisations/:orgId', { schema: { ...hide, params: org, body: organisationPatch } }, async (r) => {
    assertOperatorAdmin(me(r))
    if (r.body.status !== undefined) throw ValidationFailed([{ path: 'body.status', message: 'change the status through /status, which shows its cascade' }])
    return s.organisations.update(r.params.orgId, r.body, who(r))
  })

  app.get('/organisations/:orgId/cascade', { schema: { ...hide, params: org, querystring: z.object({ status: z.enum(organisationStatuses) }) } }, async (r) => {
    assertOperator(me(r))
    const current = await s.organisations.get(r.params.orgId)
    return cascadePreview(s.db.prisma, s.clock, current.id, current.status, r.query.status)
  })

  // Revoking or withdrawing revokes every certificate: the name typed out, and a fresh passkey.
  app.post('/organisations/:orgId/status', { schema: { ...hide, params: org, body: statusChange } }, async (r) => {
    assertOperatorAdmin(me(r))
    const current = await s.organisations.get(r.params.orgId)
    if (revokesCertificates(r.body.status)) {
      if (r.body.confirm_name !== current.legal_name) throw ValidationFailed([{ path: 'body.confirm_name', message: 'type the organisation\'s legal name exactly to confirm' }])
      stepUp(r)
    }
    return s.organisations.update(current.id, { status: r.body.status }, who(r))
  })

  app.post('/organisations/:orgId/enrolment-codes', { schema: { ...hide, params: org } }, async (r, reply) => {
    assertOperatorAdmin(me(r))
    return reply.code(201).send(await s.enrolment.createCode(r.params.orgId, who(r)))
  })

  // ---- an organisation's own things (org-admin or operator-admin) ----
  app.post('/organisations/:orgId/contacts', { schema: { ...hide, params: org, body: contactCreate } }, async (r, reply) => {
    assertManage(me(r), r.params.orgId)
    return reply.code(201).send(await s.portal.contacts.add(r.params.orgId, r.body, who(r)))
  })
  app.delete('/organisations/:orgId/contacts/:contactId', { schema: { ...hide, params: org.extend({ contactId: uuid }) } }, async (r) => {
    assertManage(me(r), r.params.orgId)
    await s.portal.contacts.remove(r.params.orgId, r.params.contactId, who(r))
    return { ok: true }
  })

  app.post('/organisations/:orgId/invitations', { schema: { ...hide, params: org, body: invite.extend({ role: z.enum(organisationRoles) }).strict() } }, async (r, reply) => {
    assertManage(me(r), r.params.orgId)
    const link = await s.portal.users.invite({ scope: 'organisation', org_id: r.params.orgId, email: r.body.email, role: r.body.role, ...(r.body.name ? { name: r.body.name } : {}) }, who(r), { reissue: true })
    return reply.code(201).header('cache-control', 'no-store').send(link)
  })
  app.delete('/organisations/:orgId/users/:userId', { schema: { ...hide, params: org.extend({ userId: uuid }) } }, async (r) => {
    assertManage(me(r), r.params.orgId)
    await s.portal.users.removeMembership(r.params.userId, r.params.orgId, who(r))
    return { ok: true }
  })

  app.post('/organisations/:orgId/software-statements', { schema: { ...hide, params: org, body: softwareCreate } }, async (r, reply) => {
    assertManage(me(r), r.params.orgId)
    return reply.code(201).send(await s.software.create(r.params.orgId, r.body, who(r)))
  })
  app.patch('/organisations/:orgId/software-statements/:softwareId', { schema: { ...hide, params: software, body: softwarePatch } }, async (r) => {
    assertManage(me(r), r.params.orgId)
    return s.software.update(r.params.orgId, r.params.softwareId, r.body, who(r))
  })

  app.post('/organisations/:orgId/software-statements/:softwareId/certificates', {
    schema: { ...hide, params: software, body: certificateRequest }, bodyLimit: 64 * 1024,
  }, async (r, reply) => {
    assertManage(me(r), r.params.orgId)
    return reply.code(201).send(await s.authority.issue({ orgId: r.params.orgId, softwareId: r.params.softwareId, type: r.body.type, csr: r.body.csr, dnsNames: r.body.dns_names }, who(r)))
  })

  app.post('/organisations/:orgId/certificates/:serial/revoke', { schema: { ...hide, params: serial, body: revokeRequest } }, async (r) => {
    assertManage(me(r), r.params.orgId)
    stepUp(r)
    return s.authority.revoke(r.params.serial, r.body.reason, who(r), r.params.orgId)
  })

  app.post('/organisations/:orgId/authorisation-servers', { schema: { ...hide, params: org, body: authorisationServerCreate.extend({ api_resources: apiResources.default([]) }) } }, async (r, reply) => {
    assertManage(me(r), r.params.orgId)
    const body = parse(authorisationServerCreate, r.body)
    return reply.code(201).send(await s.authorisationServers.create(r.params.orgId, body, who(r)))
  })
  app.patch('/organisations/:orgId/authorisation-servers/:serverId', { schema: { ...hide, params: server, body: z.record(z.string(), z.unknown()) } }, async (r) => {
    assertManage(me(r), r.params.orgId)
    const body = parse(authorisationServerPatch, Array.isArray(r.body.api_resources) ? { ...r.body, api_resources: parse(apiResources, r.body.api_resources) } : r.body)
    return s.authorisationServers.update(r.params.orgId, r.params.serverId, body, who(r))
  })

  // ---- operators ----
  app.post('/invitations', { schema: { ...hide, body: invite.extend({ role: z.enum(operatorRoles) }).strict() } }, async (r, reply) => {
    assertOperatorAdmin(me(r))
    stepUp(r) // adding an operator
    const link = await s.portal.users.invite({ scope: 'operator', email: r.body.email, role: r.body.role, ...(r.body.name ? { name: r.body.name } : {}) }, who(r), { reissue: true })
    return reply.code(201).header('cache-control', 'no-store').send(link)
  })

  app.post('/keys/rotate', { schema: hide }, async (r) => {
    assertOperatorAdmin(me(r))
    stepUp(r)
    return s.keys.rotate(who(r))
  })

  app.get('/audit/verify', { schema: hide }, async (r) => {
    assertOperator(me(r))
    return s.audit.verify(s.db.prisma)
  })

  // Reads for scripts and the pages' own checks.
  app.get('/organisations/:orgId', { schema: { ...hide, params: org } }, async (r) => {
    assertRead(me(r), r.params.orgId)
    return s.organisations.get(r.params.orgId)
  })
}
