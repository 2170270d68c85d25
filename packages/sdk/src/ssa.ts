import { SoftwareStatementError } from './errors.js';
import type { FetchOptions } from './http.js';
import { DirectoryKeySet, type DirectoryKey } from './jwks.js';
import { assertAllowedAlgorithm, decodeCompactJws, verifyJwsSignature, SSA_ALGORITHMS, type DecodedJws, type SsaAlgorithm } from './jws.js';
import { assertParticipantActive, ParticipantList, type Participant } from './participants.js';
import { assertClaimShapes, assertClaimTimes, type SoftwareStatementClaims } from './ssa-claims.js';

/** Checks every verifier applies, whatever the transport. */
export interface SoftwareStatementPolicy {
  /** The directory issuer URL; the SSA's `iss` must equal it exactly (RFC 7519 §4.1.1, no normalisation). */
  issuer: string;
  /** JWS algorithms accepted. Default and upper bound: PS256, ES256. */
  algorithms?: SsaAlgorithm[];
  /** Refuse SSAs whose `iat` is older than this. Default 600 s (the directory's SSA lifetime). */
  maxAgeSeconds?: number;
  /** Tolerated clock difference for `iat`, `nbf` and `exp`. Default 15 s. */
  clockToleranceSeconds?: number;
}

export interface VerifySoftwareStatementOptions extends SoftwareStatementPolicy, FetchOptions {
  /** The directory JWKS. Default `{issuer}/jwks`. */
  jwksUri?: string;
  /** The participant list. Default `{issuer}/participants`. */
  participantsUri?: string;
  /** Also require the organisation and the software statement to be active in the participant list. Default false. */
  checkStatus?: boolean;
  /** Rate limit of JWKS refetches on unknown `kid`s. Default 30 000 ms. */
  minRefreshIntervalMs?: number;
  /** Revalidate the participant list when older than this. Default 60 000 ms. */
  participantsMaxAgeMs?: number;
  /** Verification time. Default: now. */
  now?: Date;
  /** A key set to use instead of the process-wide one for `jwksUri` (its own cache and clock). */
  keySet?: DirectoryKeySet;
  /** A participant list to use instead of the process-wide one for `participantsUri`. */
  participants?: ParticipantList;
}

const DEFAULT_MAX_AGE_SECONDS = 600;
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 15;

/** Removes a trailing slash so `{issuer}/jwks` never becomes `//jwks`. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/** Steps 1–2 of verification: decode the JWS and refuse an algorithm outside the allow-list before any key lookup. */
export function decodeSoftwareStatement(ssa: unknown, policy: SoftwareStatementPolicy): DecodedJws & { alg: SsaAlgorithm } {
  const allowed = (policy.algorithms ?? [...SSA_ALGORITHMS]).filter((a) => SSA_ALGORITHMS.includes(a));
  const jws = decodeCompactJws(ssa);
  const alg = jws.header.alg;
  assertAllowedAlgorithm(alg, allowed);
  return { ...jws, alg };
}

/**
 * Steps 3–6: signature with the directory key, claim shapes, issuer, times and the organisation status the SSA states.
 * Synchronous and I/O-free, shared by the async function and `SoftwareStatementVerifier.verifySync`.
 */
