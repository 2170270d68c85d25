import { createPublicKey } from 'node:crypto'
import { z } from 'zod'

// A client's public JWK Set (RFC 7517 §4-5, RFC 7518 §6), as /enrol stores it. Only the members a public
// PS256/ES256 signing key can carry are accepted, each with its type and a size bound: anything else (a private
// member, an unknown or nested member, a NUL, key_ops that exclude "verify") is refused before the enrolment code
// is spent, and no stored key can be one that never verifies an assertion.

const base64url = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/, 'must be base64url')
// RFC 7517 §4.3 registered operations; a key a client signs assertions with is used by us to "verify".
const keyOperations = ['sign', 'verify', 'encrypt', 'decrypt', 'wrapKey', 'unwrapKey', 'deriveKey', 'deriveBits'] as const

const common = {
  // Printable ASCII: a kid is matched against the assertion header and shown in logs.
  kid: z.string().min(1).max(128).regex(/^[\x20-\x7e]+$/, 'must be printable ASCII').optional(),
  use: z.literal('sig').optional(),
  key_ops: z.array(z.enum(keyOperations)).min(1).max(keyOperations.length)
    .refine((ops) => new Set(ops).size === ops.length, 'must not repeat an operation (RFC 7517 §4.3)')
    .refine((ops) => ops.includes('verify'), 'must include "verify": the directory verifies the client\'s assertions with this key')
    .optional(),
  ext: z.boolean().optional(),
  alg: z.enum(['PS256', 'ES256']).optional(),
  x5c: z.array(z.string().min(1).max(16 * 1024).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64 DER')).min(1).max(10).optional(),
  x5t: base64url(27).optional(),
  'x5t#S256': base64url(43).optional(),
}

const rsa = z.object({
  kty: z.literal('RSA'),
  ...common,
  n: base64url(1366), // 8192 bits
  e: base64url(8),
}).strict()

const ec = z.object({
  kty: z.literal('EC'),
  ...common,
  crv: z.literal('P-256', 'EC keys must be on P-256 (ES256)'),
  x: base64url(43),
  y: base64url(43),
}).strict()

const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

const jwk = z.discriminatedUnion('kty', [rsa, ec], { error: 'kty must be "RSA" or "EC"' }).superRefine((k, ctx) => {
  if (k.alg && (k.alg === 'ES256') !== (k.kty === 'EC')) ctx.addIssue({ code: 'custom', path: ['alg'], message: `${k.alg} does not fit a ${k.kty} key` })
  try {
    const key = createPublicKey({ key: k as never, format: 'jwk' })
    if (k.kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) ctx.addIssue({ code: 'custom', message: 'RSA keys must be at least 2048 bits' })
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a valid public JWK' })
  }
})

/** The public keys a client signs its private_key_jwt assertions with (PS256 or ES256 only). */
export const clientJwks = z.object({
  keys: z.array(z.unknown().superRefine((v, ctx) => {
    // Said plainly before the schema's "unrecognized key": a private key must never leave its owner.
    if (v && typeof v === 'object') {
      for (const m of privateMembers) if (m in v) ctx.addIssue({ code: 'custom', message: `a private key member "${m}" must never be sent` })
    }
  }).pipe(jwk)).min(1, 'at least one key').max(10, 'at most 10 keys')
    .refine((keys) => {
      const kids = keys.map((k) => k.kid).filter((kid) => kid !== undefined)
      return new Set(kids).size === kids.length
    }, 'each kid must be unique in the set'),
}).strict()
export type ClientJwks = z.infer<typeof clientJwks>
