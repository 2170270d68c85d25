// OBIE identifiers are "Base62 GUID (22 chars)" (uk-directory-openapi.yaml: SoftwareStatementIdSchema
// maxLength 22, software_client_id): the same 128 bits as our UUIDs, written in base 62.
const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const base62Re = /^[0-9A-Za-z]{22}$/
const uuidRe = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A UUID as its 22-character base-62 form. */
export function toBase62 (uuid: string): string {
  let n = BigInt('0x' + uuid.replace(/-/g, ''))
  let out = ''
  for (let i = 0; i < 22; i++) { out = alphabet[Number(n % 62n)]! + out; n /= 62n }
  return out
}

/** The UUID a 22-character base-62 id (or a UUID, accepted as is) stands for; undefined when it is neither. */
export function fromUkId (id: string): string | undefined {
  if (uuidRe.test(id)) return id.toLowerCase()
  if (!base62Re.test(id)) return undefined
  let n = 0n
  for (const c of id) n = n * 62n + BigInt(alphabet.indexOf(c))
  if (n >= 1n << 128n) return undefined
  const h = n.toString(16).padStart(32, '0')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