export function verifyDecodedSoftwareStatement(
  jws: DecodedJws & { alg: SsaAlgorithm },
  key: DirectoryKey,
  policy: SoftwareStatementPolicy,
  nowSeconds: number,
): SoftwareStatementClaims {
  // A JWK that declares its alg must only be used with that alg (RFC 7517 §4.4).
  if (key.alg !== undefined && key.alg !== jws.alg) {
    throw new SoftwareStatementError('ERR_SSA_ALG', `directory key "${key.kid}" is for ${key.alg}, the SSA says ${jws.alg}`);
  }
  verifyJwsSignature(jws, jws.alg, key.key);
  const claims = jws.payload;
  assertClaimShapes(claims);
  if (claims.iss !== policy.issuer) {
    throw new SoftwareStatementError('ERR_SSA_ISSUER', `"iss" is ${JSON.stringify(claims.iss)}, expected ${JSON.stringify(policy.issuer)}`, { claim: 'iss' });
  }
  assertClaimTimes(claims, {
    now: nowSeconds,
    maxAgeSeconds: policy.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS,
    clockToleranceSeconds: policy.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
  });
  // The directory only signs SSAs for active organisations; anything else in the claim is refused outright.
  if (claims.org_status !== 'active') {
    throw new SoftwareStatementError('ERR_PARTICIPANT_INACTIVE', `the SSA states organisation ${claims.org_id} is ${claims.org_status}`, { claim: 'org_status' });
  }
  return claims;
}

export function unknownKid(kid: string, jwksUri: string): SoftwareStatementError {
  return new SoftwareStatementError('ERR_SSA_UNKNOWN_KID', `no key "${kid}" in the directory JWKS ${jwksUri}`);
}

// Process-wide caches for the function form, keyed by URL, so that each call does not refetch the JWKS and the
// participant list. Callers wanting their own lifetime or clock pass `keySet` / `participants`, or use
// `SoftwareStatementVerifier`.
const keySets = new Map<string, DirectoryKeySet>();
const participantLists = new Map<string, ParticipantList>();

function sharedKeySet(options: VerifySoftwareStatementOptions, jwksUri: string): DirectoryKeySet {
  const cacheKey = `${jwksUri} ${options.minRefreshIntervalMs ?? ''}`;
  let keySet = keySets.get(cacheKey);
  if (keySet === undefined) {
    keySet = new DirectoryKeySet({
      jwksUri,
      ...(options.minRefreshIntervalMs !== undefined ? { minRefreshIntervalMs: options.minRefreshIntervalMs } : {}),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    keySets.set(cacheKey, keySet);
  }
  return keySet;
}

function sharedParticipantList(options: VerifySoftwareStatementOptions, participantsUri: string): ParticipantList {
  const cacheKey = `${participantsUri} ${options.participantsMaxAgeMs ?? ''}`;
  let list = participantLists.get(cacheKey);
  if (list === undefined) {
    list = new ParticipantList({
      participantsUri,
      ...(options.participantsMaxAgeMs !== undefined ? { maxAgeMs: options.participantsMaxAgeMs } : {}),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    participantLists.set(cacheKey, list);
  }
  return list;
}

/**
 * Verifies a directory-signed software statement assertion as an authorisation server does before dynamic client
 * registration (RFC 7591 §2.3, §3.1.1): signature against the directory JWKS, PS256/ES256 only, `iss`, `iat`/`exp`
 * bounds, every claim of the SSA profile well-typed and, with `checkStatus`, the organisation and software statement
 * active in the participant list.
 *
 * @returns the verified claims.
 * @throws {SoftwareStatementError} with a stable `code` naming the first check that failed.
 */
export async function verifySoftwareStatement(ssa: string, options: VerifySoftwareStatementOptions): Promise<SoftwareStatementClaims> {
  const jwks = options.jwksUri ?? joinUrl(options.issuer, '/jwks');
  const jws = decodeSoftwareStatement(ssa, options);
  const keySet = options.keySet ?? sharedKeySet(options, jwks);
  const key = await keySet.getKey(jws.header.kid);
  if (key === undefined) throw unknownKid(jws.header.kid, keySet.jwksUri);
  const now = Math.floor((options.now?.getTime() ?? Date.now()) / 1000);
  const claims = verifyDecodedSoftwareStatement(jws, key, options, now);
  if (options.checkStatus) {
    const list = options.participants ?? sharedParticipantList(options, options.participantsUri ?? joinUrl(options.issuer, '/participants'));
    await list.ensureFresh();
    assertParticipantActive(list.getSync(claims.org_id), claims.org_id, claims.software_id);
  }
  return claims;
}

export type { Participant };
