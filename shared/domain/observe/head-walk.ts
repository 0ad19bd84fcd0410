import type { ObserveSettings } from '../account.ts';
import type { IdCodec, IdList } from '../idset/index.ts';
import { headFirstPageSize, headNextPageSize } from '../observe-plan.ts';
import type { PlatformUser } from '../platform-user.ts';
import {
  type AnchorMeeting,
  anchorMembersMovedUp,
  endsScan,
  HEAD_ANCHOR_GIVE_UP,
  HEAD_ANCHOR_SIZE,
} from './head-anchor.ts';

/**
 * A head scan's walk down the newest followers, pure: which users are new, which known ones are
 * re-follow candidates, when a run of known followers ends the scan, and the overlap read below it.
 * The use case (shared/app/observe/head-scan.ts) reads the pages and feeds them in; this decides.
 */

/** What a walk starts from. */
export interface HeadWalkStart {
  codec: IdCodec;
  /** The snapshot's followers. */
  known: IdList;
  /** Known followers that count as new for the stop rule (committed by the interrupted part, or the feed). */
  foundEarlier: IdList;
  /** The newest followers the last complete head scans saw. */
  anchorIds: readonly string[];
  /** What an interrupted scan carried over. */
  resume?:
    | { metAnchor?: boolean | undefined; refollowCandidates?: readonly string[] | undefined }
    | undefined;
  /** Known followers in a row that end the scan. */
  knownRun: number;
  /** Places read on below the run that ended the scan. */
  overlap: number;
}

/** One page as the walk takes it. */
export interface HeadPage {
  users: readonly PlatformUser[];
  nextCursor?: string | undefined;
}

export class HeadWalk {
  /** New followers found, in the order met. */
  readonly found = new Map<string, PlatformUser>();
  /** Known followers above the anchor: re-follows once the anchor shows up below them (profiles once met). */
  readonly refollowCandidates: Map<string, PlatformUser | undefined>;
  /** Anchor members in the order this scan meets them. */
  readonly anchorMet: AnchorMeeting[] = [];
  /** The newest ids read, as many as an anchor holds. */
  readonly newestSeen: string[] = [];
  /** The anchor: each member's place in it. */
  readonly #anchor: ReadonlyMap<string, number>;
  metAnchor: boolean;
  /** No anchor member in HEAD_ANCHOR_GIVE_UP candidates: its members left; re-follows are no longer guessed. */
  anchorGone = false;
  /** The stop rule (or the list's end) was met; the overlap may still be read. */
  finished = false;
  /** It was a run of known followers that ended the scan, not the list's end. */
  finishedByRun = false;
  /** Places of the overlap still to read. */
  overlapLeft = 0;
  /** The deepest a new follower was listed below known followers (known ones read above it). */
  orderDepth = 0;
  /** Known followers read in the current run. */
  #run = 0;
  /** Anchor positions of the known followers of the current run (their order in the anchor). */
  readonly #runPositions: number[] = [];
  /** Known followers read since the last new one (the run, but not reset by anchor logic). */
  #knownSinceNew = 0;
  /** Known followers read in the overlap (below the run that ended the scan). */
  #overlapKnown = 0;
  readonly #start: HeadWalkStart;

  constructor(start: HeadWalkStart) {
    this.#start = start;
    this.#anchor = new Map(start.anchorIds.map((id, position) => [id, position]));
    this.metAnchor = start.resume?.metAnchor ?? false;
    this.refollowCandidates = new Map((start.resume?.refollowCandidates ?? []).map((id) => [id, undefined]));
  }

  /** Whether the walk wants another page: the stop rule not met yet, or overlap left to read. */
  get wantsMore(): boolean {
    return !this.finished || this.overlapLeft > 0;
  }

