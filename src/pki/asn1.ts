// A tiny DER writer and reader (X.690). Writing DER directly is several times faster than building
// node-forge object trees for every certificate, and reading with offsets lets us verify signatures over the
// exact bytes that were signed (the CSR's certificationRequestInfo, a certificate's tbsCertificate).

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8String: 0x0c,
  NumericString: 0x12,
  PrintableString: 0x13,
  T61String: 0x14,
  IA5String: 0x16,
  UTCTime: 0x17,
  GeneralizedTime: 0x18,
  VisibleString: 0x1a,
  UniversalString: 0x1c,
  BMPString: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const

export class Asn1Error extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'Asn1Error'
  }
}

// ---------------------------------------------------------------- writer

/** One TLV whose content is the concatenation of `parts`, written into a single allocation. */
export function tlv (tag: number, ...parts: Buffer[]): Buffer {
  let length = 0
  for (const p of parts) length += p.length
  const lenBytes = length < 0x80 ? 0 : length < 0x100 ? 1 : length < 0x10000 ? 2 : length < 0x1000000 ? 3 : 4
  const out = Buffer.allocUnsafe(2 + lenBytes + length)
  out[0] = tag
  if (lenBytes === 0) {
    out[1] = length
  } else {
    out[1] = 0x80 | lenBytes
    for (let i = lenBytes, v = length; i > 0; i--, v = Math.floor(v / 256)) out[1 + i] = v & 0xff
  }
  let at = 2 + lenBytes
  for (const p of parts) { p.copy(out, at); at += p.length }
  return out
}

export const seq = (...parts: Buffer[]): Buffer => tlv(Tag.SEQUENCE, ...parts)
export const set = (...parts: Buffer[]): Buffer => tlv(Tag.SET, ...parts)
/** [n] EXPLICIT (constructed context tag wrapping complete TLVs). */
export const explicit = (n: number, ...parts: Buffer[]): Buffer => tlv(0xa0 | n, ...parts)
/** [n] IMPLICIT of a primitive type: the content only, under a primitive context tag. */
export const implicit = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content)
export const octetString = (content: Buffer): Buffer => tlv(Tag.OCTET_STRING, content)
export const bitString = (content: Buffer, unusedBits = 0): Buffer => tlv(Tag.BIT_STRING, Buffer.from([unusedBits]), content)
export const NULL = Buffer.from([Tag.NULL, 0])
export const TRUE = Buffer.from([Tag.BOOLEAN, 1, 0xff])
export const utf8 = (s: string): Buffer => tlv(Tag.UTF8String, Buffer.from(s, 'utf8'))
export const ia5 = (s: string): Buffer => tlv(Tag.IA5String, Buffer.from(s, 'latin1'))
export const printable = (s: string): Buffer => tlv(Tag.PrintableString, Buffer.from(s, 'latin1'))
export const enumerated = (n: number): Buffer => tlv(Tag.ENUMERATED, smallIntContent(n))
export const smallInt = (n: number): Buffer => tlv(Tag.INTEGER, smallIntContent(n))

function smallIntContent (n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`integer out of range: ${n}`)
  return integerContent(Buffer.from(n.toString(16).padStart(8, '0'), 'hex'))
}

/**
 * Normalises unsigned big-endian magnitude bytes to minimal DER INTEGER content of a non-negative value
 * (X.690 §8.3.2): drop redundant leading zero octets, add one if the high bit would make it negative.
 */
export function integerContent (magnitude: Buffer): Buffer {
  let i = 0
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++
  const m = magnitude.subarray(i)
  if (m.length === 0) return Buffer.from([0])
  return (m[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), m]) : m
}

export const integer = (magnitude: Buffer): Buffer => tlv(Tag.INTEGER, integerContent(magnitude))

export function bigInteger (n: bigint): Buffer {
  if (n < 0n) throw new RangeError('negative integers are not supported')
  const hex = n.toString(16)
  return integer(Buffer.from(hex.length % 2 === 1 ? '0' + hex : hex, 'hex'))
}

const oidCache = new Map<string, Buffer>()

/** OBJECT IDENTIFIER TLV from dotted form (X.690 §8.19), cached: the set of OIDs we write is small. */
export function oid (dotted: string): Buffer {
  let der = oidCache.get(dotted)
  if (der === undefined) {
    der = tlv(Tag.OID, oidContent(dotted))
    if (oidCache.size < 1000) oidCache.set(dotted, der)
  }
  return der
}

