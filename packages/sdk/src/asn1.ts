import { AsnParser, AsnSerializer } from '@peculiar/asn1-schema';
import * as asn1js from 'asn1js';

/**
 * Strict DER (ITU-T X.690 §10) decoding on @peculiar/asn1-schema. The library decodes BER; DER is enforced by
 * re-encoding what was decoded and requiring the very same bytes (DER has one encoding per value, so any other form —
 * long or indefinite lengths, a non-canonical BOOLEAN, a time the Date type rolls over, an OID arc past 2^53 — shows
 * as a difference), plus the checks a re-encoding cannot see (INTEGER minimality where the value is kept as bytes,
 * empty or truncated OIDs, time digits). Signatures in X.509 and OCSP are over the encoding received, and with strict
 * DER that is also the encoding re-serialised.
 */

export class DerError extends Error {
  override readonly name = 'DerError';
}

type Schema<T> = new () => T;

/** Bounds for untrusted input: certificates and OCSP answers are a few KiB and a dozen levels deep. */
const BER_LIMITS: asn1js.FromBerOptions = { maxDepth: 32, maxNodes: 4096, maxContentLength: 1024 * 1024, parseEmbedded: false };

const TIME = {
  23: /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/, // UTCTime, X.690 §11.8: seconds present, Z
  24: /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d*[1-9])?Z$/, // GeneralizedTime, §11.7: no trailing zero
} as const;

function checkTime(tag: 23 | 24, contents: Uint8Array): void {
  const text = Buffer.from(contents).toString('latin1');
  const match = TIME[tag].exec(text);
  if (match === null) throw new DerError(`time ${JSON.stringify(text)} is not in DER form`);
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const year = tag === 23 ? (y! >= 50 ? 1900 : 2000) + y! : y!;
  const days = new Date(Date.UTC(year, mo!, 0)).getUTCDate(); // day 0 of the next month: this month's length
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > days || h! > 23 || mi! > 59 || s! > 59) {
    throw new DerError(`time ${JSON.stringify(text)} is not a calendar date`);
  }
}

/** X.690 §8.3.2 (INTEGER, ENUMERATED) and §8.19 (OBJECT IDENTIFIER) rules on the contents octets. */
function checkPrimitive(node: asn1js.AsnType, depth: number): void {
  if (depth > 32) throw new DerError('nesting too deep');
  const { tagClass, tagNumber, isConstructed } = node.idBlock;
  if (isConstructed) {
    for (const child of (node.valueBlock as unknown as { value: asn1js.AsnType[] }).value) checkPrimitive(child, depth + 1);
    return;
  }
  if (tagClass !== 1) return;
  const raw = node.valueBeforeDecodeView;
  const contents = raw.subarray(raw.length - node.lenBlock.length);
  if (tagNumber === 2 || tagNumber === 10) {
    if (contents.length === 0) throw new DerError('INTEGER with no contents');
    if (contents.length > 1 && ((contents[0] === 0x00 && contents[1]! < 0x80) || (contents[0] === 0xff && contents[1]! >= 0x80))) {
      throw new DerError('INTEGER not minimally encoded');
    }
  } else if (tagNumber === 6) {
    if (contents.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
    if (contents[contents.length - 1]! & 0x80) throw new DerError('truncated OBJECT IDENTIFIER');
    for (let i = 0; i < contents.length; i += 1) {
      const startsArc = i === 0 || !(contents[i - 1]! & 0x80);
      if (startsArc && contents[i] === 0x80) throw new DerError('OBJECT IDENTIFIER arc not minimally encoded');
    }
  } else if (tagNumber === 23 || tagNumber === 24) {
    checkTime(tagNumber, contents);
  }
}

/**
 * Decodes exactly one DER value of `schema` spanning all of `der`.
 *
 * @throws {DerError} naming `what` and the rule broken.
 */
export function decodeDer<T>(der: Uint8Array, schema: Schema<T>, what: string): T {
  const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    const parsed = asn1js.fromBER(bytes, BER_LIMITS); // throws on some malformed input, returns offset -1 on other
    if (parsed.offset === -1) throw new DerError(parsed.result.error || 'truncated');
    if (parsed.offset !== bytes.length) throw new DerError('trailing bytes after the DER value');
    checkPrimitive(parsed.result, 0);
    let value: T;
    try {
      value = AsnParser.fromASN(parsed.result, schema);
    } catch (cause) {
      throw new DerError(`unexpected structure: ${(cause as Error).message}`, { cause });
    }
    if (!encodeDer(value).equals(bytes)) throw new DerError('not the DER encoding (re-encoding differs)');
    return value;
  } catch (error) {
    if (error instanceof DerError) throw new DerError(`${what}: ${error.message}`, { cause: error });
    throw new DerError(`${what}: ${(error as Error).message}`, { cause: error });
  }
}

/** DER encoding of a schema object (asn1-schema emits DER: definite minimal lengths, DEFAULT values omitted). */
export function encodeDer(value: unknown): Buffer {
  return Buffer.from(AsnSerializer.serialize(value));
}
