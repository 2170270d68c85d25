import { constants, verify, type KeyObject } from 'node:crypto';
import { SoftwareStatementError } from './errors.js';

/**
 * Compact JWS (RFC 7515 §7.1) decoding and signature verification with node:crypto only, so that the same code
 * serves the asynchronous verifier and the synchronous one (oidc-provider's metadata validator cannot await).
 */

/** The JWS algorithms the ecosystem signs SSAs with (DESIGN §4, §7). */
export type SsaAlgorithm = 'PS256' | 'ES256';
export const SSA_ALGORITHMS: readonly SsaAlgorithm[] = ['PS256', 'ES256'];

export interface DecodedJws {
  header: Record<string, unknown> & { alg: string; kid: string };
  payload: Record<string, unknown>;
  signingInput: Buffer;
  signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeJsonObject(segment: string, what: string): Record<string, unknown> {
  if (!BASE64URL.test(segment) || segment.length === 0) {
    throw new SoftwareStatementError('ERR_SSA_MALFORMED', `JWS ${what} is not base64url`);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new SoftwareStatementError('ERR_SSA_MALFORMED', `JWS ${what} is not JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SoftwareStatementError('ERR_SSA_MALFORMED', `JWS ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Splits and decodes a compact JWS; checks the header shape the SSA profile demands, not the signature. */
export function decodeCompactJws(token: unknown): DecodedJws {
  if (typeof token !== 'string') {
    throw new SoftwareStatementError('ERR_SSA_MALFORMED', 'software statement must be a string');
  }
  const parts = token.split('.');
  if (parts.length !== 3) {
    // Five parts would be a JWE (RFC 7516 §7.1); the directory never encrypts SSAs.
    throw new SoftwareStatementError('ERR_SSA_MALFORMED', 'software statement is not a compact JWS (3 parts)');
  }
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJsonObject(h, 'protected header');
  const payload = decodeJsonObject(p, 'payload');
  if (!BASE64URL.test(s) || s.length === 0) {
    throw new SoftwareStatementError('ERR_SSA_MALFORMED', 'JWS signature is not base64url');
  }
  if (typeof header.alg !== 'string') {
    throw new SoftwareStatementError('ERR_SSA_MALFORMED', 'JWS header has no "alg"');
  }
  // RFC 7515 §4.1.11: a recipient that does not understand a listed critical extension must reject the JWS.
  if (header.crit !== undefined) {
    throw new SoftwareStatementError('ERR_SSA_MALFORMED', 'JWS header "crit" lists extensions this verifier does not support');
  }
  if (header.typ !== undefined && !(typeof header.typ === 'string' && /^(application\/)?jwt$/i.test(header.typ))) {
    throw new SoftwareStatementError('ERR_SSA_MALFORMED', `JWS header "typ" must be "JWT", got ${JSON.stringify(header.typ)}`);
  }
  if (typeof header.kid !== 'string' || header.kid.length === 0) {
    throw new SoftwareStatementError('ERR_SSA_MALFORMED', 'JWS header has no "kid" (the directory always names its key)');
  }
  return {
    header: header as DecodedJws['header'],
    payload,
    signingInput: Buffer.from(`${h}.${p}`, 'ascii'),
    signature: Buffer.from(s, 'base64url'),
  };
}

/** Refuses `alg` values outside the allow-list; `none`, HMAC and RS256 never reach a key (RFC 8725 §3.1). */
export function assertAllowedAlgorithm(alg: string, allowed: readonly SsaAlgorithm[]): asserts alg is SsaAlgorithm {
  if (!(allowed as readonly string[]).includes(alg)) {
    throw new SoftwareStatementError('ERR_SSA_ALG', `JWS alg "${alg}" is not allowed (allowed: ${allowed.join(', ')})`);
  }
}

/** Verifies a JWS signature; throws ERR_SSA_ALG when the key cannot carry the algorithm, ERR_SSA_SIGNATURE when it fails. */
export function verifyJwsSignature(jws: DecodedJws, alg: SsaAlgorithm, key: KeyObject): void {
  const details = key.asymmetricKeyDetails;
  let ok: boolean;
  if (alg === 'PS256') {
    // RFC 7518 §3.5: RSASSA-PSS with SHA-256, MGF1 SHA-256 and a salt as long as the hash (32 bytes); keys ≥ 2048 bits.
    if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') {
      throw new SoftwareStatementError('ERR_SSA_ALG', `key "${jws.header.kid}" is not an RSA key, cannot verify PS256`);
    }
    if ((details?.modulusLength ?? 0) < 2048) {
      throw new SoftwareStatementError('ERR_SSA_ALG', `key "${jws.header.kid}" is shorter than 2048 bits`);
    }
    ok = verify('sha256', jws.signingInput, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    }, jws.signature);
  } else {
    // RFC 7518 §3.4: ECDSA P-256 SHA-256, signature is R || S (64 bytes), not DER.
    if (key.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') {
      throw new SoftwareStatementError('ERR_SSA_ALG', `key "${jws.header.kid}" is not a P-256 key, cannot verify ES256`);
    }
    ok = jws.signature.length === 64
      && verify('sha256', jws.signingInput, { key, dsaEncoding: 'ieee-p1363' }, jws.signature);
  }
  if (!ok) {
    throw new SoftwareStatementError('ERR_SSA_SIGNATURE', `signature does not verify with directory key "${jws.header.kid}"`);
  }
}
