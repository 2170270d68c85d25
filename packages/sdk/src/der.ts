/**
 * A minimal DER (ITU-T X.690) reader and writer. The reader keeps byte offsets, because signatures in X.509 and OCSP
 * (RFC 5280 §4.1.1.3, RFC 6960 §4.2.1) are computed over the exact encoding received, which a decode/re-encode
 * round trip through a general ASN.1 library is not guaranteed to reproduce.
 */

export interface DerNode {
  /** The identifier octet: class, constructed bit and tag number (< 31). */
  tag: number;
  /** The full TLV encoding. */
  raw: Buffer;
  /** The contents octets. */
  value: Buffer;
  /** Children of a constructed node. */
  children: DerNode[];
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
} as const;

/** Context-specific tag `[n]`, constructed (EXPLICIT, or IMPLICIT over a constructed type) or primitive. */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

export class DerError extends Error {
  override readonly name = 'DerError';
}

function readNode(buf: Buffer, offset: number, depth: number): DerNode {
  if (depth > 32) throw new DerError('DER nesting too deep');
  if (offset + 2 > buf.length) throw new DerError('DER truncated');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('DER high tag numbers are not supported');
  let length = buf[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    // 0x80 is BER's indefinite length, which DER forbids (X.690 §10.1).
    if (count === 0 || count > 4) throw new DerError('DER length encoding not allowed');
    if (offset + 2 + count > buf.length) throw new DerError('DER truncated');
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + buf[offset + 2 + i]!;
    header += count;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new DerError('DER truncated');
  const node: DerNode = {
    tag,
    raw: buf.subarray(offset, end),
    value: buf.subarray(offset + header, end),
    children: [],
  };
  if (tag & 0x20) {
    let cursor = offset + header;
    while (cursor < end) {
      const child = readNode(buf, cursor, depth + 1);
      node.children.push(child);
      cursor += child.raw.length;
    }
  }
  return node;
}

/** Parses exactly one DER element spanning the whole buffer. */
export function parseDer(buf: Buffer): DerNode {
  const node = readNode(buf, 0, 0);
  if (node.raw.length !== buf.length) throw new DerError('trailing bytes after DER element');
  return node;
}

/** The child at `index`, which must carry `tag`. */
export function child(node: DerNode, index: number, tag: number, what: string): DerNode {
  const found = node.children[index];
  if (found === undefined || found.tag !== tag) throw new DerError(`${what}: unexpected structure`);
  return found;
}

export function decodeOid(node: DerNode): string {
  if (node.tag !== TAG.OID || node.value.length === 0) throw new DerError('expected an OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  for (const byte of node.value) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = arcs.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

/** X.680 GeneralizedTime / UTCTime (RFC 5280 §4.1.2.5: UTCTime years 50–99 are 19xx). */
export function decodeTime(node: DerNode): Date {
  const text = node.value.toString('latin1');
  let match: RegExpExecArray | null;
  if (node.tag === TAG.GENERALIZED_TIME) {
    match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(text);
  } else if (node.tag === TAG.UTC_TIME) {
    match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})()Z$/.exec(text);
    if (match) {
      const yy = Number(match[1]);
      match[1] = String(yy >= 50 ? 1900 + yy : 2000 + yy);
    }
  } else {
    throw new DerError('expected a time');
  }
  if (!match) throw new DerError(`unsupported time encoding ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, frac] = match;
  const ms = frac ? Math.round(Number(`0${frac}`) * 1000) : 0;
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms));
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encode(tag: number, contents: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(contents.length), contents]);
}

export function encodeSequence(...items: Buffer[]): Buffer {
  return encode(TAG.SEQUENCE, Buffer.concat(items));
}

export function encodeOid(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  const body: number[] = [];
  const all = [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)];
  for (const arc of all) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    body.push(...chunk);
  }
  return encode(TAG.OID, Buffer.from(body));
}
