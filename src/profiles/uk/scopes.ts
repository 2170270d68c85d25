import { scopes, type Scope } from '../../auth/scopes.js'

// The Directory API 2.2 security requirement of the SSA endpoint (OAuth2SecurityReadOps): TPPReadAccess
// for third parties, ASPSPReadAccess for account servicers. Our roles in either family, in the UK's and our own names.
const aspspRoles = new Set(['aspsp', 'data-holder'])
const tppRoles = new Set(['aisp', 'pisp', 'cbpii', 'data-recipient'])

/** The UK scopes an organisation's active roles entitle it to, beside its client's own scopes. */
export function ukScopesFor (activeRoles: string[]): Scope[] {
  const out: Scope[] = []
  if (activeRoles.some((r) => tppRoles.has(r))) out.push(scopes.ukTppRead)
  if (activeRoles.some((r) => aspspRoles.has(r))) out.push(scopes.ukAspspRead)
  return out
}
