import { Forbidden, NotFound } from '../errors.js'
import type { PortalUserView } from './users.js'

// Who may do what in the portal. The server decides every request here; the pages only mirror it.
// Refusals match the APIs': another organisation's data is "not found" (its existence is not
// disclosed), a role that may read but not change gets 403.

export const isOperator = (u: PortalUserView): boolean => u.operator_role !== null
export const isOperatorAdmin = (u: PortalUserView): boolean => u.operator_role === 'operator-admin'

export const roleIn = (u: PortalUserView, orgId: string): 'org-admin' | 'org-viewer' | undefined =>
  u.memberships.find((m) => m.org_id === orgId)?.role

export function canRead (u: PortalUserView, orgId: string): boolean {
  return isOperator(u) || roleIn(u, orgId) !== undefined
}

export function canManage (u: PortalUserView, orgId: string): boolean {
  return isOperatorAdmin(u) || roleIn(u, orgId) === 'org-admin'
}

export function assertRead (u: PortalUserView, orgId: string): void {
  if (!canRead(u, orgId)) throw NotFound(`no organisation ${orgId}`)
}

/** Changes to one organisation's own things: its software statements, servers, certificates, users. */
export function assertManage (u: PortalUserView, orgId: string): void {
  assertRead(u, orgId)
  if (!canManage(u, orgId)) throw Forbidden('your role may read this organisation but not change it')
}

/** Operator-only changes: organisations' status and roles, directory keys, operators. */
export function assertOperatorAdmin (u: PortalUserView): void {
  if (!isOperatorAdmin(u)) throw Forbidden('only an operator-admin may do this')
}

export function assertOperator (u: PortalUserView): void {
  if (!isOperator(u)) throw Forbidden('only operators may see this')
}
