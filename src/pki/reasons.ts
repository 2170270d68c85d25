// CRLReason (RFC 5280 §5.3.1), shared by CRL entries and OCSP RevokedInfo (RFC 6960 §4.2.1).
// Value 7 is unused in the ASN.1 definition.

export const revocationReasons = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
] as const

export type RevocationReason = typeof revocationReasons[number]

export const reasonCodes: Readonly<Record<RevocationReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
}

export function reasonCode (reason: RevocationReason): number {
  return reasonCodes[reason]
}

export function reasonFromCode (code: number): RevocationReason | undefined {
  return revocationReasons.find((r) => reasonCodes[r] === code)
}

export function isRevocationReason (s: unknown): s is RevocationReason {
  return typeof s === 'string' && (revocationReasons as readonly string[]).includes(s)
}
