import { SoftwareStatementError } from './errors.js';
import type { FetchOptions } from './http.js';
import { DirectoryKeySet } from './jwks.js';
import { assertParticipantActive, ParticipantList } from './participants.js';
import { registrationView } from './ssa-profiles.js';
import { decodeSoftwareStatement, joinUrl, unknownKid, verifyDecodedSoftwareStatement, type SoftwareStatementPolicy } from './ssa.js';
import type { SoftwareStatementClaims } from './ssa-claims.js';

export interface SoftwareStatementVerifierOptions extends SoftwareStatementPolicy, FetchOptions {
  /** The directory JWKS. Default `{issuer}/jwks`. */
  jwksUri?: string;
  /** The participant list. Default `{issuer}/participants`. */
  participantsUri?: string;
  /**
   * Require the organisation and software statement to be active in the participant list. Default true; only `false`
   * turns it off (fail closed: the AS checks the participant list, DESIGN §5).
   */
  checkStatus?: boolean;
  /** Milliseconds between background refreshes of the key set and participant list. Default 60 000. */
  refreshInterval?: number;
  /**
   * Refuse to decide on status with a participant list older than this many milliseconds (the directory unreachable
   * for that long): a suspension must not be ignored indefinitely. Default 600 000.
   */
  participantsCacheMaxAge?: number;
  /**
   * Milliseconds between the refetches `verifySync` schedules on its own (jose's `cooldownDuration`): of the JWKS on an
   * unknown `kid`, and of the participant list on an organisation or software statement it does not list.
   * Default 30 000.
   */
  cooldownDuration?: number;
  /** Milliseconds since the epoch; tests set it instead of sleeping. */
  clock?: () => number;
  /** Use this key set (and its cache) instead of building one from `jwksUri`. */
  keySet?: DirectoryKeySet;
  /** Called when a background refresh fails (the previous documents stay in use). Default: ignore. */
  onRefreshError?: (error: unknown) => void;
}

/**
 * A software statement verifier whose `verifySync` does no I/O: it checks over the key set and participant list that
 * `refresh()` loaded, which a background timer keeps current. It exists for hooks that cannot await, such as
 * oidc-provider's `extraClientMetadata.validator`.
 *
 * Staleness is bounded by `refreshInterval`: a suspension reaches `verifySync` at the next refresh, a key rotation at
 * the next refresh or on the first SSA carrying the new `kid` (which schedules a refetch and is refused; a retry
 * succeeds). Likewise a participant onboarded since the last refresh: its first SSA is refused with
 * ERR_PARTICIPANT_UNKNOWN (or ERR_SOFTWARE_UNKNOWN for new software), which schedules a participant-list refetch, and a
 * retry succeeds. Only directory-signed SSAs get that far, and the refetches are rate-limited (`cooldownDuration`).
 */
export class SoftwareStatementVerifier {
  readonly #options: SoftwareStatementVerifierOptions;
  readonly #keySet: DirectoryKeySet;
  readonly #participants: ParticipantList | undefined;
  readonly #clock: () => number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #participantsRefetchedAt = Number.NEGATIVE_INFINITY;

  constructor(options: SoftwareStatementVerifierOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    const fetchOptions: FetchOptions = {
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      ...(options.timeoutDuration !== undefined ? { timeoutDuration: options.timeoutDuration } : {}),
    };
    this.#keySet = options.keySet ?? new DirectoryKeySet({
      ...fetchOptions,
      jwksUri: options.jwksUri ?? joinUrl(options.issuer, '/jwks'),
      clock: this.#clock,
      ...(options.cooldownDuration !== undefined ? { cooldownDuration: options.cooldownDuration } : {}),
    });
    this.#participants = options.checkStatus === false
      ? undefined
      : new ParticipantList({
        ...fetchOptions,
        participantsUri: options.participantsUri ?? joinUrl(options.issuer, '/participants'),
        clock: this.#clock,
        cacheMaxAge: options.participantsCacheMaxAge ?? 600_000,
      });
  }

  /** True once the key set (and, unless `checkStatus: false`, the participant list) has loaded. */
  get ready(): boolean {
    return this.#keySet.loaded && (this.#participants?.loaded ?? true);
  }

  /**
   * Loads the directory JWKS and, unless `checkStatus: false`, the participant list; then keeps them current on an unref'd timer
   * (it never holds the process open). Rejects with ERR_JWKS_FETCH / ERR_PARTICIPANTS_FETCH.
   */
  async refresh(): Promise<void> {
    await Promise.all([this.#keySet.refresh(), this.#participants?.refresh()]);
    this.#startTimer();
  }

  /**
   * Verifies an SSA with the verifier's own caches, fetching what it lacks: the key set when a `kid` is unknown (at most
   * once per `cooldownDuration`) and the participant list when it is older than `participantsCacheMaxAge`. Same checks
   * and error codes as `verifySoftwareStatement`.
   *
   * @throws {SoftwareStatementError}
   */
  async verify(ssa: string): Promise<SoftwareStatementClaims> {
    const jws = decodeSoftwareStatement(ssa, this.#options);
    const key = await this.#keySet.getKey(jws.header.kid);
    if (key === undefined) throw unknownKid(jws.header.kid, this.#keySet.jwksUri);
    const claims = verifyDecodedSoftwareStatement(jws, key, this.#options, Math.floor(this.#clock() / 1000));
    if (this.#participants !== undefined) {
      await this.#participants.ensureFresh();
      { const { orgId, softwareId } = registrationView(claims); assertParticipantActive(this.#participants.getSync(orgId), orgId, softwareId); }
    }
    return claims;
  }

  /**
   * Verifies an SSA synchronously, with the same checks and error codes as `verifySoftwareStatement`.
   * An unknown `kid` schedules a JWKS refetch (rate-limited) and throws ERR_SSA_UNKNOWN_KID; an organisation or software
   * statement missing from the participant list schedules a list refetch (rate-limited) and throws
   * ERR_PARTICIPANT_UNKNOWN / ERR_SOFTWARE_UNKNOWN. Either way a retry once the refetch completed can succeed.
   *
   * @throws {SoftwareStatementError}
   */
  verifySync(ssa: string): SoftwareStatementClaims {
    if (!this.ready) {
      throw new SoftwareStatementError('ERR_VERIFIER_NOT_READY', 'SoftwareStatementVerifier.refresh() has not completed');
    }
    const jws = decodeSoftwareStatement(ssa, this.#options);
    const key = this.#keySet.getKeySync(jws.header.kid);
    if (key === undefined) {
      if (this.#keySet.mayRefresh && !this.#closed) {
        this.#keySet.refresh().catch((error: unknown) => this.#options.onRefreshError?.(error));
      }
      throw unknownKid(jws.header.kid, this.#keySet.jwksUri);
    }
    const claims = verifyDecodedSoftwareStatement(jws, key, this.#options, Math.floor(this.#clock() / 1000));
    if (this.#participants !== undefined) {
      if (!this.#participants.fresh) {
        throw new SoftwareStatementError('ERR_PARTICIPANTS_FETCH', `the participant list has not been refreshed for more than ${this.#options.participantsCacheMaxAge ?? 600_000} ms; status cannot be checked`);
      }
      try {
        { const { orgId, softwareId } = registrationView(claims); assertParticipantActive(this.#participants.getSync(orgId), orgId, softwareId); }
      } catch (error) {
        if (error instanceof SoftwareStatementError && (error.code === 'ERR_PARTICIPANT_UNKNOWN' || error.code === 'ERR_SOFTWARE_UNKNOWN')) {
          this.#refetchParticipants(this.#participants);
        }
        throw error;
      }
    }
    return claims;
  }

  /** A participant list refetch for an organisation or software statement onboarded since the last load. */
  #refetchParticipants(list: ParticipantList): void {
    const now = this.#clock();
    if (this.#closed || now - this.#participantsRefetchedAt < (this.#options.cooldownDuration ?? 30_000)) return;
    this.#participantsRefetchedAt = now;
    list.refresh().catch((error: unknown) => this.#options.onRefreshError?.(error));
  }

  /** Stops the background refresh. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #startTimer(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => {
      Promise.all([this.#keySet.refresh(), this.#participants?.refresh()])
        .catch((error: unknown) => this.#options.onRefreshError?.(error));
    }, this.#options.refreshInterval ?? 60_000);
    this.#timer.unref();
  }
}
