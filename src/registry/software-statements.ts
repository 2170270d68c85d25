import { randomUUID } from 'node:crypto'
import type { Actor } from '../audit/audit-log.js'
import type { Tx } from '../db/database.js'
import { Conflict, NotFound, ValidationFailed } from '../errors.js'
import { revokeCertificates } from '../pki/revocation.js'
import { bumpRegistryVersion, keystoreUrls, type RegistryDeps } from './deps.js'
import { assertSoftwareMove, type SoftwareStatus } from './lifecycle.js'
import { checkUri } from './text.js'
import type { SoftwareCreate, SoftwarePatch, SoftwareStatement } from './schemas.js'

type Row = {
  id: string, organisationId: string, clientName: string, clientDescription: string | null, clientUri: string | null
  logoUri: string | null, tosUri: string | null, policyUri: string | null, redirectUris: string[], roles: string[]
  mode: 'live' | 'test', tokenEndpointAuthMethod: string, environment: string | null, onBehalfOf: string | null, status: SoftwareStatus, version: number, createdAt: Date, updatedAt: Date
}

const opt = <K extends string>(k: K, v: string | null): { [P in K]?: string } => (v === null ? {} : { [k]: v } as { [P in K]: string })

export function softwareView (r: Row, issuer: string): SoftwareStatement {
  return {
    software_id: r.id,
    org_id: r.organisationId,
    client_name: r.clientName,
    ...opt('client_description', r.clientDescription),
    ...opt('client_uri', r.clientUri),
    ...opt('logo_uri', r.logoUri),
    ...opt('tos_uri', r.tosUri),
    ...opt('policy_uri', r.policyUri),
    redirect_uris: r.redirectUris,
    roles: r.roles,
    mode: r.mode,
    token_endpoint_auth_method: r.tokenEndpointAuthMethod as SoftwareStatement['token_endpoint_auth_method'],
    ...opt('environment', r.environment),
    ...opt('on_behalf_of', r.onBehalfOf),
    status: r.status,
    version: r.version,
    jwks_uri: keystoreUrls(issuer).software(r.organisationId, r.id),
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }
}

/** Organisation states in which software may be created or changed. */
const changeable = new Set(['pending', 'active'])

export class SoftwareStatements {
  constructor (private readonly d: RegistryDeps) {}

  private view (r: Row): SoftwareStatement { return softwareView(r, this.d.config.DIRECTORY_ISSUER) }

  /** A software statement's roles must be among its organisation's active roles (DESIGN.md §6). */
  private async checkRoles (tx: Tx, orgId: string, roles: string[]): Promise<void> {
    const active = new Set((await tx.organisationRole.findMany({ where: { organisationId: orgId, status: 'active' } })).map((r) => r.role))
    const missing = roles.filter((r) => !active.has(r))
    if (missing.length > 0) {
      throw ValidationFailed(missing.map((r) => ({ path: 'body.roles', message: `${r} is not an active role of the organisation` })),
        'software roles must be a subset of the organisation\'s active roles')
    }
  }

  private async lockOrganisation (tx: Tx, orgId: string): Promise<{ status: string }> {
    const rows = await tx.$queryRawUnsafe<Array<{ status: string }>>('SELECT status::text AS status FROM organisations WHERE id = $1::uuid FOR SHARE', orgId)
    if (rows.length === 0) throw NotFound(`no organisation ${orgId}`)
    return rows[0]!
  }

  async create (orgId: string, input: SoftwareCreate, who: Actor): Promise<SoftwareStatement> {
    return this.d.prisma.$transaction(async (tx) => {
      const org = await this.lockOrganisation(tx, orgId)
      if (!changeable.has(org.status)) throw Conflict(`the organisation is ${org.status}: no software statements can be created`)
      await this.checkRoles(tx, orgId, input.roles)
      const row = await tx.softwareStatement.create({
        data: {
          id: randomUUID(), organisationId: orgId, clientName: input.client_name, clientDescription: input.client_description ?? null,
          clientUri: input.client_uri ?? null, logoUri: input.logo_uri ?? null, tosUri: input.tos_uri ?? null, policyUri: input.policy_uri ?? null,
          redirectUris: input.redirect_uris, roles: input.roles, mode: input.mode, tokenEndpointAuthMethod: input.token_endpoint_auth_method,
          environment: input.environment ?? null, onBehalfOf: input.on_behalf_of ?? null,
        },
      })
      const view = this.view(row)
      await this.d.audit.append(tx, who, { action: 'software_statement.create', target: `software_statement:${row.id}`, after: view })
      await bumpRegistryVersion(tx)
      return view
    })
  }

