import type { AuditEntry } from '../audit/audit-log.js'
import type { Tx } from '../db/database.js'

// One URI per event type, in the SET's `events` claim (RFC 8417 §2.2), named as the problem types are.
const base = 'urn:ecosystem-directory:event:'
export const eventTypes = {
  organisationCreated: `${base}organisation-created`,
  organisationStatusChanged: `${base}organisation-status-changed`,
  organisationRolesChanged: `${base}organisation-roles-changed`,
  softwareStatementCreated: `${base}software-statement-created`,
  softwareStatementUpdated: `${base}software-statement-updated`,
  softwareStatementStatusChanged: `${base}software-statement-status-changed`,
  certificateIssued: `${base}certificate-issued`,
  certificateRevoked: `${base}certificate-revoked`,
  crlUpdated: `${base}crl-updated`,
  authorisationServerCreated: `${base}authorisation-server-created`,
  authorisationServerUpdated: `${base}authorisation-server-updated`,
  signingKeyRotated: `${base}signing-key-rotated`,
  caChanged: `${base}ca-changed`,
} as const

export type EventType = typeof eventTypes[keyof typeof eventTypes]
export const allEventTypes: EventType[] = Object.values(eventTypes)

/** What the subject of an event is; rendered as an RFC 9493 subject identifier in the SET. */
export interface EventSubject { kind: 'organisation' | 'software_statement' | 'certificate' | 'authorisation_server' | 'signing_keys' | 'authority', id: string }

export interface PendingEvent { type: EventType, subject: EventSubject, payload: Record<string, unknown> }

type View = Record<string, unknown>
const idOf = (target: string): string => target.slice(target.indexOf(':') + 1)
const rolesOf = (v: View): string => JSON.stringify(v.roles ?? null)

/**
 * The events an audited change announces. The payloads carry only what the public documents show
 * already (the participant list, keystores, CRL, JWKS), so every subscriber may receive every type.
 * Changes nobody outside needs (enrolment codes, the master key, the operator) announce nothing.
 */
export async function eventsFor (tx: Tx, entry: AuditEntry): Promise<PendingEvent[]> {
  const before = (entry.before ?? {}) as View
  const after = (entry.after ?? {}) as View
  const id = idOf(entry.target)
  switch (entry.action) {
    case 'organisation.create':
      return [{ type: eventTypes.organisationCreated, subject: { kind: 'organisation', id }, payload: { org_id: id, legal_name: after.legal_name, status: after.status, roles: after.roles } }]
    case 'organisation.update': {
      const out: PendingEvent[] = []
      if (before.status !== after.status) {
        out.push({ type: eventTypes.organisationStatusChanged, subject: { kind: 'organisation', id }, payload: { org_id: id, previous_status: before.status, status: after.status } })
      }
      if (rolesOf(before) !== rolesOf(after)) {
        out.push({ type: eventTypes.organisationRolesChanged, subject: { kind: 'organisation', id }, payload: { org_id: id, previous_roles: before.roles, roles: after.roles } })
      }
      return out
    }
    case 'software_statement.create':
      return [{ type: eventTypes.softwareStatementCreated, subject: { kind: 'software_statement', id }, payload: softwarePayload(after) }]
    case 'software_statement.update': {
      const changed = Object.keys({ ...before, ...after })
        .filter((k) => !['version', 'updated_at'].includes(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort()
      const out: PendingEvent[] = [{ type: eventTypes.softwareStatementUpdated, subject: { kind: 'software_statement', id }, payload: { ...softwarePayload(after), changed } }]
      if (before.status !== after.status) {
        out.push({ type: eventTypes.softwareStatementStatusChanged, subject: { kind: 'software_statement', id }, payload: { org_id: after.org_id, software_id: id, previous_status: before.status, status: after.status } })
      }
      return out
    }
    case 'certificate.issue':
      return [{
        type: eventTypes.certificateIssued, subject: { kind: 'certificate', id },
        payload: { serial: id, type: after.type, org_id: after.org_id, software_id: after.software_id, 'x5t#S256': after['x5t#S256'], not_after: after.not_after },
      }]
    case 'certificate.revoke': {
      const cert = await tx.certificate.findUnique({ where: { serial: id }, select: { type: true, organisationId: true, softwareStatementId: true, x5tS256: true } })
      return [
        {
          type: eventTypes.certificateRevoked, subject: { kind: 'certificate', id },
          payload: {
            serial: id, type: cert?.type, org_id: cert?.organisationId, software_id: cert?.softwareStatementId ?? null,
            'x5t#S256': cert?.x5tS256, reason: after.reason, revoked_at: after.revoked_at,
          },
        },
        // Relying parties that cache the CRL learn that it changed (RFC 5280 §5: a new CRL at once).
        { type: eventTypes.crlUpdated, subject: { kind: 'authority', id: 'crl' }, payload: { revoked_serial: id } },
      ]
    }
    case 'authorisation_server.create':
    case 'authorisation_server.update':
      return [{
        type: entry.action === 'authorisation_server.create' ? eventTypes.authorisationServerCreated : eventTypes.authorisationServerUpdated,
        subject: { kind: 'authorisation_server', id },
        payload: { authorisation_server_id: id, org_id: after.org_id, issuer: after.issuer, discovery_url: after.discovery_url },
      }]
    case 'signing_key.rotate':
      return [{ type: eventTypes.signingKeyRotated, subject: { kind: 'signing_keys', id: 'directory' }, payload: { active_kid: after.active_kid, retired_kid: after.retired_kid, next_kid: after.next_kid } }]
    case 'authority.init':
    case 'authority.import':
    case 'authority.issuing_ca_reissue':
      return [{ type: eventTypes.caChanged, subject: { kind: 'authority', id: 'ca' }, payload: { change: caChanges[entry.action], ...after } }]
    default:
      return []
  }
}

// What happened to the CA, by audit action: the issuing CA re-issued by the root (same key, new serial) is a change
// relying parties that pin the CA bundle must pick up.
const caChanges: Record<string, string> = { 'authority.init': 'created', 'authority.import': 'imported', 'authority.issuing_ca_reissue': 'issuing-ca-reissued' }

function softwarePayload (v: View): Record<string, unknown> {
  return { org_id: v.org_id, software_id: v.software_id, client_name: v.client_name, status: v.status, version: v.version, roles: v.roles, mode: v.mode }
}
