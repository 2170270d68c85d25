import { z } from 'zod'

// Control characters, bidirectional overrides/isolates and zero-width characters let a name
// display as something it is not: refuse them in anything a person will read.
const deceptive = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/

/** Human-readable text: trimmed, NFC, bounded, no deceptive characters. */
export const displayText = (max: number) => z.string()
  .transform((s) => s.normalize('NFC').trim())
  .pipe(z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`)
    .refine((s) => !deceptive.test(s), 'must not contain control, bidirectional or zero-width characters'))

/**
 * An absolute URI as the ecosystem publishes it: ASCII only (IDNs in punycode, so no homographs),
 * https, no credentials, no fragment, no wildcard. `allowLocalhostHttp` admits http://localhost
 * (test-mode software only).
 */
export function checkUri (value: string, { allowLocalhostHttp = false } = {}): string | undefined {
  if (value.length > 2048) return 'must be at most 2048 characters'
  if (!/^[\x21-\x7e]+$/.test(value)) return 'must be ASCII without spaces (write internationalised hosts in punycode)'
  if (value.includes('*')) return 'must not contain wildcards'
  let url: URL
  try { url = new URL(value) } catch { return 'must be an absolute URI' }
  if (url.hash || value.includes('#')) return 'must not contain a fragment'
  if (url.username || url.password) return 'must not contain credentials'
  if (url.protocol === 'https:') return url.hostname ? undefined : 'must name a host'
  if (url.protocol === 'http:' && allowLocalhostHttp && url.hostname === 'localhost') return undefined
  return allowLocalhostHttp ? 'must use https (or http://localhost)' : 'must use https'
}

export const httpsUri = z.string().superRefine((v, ctx) => {
  const problem = checkUri(v)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})