  async get (orgId: string, softwareId: string): Promise<SoftwareStatement> {
    const row = await this.d.prisma.softwareStatement.findFirst({ where: { id: softwareId, organisationId: orgId } })
    if (!row) throw NotFound(`no software statement ${softwareId} in organisation ${orgId}`)
    return this.view(row)
  }

  async list (orgId: string): Promise<SoftwareStatement[]> {
    const rows = await this.d.prisma.softwareStatement.findMany({ where: { organisationId: orgId }, orderBy: { createdAt: 'asc' } })
    return rows.map((r) => this.view(r))
  }

  /** Any change increments the version; a status move follows the lifecycle; removal revokes certificates. */
  async update (orgId: string, softwareId: string, patch: SoftwarePatch, who: Actor): Promise<SoftwareStatement> {
    return this.d.prisma.$transaction(async (tx) => {
      const org = await this.lockOrganisation(tx, orgId)
      const locked = await tx.$queryRawUnsafe<unknown[]>('SELECT id FROM software_statements WHERE id = $1::uuid AND organisation_id = $2::uuid FOR UPDATE', softwareId, orgId)
      if (locked.length === 0) throw NotFound(`no software statement ${softwareId} in organisation ${orgId}`)
      const current = await tx.softwareStatement.findUniqueOrThrow({ where: { id: softwareId } })
      const before = this.view(current)
      if (current.status === 'removed') throw Conflict('the software statement is removed: it cannot change')
      if (patch.status !== undefined && patch.status !== current.status) assertSoftwareMove(current.status, patch.status)
      if (!changeable.has(org.status) && patch.status !== 'removed' && patch.status !== 'inactive') {
        throw Conflict(`the organisation is ${org.status}: its software statements can only be deactivated or removed`)
      }
      if (patch.roles) await this.checkRoles(tx, orgId, patch.roles)
      const mode = patch.mode ?? current.mode
      const uris = patch.redirect_uris ?? current.redirectUris
      const bad = uris.map((u, i) => [i, checkUri(u, { allowLocalhostHttp: mode === 'test' })] as const).filter(([, p]) => p)
      if (bad.length) throw ValidationFailed(bad.map(([i, p]) => ({ path: `body.redirect_uris.${i}`, message: p! })))
      const row = await tx.softwareStatement.update({
        where: { id: softwareId },
        data: {
          ...(patch.client_name !== undefined ? { clientName: patch.client_name } : {}),
          ...(patch.client_description !== undefined ? { clientDescription: patch.client_description } : {}),
          ...(patch.client_uri !== undefined ? { clientUri: patch.client_uri } : {}),
          ...(patch.logo_uri !== undefined ? { logoUri: patch.logo_uri } : {}),
          ...(patch.tos_uri !== undefined ? { tosUri: patch.tos_uri } : {}),
          ...(patch.policy_uri !== undefined ? { policyUri: patch.policy_uri } : {}),
          ...(patch.redirect_uris !== undefined ? { redirectUris: patch.redirect_uris } : {}),
          ...(patch.roles !== undefined ? { roles: patch.roles } : {}),
          ...(patch.mode !== undefined ? { mode: patch.mode } : {}),
          ...(patch.token_endpoint_auth_method !== undefined ? { tokenEndpointAuthMethod: patch.token_endpoint_auth_method } : {}),
          ...(patch.environment !== undefined ? { environment: patch.environment } : {}),
          ...(patch.on_behalf_of !== undefined ? { onBehalfOf: patch.on_behalf_of } : {}),
          ...(patch.status !== undefined ? { status: patch.status } : {}),
          version: { increment: 1 },
        },
      })
      const after = this.view(row)
      await this.d.audit.append(tx, who, { action: 'software_statement.update', target: `software_statement:${softwareId}`, before, after })
      if (patch.status === 'removed') await revokeCertificates(tx, this.d, { softwareStatementId: softwareId }, 'cessationOfOperation', who)
      await bumpRegistryVersion(tx)
      return after
    })
  }
}
