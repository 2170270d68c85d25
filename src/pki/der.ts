// node-forge's ASN.1 codec, with the options a CA wants when it reads what others sent.
import forge from 'node-forge'

export const asn1 = forge.asn1
export type Asn1 = forge.asn1.Asn1

type FromDer = (bytes: string, options: { strict: boolean, parseAllBytes: boolean, decodeBitStrings: boolean }) => Asn1

/**
 * Parses DER bytes: definite lengths that fit the data (strict), no trailing bytes, and BIT STRINGs kept as bytes
 * (forge would otherwise try to read them as nested ASN.1). forge's reader is still lenient about non-minimal
 * encodings; callers that must refuse them re-encode and compare (see strictDer).
 */
export function fromDer (der: Buffer): Asn1 {
  return (asn1.fromDer as unknown as FromDer)(der.toString('binary'), { strict: true, parseAllBytes: true, decodeBitStrings: false })
}

export const toDer = (a: Asn1): Buffer => Buffer.from(asn1.toDer(a).getBytes(), 'binary')

export const children = (a: Asn1): Asn1[] => Array.isArray(a.value) ? a.value : []
