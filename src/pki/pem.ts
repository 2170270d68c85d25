// PEM (RFC 7468): textual encoding of DER. Explanatory text between blocks is allowed and ignored (§2);
// encapsulated headers (RFC 1421) are not supported.

export class PemError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'PemError'
  }
}

export function toPem (der: Buffer, label: string): string {
  const b64 = der.toString('base64')
  let body = ''
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n'
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`
}

// label = labelchar *( ["-" / SP] labelchar ) (RFC 7468 §3), so a hyphen never touches the dashes
const label = '([A-Z0-9]+(?:[ -][A-Z0-9]+)*)'
const blockRe = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g')
const base64Re = /^[A-Za-z0-9+/]*={0,2}$/

/** Every PEM block in `text`, in order. Throws PemError on a block that is not well formed. */
export function pemBlocks (text: string): Array<{ label: string, der: Buffer }> {
  const out: Array<{ label: string, der: Buffer }> = []
  for (const m of text.matchAll(blockRe)) {
    const [, label, body, endLabel] = m as unknown as [string, string, string, string]
    if (label !== endLabel) throw new PemError(`PEM block BEGIN ${label} ends with END ${endLabel}`)
    const b64 = body.replace(/\s+/g, '')
    if (!base64Re.test(b64) || b64.length % 4 !== 0 || b64.length === 0) throw new PemError(`PEM block ${label} is not valid base64`)
    out.push({ label, der: Buffer.from(b64, 'base64') })
  }
  return out
}

/** The DER of every block labelled `label` (every block when no label is given). */
export function fromPem (text: string, label?: string): Buffer[] {
  return pemBlocks(text).filter((b) => label === undefined || b.label === label).map((b) => b.der)
}

export function isPem (text: string): boolean {
  return /-----BEGIN [A-Z0-9]+(?:[ -][A-Z0-9]+)*-----/.test(text)
}
