/** DESIGN.md §5: what a directory access token may allow. */
export const scopes = {
  read: 'directory:read',
  software: 'directory:software',
  admin: 'directory:admin',
  /** Subscribe to change events and read the event feed (RFC 8935/8936). */
  events: 'directory:events',
  /** UK Directory API 2.2 (uk profile): a TPP, or an ASPSP, reading its records and SSAs. */
  ukTppRead: 'TPPReadAccess',
  ukAspspRead: 'ASPSPReadAccess',
} as const

export type Scope = typeof scopes[keyof typeof scopes]

export const participantScopes: Scope[] = [scopes.read, scopes.software, scopes.events]
export const operatorScopes: Scope[] = [scopes.read, scopes.software, scopes.events, scopes.admin]