  /**
   * Takes one page, user by user. Returns how many of its users were fresh (new or re-follow
   * candidates) and, when the anchor was just given up, how many users had been read by then.
   */
  takePage(page: HeadPage): { fresh: number; anchorGaveUpAfter?: number } {
    const { codec, known, foundEarlier, knownRun } = this.#start;
    // Checks every id of the page before any is used (ValidationError on a malformed one).
    codec.fromStrings(page.users.map((user) => user.id));
    let fresh = 0;
    let anchorGaveUpAfter: number | undefined;
    for (const user of page.users) {
      const id = user.id;
      if (this.newestSeen.length < HEAD_ANCHOR_SIZE) this.newestSeen.push(id);
      const earlier = codec.has(foundEarlier, id);
      const isNew = !codec.has(known, id) || earlier;
      if (this.finished) {
        // The overlap below the block that ended the scan: only new followers count here.
        if (this.overlapLeft <= 0) break;
        this.#takeOverlapUser(user, isNew, earlier);
        continue;
      }
      if (isNew) {
        if (this.#knownSinceNew > 0 && !earlier && !this.found.has(id)) {
          this.orderDepth = Math.max(this.orderDepth, this.#knownSinceNew);
        }
        this.#knownSinceNew = 0;
        this.#restartRun();
        fresh += 1;
        if (!earlier && !this.found.has(id)) this.found.set(id, user);
        continue;
      }
      const position = this.#anchor.get(id);
      if (position !== undefined) {
        this.metAnchor = true;
        this.anchorMet.push({ user, position, candidatesBefore: this.refollowCandidates.size });
      } else if (this.#anchor.size > 0 && !this.anchorGone) {
        this.refollowCandidates.set(id, user);
        fresh += 1;
        this.#knownSinceNew = 0;
        this.#restartRun();
        if (!this.metAnchor && this.refollowCandidates.size >= HEAD_ANCHOR_GIVE_UP) {
          // No anchor member in all these: its members left, this is no wave. Stop guessing.
          this.anchorGone = true;
          this.refollowCandidates.clear();
          anchorGaveUpAfter = this.newestSeen.length;
        }
        continue;
      }
      this.#knownSinceNew += 1;
      this.#run += 1;
      this.#runPositions.push(position ?? this.#run);
      if (endsScan(this.#run, this.#runPositions, knownRun)) {
        this.finished = true;
        this.finishedByRun = true;
        this.overlapLeft = this.#start.overlap;
      }
    }
    if (page.nextCursor === undefined) {
      this.finished = true;
      this.overlapLeft = 0;
    }
    return anchorGaveUpAfter === undefined ? { fresh } : { fresh, anchorGaveUpAfter };
  }

  /** A user of the overlap below the block that ended the scan. */
  #takeOverlapUser(user: PlatformUser, isNew: boolean, earlier: boolean): void {
    this.overlapLeft -= 1;
    if (isNew && !earlier && !this.found.has(user.id)) {
      this.found.set(user.id, user);
      // Listed below `depth` known ones: read on as deep again (others may sit as far below).
      const depth = this.#start.knownRun + this.#overlapKnown;
      this.orderDepth = Math.max(this.orderDepth, depth);
      this.overlapLeft = Math.max(this.overlapLeft, this.#start.overlap, depth);
    } else if (!isNew) this.#overlapKnown += 1;
  }

  #restartRun(): void {
    this.#run = 0;
    this.#runPositions.length = 0;
  }

  /**
   * The first page: a little under the new followers expected, and, when few are, the run and the
   * overlap below them too: one request for a quiet account.
   */
  firstPageSize(expected: number, settings: ObserveSettings, maxPage: number): number {
    const quiet = expected < settings.headScanKnownRun;
    return Math.min(
      maxPage,
      headFirstPageSize(expected, settings, maxPage) + (quiet ? this.#start.overlap : 0),
    );
  }

  /** The page after `lastPage` (with `fresh` fresh users): the overlap left, or what the scan still expects. */
  nextPageSize(
    lastPage: { size: number; fresh: number },
    expected: number,
    settings: ObserveSettings,
    maxPage: number,
  ): number {
    if (this.finished) return Math.min(maxPage, Math.max(1, this.overlapLeft));
    return headNextPageSize(
      {
        // Re-follow candidates are fresh too: a wave of them grows the pages like a burst.
        found: this.found.size + this.refollowCandidates.size,
        expected,
        run: this.#run,
        lastPage,
        overlap: this.#start.overlap,
      },
      settings,
      maxPage,
    );
  }

  /**
   * The re-follows this walk confirmed, ids and the profiles it read. Candidates are re-follows once
   * the anchor showed up below them (with the anchor members that moved up); a list that ended
   * without any anchor member says the anchor is gone, not that everyone re-followed. Call once, at
   * the end of the walk.
   */
  confirmRefollows(): { ids: string[]; profiles: PlatformUser[] } {
    if (this.finished && this.metAnchor) {
      const finalRun = this.finishedByRun ? this.#start.knownRun : 0;
      for (const user of anchorMembersMovedUp(this.anchorMet, this.refollowCandidates.size, finalRun)) {
        this.refollowCandidates.set(user.id, user);
      }
    }
    const ids =
      this.finished && this.metAnchor && this.#anchor.size > 0 ? [...this.refollowCandidates.keys()] : [];
    const profiles = ids.flatMap((id) => {
      const profile = this.refollowCandidates.get(id);
      return profile === undefined ? [] : [profile];
    });
    return { ids, profiles };
  }
}
