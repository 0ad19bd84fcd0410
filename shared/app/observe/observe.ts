import type { AccountRecord, GraphKind } from '../../domain/account.ts';
import type {
  AccountState,
  FullScanCheckpoint,
  GraphPointer,
  ObserveState,
} from '../../domain/account-state.ts';
import {
  BudgetExhaustedError,
  MalformedResponseError,
  RateLimitedError,
  TransientPlatformError,
} from '../../domain/errors.ts';
import { chunkBytes, type IdCodec, idCodecFor } from '../../domain/idset/index.ts';
import {
  canAfford,
  FULL_SCAN_CHECK_INTERVAL_MS,
  fullScanAffordable,
  headFirstPageSize,
  headNextPageSize,
  headScanInterval,
  MIN_HEAD_SCAN_INTERVAL_MS,
  recordSpend,
  rollSpend,
  updateGrowth,
} from '../../domain/observe-plan.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { GraphPage, Platform, PlatformUser } from '../../ports/platform.ts';
import type { Changeset, GraphStore } from '../../ports/store.ts';
import type { StateCell } from '../state-cell.ts';
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

export type StopReason = 'rate_limited' | 'budget' | 'deadline' | 'platform_error';

export interface ObserveReport {
  requests: number;
  usersRead: number;
  newFollowers: string[];
  lostFollowers: string[];
  ownerFollowed: string[];
  ownerUnfollowed: string[];
  /** Changesets committed by this run. */
  committed: number[];
  headScan: 'done' | 'partial' | 'not_due' | 'skipped';
  fullScan?: { kind: GraphKind; state: 'started' | 'progressed' | 'finished'; pages: number } | undefined;
  stopped?: { reason: StopReason; message: string; until?: number | undefined } | undefined;
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
/** Newest followers remembered by a head scan to recognise re-follows the next time. */
const HEAD_ANCHOR_SIZE = 10;
/** Known followers above the anchor after which the anchor is taken as gone. */
const HEAD_ANCHOR_GIVE_UP = 50;
/** After connection, while growth is unknown, head scans run hourly for this long. */
const WARM_UP_MS = 24 * 3_600_000;
const WARM_UP_INTERVAL_MS = 3_600_000;

class Stop extends Error {
  constructor(
    readonly reason: StopReason,
    message: string,
    readonly until?: number,
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
    this.#working = cell.state.observe;
    this.#ids = idCodecFor(account.network);
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
    await this.#saveObserve({
      ...this.obs,
      spend: rollSpend(this.obs.spend, now),
      readBlockedUntil: undefined,
    });
    try {
      if (this.obs.owner === undefined || now - this.obs.owner.at >= 24 * 3_600_000)
        await this.#refreshOwner();
      if (this.obs.graphs.followers.baseSeq === 0 && this.obs.fullScan === undefined) {
        await this.#baseline();
      }
      if (this.obs.fullScan !== undefined) {
        await this.#continueFullScan();
      }
      const headDue =
        this.options.forceHeadScan ||
        this.obs.headResume !== undefined ||
        this.obs.nextHeadScanAt === undefined ||
        this.obs.nextHeadScanAt <= now;
      if (headDue && this.obs.graphs.followers.baseSeq > 0 && this.report.headScan === 'not_due') {
        await this.#headScan();
      }
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
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
      this.report.stopped = { reason: error.reason, message: error.message, until: error.until };
      this.#log.warn('observe stopped', { reason: error.reason, detail: error.message });
      const blockedUntil = error.reason === 'rate_limited' ? error.until : this.obs.readBlockedUntil;
      this.#setObserve({ ...this.obs, readBlockedUntil: blockedUntil });
    }
    if (this.obs !== this.cell.state.observe) await this.#saveObserve(this.obs);
    return this.report;
  }

  // ---- reading -------------------------------------------------------------------------------

  /** One list request, with the budget, the time left and the platform's answer all accounted for. */
  async #read(kind: GraphKind, cursor: string | undefined, pageSize: number): Promise<GraphPage> {
    if (!canAfford(this.obs.spend, pageSize, this.account.observe)) {
      throw new Stop(
        'budget',
        `read budget spent (${this.obs.spend.month}: $${this.obs.spend.monthUsd.toFixed(2)})`,
      );
    }
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
    this.report.requests += 1;
    this.report.usersRead += page.users.length;
    const observe = {
      ...this.obs,
      spend: recordSpend(this.obs.spend, page.users.length, this.account.observe),
    };
    // Do not spend the window to the last request: wait for its reset instead of meeting a 429.
    if (page.rateLimit && page.rateLimit.remaining <= 0) observe.readBlockedUntil = page.rateLimit.resetAt;
    this.#setObserve(observe);
    return page;
  }

  #stopFor(error: unknown): Stop | unknown {
    if (error instanceof RateLimitedError) return new Stop('rate_limited', error.message, error.resetAt);
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
    await this.#saveObserve({
      ...this.obs,
      spend: recordSpend(this.obs.spend, 1, this.account.observe),
      owner: {
        followers: me.followersCount ?? 0,
        following: me.followingCount ?? 0,
        at: this.deps.clock.now(),
      },
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
    const foundEarlier = resume
      ? await addedSince(this.deps.store, this.cell.ref, 'followers', resume.fromSeq, startSeq, codec)
      : codec.empty();
    const now = this.deps.clock.now();
    const sinceLast = now - (this.obs.lastHeadScanAt ?? now - MIN_HEAD_SCAN_INTERVAL_MS);
    const expected = (this.obs.growthPerHour * sinceLast) / 3_600_000;

    const found = new Map<string, PlatformUser>();
    // The newest followers the last complete head scan saw. A known follower listed above all of
    // them has unfollowed and followed again since (the snapshot still holds them: only full scans
    // see people leave), and is owed a follow-back like anyone new.
    const anchor = new Set(resume ? [] : (this.obs.headAnchor ?? []));
    let metAnchor = anchor.size === 0;
    const refollowCandidates = new Map<string, PlatformUser>();
    const newestSeen: string[] = [];
    let cursor = resume?.cursor;
    const planned = resume ? expected / 2 : expected;
    const maxPage = this.deps.platform.limits.maxPageSize;
    let pageSize = headFirstPageSize(planned, settings, maxPage);
    let run = 0;
    let finished = false;
    let interruption: Stop | undefined;
    try {
      while (!finished) {
        this.#assertNotBlocked();
        const page = await this.#read('followers', cursor, pageSize);
        // Checks every id of the page before any is used (ValidationError on a malformed one).
        codec.fromStrings(page.users.map((user) => user.id));
        for (const user of page.users) {
          const id = user.id;
          if (newestSeen.length < HEAD_ANCHOR_SIZE) newestSeen.push(id);
          if (anchor.has(id)) metAnchor = true;
          if (codec.has(known, id) && !codec.has(foundEarlier, id)) {
            if (!metAnchor) {
              refollowCandidates.set(user.id, user);
              // The anchor may be gone (they all left): stop treating known ids as re-follows.
              if (refollowCandidates.size >= HEAD_ANCHOR_GIVE_UP) {
                metAnchor = true;
                refollowCandidates.clear();
              }
              run = 0;
              continue;
            }
            run += 1;
            if (run >= settings.headScanKnownRun) {
              finished = true;
              break;
            }
          } else {
            run = 0;
            if (!codec.has(known, id) && !codec.has(foundEarlier, id) && !found.has(id)) found.set(id, user);
          }
        }
        if (page.nextCursor === undefined) finished = true;
        cursor = page.nextCursor;
        pageSize = headNextPageSize({ found: found.size, expected: planned, run }, settings, maxPage);
      }
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
      interruption = error;
    }

    const totalFound = found.size + (resume?.found ?? 0);
    let staleBase: GraphPointer | undefined;
    const refollowed = finished && metAnchor && anchor.size > 0 ? [...refollowCandidates.values()] : [];
    const observe: ObserveState = { ...this.obs };
    if (finished) {
      observe.headResume = undefined;
      if (!resume) observe.headAnchor = newestSeen;
      observe.lastHeadScanAt = now;
      observe.growthPerHour = updateGrowth(observe.growthPerHour, totalFound, sinceLast);
      observe.nextHeadScanAt = now + headScanInterval(observe.growthPerHour, settings);
      const connectedAt = observe.connectedAt ?? now;
      if (observe.growthPerHour <= 0 && now - connectedAt < WARM_UP_MS) {
        // Growth is not known yet: look hourly for the first day instead of waiting the longest delay.
        observe.nextHeadScanAt = Math.min(observe.nextHeadScanAt, now + WARM_UP_INTERVAL_MS);
      }
    } else if (cursor !== undefined) {
      observe.headResume = { cursor, fromSeq: resume?.fromSeq ?? startSeq, found: totalFound };
    }
    if (found.size > 0 || refollowed.length > 0) {
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
        refollowed: refollowed.map((user) => user.id),
      });
      observe.seq = seq;
      const pointer = observe.graphs.followers;
      observe.graphs = {
        ...observe.graphs,
        followers: { ...pointer, count: pointer.count + added.length },
      };
      this.report.committed.push(seq);
      this.report.newFollowers.push(...codec.toStrings(added), ...refollowed.map((user) => user.id));
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
      const page = await this.#read(checkpoint.kind, checkpoint.cursor, pageSize);
      const ids = this.#ids.fromStrings(page.users.map((user) => user.id));
      await this.deps.store.putScanPage(
        this.cell.ref,
        checkpoint.scanId,
        checkpoint.pages,
        this.#ids.encode(ids),
      );
      checkpoint = { ...checkpoint, cursor: page.nextCursor, pages: checkpoint.pages + 1 };
      this.report.fullScan.pages += 1;
      await this.#saveObserve({ ...this.obs, fullScan: checkpoint });
      if (page.nextCursor === undefined) {
        await this.#finishFullScan(checkpoint);
        checkpoint = undefined;
      }
    }
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

function emptyDelta(codec: IdCodec): Pick<Changeset, 'added' | 'removed' | 'addedCount' | 'removedCount'> {
  const empty = codec.encode(codec.empty());
  return { added: empty, removed: empty, addedCount: 0, removedCount: 0 };
}
