import { InvalidTransition } from '../errors.js'

// DESIGN.md §6. Organisation: pending → active ⇄ suspended; active|suspended → revoked (terminal
// unless an operator reactivates); → withdrawn (terminal).
export const organisationStatuses = ['pending', 'active', 'suspended', 'revoked', 'withdrawn'] as const
export type OrganisationStatus = typeof organisationStatuses[number]

const organisationMoves: Record<OrganisationStatus, readonly OrganisationStatus[]> = {
  pending: ['active', 'withdrawn'],
  active: ['suspended', 'revoked', 'withdrawn'],
  suspended: ['active', 'revoked', 'withdrawn'],
  revoked: ['active'],
  withdrawn: [],
}

// Software statement: active ⇄ inactive, → removed (terminal).
export const softwareStatuses = ['active', 'inactive', 'removed'] as const
export type SoftwareStatus = typeof softwareStatuses[number]

const softwareMoves: Record<SoftwareStatus, readonly SoftwareStatus[]> = {
  active: ['inactive', 'removed'],
  inactive: ['active', 'removed'],
  removed: [],
}

export function assertOrganisationMove (from: OrganisationStatus, to: OrganisationStatus): void {
  if (!organisationMoves[from].includes(to)) throw InvalidTransition('organisation', from, to)
}

export function assertSoftwareMove (from: SoftwareStatus, to: SoftwareStatus): void {
  if (!softwareMoves[from].includes(to)) throw InvalidTransition('software statement', from, to)
}

/** Statuses whose certificates are revoked with the move (DESIGN.md §6 cascade). */
export const revokesCertificates = (to: OrganisationStatus): boolean => to === 'revoked' || to === 'withdrawn'
