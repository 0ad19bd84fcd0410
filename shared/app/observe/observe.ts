import type { AccountRecord, GraphKind } from '../../domain/account.ts';
import type {
  AccountState,
  FullScanCheckpoint,
  GraphPointer,
  ObserveState,
  ReadCap,
} from '../../domain/account-state.ts';
import {
  BudgetExhaustedError,
  CursorRejectedError,
  MalformedResponseError,
  RateLimitedError,
  TransientPlatformError,
} from '../../domain/errors.ts';
import { chunkBytes, type IdCodec, idCodecFor } from '../../domain/idset/index.ts';
import {
  ANCHOR_ORDER_SLACK,
  type AnchorMeeting,
  anchorMembersMovedUp,
  endsScan,
  HEAD_ANCHOR_SIZE,
  leadingReadToday,
  mergeAnchor,
} from '../../domain/observe/head-anchor.ts';
import {
  dayKey,
  FULL_SCAN_CHECK_INTERVAL_MS,
  fullScanAffordable,
  headFirstPageSize,
  headNextPageSize,
  headScanInterval,
  MIN_HEAD_SCAN_INTERVAL_MS,
  nextHeadOverlap,
  readRefusal,
  readToday,
  recordSpend,
  rollSpend,
  updateGrowth,
  withOwnerSample,
} from '../../domain/observe-plan.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { GraphPage, Platform, PlatformUser } from '../../ports/platform.ts';
import type { Changeset, GraphStore } from '../../ports/store.ts';
import type { StateCell } from '../state-cell.ts';
import { feedScanned, foundByFeedSince, readFollowFeed } from './feed.ts';
import { addedSince, changesetBytes, loadGraph } from './graph-repo.ts';

export interface ObserveDeps {
  platform: Platform;
  store: GraphStore;
  clock: Clock;
  logger: Logger;
  /** Unique ids for scans; injectable so simulations are repeatable. */
  newId: () => string;
}

export interface ObserveOptions {
  /** Wall-clock milliseconds this invocation may still spend (a Lambda's remaining time, less a margin). */
  timeLeftMs: () => number;
  /** Scan the head now even if its turn has not come (e.g. a person asked). */
  forceHeadScan?: boolean;
}

export type StopReason = 'rate_limited' | 'budget' | 'deadline' | 'platform_error' | 'cursor_refused';

export interface ObserveReport {
  requests: number;
  /** Users the platform returned. */
  usersRead: number;
  /** Of those, users billed as far as observe can tell (X: once per app and UTC day). */
  usersBilled: number;
  newFollowers: string[];
  lostFollowers: string[];
  ownerFollowed: string[];
  ownerUnfollowed: string[];
  /** Changesets committed by this run. */
  committed: number[];
  headScan: 'done' | 'partial' | 'not_due' | 'skipped';
  fullScan?: { kind: GraphKind; state: 'started' | 'progressed' | 'finished'; pages: number } | undefined;
  stopped?:
    | { reason: StopReason; message: string; until?: number | undefined; cap?: ReadCap | undefined }
    | undefined;
}

/** Pages of a full scan that are read with the largest page size the platform allows. */
const MIN_TIME_FOR_A_REQUEST_MS = 2_000;
/** Followers read at connection when a full scan is not affordable: enough to recognise the head later. */
const BASELINE_PAGE_SIZE = 100;
/** Once a list's changesets outweigh this share of its base, the next full scan writes a new base. */
const REBASE_RATIO = 0.25;
/** Changesets a base may carry before a head scan writes a new one (~weekly at 6 h). */
const REBASE_AFTER_CHANGESETS = 30;
/** A base older than this is rewritten while the changesets on top are far from expiring (120 days). */
const REBASE_AFTER_MS = 30 * 24 * 3_600_000;
/**
 * Known followers above the anchor, with no anchor member met, after which the anchor is taken as
 * gone (its members all left) rather than as the start of a re-follow wave of that size.
 */
const HEAD_ANCHOR_GIVE_UP = 2_000;
/**
 * Places a head scan reads below the known block before it has measured the list's order: the
 * slack an anchor member is allowed (X's order is "not a contract"); it decays within days when the
 * order proves better, and grows when it proves worse.
 */
const INITIAL_HEAD_OVERLAP = ANCHOR_ORDER_SLACK;
/**
 * Followers gone by the counts (not yet named) before a full scan is worth its price: a share of the
 * list, at least a few. The digest reports how many left from the counts in any case.
 */
const FULL_SCAN_LEAVER_SHARE = 0.05;
const FULL_SCAN_MIN_LEAVERS = 10;
/** Share of the month's read budget under which a full scan runs on schedule, counts or not. */
const CHEAP_FULL_SCAN_SHARE = 0.1;
/** Re-follow candidates an interrupted head scan carries over to its resumption (state item size). */
const MAX_CARRIED_CANDIDATES = 1_000;
/** Failed reads of one cursor after which a scan drops the cursor and starts again from the top. */
const MAX_CURSOR_FAILURES = 3;
/** Times a full scan starts over before it is dropped until its next turn. */
const MAX_FULL_SCAN_RESTARTS = 3;
/** After connection, while growth is unknown, head scans run hourly for this long. */
const WARM_UP_MS = 24 * 3_600_000;
const WARM_UP_INTERVAL_MS = 3_600_000;

