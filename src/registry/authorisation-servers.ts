import { randomUUID } from 'node:crypto'
import type { Actor } from '../audit/audit-log.js'
import { Conflict, NotFound } from '../errors.js'
import { bumpRegistryVersion, type RegistryDeps } from './deps.js'
import type { AuthorisationServer, AuthorisationServerCreate, AuthorisationServerPatch } from './schemas.js'

type Row = {
  id: string, organisationId: string, issuer: string, discoveryUrl: string, customerFriendlyName: string, logoUri: string | null
  apiResources: unknown, version: number, createdAt: Date, updatedAt: Date
}

export function authorisationServerView (r: Row): AuthorisationServer {
  return {
    id: r.id, org_id: r.organisationId, issuer: r.issuer, discovery_url: r.discoveryUrl, customer_friendly_name: r.customerFriendlyName,
    ...(r.logoUri ? { logo_uri: r.logoUri } : {}),
    api_resources: r.apiResources as AuthorisationServer['api_resources'],
    version: r.version, created_at: r.createdAt, updated_at: r.updatedAt,
  }
}

/** A data holder's authorisation servers, as published in /participants. */
export class AuthorisationServers {
  constructor (private readonly d: RegistryDeps) {}

  async create (orgId: string, input: AuthorisationServerCreate, who: Actor): Promise<AuthorisationServer> {
    return this.d.prisma.$transaction(async (tx) => {
      const org = await tx.organisation.findUnique({ where: { id: orgId }, select: { status: true } })
      if (!org) throw NotFound(`no organisation ${orgId}`)
      if (org.status === 'revoked' || org.status === 'withdrawn') throw Conflict(`the organisation is ${org.status}`)
      const taken = await tx.authorisationServer.findUnique({ where: { issuer: input.issuer }, select: { id: true } })
      if (taken) throw Conflict(`issuer ${input.issuer} is registered already`)
      const row = await tx.authorisationServer.create({
        data: {
          id: randomUUID(), organisationId: orgId, issuer: input.issuer, discoveryUrl: input.discovery_url,
          customerFriendlyName: input.customer_friendly_name, logoUri: input.logo_uri ?? null, apiResources: input.api_resources,
        },
      })
      const view = authorisationServerView(row)
      await this.d.audit.append(tx, who, { action: 'authorisation_server.create', target: `authorisation_server:${row.id}`, after: view })
      await bumpRegistryVersion(tx)
      return view
    })
  }

  async list (orgId: string): Promise<AuthorisationServer[]> {
    const rows = await this.d.prisma.authorisationServer.findMany({ where: { organisationId: orgId }, orderBy: { createdAt: 'asc' } })
    return rows.map(authorisationServerView)
  }

  async get (orgId: string, id: string): Promise<AuthorisationServer> {
    const row = await this.d.prisma.authorisationServer.findFirst({ where: { id, organisationId: orgId } })
    if (!row) throw NotFound(`no authorisation server ${id} in organisation ${orgId}`)
    return authorisationServerView(row)
  }

  async update (orgId: string, id: string, patch: AuthorisationServerPatch, who: Actor): Promise<AuthorisationServer> {
    return this.d.prisma.$transaction(async (tx) => {
      const current = await tx.authorisationServer.findFirst({ where: { id, organisationId: orgId } })
      if (!current) throw NotFound(`no authorisation server ${id} in organisation ${orgId}`)
      const row = await tx.authorisationServer.update({
        where: { id },
        data: {
          ...(patch.discovery_url !== undefined ? { discoveryUrl: patch.discovery_url } : {}),
          ...(patch.customer_friendly_name !== undefined ? { customerFriendlyName: patch.customer_friendly_name } : {}),
          ...(patch.logo_uri !== undefined ? { logoUri: patch.logo_uri } : {}),
          ...(patch.api_resources !== undefined ? { apiResources: patch.api_resources } : {}),
          version: { increment: 1 },
        },
      })
      const after = authorisationServerView(row)
      await this.d.audit.append(tx, who, { action: 'authorisation_server.update', target: `authorisation_server:${id}`, before: authorisationServerView(current), after })
      await bumpRegistryVersion(tx)
      return after
    })
  }
}
