/** DESIGN.md §5: what a directory access token may allow. */
export const scopes = {
  read: 'directory:read',
  software: 'directory:software',
  admin: 'directory:admin',
} as const

export type Scope = typeof scopes[keyof typeof scopes]

export const participantScopes: Scope[] = [scopes.read, scopes.software]
export const operatorScopes: Scope[] = [scopes.read, scopes.software, scopes.admin]