function oidContent (dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`bad OID ${dotted}`)
    return BigInt(a)
  })
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! > 39n)) throw new RangeError(`bad OID ${dotted}`)
  const out: number[] = []
  const push = (v: bigint): void => {
    const bytes = [Number(v & 0x7fn)]
    for (v >>= 7n; v > 0n; v >>= 7n) bytes.unshift(Number(v & 0x7fn) | 0x80)
    out.push(...bytes)
  }
  push(arcs[0]! * 40n + arcs[1]!)
  for (const a of arcs.slice(2)) push(a)
  return Buffer.from(out)
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n

/** GeneralizedTime YYYYMMDDHHMMSSZ, no fractional seconds (RFC 5280 §4.1.2.5.2). */
export function generalizedTime (d: Date): Buffer {
  checkDate(d)
  const s = String(d.getUTCFullYear()).padStart(4, '0') + pad2(d.getUTCMonth() + 1) + pad2(d.getUTCDate()) +
    pad2(d.getUTCHours()) + pad2(d.getUTCMinutes()) + pad2(d.getUTCSeconds()) + 'Z'
  return tlv(Tag.GeneralizedTime, Buffer.from(s, 'latin1'))
}

/** Time: UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5, §5.1.2.4). */
export function time (d: Date): Buffer {
  checkDate(d)
  const y = d.getUTCFullYear()
  if (y < 1950 || y >= 2050) return generalizedTime(d)
  const s = pad2(y % 100) + pad2(d.getUTCMonth() + 1) + pad2(d.getUTCDate()) +
    pad2(d.getUTCHours()) + pad2(d.getUTCMinutes()) + pad2(d.getUTCSeconds()) + 'Z'
  return tlv(Tag.UTCTime, Buffer.from(s, 'latin1'))
}

function checkDate (d: Date): void {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new RangeError('invalid date')
  const y = d.getUTCFullYear()
  if (y < 0 || y > 9999) throw new RangeError('date out of range')
}

// ---------------------------------------------------------------- reader

/** A TLV located inside `buf`: content is buf[contentStart, end). */
export class Der {
  constructor (
    readonly buf: Buffer,
    readonly tag: number,
    readonly start: number,
    readonly contentStart: number,
    readonly end: number,
  ) {}

  /** The whole TLV, as it was encoded. */
  get raw (): Buffer { return this.buf.subarray(this.start, this.end) }
  get content (): Buffer { return this.buf.subarray(this.contentStart, this.end) }
  get constructed (): boolean { return (this.tag & 0x20) !== 0 }

  children (): Der[] {
    if (!this.constructed) throw new Asn1Error(`tag 0x${this.tag.toString(16)} is not constructed`)
    const out: Der[] = []
    for (let at = this.contentStart; at < this.end;) {
      const d = readTlv(this.buf, at, this.end)
      out.push(d)
      at = d.end
    }
    return out
  }

  expect (tag: number, what: string): this {
    if (this.tag !== tag) throw new Asn1Error(`${what}: expected tag 0x${tag.toString(16)}, found 0x${this.tag.toString(16)}`)
    return this
  }
}

/** Reads one TLV at `at`, which must end by `limit`. DER definite lengths only; single-octet tags only. */
export function readTlv (buf: Buffer, at: number, limit = buf.length): Der {
  if (at + 2 > limit) throw new Asn1Error('truncated')
  const tag = buf[at]!
  if ((tag & 0x1f) === 0x1f) throw new Asn1Error('high tag numbers are not supported')
  let len = buf[at + 1]!
  let p = at + 2
  if (len === 0x80) throw new Asn1Error('indefinite lengths are not DER')
  if (len > 0x80) {
    const n = len & 0x7f
    if (n > 4 || p + n > limit) throw new Asn1Error('bad length')
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!
    p += n
  }
  if (p + len > limit) throw new Asn1Error('truncated')
  return new Der(buf, tag, at, p, p + len)
}

/** Parses `buf` as exactly one TLV; trailing bytes are an error. */
export function parseDer (buf: Buffer): Der {
  const d = readTlv(buf, 0, buf.length)
  if (d.end !== buf.length) throw new Asn1Error('trailing data')
  return d
}

