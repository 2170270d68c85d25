import { createPublicKey } from 'node:crypto'
import { z } from 'zod'

// Members that only a private JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4): a client must never send them.
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

const jwk = z.object({
  kty: z.enum(['RSA', 'EC']),
  kid: z.string().min(1).max(128).optional(),
  use: z.literal('sig').optional(),
  alg: z.enum(['PS256', 'ES256']).optional(),
  crv: z.string().optional(),
  x: z.string().optional(),
  y: z.string().optional(),
  n: z.string().optional(),
  e: z.string().optional(),
}).passthrough().superRefine((k, ctx) => {
  for (const m of privateMembers) if (m in k) ctx.addIssue({ code: 'custom', message: `a private key member "${m}" must never be sent` })
  try {
    const key = createPublicKey({ key: k as never, format: 'jwk' })
    const d = key.asymmetricKeyDetails
    if (k.kty === 'RSA' && (d?.modulusLength ?? 0) < 2048) ctx.addIssue({ code: 'custom', message: 'RSA keys must be at least 2048 bits' })
    if (k.kty === 'EC' && k.crv !== 'P-256') ctx.addIssue({ code: 'custom', message: 'EC keys must be on P-256 (ES256)' })
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a valid public JWK' })
  }
})

/** The public keys a client signs its private_key_jwt assertions with (PS256 or ES256 only). */
export const clientJwks = z.object({ keys: z.array(jwk).min(1, 'at least one key').max(10, 'at most 10 keys') }).strict()
export type ClientJwks = z.infer<typeof clientJwks>
