// X.509 v2 CRLs (RFC 5280 §5), signed by the issuing CA (or by the root, about CA certificates).
import { bigInteger, enumerated, explicit, integer, integerContent, seq, smallInt, time } from './der.js'
import { extension, prepareIssuer, signed, type Issuer } from './issuer.js'
import { OID } from './oids.js'
import { reasonCode, type RevocationReason } from './reasons.js'

export interface CrlEntry {
  /** The certificate's serialNumber: INTEGER content octets, or their hex. */
  serial: Buffer | string
  revokedAt: Date
  reason?: RevocationReason
}

export interface CrlInput {
  issuer: Issuer
  crlNumber: bigint
  thisUpdate: Date
  nextUpdate: Date
  entries: CrlEntry[]
}

/** Serial as INTEGER content from octets or hex (odd-length hex is left-padded; a 0x00 pad is added if needed). */
export function serialContent (serial: Buffer | string): Buffer {
  let bytes: Buffer
  if (typeof serial === 'string') {
    if (!/^[0-9a-fA-F]+$/.test(serial)) throw new RangeError(`serial is not hex: ${serial}`)
    bytes = Buffer.from(serial.length % 2 === 1 ? '0' + serial : serial, 'hex')
  } else {
    bytes = serial
  }
  const c = integerContent(bytes)
  if (c.length > 21) throw new RangeError('serial longer than 20 octets')
  return c
}

const v2 = smallInt(1)

export function buildCrl (input: CrlInput): Buffer {
  const issuer = prepareIssuer(input.issuer)
  if (!(input.thisUpdate < input.nextUpdate)) throw new RangeError('thisUpdate must be before nextUpdate')
  // cRLNumber: a non-negative, monotonically increasing INTEGER of at most 20 octets (RFC 5280 §5.2.3)
  if (input.crlNumber < 0n || input.crlNumber >= 1n << 159n) throw new RangeError('crlNumber out of range')

  const revoked = input.entries.map((e) => {
    // removeFromCRL only has meaning in delta CRLs (RFC 5280 §5.3.1); this builder makes complete CRLs.
    if (e.reason === 'removeFromCRL') throw new RangeError('removeFromCRL is only valid in delta CRLs')
    // reasonCode is omitted for unspecified (RFC 5280 §5.3.1: "SHOULD be absent instead of using unspecified").
    const exts = e.reason === undefined || e.reason === 'unspecified'
      ? []
      : [seq(extension(OID.reasonCode, false, enumerated(reasonCode(e.reason))))]
    return seq(integer(serialContent(e.serial)), time(e.revokedAt), ...exts)
  })

  // TBSCertList (RFC 5280 §5.1): version v2, signature, issuer, thisUpdate, nextUpdate,
  // revokedCertificates (absent when empty, §5.1.2.6), crlExtensions [0]
  const tbs = seq(
    v2,
    issuer.algorithm.algorithmIdentifierAsn1,
    issuer.nameAsn1,
    time(input.thisUpdate),
    time(input.nextUpdate),
    ...(revoked.length > 0 ? [seq(...revoked)] : []),
    explicit(0, seq(
      issuer.authorityKeyIdentifier,
      extension(OID.cRLNumber, false, bigInteger(input.crlNumber)),
    )),
  )
  return signed(tbs, issuer.algorithm)
}
