import { SoftwareStatementError } from './errors.js';
import type { Participant } from './contract.js';
import { fetchDocument, headerValue, type FetchOptions } from './http.js';

export type {
  OrganisationStatus, SoftwareStatementStatus, ParticipantRole, ParticipantApiResource, ParticipantAuthorisationServer,
  ParticipantSoftwareStatement, Participant,
} from './contract.js';

export interface ParticipantListOptions extends FetchOptions {
  /** `{issuer}/participants`. */
  participantsUri: string;
  /**
   * Revalidate the list (a conditional GET, usually a 304) when it is older than this many milliseconds (as jose's
   * `cacheMaxAge`). Suspension must bite quickly (DESIGN §5), so keep it short. Default 60 000.
   */
  cacheMaxAge?: number;
  clock?: () => number;
}

/**
 * The directory's participant list, cached and revalidated with `If-None-Match` (RFC 9110 §13.1.2) so a poll costs
 * a 304 when nothing changed.
 */
export class ParticipantList {
  readonly participantsUri: string;
  readonly #options: ParticipantListOptions;
  readonly #clock: () => number;
  readonly #cacheMaxAge: number;
  #byOrgId: Map<string, Participant> | undefined;
  #etag: string | undefined;
  #loadedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;

  constructor(options: ParticipantListOptions) {
    this.participantsUri = options.participantsUri;
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#cacheMaxAge = options.cacheMaxAge ?? 60_000;
  }

  get loaded(): boolean {
    return this.#byOrgId !== undefined;
  }

  get fresh(): boolean {
    return this.#clock() - this.#loadedAt < this.#cacheMaxAge;
  }

  /** Revalidates now; throws ERR_PARTICIPANTS_FETCH (keeping the previous list) on failure. */
  refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /** Loads the list if it is absent or older than `cacheMaxAge`. Status is security-relevant: no stale-if-error here. */
  async ensureFresh(): Promise<void> {
    if (!this.loaded || !this.fresh) await this.refresh();
  }

  getSync(orgId: string): Participant | undefined {
    return this.#byOrgId?.get(orgId);
  }

  async #fetch(): Promise<void> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#etag !== undefined && this.#byOrgId !== undefined) headers['if-none-match'] = this.#etag;
    let response;
    try {
      response = await fetchDocument(this.participantsUri, { ...this.#options, headers });
    } catch (cause) {
      throw new SoftwareStatementError('ERR_PARTICIPANTS_FETCH', `participant list ${this.participantsUri} could not be loaded: ${(cause as Error).message}`, { cause });
    }
    if (response.status === 304 && this.#byOrgId !== undefined) {
      this.#loadedAt = this.#clock();
      return;
    }
    if (response.status !== 200) {
      throw new SoftwareStatementError('ERR_PARTICIPANTS_FETCH', `participant list ${this.participantsUri} answered HTTP ${response.status}`);
    }
    let list: unknown;
    try {
      list = JSON.parse(response.body.toString('utf8'));
    } catch (cause) {
      throw new SoftwareStatementError('ERR_PARTICIPANTS_FETCH', `participant list ${this.participantsUri} is not JSON`, { cause });
    }
    if (!Array.isArray(list)) {
      throw new SoftwareStatementError('ERR_PARTICIPANTS_FETCH', `participant list ${this.participantsUri} is not a JSON array`);
    }
    const byOrgId = new Map<string, Participant>();
    for (const entry of list as Participant[]) {
      if (typeof entry?.org_id === 'string') byOrgId.set(entry.org_id, entry);
    }
    this.#byOrgId = byOrgId;
    this.#etag = headerValue(response.headers, 'etag');
    this.#loadedAt = this.#clock();
  }
}

/**
 * The organisation and the software statement named by an SSA must both be active *now* (DESIGN §5: a suspension
 * takes effect at once, not when the SSA expires).
 */
export function assertParticipantActive(participant: Participant | undefined, orgId: string, softwareId: string): void {
  if (participant === undefined) {
    throw new SoftwareStatementError('ERR_PARTICIPANT_UNKNOWN', `organisation ${orgId} is not in the participant list`, { claim: 'org_id' });
  }
  if (participant.status !== 'active') {
    throw new SoftwareStatementError('ERR_PARTICIPANT_INACTIVE', `organisation ${orgId} is ${participant.status}`, { claim: 'org_id' });
  }
  const software = Array.isArray(participant.software_statements)
    ? participant.software_statements.find((s) => s.software_id === softwareId)
    : undefined;
  if (software === undefined) {
    throw new SoftwareStatementError('ERR_SOFTWARE_UNKNOWN', `software statement ${softwareId} is not listed under organisation ${orgId}`, { claim: 'software_id' });
  }
  if (software.status !== 'active') {
    throw new SoftwareStatementError('ERR_SOFTWARE_INACTIVE', `software statement ${softwareId} is ${software.status}`, { claim: 'software_id' });
  }
}