class Stop extends Error {
  constructor(
    readonly reason: StopReason,
    message: string,
    readonly until?: number,
    readonly cap?: ReadCap,
  ) {
    super(message);
  }
}

/**
 * Observe one account: read what changed on the platform, store compact snapshots and changesets.
 * Every page read is checkpointed, every failure stops cleanly with the checkpoint kept, and the
 * next tick continues where this one stopped.
 */
export async function observe(
  account: AccountRecord,
  cell: StateCell,
  deps: ObserveDeps,
  options: ObserveOptions,
): Promise<ObserveReport> {
  const run = new ObserveRun(account, cell, deps, options);
  return run.execute();
}

class ObserveRun {
  readonly report: ObserveReport = {
    requests: 0,
    usersRead: 0,
    usersBilled: 0,
    newFollowers: [],
    lostFollowers: [],
    ownerFollowed: [],
    ownerUnfollowed: [],
    committed: [],
    headScan: 'not_due',
  };
  readonly #log: Logger;
  /** How this network's ids are parsed, compared, diffed and stored (numeric on X, strings elsewhere). */
  readonly #ids: IdCodec;
  /** Users X has billed today (the anchor's members read today), then every user this run read. */
  readonly #billedToday: Set<string>;

  constructor(
    readonly account: AccountRecord,
    readonly cell: StateCell,
    readonly deps: ObserveDeps,
    readonly options: ObserveOptions,
  ) {
    this.#log = deps.logger.child({
      clientId: account.clientId,
      accountId: account.accountId,
      useCase: 'observe',
    });
    // This version writes a removal mark with every changeset that removes followers: from now on
    // act's "still follows" check may trust them (kept with the run's first commit).
    this.#working =
      cell.state.observe.removalMarksSince === undefined
        ? { ...cell.state.observe, removalMarksSince: deps.clock.now() }
        : cell.state.observe;
    this.#ids = idCodecFor(account.network);
    this.#billedToday = new Set(readToday(cell.state.observe, deps.clock.now()));
  }

  /** The observe state as this run sees it: what was committed plus spend not yet written. */
  #working: ObserveState;

  get obs(): ObserveState {
    return this.#working;
  }

  async execute(): Promise<ObserveReport> {
    const now = this.deps.clock.now();
    if (this.obs.readBlockedUntil !== undefined && this.obs.readBlockedUntil > now) {
      this.report.headScan = 'skipped';
      this.report.stopped = {
        reason: 'rate_limited',
        message: 'reads blocked',
        until: this.obs.readBlockedUntil,
      };
      return this.report;
    }
    const paused = this.obs.readsPaused;
    if (paused !== undefined && paused.until > now) {
      this.report.headScan = 'skipped';
      this.report.stopped = {
        reason: 'budget',
        message:
          paused.cap === 'readRequestsPerDay'
            ? `read requests per day spent (${this.account.observe.readRequestsPerDay} a day)`
            : `read budget spent ($${this.account.observe.readBudgetUsdPerMonth.toFixed(2)} a month)`,
        until: paused.until,
        cap: paused.cap,
      };
      return this.report;
    }
    // Kept for the run's first commit: a commit of its own would rewrite the state item on every tick
    // (DynamoDB bills each write by the item's size) to say what the next tick works out again.
    this.#setObserve({
      ...this.obs,
      spend: rollSpend(this.obs.spend, now),
      readBlockedUntil: undefined,
      readsPaused: undefined,
    });
    try {
      // The owner's counts: one user read a UTC day (X bills it once a day however often it is read).
      if (this.obs.owner === undefined || dayKey(this.obs.owner.at) !== dayKey(now))
        await this.#refreshOwner();
      if (this.obs.graphs.followers.baseSeq === 0 && this.obs.fullScan === undefined) {
        await this.#baseline();
      }
      // The change feed first, where the network has one: new followers within a tick, one request.
      await this.#readFeed(now);
      // New followers first: a full scan in progress (slow, or stuck on a bad cursor) never starves
      // the head scan.
      const headDue =
        this.options.forceHeadScan ||
        this.obs.headResume !== undefined ||
        this.obs.nextHeadScanAt === undefined ||
        this.obs.nextHeadScanAt <= now;
      const headScanIfDue = async () => {
        if (headDue && this.obs.graphs.followers.baseSeq > 0 && this.report.headScan === 'not_due') {
          await this.#headScan();
        }
      };
      await headScanIfDue();
      if (this.obs.fullScan !== undefined) {
        await this.#continueFullScan();
      }
      // The baseline's full scan may just have finished: the first head scan follows it at once.
      await headScanIfDue();
      if (this.obs.fullScan === undefined && (this.obs.nextFullScanCheckAt ?? 0) <= now) {
        const kind = this.#fullScanToStart();
        this.#setObserve({ ...this.obs, nextFullScanCheckAt: now + FULL_SCAN_CHECK_INTERVAL_MS });
        if (kind !== undefined) {
          // A followers scan starts right after a head scan, so whoever is in the list but not in the
          // snapshot when it ends was not there before the scan began.
          if (kind === 'followers' && this.report.headScan === 'not_due') await this.#headScan();
          await this.#startFullScan(kind);
          await this.#continueFullScan();
        }
      }
      // A baseline just taken: the feed's first look sets its mark now, not a tick later.
      if (this.obs.feed === undefined) await this.#readFeed(now);
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
      this.report.stopped = {
        reason: error.reason,
        message: error.message,
        until: error.until,
        cap: error.cap,
      };
      this.#log.warn('observe stopped', { reason: error.reason, cap: error.cap, detail: error.message });
      const blockedUntil = error.reason === 'rate_limited' ? error.until : this.obs.readBlockedUntil;
      const readsPaused =
        error.reason === 'budget' && error.until !== undefined && error.cap !== undefined
          ? { until: error.until, cap: error.cap }
          : this.obs.readsPaused;
      this.#setObserve({ ...this.obs, readBlockedUntil: blockedUntil, readsPaused });
    }
    if (this.obs !== this.cell.state.observe && !sameState(this.obs, this.cell.state.observe))
      await this.#saveObserve(this.obs);
    return this.report;
  }

  // ---- reading -------------------------------------------------------------------------------

  /** One list request, with the budget, the time left and the platform's answer all accounted for. */
  async #read(kind: GraphKind, cursor: string | undefined, pageSize: number): Promise<GraphPage> {
    const refusal = readRefusal(this.obs.spend, pageSize, this.account.observe, this.deps.clock.now());
    if (refusal !== undefined) throw new Stop('budget', refusal.message, refusal.until, refusal.cap);
    if (this.options.timeLeftMs() < MIN_TIME_FOR_A_REQUEST_MS)
      throw new Stop('deadline', 'time budget spent');
    const userId = this.account.platformUserId;
    let page: GraphPage;
    try {
      page =
        kind === 'followers'
          ? await this.deps.platform.listFollowers(userId, { cursor, pageSize })
          : await this.deps.platform.listFollowing(userId, { cursor, pageSize });
    } catch (error) {
      throw this.#stopFor(error);
    }
    const billed = this.#bill(page.users.map((user) => user.id));
    this.report.requests += 1;
    this.report.usersRead += page.users.length;
    const observe = {
      ...this.obs,
      spend: recordSpend(this.obs.spend, page.users.length, this.account.observe, billed),
    };
    // Do not spend the window to the last request: wait for its reset instead of meeting a 429.
    if (page.rateLimit && page.rateLimit.remaining <= 0) observe.readBlockedUntil = page.rateLimit.resetAt;
    // The day's last allowed request: reads pause until the next UTC day now, so that no tick is
    // woken before then only to find the cap spent.
    const spent = readRefusal(observe.spend, 0, this.account.observe, this.deps.clock.now());
    if (spent?.cap === 'readRequestsPerDay') observe.readsPaused = { until: spent.until, cap: spent.cap };
    this.#setObserve(observe);
    return page;
  }

  /** How many of these users X bills: those not yet returned to this app today, as far as known. */
  #bill(ids: readonly string[]): number {
    let billed = 0;
    for (const id of ids) {
      if (this.#billedToday.has(id)) continue;
      this.#billedToday.add(id);
      billed += 1;
    }
    this.report.usersBilled += billed;
    return billed;
  }

  /** One look at the network's change feed (shared/app/observe/feed.ts); the scans stay as they are. */
  async #readFeed(now: number): Promise<void> {
    const look = await readFollowFeed(this.account, this.cell.ref, this.obs, this.deps, now);
    if (look === undefined) return;
    this.report.requests += look.requests;
    this.report.usersRead += look.usersRead;
    if (look.changeset) {
      await this.#putChangeset(look.changeset);
      this.report.committed.push(look.changeset.seq);
      this.report.newFollowers.push(...look.newFollowers);
      await this.#saveObserve(look.observe);
    } else {
      // Nothing new: the mark and the spend go with the run's last commit.
      this.#setObserve(look.observe);
    }
    if (look.stop !== undefined) throw this.#stopFor(look.stop);
  }

  #stopFor(error: unknown): Stop | unknown {
    if (error instanceof RateLimitedError) return new Stop('rate_limited', error.message, error.resetAt);
    if (error instanceof CursorRejectedError) return new Stop('cursor_refused', error.message);
    if (error instanceof TransientPlatformError || error instanceof MalformedResponseError) {
      return new Stop('platform_error', `${error.name}: ${error.message}`);
    }
    if (error instanceof BudgetExhaustedError) return new Stop('budget', error.message);
    return error;
  }

  #assertNotBlocked(): void {
    const until = this.obs.readBlockedUntil;
    if (until !== undefined && until > this.deps.clock.now()) {
      throw new Stop('rate_limited', 'rate window spent', until);
    }
  }

  async #refreshOwner(): Promise<void> {
    let me: PlatformUser;
    try {
      me = await this.deps.platform.me();
    } catch (error) {
      throw this.#stopFor(error);
    }
    this.report.requests += 1;
    this.report.usersRead += 1;
    const billed = this.#bill([me.id]);
    const owner = {
      followers: me.followersCount ?? 0,
      following: me.followingCount ?? 0,
      at: this.deps.clock.now(),
    };
    await this.#saveObserve({
      ...this.obs,
      spend: recordSpend(this.obs.spend, 1, this.account.observe, billed),
      owner,
      ownerHistory: withOwnerSample(this.obs.ownerHistory, owner),
    });
  }

  // ---- baseline and head scan ----------------------------------------------------------------

  /**
   * The first observation. When the whole list is affordable, a full scan makes the baseline;
   * otherwise one page of the newest followers does: enough to tell the new ones from then on.
   */
  async #baseline(): Promise<void> {
    const kind = this.#fullScanToStart();
    if (kind === 'followers') {
      await this.#startFullScan('followers');
      return;
    }
    const page = await this.#read('followers', undefined, BASELINE_PAGE_SIZE);
    const ids = this.#ids.fromStrings(page.users.map((user) => user.id));
    const now = this.deps.clock.now();
    const seq = this.obs.seq + 1;
    const chunks = chunkBytes(this.#ids.encode(ids));
    await this.deps.store.putBaseChunks(this.cell.ref, 'followers', seq, chunks, this.cell.fence);
    await this.#putChangeset({
      seq,
      at: now,
      kind: 'followers',
      source: 'baseline',
      ...emptyDelta(this.#ids),
      profiles: [],
    });
    await this.#saveObserve({
      ...this.obs,
      seq,
      graphs: {
        ...this.obs.graphs,
        followers: {
          baseSeq: seq,
          baseChunks: chunks.length,
          baseAt: now,
          count: ids.length,
          complete: page.nextCursor === undefined,
        },
      },
      headAnchor: page.users.slice(0, HEAD_ANCHOR_SIZE).map((user) => user.id),
      lastHeadScanAt: now,
      nextHeadScanAt: now + MIN_HEAD_SCAN_INTERVAL_MS * 4,
    });
    this.report.committed.push(seq);
    this.report.headScan = 'done';
    this.#log.info('baseline taken', { followers: ids.length, complete: page.nextCursor === undefined });
  }

  /**
   * Reads the newest followers until a run of already-known ones (not just one: the order is not a
   * contract), so the cost follows the number of new followers, not the size of the account.
   */
  async #headScan(): Promise<void> {
    const settings = this.account.observe;
    const codec = this.#ids;
    const startSeq = this.obs.seq;
    const resume = this.obs.headResume;
    const known = await loadGraph(
      this.deps.store,
      this.cell.ref,
      'followers',
      this.obs.graphs.followers,
      startSeq,
      codec,
    );
    // Followers an interrupted scan already committed are not "known" for the stop rule: the scan
    // must go on past them to where it was interrupted.
    const foundEarlier = codec.union([
      resume
        ? await addedSince(this.deps.store, this.cell.ref, 'followers', resume.fromSeq, startSeq, codec)
        : codec.empty(),
      // So are those the change feed added since the last complete head scan (shared/app/observe/feed.ts).
      await foundByFeedSince(this.deps.store, this.cell.ref, this.obs.feed, startSeq, codec),
    ]);
    const now = this.deps.clock.now();
    const sinceLast = now - (this.obs.lastHeadScanAt ?? now - MIN_HEAD_SCAN_INTERVAL_MS);
    const expected = (this.obs.growthPerHour * sinceLast) / 3_600_000;

    const found = new Map<string, PlatformUser>();
    // The newest followers the last complete head scans saw (kept while a scan is resumed). A known
    // follower listed above or among them, not one of them, has unfollowed and followed again since
    // (the snapshot still holds them: only full scans see people leave), and is owed a follow-back
    // like anyone new. The anchor is deep, so list-order noise alone cannot bring someone from below
    // it that high; meeting one anchor member does not end the search (order noise, or that member
    // re-followed too): candidates count until the scan ends.
    const anchorIds = this.obs.headAnchor ?? [];
    const anchor = new Map(anchorIds.map((id, position) => [id, position]));
    // Anchor members in the order this scan meets them: one listed far above members that were newer
    // than it has moved up, i.e. left and followed again.
    const anchorMet: AnchorMeeting[] = [];
    let metAnchor = resume?.metAnchor ?? false;
    const refollowCandidates = new Map<string, PlatformUser | undefined>(
      (resume?.refollowCandidates ?? []).map((id) => [id, undefined]),
    );
    let anchorGone = false;
    const newestSeen: string[] = [];
    let cursor = resume?.cursor;
    const planned = resume ? expected / 2 : expected;
    const maxPage = this.deps.platform.limits.maxPageSize;
    let run = 0;
    /** Anchor positions of the known followers of the current run (their order in the anchor). */
    const runPositions: number[] = [];
    let finished = false;
    let finishedByRun = false;
    let interruption: Stop | undefined;
    // Past the stop rule the scan reads on `overlap` places below the known block: X's order is not a
    // contract, and a new follower listed a few places below known ones is found there. On X the
    // overlap is free after the day's first scan (those users were already read, and billed, today).
    // The learned slack is kept unrounded: rounding it before it decays would pin it (10 → 9.8 → 10 …).
    const learnedOverlap = this.obs.headOverlap ?? INITIAL_HEAD_OVERLAP;
    const overlap = Math.round(learnedOverlap);
    let overlapLeft = 0;
    // The first page asks for a little under the new followers expected, and, when few are, for the
    // run and the overlap below them too: one request for a quiet account.
    let pageSize = Math.min(
      maxPage,
      headFirstPageSize(planned, settings, maxPage) + (planned < settings.headScanKnownRun ? overlap : 0),
    );
    /** The deepest a new follower was listed below known followers (known ones read above it). */
    let orderDepth = 0;
    /** Known followers read since the last new one (the run, but not reset by anchor logic). */
    let knownSinceNew = 0;
    /** Known followers read in the overlap (below the run that ended the scan). */
    let overlapKnown = 0;
    try {
      while (!finished || overlapLeft > 0) {
        this.#assertNotBlocked();
        const page = await this.#read('followers', cursor, pageSize);
        // Checks every id of the page before any is used (ValidationError on a malformed one).
        codec.fromStrings(page.users.map((user) => user.id));
        let fresh = 0;
        for (const user of page.users) {
          const id = user.id;
          if (newestSeen.length < HEAD_ANCHOR_SIZE) newestSeen.push(id);
          const earlier = codec.has(foundEarlier, id);
          const isNew = !codec.has(known, id) || earlier;
          if (finished) {
            // The overlap below the block that ended the scan: only new followers count here.
            if (overlapLeft <= 0) break;
            overlapLeft -= 1;
            if (isNew && !earlier && !found.has(id)) {
              found.set(id, user);
              // Listed below `depth` known ones: read on as deep again (others may sit as far below).
              const depth = settings.headScanKnownRun + overlapKnown;
              orderDepth = Math.max(orderDepth, depth);
              overlapLeft = Math.max(overlapLeft, overlap, depth);
            } else if (!isNew) overlapKnown += 1;
            continue;
          }
          if (isNew) {
            if (knownSinceNew > 0 && !earlier && !found.has(id)) {
              orderDepth = Math.max(orderDepth, knownSinceNew);
            }
            knownSinceNew = 0;
            run = 0;
            runPositions.length = 0;
            fresh += 1;
            if (!earlier && !found.has(id)) found.set(id, user);
            continue;
          }
          const position = anchor.get(id);
          if (position !== undefined) {
            metAnchor = true;
            anchorMet.push({ user, position, candidatesBefore: refollowCandidates.size });
          } else if (anchor.size > 0 && !anchorGone) {
            refollowCandidates.set(id, user);
            fresh += 1;
            knownSinceNew = 0;
            run = 0;
            runPositions.length = 0;
            if (!metAnchor && refollowCandidates.size >= HEAD_ANCHOR_GIVE_UP) {
              // No anchor member in all these: its members left, this is no wave. Stop guessing.
              anchorGone = true;
              refollowCandidates.clear();
              this.#log.warn('head anchor gone: re-follows go undetected until the next full scan', {
                read: newestSeen.length,
              });
            }
            continue;
          }
          knownSinceNew += 1;
          run += 1;
          runPositions.push(position ?? run);
          if (endsScan(run, runPositions, settings.headScanKnownRun)) {
            finished = true;
            finishedByRun = true;
            overlapLeft = overlap;
          }
        }
        if (page.nextCursor === undefined) {
          finished = true;
          overlapLeft = 0;
        }
        cursor = page.nextCursor;
        pageSize = finished
          ? Math.min(maxPage, Math.max(1, overlapLeft))
          : headNextPageSize(
              {
                // Re-follow candidates are fresh too: a wave of them grows the pages like a burst.
                found: found.size + refollowCandidates.size,
                expected: planned,
                run,
                lastPage: { size: page.users.length, fresh },
                overlap,
              },
              settings,
              maxPage,
            );
      }
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
      interruption = error;
    }

    const totalFound = found.size + (resume?.found ?? 0);
    let staleBase: GraphPointer | undefined;
    // Candidates are re-follows once the anchor showed up below them; a list that ended without any
    // anchor member says the anchor is gone, not that everyone re-followed.
    if (finished && metAnchor) {
      const finalRun = finishedByRun ? settings.headScanKnownRun : 0;
      for (const user of anchorMembersMovedUp(anchorMet, refollowCandidates.size, finalRun)) {
        refollowCandidates.set(user.id, user);
      }
    }
    const confirmed = finished && metAnchor && anchor.size > 0 ? [...refollowCandidates.keys()] : [];
    const refollowed = confirmed.flatMap((id) => {
      const profile = refollowCandidates.get(id);
      return profile === undefined ? [] : [profile];
    });
    const observe: ObserveState = { ...this.obs };
    if (finished) {
      observe.headResume = undefined;
      // A resumed scan did not start at the top: the anchor stays the one its first part was measured by.
      if (!resume) {
        const merged = mergeAnchor(newestSeen, anchorIds, anchorMet);
        observe.headAnchor = merged;
        // The anchor's leading members read today: re-reading them later today is not billed.
        observe.anchorRead = { day: dayKey(now), count: leadingReadToday(merged, this.#billedToday) };
      }
      observe.headOverlap = nextHeadOverlap(
        learnedOverlap,
        orderDepth,
        sinceLast,
        settings.headScanKnownRun,
        this.obs.headOverlapLearned === true,
      );
      if (orderDepth >= 2) observe.headOverlapLearned = true;
      if (!resume) observe.feed = feedScanned(observe.feed);
      observe.lastHeadScanAt = now;
      observe.growthPerHour = updateGrowth(observe.growthPerHour, totalFound, sinceLast);
      observe.nextHeadScanAt = now + headScanInterval(observe.growthPerHour, settings);
      const connectedAt = observe.connectedAt ?? now;
      if (observe.growthPerHour <= 0 && now - connectedAt < WARM_UP_MS) {
        // Growth is not known yet: look hourly for the first day instead of waiting the longest delay.
        observe.nextHeadScanAt = Math.min(observe.nextHeadScanAt, now + WARM_UP_INTERVAL_MS);
      }
    } else if (cursor !== undefined) {
      const failed = interruption?.reason === 'platform_error' || interruption?.reason === 'cursor_refused';
      const sameCursor = failed && cursor === resume?.cursor;
      const failures = sameCursor ? (resume?.failures ?? 0) + 1 : failed ? 1 : 0;
      if (interruption?.reason === 'cursor_refused' || failures >= MAX_CURSOR_FAILURES) {
        // A refused or failing cursor is dropped: the next head scan starts again from the top, where
        // the followers this one committed are known and the ones below are still new.
        observe.headResume = undefined;
        observe.nextHeadScanAt = now;
        this.#log.warn('head scan cursor dropped; starting again from the top', { failures });
      } else {
        observe.headResume = {
          cursor,
          fromSeq: resume?.fromSeq ?? startSeq,
          found: totalFound,
          failures,
          metAnchor,
          refollowCandidates: [...refollowCandidates.keys()].slice(0, MAX_CARRIED_CANDIDATES),
        };
      }
    }
    if (found.size > 0 || confirmed.length > 0) {
      const added = codec.fromStrings([...found.keys()]);
      const seq = observe.seq + 1;
      await this.#putChangeset({
        seq,
        at: now,
        kind: 'followers',
        source: 'head',
        added: codec.encode(added),
        removed: codec.encode(codec.empty()),
        addedCount: added.length,
        removedCount: 0,
        profiles: [...found.values(), ...refollowed],
        refollowed: confirmed,
      });
      observe.seq = seq;
      const pointer = observe.graphs.followers;
      observe.graphs = {
        ...observe.graphs,
        followers: { ...pointer, count: pointer.count + added.length },
      };
      this.report.committed.push(seq);
      this.report.newFollowers.push(...codec.toStrings(added), ...confirmed);
    }
    if (finished) {
      // Every reader of the list (each head scan, act's "still follows") replays the changesets since
      // the base; when they pile up, or the base nears the changesets' expiry, write a new base.
      const pointer = observe.graphs.followers;
      const pileUp = observe.seq - pointer.baseSeq > REBASE_AFTER_CHANGESETS;
      const aging = observe.seq > pointer.baseSeq && now - (pointer.baseAt ?? 0) > REBASE_AFTER_MS;
      if (pointer.baseSeq > 0 && (pileUp || aging)) {
        const added = codec.fromStrings([...found.keys()]);
        const chunks = chunkBytes(codec.encode(codec.apply(known, added, codec.empty())));
        await this.deps.store.putBaseChunks(this.cell.ref, 'followers', observe.seq, chunks, this.cell.fence);
        observe.graphs = {
          ...observe.graphs,
          followers: { ...pointer, baseSeq: observe.seq, baseChunks: chunks.length, baseAt: now },
        };
        staleBase = pointer;
      }
    }
    await this.#saveObserve(observe);
    if (staleBase && staleBase.baseSeq > 0) {
      await this.deps.store
        .deleteBaseChunks(this.cell.ref, 'followers', staleBase.baseSeq, staleBase.baseChunks)
        .catch(() => undefined);
    }
    this.report.headScan = finished ? 'done' : 'partial';
    if (interruption) throw interruption;
  }

  // ---- full scan -----------------------------------------------------------------------------

  /** Which list, if any, is due for a full scan and affordable now (the one scanned longest ago first). */
  #fullScanToStart(): GraphKind | undefined {
    const now = this.deps.clock.now();
    const pageSize = this.deps.platform.limits.maxPageSize;
    const lastScan = (kind: GraphKind) => this.obs.graphs[kind].lastFullScanAt ?? -1;
    const kinds = (['followers', 'following'] as const).slice().sort((a, b) => lastScan(a) - lastScan(b));
    for (const kind of kinds) {
      const pointer = this.obs.graphs[kind];
      if (!this.#countsSayChanged(kind)) continue;
      const estimated = Math.max(
        pointer.count,
        kind === 'followers' ? (this.obs.owner?.followers ?? 0) : (this.obs.owner?.following ?? 0),
      );
      const affordable = fullScanAffordable({
        pointer,
        estimatedCount: estimated,
        spend: this.obs.spend,
        growthPerHour: this.obs.growthPerHour,
        now,
        settings: this.account.observe,
        pageSize,
      });
      if (affordable) return kind;
    }
    return undefined;
  }

  /**
   * Whether the owner's own counts say a complete list changed in a way only a full scan can name:
   * followers who left (the snapshot holds more than X counts) beyond a small share, or fewer
   * followings than the snapshot (the owner unfollowed someone; follow-backs only add). A list never
   * scanned whole, or without counts, is always worth scanning when the budget allows. Follow-backs
   * add followings: more than the followers found since the last scan of that list is the owner's.
   */
  #countsSayChanged(kind: GraphKind): boolean {
    const pointer = this.obs.graphs[kind];
    const owner = this.obs.owner;
    // Where reads are free (Bluesky, Mastodon) a full scan costs only requests: scan on schedule.
    if (this.account.observe.usdPerUserRead === 0) return true;
    if (!pointer.complete || owner === undefined) return true;
    // A scan cheaper than a tenth of the month's read budget runs on schedule; dearer ones wait for the counts.
    const settings = this.account.observe;
    if (pointer.count * settings.usdPerUserRead <= settings.readBudgetUsdPerMonth * CHEAP_FULL_SCAN_SHARE)
      return true;
    if (kind === 'followers') {
      const unnamedLeavers = pointer.count - owner.followers;
      return unnamedLeavers >= Math.max(FULL_SCAN_MIN_LEAVERS, pointer.count * FULL_SCAN_LEAVER_SHARE);
    }
    // Follow-backs add followings, at most one per follower found since the last scan of the list.
    const followers = this.obs.graphs.followers.count;
    const followBacksPossible = Math.max(0, followers - (pointer.followersAtScan ?? followers));
    return owner.following < pointer.count || owner.following - pointer.count > followBacksPossible;
  }

  async #startFullScan(kind: GraphKind): Promise<void> {
    const checkpoint: FullScanCheckpoint = {
      kind,
      scanId: this.deps.newId(),
      cursor: undefined,
      pages: 0,
      startedAt: this.deps.clock.now(),
      fromSeq: this.obs.seq,
    };
    await this.#saveObserve({ ...this.obs, fullScan: checkpoint });
    this.report.fullScan = { kind, state: 'started', pages: 0 };
    this.#log.info('full scan started', { kind, scanId: checkpoint.scanId });
  }

  /** Reads pages until the list ends, checkpointing after every page. */
  async #continueFullScan(): Promise<void> {
    let checkpoint = this.obs.fullScan;
    if (!checkpoint) return;
    const pageSize = this.deps.platform.limits.maxPageSize;
    this.report.fullScan = { kind: checkpoint.kind, state: 'progressed', pages: 0 };
    while (checkpoint) {
      this.#assertNotBlocked();
      let page: GraphPage;
      try {
        page = await this.#read(checkpoint.kind, checkpoint.cursor, pageSize);
      } catch (error) {
        if (
          error instanceof Stop &&
          (error.reason === 'platform_error' || error.reason === 'cursor_refused')
        ) {
          await this.#fullScanReadFailed(checkpoint, error);
        }
        throw error;
      }
      const ids = this.#ids.fromStrings(page.users.map((user) => user.id));
      await this.deps.store.putScanPage(
        this.cell.ref,
        checkpoint.scanId,
        checkpoint.pages,
        this.#ids.encode(ids),
      );
      checkpoint = { ...checkpoint, cursor: page.nextCursor, pages: checkpoint.pages + 1, failures: 0 };
      this.report.fullScan.pages += 1;
      await this.#saveObserve({ ...this.obs, fullScan: checkpoint });
      if (page.nextCursor === undefined) {
        await this.#finishFullScan(checkpoint);
        checkpoint = undefined;
      }
    }
  }

  /**
   * A full-scan read failed. A refused cursor, or one that failed a few times in a row, is dropped
   * and the scan starts again from the top; a scan that had to start over too often is dropped until
   * its next turn. Observation never wedges on one cursor.
   */
  async #fullScanReadFailed(checkpoint: FullScanCheckpoint, stop: Stop): Promise<void> {
    const now = this.deps.clock.now();
    const failures = (checkpoint.failures ?? 0) + 1;
    if (stop.reason !== 'cursor_refused' && failures < MAX_CURSOR_FAILURES) {
      await this.#saveObserve({ ...this.obs, fullScan: { ...checkpoint, failures } });
      return;
    }
    const restarts = (checkpoint.restarts ?? 0) + 1;
    const stale = { scanId: checkpoint.scanId, pages: checkpoint.pages };
    if (restarts > MAX_FULL_SCAN_RESTARTS) {
      this.#log.warn('full scan dropped after starting over too often', { kind: checkpoint.kind, restarts });
      await this.#saveObserve({
        ...this.obs,
        fullScan: undefined,
        nextFullScanCheckAt: now + FULL_SCAN_CHECK_INTERVAL_MS,
      });
    } else {
      this.#log.warn('full scan cursor dropped; starting again from the top', {
        kind: checkpoint.kind,
        reason: stop.reason,
        restarts,
      });
      await this.#saveObserve({
        ...this.obs,
        fullScan: {
          kind: checkpoint.kind,
          scanId: this.deps.newId(),
          cursor: undefined,
          pages: 0,
          startedAt: now,
          fromSeq: this.obs.seq,
          failures: 0,
          restarts,
        },
      });
    }
    await this.deps.store.deleteScanPages(this.cell.ref, stale.scanId, stale.pages).catch(() => undefined);
  }

  /**
   * Diffs the scanned list against the snapshot. Ids added by head scans during the scan stay; only
   * ids known when the scan began and absent from the list are removed.
   */
  async #finishFullScan(checkpoint: FullScanCheckpoint): Promise<void> {
    const { store } = this.deps;
    const codec = this.#ids;
    const ref = this.cell.ref;
    const kind = checkpoint.kind;
    const pointer = this.obs.graphs[kind];
    const pages = await store.getScanPages(ref, checkpoint.scanId, checkpoint.pages);
    const listed = codec.union(pages.map((bytes) => codec.decode(bytes)));
    const current = await loadGraph(store, ref, kind, pointer, this.obs.seq, codec);
    const atStart =
      checkpoint.fromSeq >= pointer.baseSeq
        ? await loadGraph(store, ref, kind, pointer, checkpoint.fromSeq, codec)
        : current;

    const { added } = codec.diff(current, listed);
    const { removed: goneSinceStart } = codec.diff(atStart, listed);
    // Of those, only the ones still in the snapshot (gone ∩ current).
    const removed = codec.diff(codec.diff(goneSinceStart, current).removed, goneSinceStart).added;
    const next = codec.apply(current, added, removed);

    // Before the first full scan of followers, the snapshot held only those seen since connection:
    // the rest of the list predates followback and is not new.
    const firstComplete = !pointer.complete;
    const eventAdded = firstComplete ? codec.empty() : added;
    const seq = this.obs.seq + 1;
    const now = this.deps.clock.now();
    const addedBytes = codec.encode(eventAdded);
    const removedBytes = codec.encode(removed);
    const since = await store.getChangesets(ref, pointer.baseSeq, this.obs.seq);
    const deltaBytes = changesetBytes(since, kind) + addedBytes.length + removedBytes.length;
    const rebase =
      firstComplete ||
      pointer.baseSeq === 0 ||
      deltaBytes > REBASE_RATIO * codec.bytesPerIdEstimate * pointer.count;

    let baseChunks = pointer.baseChunks;
    if (rebase) {
      const chunks = chunkBytes(codec.encode(next));
      await store.putBaseChunks(ref, kind, seq, chunks, this.cell.fence);
      baseChunks = chunks.length;
    }
    await this.#putChangeset({
      seq,
      at: now,
      kind,
      source: firstComplete ? 'baseline' : 'full',
      added: addedBytes,
      removed: removedBytes,
      addedCount: eventAdded.length,
      removedCount: removed.length,
      profiles: [],
    });
    await this.#saveObserve({
      ...this.obs,
      seq,
      fullScan: undefined,
      graphs: {
        ...this.obs.graphs,
        [kind]: {
          baseSeq: rebase ? seq : pointer.baseSeq,
          baseChunks,
          baseAt: rebase ? now : pointer.baseAt,
          count: next.length,
          complete: true,
          lastFullScanAt: now,
          ...(kind === 'following' ? { followersAtScan: this.obs.graphs.followers.count } : {}),
        },
      },
    });
    this.report.committed.push(seq);
    this.report.fullScan = { kind, state: 'finished', pages: checkpoint.pages };
    const addedIds = codec.toStrings(eventAdded);
    const removedIds = codec.toStrings(removed);
    if (kind === 'followers') {
      this.report.newFollowers.push(...addedIds);
      this.report.lostFollowers.push(...removedIds);
    } else {
      this.report.ownerFollowed.push(...addedIds);
      this.report.ownerUnfollowed.push(...removedIds);
    }
    this.#log.info('full scan finished', {
      kind,
      listed: listed.length,
      added: eventAdded.length,
      removed: removed.length,
      rebase,
    });
    // Old base and scan pages are no longer referenced; removing them is best effort (scan pages expire anyway).
    await store.deleteScanPages(ref, checkpoint.scanId, checkpoint.pages).catch(() => undefined);
    if (rebase && pointer.baseSeq > 0) {
      await store.deleteBaseChunks(ref, kind, pointer.baseSeq, pointer.baseChunks).catch(() => undefined);
    }
  }

  // ---- state ---------------------------------------------------------------------------------

  async #putChangeset(changeset: Changeset): Promise<void> {
    await this.deps.store.putChangeset(this.cell.ref, changeset, this.cell.fence);
  }

  /** Keeps a change (spend, rate-limit state) for the next commit. */
  #setObserve(observe: ObserveState): void {
    this.#working = observe;
  }

  async #saveObserve(observe: ObserveState): Promise<void> {
    this.#working = observe;
    await this.cell.commit({ ...this.cell.state, observe } satisfies AccountState);
  }
}

/** Whether two observe states say the same (JSON-equal: they are plain data), so nothing needs writing. */
function sameState(a: ObserveState, b: ObserveState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function emptyDelta(codec: IdCodec): Pick<Changeset, 'added' | 'removed' | 'addedCount' | 'removedCount'> {
  const empty = codec.encode(codec.empty());
  return { added: empty, removed: empty, addedCount: 0, removedCount: 0 };
}
