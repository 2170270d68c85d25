// DER (X.690) through node-forge's ASN.1 codec: node builders for what the CA signs, and strict reading of what
// others send. forge keeps byte strings (one char per octet); these helpers take and give Buffers at the edges.
import forge from 'node-forge'

export const asn1 = forge.asn1
export type Asn1 = forge.asn1.Asn1

const { Class, Type } = asn1

/** Identifier octets as they appear on the wire (single-octet tags), for comparing nodes with `is`/`expect`. */
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

const bin = (b: Buffer): string => b.toString('binary')
const buf = (s: string): Buffer => Buffer.from(s, 'binary')

// ---------------------------------------------------------------- writing

export const toDer = (a: Asn1): Buffer => buf(asn1.toDer(a).getBytes())

const make = (cls: forge.asn1.Class, type: number, constructed: boolean, value: string | Asn1[]): Asn1 =>
  asn1.create(cls, type as forge.asn1.Type, constructed, value)
const primitive = (type: number, value: string): Asn1 => make(Class.UNIVERSAL, type, false, value)

export const seq = (...parts: Asn1[]): Asn1 => make(Class.UNIVERSAL, Type.SEQUENCE, true, parts)
export const set = (...parts: Asn1[]): Asn1 => make(Class.UNIVERSAL, Type.SET, true, parts)
/** [n] EXPLICIT: a constructed context tag around complete values. */
export const explicit = (n: number, ...parts: Asn1[]): Asn1 => make(Class.CONTEXT_SPECIFIC, n, true, parts)
/** [n] IMPLICIT of a primitive type: its content under a primitive context tag. */
export const implicit = (n: number, content: Buffer | string): Asn1 =>
  make(Class.CONTEXT_SPECIFIC, n, false, typeof content === 'string' ? content : bin(content))
export const octetString = (content: Buffer): Asn1 => primitive(Type.OCTETSTRING, bin(content))
export const bitString = (content: Buffer, unusedBits = 0): Asn1 => primitive(Type.BITSTRING, String.fromCharCode(unusedBits) + bin(content))
export const nullValue = (): Asn1 => primitive(Type.NULL, '')
export const boolean = (v: boolean): Asn1 => primitive(Type.BOOLEAN, v ? '\xff' : '\x00')
export const utf8 = (s: string): Asn1 => primitive(Type.UTF8, bin(Buffer.from(s, 'utf8')))
export const printable = (s: string): Asn1 => primitive(Type.PRINTABLESTRING, s)
export const ia5 = (s: string): Asn1 => primitive(Type.IA5STRING, s)
/** INTEGER from content octets that are already minimal two's complement (see integerContent). */
export const integer = (content: Buffer): Asn1 => primitive(Type.INTEGER, bin(content))
export const smallInt = (n: number): Asn1 => primitive(Type.INTEGER, asn1.integerToDer(checkSmall(n)).getBytes())
export const enumerated = (n: number): Asn1 => primitive(Type.ENUMERATED, asn1.integerToDer(checkSmall(n)).getBytes())

function checkSmall (n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`integer out of range: ${n}`)
  return n
}

