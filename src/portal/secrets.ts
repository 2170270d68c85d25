import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** 256 bits from the CSPRNG, base64url: setup-link tokens, session tokens, CSRF tokens. */
export const newToken = (): string => randomBytes(32).toString('base64url')

/** Tokens are stored only as their SHA-256: a database dump does not hand out sessions or setup links. */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex')

export function sameSecret (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
