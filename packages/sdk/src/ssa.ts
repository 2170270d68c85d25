import { SoftwareStatementError } from './errors.js';
import type { FetchOptions } from './http.js';
import { DirectoryKeySet, type DirectoryKey } from './jwks.js';
import { assertAllowedAlgorithm, decodeCompactJws, verifyJwsSignature, SSA_ALGORITHMS, type DecodedJws, type SsaAlgorithm } from './jws.js';
import { assertParticipantActive, ParticipantList, type Participant } from './participants.js';
import { assertClaimShapes, assertClaimTimes, type SoftwareStatementClaims } from './ssa-claims.js';
import { assertProfileClaimShapes, registrationView, type SsaProfile } from './ssa-profiles.js';

/** Checks every verifier applies, whatever the transport. Durations in seconds, named as jose's `jwtVerify` options. */
export interface SoftwareStatementPolicy {
  /** The directory issuer URL; the SSA's `iss` must equal it exactly (RFC 7519 §4.1.1, no normalisation). */
  issuer: string;
  /** JWS algorithms accepted. Default and upper bound: PS256, ES256. */
  algorithms?: SsaAlgorithm[];
  /** Refuse SSAs whose `iat` is older than this many seconds. Default 600 (the directory's SSA lifetime). */
  maxTokenAge?: number;
  /** Tolerated clock difference for `iat`, `nbf` and `exp`, in seconds. Default 15. */
  clockTolerance?: number;
  /**
   * The claim set to expect: the directory's own (`native`, default) or an ecosystem profile it serves (`obbr`, `uk`,
   * `cdr`). Profile claims are returned under the profile's own names.
   */
  profile?: SsaProfile;
}

export interface VerifySoftwareStatementOptions extends SoftwareStatementPolicy, FetchOptions {
  /** The directory JWKS. Default `{issuer}/jwks`. */
  jwksUri?: string;
  /** The participant list. Default `{issuer}/participants`. */
  participantsUri?: string;
  /**
   * Require the organisation and the software statement to be active in the participant list now (DESIGN §5: a
   * suspension bites before the SSA expires). Default true; only `false` turns it off.
   */
  checkStatus?: boolean;
  /** Milliseconds between JWKS refetches on unknown `kid`s (jose's `cooldownDuration`). Default 30 000. */
  cooldownDuration?: number;
  /** Revalidate the participant list when older than this many milliseconds. Default 60 000. */
  participantsCacheMaxAge?: number;
  /** Verification time (jose's `currentDate`). Default: now. */
  currentDate?: Date;
  /**
   * The key set to look the `kid` up in. Without one, each call fetches the JWKS: keep a `DirectoryKeySet` (or a
   * `SoftwareStatementVerifier`) per directory to cache it, as jose's `createRemoteJWKSet`.
   */
  keySet?: DirectoryKeySet;
  /** The participant list to check status in. Without one, each call fetches it (a `ParticipantList` caches). */
  participants?: ParticipantList;
}

const DEFAULT_MAX_TOKEN_AGE = 600;
const DEFAULT_CLOCK_TOLERANCE = 15;

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
  const profile = policy.profile ?? 'native';
  if (profile === 'native') assertClaimShapes(claims);
  else assertProfileClaimShapes(claims, profile);
  if (claims.iss !== policy.issuer) {
    throw new SoftwareStatementError('ERR_SSA_ISSUER', `"iss" is ${JSON.stringify(claims.iss)}, expected ${JSON.stringify(policy.issuer)}`, { claim: 'iss' });
  }
  assertClaimTimes(claims as SoftwareStatementClaims, {
    now: nowSeconds,
    maxTokenAge: policy.maxTokenAge ?? DEFAULT_MAX_TOKEN_AGE,
    clockTolerance: policy.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE,
  });
  // The directory only signs SSAs for active organisations; anything else in the claim is refused outright.
  if (!registrationView(claims).orgActive) {
    throw new SoftwareStatementError('ERR_PARTICIPANT_INACTIVE', `the SSA states organisation ${String(claims.org_id)} is ${String(claims.org_status)}`, { claim: 'org_status' });
  }
  return claims as SoftwareStatementClaims;
}

export function unknownKid(kid: string, jwksUri: string): SoftwareStatementError {
  return new SoftwareStatementError('ERR_SSA_UNKNOWN_KID', `no key "${kid}" in the directory JWKS ${jwksUri}`);
}

function fetchOptions(options: FetchOptions): FetchOptions {
  return {
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...(options.timeoutDuration !== undefined ? { timeoutDuration: options.timeoutDuration } : {}),
  };
}

/**
 * Verifies a directory-signed software statement assertion as an authorisation server does before dynamic client
 * registration (RFC 7591 §2.3, §3.1.1): signature against the directory JWKS, PS256/ES256 only, `iss`, `iat`/`exp`
 * bounds, every claim of the SSA profile well-typed and — unless `checkStatus: false` — the organisation and software
 * statement active in the participant list.
 *
 * @returns the verified claims.
 * @throws {SoftwareStatementError} with a stable `code` naming the first check that failed.
 */
export async function verifySoftwareStatement(ssa: string, options: VerifySoftwareStatementOptions): Promise<SoftwareStatementClaims> {
  const jws = decodeSoftwareStatement(ssa, options);
  const keySet = options.keySet ?? new DirectoryKeySet({
    ...fetchOptions(options),
    jwksUri: options.jwksUri ?? joinUrl(options.issuer, '/jwks'),
    ...(options.cooldownDuration !== undefined ? { cooldownDuration: options.cooldownDuration } : {}),
  });
  const key = await keySet.getKey(jws.header.kid);
  if (key === undefined) throw unknownKid(jws.header.kid, keySet.jwksUri);
  const now = Math.floor((options.currentDate?.getTime() ?? Date.now()) / 1000);
  const claims = verifyDecodedSoftwareStatement(jws, key, options, now);
  if (options.checkStatus !== false) {
    const list = options.participants ?? new ParticipantList({
      ...fetchOptions(options),
      participantsUri: options.participantsUri ?? joinUrl(options.issuer, '/participants'),
      ...(options.participantsCacheMaxAge !== undefined ? { cacheMaxAge: options.participantsCacheMaxAge } : {}),
    });
    await list.ensureFresh();
    // Each profile names the organisation and software as the participant list does, or maps to it.
    const { orgId, softwareId } = registrationView(claims);
    assertParticipantActive(list.getSync(orgId), orgId, softwareId);
  }
  return claims;
}

export type { Participant };