/** A non-negative bigint as an INTEGER (e.g. a CRL number). */
export function bigInteger (n: bigint): Asn1 {
  if (n < 0n) throw new RangeError('negative integers are not supported')
  const hex = n.toString(16)
  return integer(integerContent(Buffer.from(hex.length % 2 === 1 ? '0' + hex : hex, 'hex')))
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

const oidNodes = new Map<string, Asn1>()

/** OBJECT IDENTIFIER from dotted form, cached: the set of OIDs the CA writes is small, and nodes are never mutated. */
export function oid (dotted: string): Asn1 {
  let node = oidNodes.get(dotted)
  if (node === undefined) {
    if (!/^\d+(\.\d+)+$/.test(dotted)) throw new RangeError(`bad OID ${dotted}`)
    node = primitive(Type.OID, asn1.oidToDer(dotted).getBytes())
    if (oidNodes.size < 1000) oidNodes.set(dotted, node)
  }
  return node
}

function checkDate (d: Date): number {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new RangeError('invalid date')
  const y = d.getUTCFullYear()
  if (y < 0 || y > 9999) throw new RangeError('date out of range')
  return y
}

/** GeneralizedTime YYYYMMDDHHMMSSZ, no fractional seconds (RFC 5280 §4.1.2.5.2). */
export function generalizedTime (d: Date): Asn1 {
  const y = String(checkDate(d))
  // forge writes the year unpadded; GeneralizedTime always has four digits
  return primitive(Type.GENERALIZEDTIME, y.padStart(4, '0') + asn1.dateToGeneralizedTime(d).slice(y.length))
}

/** Time: UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5, §5.1.2.4). */
export function time (d: Date): Asn1 {
  const y = checkDate(d)
  if (y < 1950 || y >= 2050) return generalizedTime(d)
  return primitive(Type.UTCTIME, asn1.dateToUtcTime(d))
}

// ---------------------------------------------------------------- reading

type FromDer = (bytes: forge.util.ByteStringBuffer, options: { strict: boolean, parseAllBytes: boolean, decodeBitStrings: boolean }) => Asn1

/**
 * Reads one value from the start of `der` with forge: definite lengths must fit the data, and BIT STRINGs stay
 * bytes (forge would otherwise guess at nested ASN.1 inside them). Returns how many bytes follow the value.
 */
export function parse (der: Buffer): { node: Asn1, trailing: number } {
  const bytes = forge.util.createBuffer(bin(der))
  let node: Asn1
  try {
    node = (asn1.fromDer as unknown as FromDer)(bytes, { strict: true, parseAllBytes: false, decodeBitStrings: false })
  } catch (e) {
    throw new Asn1Error((e as Error).message.replace(/\.$/, ''))
  }
  return { node, trailing: bytes.length() }
}

/** Reads exactly one value; trailing bytes are an error. forge alone accepts BER lengths: see strictDer. */
export function fromDer (der: Buffer): Asn1 {
  const { node, trailing } = parse(der)
  if (trailing !== 0) throw new Asn1Error(`trailing data (${trailing} bytes)`)
  return node
}

/**
 * X.690 §10: DER has one encoding per value. forge's reader also takes BER (non-minimal and indefinite lengths,
 * non-minimal INTEGERs, constructed strings), which would let different byte strings carry one signed value, so
 * whatever must be DER is re-encoded and compared, and the two rules re-encoding cannot see are checked.
 */
export function checkDer (node: Asn1, der: Buffer): void {
  if (!toDer(node).equals(der)) {
    throw new Asn1Error('not DER (X.690 §10): it does not re-encode to the same bytes (a non-minimal or indefinite length, or a non-minimal INTEGER)')
  }
  canonical(node)
}

function canonical (a: Asn1): void {
  if (a.tagClass === Class.UNIVERSAL) {
    // §10.2: only SEQUENCE, SET (and EXTERNAL, EMBEDDED PDV) are constructed; strings never are
    if (a.constructed && a.type !== Type.SEQUENCE && a.type !== Type.SET && a.type !== Type.EXTERNAL && a.type !== Type.EMBEDDED) {
      throw new Asn1Error(`not DER (X.690 §10.2): a constructed encoding of universal type ${a.type}`)
    }
    // §8.2, §11.1: one octet, FF for TRUE
    if (a.type === Type.BOOLEAN && a.value !== '\x00' && a.value !== '\xff') throw new Asn1Error('not DER (X.690 §11.1): a BOOLEAN is 00 or FF')
  }
  if (Array.isArray(a.value)) for (const c of a.value) canonical(c)
}

export function strictDer (der: Buffer): Asn1 {
  const node = fromDer(der)
  checkDer(node, der)
  return node
}

/** The size of a node's DER encoding, from forge's tree (content lengths, minimal length octets). */
export function encodedLength (a: Asn1): number {
  const n = contentLength(a)
  return headerLength(n) + n
}

const headerLength = (n: number): number => n < 0x80 ? 2 : n < 0x100 ? 3 : n < 0x10000 ? 4 : n < 0x1000000 ? 5 : 6

function contentLength (a: Asn1): number {
  if (Array.isArray(a.value)) {
    let n = 0
    for (const c of a.value) n += encodedLength(c)
    return n
  }
  return a.tagClass === Class.UNIVERSAL && a.type === Type.BMPSTRING ? a.value.length * 2 : a.value.length
}

/**
 * The bytes of the element at `path` (child indices) below `top`, which was read from `der` and passed checkDer:
 * they are exactly what was read, so what a signature covers, and slicing costs less than encoding it again.
 */
export function slice (der: Buffer, top: Asn1, path: number[]): Buffer {
  let at = 0
  let node = top
  for (const index of path) {
    const elements = children(node)
    at += headerLength(contentLength(node))
    for (let i = 0; i < index; i++) at += encodedLength(elements[i]!)
    const next = elements[index]
    if (next === undefined) throw new RangeError(`no element ${index}`)
    node = next
  }
  return der.subarray(at, at + encodedLength(node))
}

/** The identifier octet of a node (single-octet tags). */
export const tagOf = (a: Asn1): number => a.tagClass | (a.constructed ? 0x20 : 0) | a.type

export const is = (a: Asn1 | undefined, tag: number): a is Asn1 => a !== undefined && tagOf(a) === tag

export function expect (a: Asn1 | undefined, tag: number, what: string): Asn1 {
  if (a === undefined) throw new Asn1Error(`${what}: missing`)
  if (tagOf(a) !== tag) throw new Asn1Error(`${what}: expected tag 0x${tag.toString(16)}, found 0x${tagOf(a).toString(16)}`)
  return a
}

/** The elements of a constructed value. */
export function children (a: Asn1): Asn1[] {
  if (!a.constructed || !Array.isArray(a.value)) throw new Asn1Error(`tag 0x${tagOf(a).toString(16)} is not constructed`)
  return a.value
}

/** The content octets of a primitive value. */
export function content (a: Asn1): Buffer {
  if (a.constructed || typeof a.value !== 'string') throw new Asn1Error(`tag 0x${tagOf(a).toString(16)} is not primitive`)
  return buf(a.value)
}

/**
 * Dotted form of an OBJECT IDENTIFIER. forge's decoder stops silently at a truncated last subidentifier, so the
 * encoding is checked first (X.690 §8.19.2: the last octet ends a subidentifier; none starts with 0x80).
 */
export function readOid (a: Asn1): string {
  const c = content(expect(a, Tag.OID, 'OBJECT IDENTIFIER'))
  if (c.length === 0 || (c[c.length - 1]! & 0x80) !== 0) throw new Asn1Error('bad OBJECT IDENTIFIER (truncated)')
  for (let i = 0; i < c.length; i++) {
    if (c[i] === 0x80 && (i === 0 || (c[i - 1]! & 0x80) === 0)) throw new Asn1Error('bad OBJECT IDENTIFIER (non-minimal)')
  }
  try {
    return asn1.derToOid(bin(c))
  } catch (e) {
    throw new Asn1Error(`bad OBJECT IDENTIFIER (${(e as Error).message})`)
  }
}

/** INTEGER content octets, checked minimal (X.690 §8.3.2). */
export function readInteger (a: Asn1): Buffer {
  const c = content(expect(a, Tag.INTEGER, 'INTEGER'))
  if (c.length === 0) throw new Asn1Error('empty INTEGER')
  if (c.length > 1 && ((c[0] === 0 && (c[1]! & 0x80) === 0) || (c[0] === 0xff && (c[1]! & 0x80) !== 0))) {
    throw new Asn1Error('non-minimal INTEGER')
  }
  return c
}

/** BIT STRING content without the unused-bits octet; requires 0 unused bits (keys and signatures). */
export function readBitStringBytes (a: Asn1): Buffer {
  const c = content(expect(a, Tag.BIT_STRING, 'BIT STRING'))
  if (c.length < 1 || c[0] !== 0) throw new Asn1Error('BIT STRING with unused bits')
  return c.subarray(1)
}

/** Decodes the string types that appear in X.500 names. */
export function readString (a: Asn1): string {
  if (a.constructed || typeof a.value !== 'string') throw new Asn1Error('not a string type')
  switch (tagOf(a)) {
    case Tag.UTF8String: return buf(a.value).toString('utf8')
    case Tag.PrintableString: case Tag.IA5String: case Tag.NumericString: case Tag.VisibleString:
    case Tag.T61String: return a.value // octets as latin1
    case Tag.BMPString: return a.value // forge decodes BMPString to UTF-16 code units
    case Tag.UniversalString: {
      const c = buf(a.value)
      if (c.length % 4 !== 0) throw new Asn1Error('bad UniversalString')
      let s = ''
      for (let i = 0; i < c.length; i += 4) s += String.fromCodePoint(c.readUInt32BE(i))
      return s
    }
    default: throw new Asn1Error(`not a string type: 0x${tagOf(a).toString(16)}`)
  }
}

/** UTCTime or GeneralizedTime in the forms RFC 5280 §4.1.2.5 allows (seconds, Z); fractions are ignored. */
export function readTime (a: Asn1): Date {
  const s = typeof a.value === 'string' && !a.constructed ? a.value : ''
  let date: Date
  let canonical: string
  if (tagOf(a) === Tag.UTCTime && /^\d{12}Z$/.test(s)) {
    canonical = s
    date = asn1.utcTimeToDate(s)
    // a date that does not format back (month 13, 31 April) is not a date
    if (asn1.dateToUtcTime(date) === canonical) return date
  } else if (tagOf(a) === Tag.GeneralizedTime && /^\d{14}(?:\.\d+)?Z$/.test(s)) {
    canonical = s.slice(0, 14) + 'Z'
    date = asn1.generalizedTimeToDate(canonical)
    if (asn1.dateToGeneralizedTime(date) === canonical) return date
  }
  throw new Asn1Error('bad Time')
}
