// CRLReason (RFC 5280 §5.3.1), shared by CRL entries, OCSP RevokedInfo (RFC 6960 §4.2.1) and the revoke API.
// One table, in the SDK's wire contract: the server encodes what participants and verifiers decode.
import { reasonCodes, reasonFromCode, revocationReasons, type RevocationReason } from '@ecosystem-directory/sdk'

export { reasonCodes, reasonFromCode, revocationReasons, type RevocationReason }

export function reasonCode (reason: RevocationReason): number {
  return reasonCodes[reason]
}

export function isRevocationReason (s: unknown): s is RevocationReason {
  return typeof s === 'string' && (revocationReasons as readonly string[]).includes(s)
}