/** Dotted form of an OBJECT IDENTIFIER's content. Numbers while they are exact, BigInt beyond (e.g. 2.25 UUID arcs). */
export function readOid (d: Der): string {
  d.expect(Tag.OID, 'OBJECT IDENTIFIER')
  const buf = d.buf
  if (d.end === d.contentStart || (buf[d.end - 1]! & 0x80) !== 0) throw new Asn1Error('bad OBJECT IDENTIFIER')
  let out = ''
  let v = 0
  let big: bigint | undefined
  let fresh = true
  for (let i = d.contentStart; i < d.end; i++) {
    const b = buf[i]!
    if (fresh && b === 0x80) throw new Asn1Error('bad OBJECT IDENTIFIER (non-minimal)')
    if (big === undefined && v >= 2 ** 45) big = BigInt(v)
    if (big === undefined) v = v * 128 + (b & 0x7f)
    else big = (big << 7n) | BigInt(b & 0x7f)
    fresh = (b & 0x80) === 0
    if (!fresh) continue
    if (out === '') {
      // the first subidentifier packs two arcs: X*40 + Y (X.690 §8.19.4)
      if (big !== undefined) out = `2.${big - 80n}`
      else out = v < 40 ? `0.${v}` : v < 80 ? `1.${v - 40}` : `2.${v - 80}`
    } else {
      out += '.' + (big ?? v).toString()
    }
    v = 0
    big = undefined
  }
  return out
}

/** INTEGER content bytes, checked minimal (X.690 §8.3.2). */
export function readInteger (d: Der): Buffer {
  d.expect(Tag.INTEGER, 'INTEGER')
  const c = d.content
  if (c.length === 0) throw new Asn1Error('empty INTEGER')
  if (c.length > 1 && ((c[0] === 0 && (c[1]! & 0x80) === 0) || (c[0] === 0xff && (c[1]! & 0x80) !== 0))) {
    throw new Asn1Error('non-minimal INTEGER')
  }
  return c
}

export function readSmallInt (d: Der): number {
  const c = readInteger(d)
  if (c.length > 4 || (c[0]! & 0x80) !== 0) throw new Asn1Error('integer out of range')
  return c.readUIntBE(0, c.length)
}

/** BIT STRING content without the unused-bits octet; requires 0 unused bits (keys and signatures). */
export function readBitStringBytes (d: Der): Buffer {
  d.expect(Tag.BIT_STRING, 'BIT STRING')
  const c = d.content
  if (c.length < 1 || c[0] !== 0) throw new Asn1Error('BIT STRING with unused bits')
  return c.subarray(1)
}

/** Decodes the string types that appear in X.500 names. */
export function readString (d: Der): string {
  const c = d.content
  switch (d.tag) {
    case Tag.UTF8String: return c.toString('utf8')
    case Tag.PrintableString: case Tag.IA5String: case Tag.NumericString: case Tag.VisibleString:
    case Tag.T61String: return c.toString('latin1')
    case Tag.BMPString: {
      if (c.length % 2 !== 0) throw new Asn1Error('bad BMPString')
      return Buffer.from(c).swap16().toString('utf16le')
    }
    case Tag.UniversalString: {
      if (c.length % 4 !== 0) throw new Asn1Error('bad UniversalString')
      let s = ''
      for (let i = 0; i < c.length; i += 4) s += String.fromCodePoint(c.readUInt32BE(i))
      return s
    }
    default: throw new Asn1Error(`not a string type: 0x${d.tag.toString(16)}`)
  }
}

/** UTCTime or GeneralizedTime in the forms RFC 5280 §4.1.2.5 allows (seconds, Z). */
export function readTime (d: Der): Date {
  const s = d.content.toString('latin1')
  let m: RegExpExecArray | null
  let year: number
  if (d.tag === Tag.UTCTime && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s)) !== null) {
    const yy = Number(m[1])
    year = yy >= 50 ? 1900 + yy : 2000 + yy
  } else if (d.tag === Tag.GeneralizedTime && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z$/.exec(s)) !== null) {
    year = Number(m[1])
  } else {
    throw new Asn1Error('bad Time')
  }
  const date = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])))
  if (date.getUTCFullYear() !== year) throw new Asn1Error('bad Time')
  return date
}
