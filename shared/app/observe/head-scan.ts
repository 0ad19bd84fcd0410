import type { GraphKind } from '../../domain/account.ts';
import type { GraphPointer, HeadScanResume, ObserveState } from '../../domain/account-state.ts';
import type { IdList } from '../../domain/idset/index.ts';
import { ANCHOR_ORDER_SLACK, leadingReadToday, mergeAnchor } from '../../domain/observe/head-anchor.ts';
import { HeadWalk } from '../../domain/observe/head-walk.ts';
import { headScanRebaseDue } from '../../domain/observe/rebase-policy.ts';
import {
  dayKey,
  headScanInterval,
  MIN_HEAD_SCAN_INTERVAL_MS,
  nextHeadOverlap,
  updateGrowth,
} from '../../domain/observe-plan.ts';
import type { PlatformUser } from '../../ports/platform.ts';
import { feedScanned, foundByFeedSince } from './feed.ts';
import { addedSince, loadGraph } from './graph-repo.ts';
import { dropBase, writeBase } from './rebase.ts';
import type { ObserveRun } from './run.ts';
import { Stop } from './stop.ts';

/**
 * The head scan: reads the newest followers until a run of already-known ones (not just one: the
 * order is not a contract), so the cost follows the number of new followers, not the size of the
 * account. What each user read means is decided by HeadWalk (shared/domain/observe/head-walk.ts);
 * this reads the pages, commits the new followers and re-follows, and plans the next scan.
 */

/**
 * Places a head scan reads below the known block before it has measured the list's order: the
 * slack an anchor member is allowed (X's order is "not a contract"); it decays within days when the
 * order proves better, and grows when it proves worse.
 */
const INITIAL_HEAD_OVERLAP = ANCHOR_ORDER_SLACK;
/** Re-follow candidates an interrupted head scan carries over to its resumption (state item size). */
const MAX_CARRIED_CANDIDATES = 1_000;
/** Failed reads of one cursor after which a scan drops the cursor and starts again from the top. */
const MAX_CURSOR_FAILURES = 3;
/** After connection, while growth is unknown, head scans run hourly for this long. */
const WARM_UP_MS = 24 * 3_600_000;
const WARM_UP_INTERVAL_MS = 3_600_000;

/** What a head scan starts from, and what it ends with. */
interface HeadScan {
  now: number;
  /** The snapshot's sequence number when the scan began. */
  startSeq: number;
  /** What an interrupted scan left to resume, if this one resumes it. */
  resume: HeadScanResume | undefined;
  /** The snapshot's followers. */
  known: IdList;
  /** Milliseconds since the last complete head scan. */
  sinceLast: number;
  /** New followers expected in this scan (half as many for a resumed one). */
  planned: number;
  /** The overlap as learned, unrounded. */
  learnedOverlap: number;
  /** The anchor the scan is measured by. */
  anchorIds: readonly string[];
  walk: HeadWalk;
}

/**
 * One head scan (or the rest of an interrupted one): read, then commit what was found with the
 * state that plans the next scan, in one state write. A stop during the reading is thrown after it.
 */
export async function headScan(run: ObserveRun): Promise<void> {
  const scan = await startHeadScan(run);
  const { cursor, interruption } = await readHead(run, scan);
  const { walk } = scan;
  const refollows = walk.confirmRefollows();
  const draft: ObserveState = { ...run.observe };
  if (walk.finished) planAfterCompleteScan(run, draft, scan);
  else if (cursor !== undefined) keepResumeOrDrop(run, draft, scan, cursor, interruption);
  if (walk.found.size > 0 || refollows.ids.length > 0) await commitFinds(run, draft, scan, refollows);
  // Every reader of a list (each head scan, act's "still follows", reconcile's owner's following)
  // replays the changesets since its base, of both lists; when they pile up, or the base nears the
  // changesets' expiry, write a new base.
  const staleBase = walk.finished ? await rebaseIfDue(run, draft, scan) : undefined;
  const staleFollowing = walk.finished ? await rebaseFollowingIfDue(run, draft, scan.now) : undefined;
  await run.commitObserve(draft);
  if (staleBase && staleBase.baseSeq > 0) await dropBase(run, 'followers', staleBase);
  if (staleFollowing && staleFollowing.baseSeq > 0) await dropBase(run, 'following', staleFollowing);
  run.report.headScan = walk.finished ? 'done' : 'partial';
  if (interruption) throw interruption;
}

/** Loads the snapshot and what counts as found already, and sizes the scan by the growth expected. */
async function startHeadScan(run: ObserveRun): Promise<HeadScan> {
  const { observe, ids: codec, deps } = run;
  const settings = run.account.observe;
  const startSeq = observe.seq;
  const resume = observe.headResume;
  const known = await loadGraph(
    deps.store,
    run.cell.ref,
    'followers',
    observe.graphs.followers,
    startSeq,
    codec,
  );
  // Followers an interrupted scan already committed are not "known" for the stop rule: the scan
  // must go on past them to where it was interrupted.
  const foundEarlier = codec.union([
    resume
      ? await addedSince(deps.store, run.cell.ref, 'followers', resume.fromSeq, startSeq, codec)
      : codec.empty(),
    // So are those the change feed added since the last complete head scan (shared/app/observe/feed.ts).
    await foundByFeedSince(deps.store, run.cell.ref, observe.feed, startSeq, codec),
  ]);
  const now = deps.clock.now();
  const sinceLast = now - (observe.lastHeadScanAt ?? now - MIN_HEAD_SCAN_INTERVAL_MS);
  const expected = (observe.growthPerHour * sinceLast) / 3_600_000;
  // Past the stop rule the scan reads on `overlap` places below the known block: X's order is not a
  // contract, and a new follower listed a few places below known ones is found there. On X the
  // overlap is free after the day's first scan (those users were already read, and billed, today).
  // The learned slack is kept unrounded: rounding it before it decays would pin it (10 → 9.8 → 10 …).
  const learnedOverlap = observe.headOverlap ?? INITIAL_HEAD_OVERLAP;
  // The newest followers the last complete head scans saw (kept while a scan is resumed). A known
  // follower listed above or among them, not one of them, has unfollowed and followed again since
  // (the snapshot still holds them: only full scans see people leave), and is owed a follow-back
  // like anyone new. The anchor is deep, so list-order noise alone cannot bring someone from below
  // it that high; meeting one anchor member does not end the search (order noise, or that member
  // re-followed too): candidates count until the scan ends.
  const anchorIds = observe.headAnchor ?? [];
  const walk = new HeadWalk({
    codec,
    known,
    foundEarlier,
    anchorIds,
    resume,
    knownRun: settings.headScanKnownRun,
    overlap: Math.round(learnedOverlap),
  });
  const planned = resume ? expected / 2 : expected;
  return { now, startSeq, resume, known, sinceLast, planned, learnedOverlap, anchorIds, walk };
}

/**
 * Reads pages from the resume cursor (or the top) until the walk has what it wants. A stop (rate
 * limit, budget, deadline, a failed read) ends the reading and is returned, to be thrown once what
 * was read is committed.
 */
async function readHead(
  run: ObserveRun,
  scan: HeadScan,
): Promise<{ cursor: string | undefined; interruption: Stop | undefined }> {
  const { walk, planned } = scan;
  const settings = run.account.observe;
  const maxPage = run.deps.platform.limits.maxPageSize;
  let cursor = scan.resume?.cursor;
  let pageSize = walk.firstPageSize(planned, settings, maxPage);
  try {
    while (walk.wantsMore) {
      run.assertNotBlocked();
      const page = await run.read('followers', cursor, pageSize);
      const { fresh, anchorGaveUpAfter } = walk.takePage(page);
      if (anchorGaveUpAfter !== undefined) {
        run.log.warn('head anchor gone: re-follows go undetected until the next full scan', {
          read: anchorGaveUpAfter,
        });
      }
      cursor = page.nextCursor;
      pageSize = walk.nextPageSize({ size: page.users.length, fresh }, planned, settings, maxPage);
    }
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    return { cursor, interruption: error };
  }
  return { cursor, interruption: undefined };
}

/**
 * A complete scan: the new anchor (unless it resumed: the anchor stays the one its first part was
 * measured by), the overlap and growth learned, and when the next scan is due, set on `draft`.
 */
function planAfterCompleteScan(run: ObserveRun, draft: ObserveState, scan: HeadScan): void {
  const { now, resume, walk, sinceLast } = scan;
  const settings = run.account.observe;
  draft.headResume = undefined;
  if (!resume) {
    const merged = mergeAnchor(walk.newestSeen, scan.anchorIds, walk.anchorMet);
    draft.headAnchor = merged;
    // The anchor's leading members read today: re-reading them later today is not billed.
    draft.anchorRead = { day: dayKey(now), count: leadingReadToday(merged, run.billedToday) };
  }
  draft.headOverlap = nextHeadOverlap(
    scan.learnedOverlap,
    walk.orderDepth,
    sinceLast,
    settings.headScanKnownRun,
    run.observe.headOverlapLearned === true,
  );
  if (walk.orderDepth >= 2) draft.headOverlapLearned = true;
  if (!resume) draft.feed = feedScanned(draft.feed);
  draft.lastHeadScanAt = now;
  draft.growthPerHour = updateGrowth(draft.growthPerHour, totalFound(scan), sinceLast);
  draft.nextHeadScanAt = now + headScanInterval(draft.growthPerHour, settings);
  const connectedAt = draft.connectedAt ?? now;
  if (draft.growthPerHour <= 0 && now - connectedAt < WARM_UP_MS) {
    // Growth is not known yet: look hourly for the first day instead of waiting the longest delay.
    draft.nextHeadScanAt = Math.min(draft.nextHeadScanAt, now + WARM_UP_INTERVAL_MS);
  }
}

/**
 * An interrupted scan: its cursor and what it found are kept for the next tick to resume, unless
 * the cursor was refused or keeps failing: then the next scan starts again from the top, where the
 * followers this one committed are known and the ones below are still new. Set on `draft`.
 */
function keepResumeOrDrop(
  run: ObserveRun,
  draft: ObserveState,
  scan: HeadScan,
  cursor: string,
  interruption: Stop | undefined,
): void {
  const { resume, walk } = scan;
  const failed = interruption?.reason === 'platform_error' || interruption?.reason === 'cursor_refused';
  const sameCursor = failed && cursor === resume?.cursor;
  const failures = sameCursor ? (resume?.failures ?? 0) + 1 : failed ? 1 : 0;
  if (interruption?.reason === 'cursor_refused' || failures >= MAX_CURSOR_FAILURES) {
    draft.headResume = undefined;
    draft.nextHeadScanAt = scan.now;
    run.log.warn('head scan cursor dropped; starting again from the top', { failures });
    return;
  }
  draft.headResume = {
    cursor,
    fromSeq: resume?.fromSeq ?? scan.startSeq,
    found: totalFound(scan),
    failures,
    metAnchor: walk.metAnchor,
    refollowCandidates: [...walk.refollowCandidates.keys()].slice(0, MAX_CARRIED_CANDIDATES),
  };
}

/** New followers found by this scan and the whole scan's part before it, if it resumed one. */
function totalFound(scan: HeadScan): number {
  return scan.walk.found.size + (scan.resume?.found ?? 0);
}

/** The new followers and confirmed re-follows as one changeset, with their profiles. */
async function commitFinds(
  run: ObserveRun,
  draft: ObserveState,
  scan: HeadScan,
  refollows: { ids: string[]; profiles: PlatformUser[] },
): Promise<void> {
  const codec = run.ids;
  const { found } = scan.walk;
  const added = codec.fromStrings([...found.keys()]);
  const seq = draft.seq + 1;
  await run.putChangeset({
    seq,
    at: scan.now,
    kind: 'followers',
    source: 'head',
    added: codec.encode(added),
    removed: codec.encode(codec.empty()),
    addedCount: added.length,
    removedCount: 0,
    profiles: [...found.values(), ...refollows.profiles],
    refollowed: refollows.ids,
  });
  draft.seq = seq;
  const pointer = draft.graphs.followers;
  draft.graphs = { ...draft.graphs, followers: { ...pointer, count: pointer.count + added.length } };
  run.report.committed.push(seq);
  run.report.newFollowers.push(...codec.toStrings(added), ...refollows.ids);
}

/**
 * Writes the owner's following list again as a base at the current seq when due: the list is
 * unchanged (only its full scans change it), but every read of it replays each changeset since its
 * base, the followers' included.
 */
function rebaseFollowingIfDue(run: ObserveRun, draft: ObserveState, now: number) {
  return rebaseListIfDue(run, draft, 'following', now, () =>
    loadGraph(run.deps.store, run.cell.ref, 'following', draft.graphs.following, draft.seq, run.ids),
  );
}

/** Writes a new followers base when due: the snapshot's followers and the ones this scan found. */
function rebaseIfDue(run: ObserveRun, draft: ObserveState, scan: HeadScan) {
  return rebaseListIfDue(run, draft, 'followers', scan.now, async () =>
    run.ids.apply(scan.known, run.ids.fromStrings([...scan.walk.found.keys()]), run.ids.empty()),
  );
}

/** Writes `ids()` as the list's base at the draft's seq when due (headScanRebaseDue); returns the base it replaces. */
async function rebaseListIfDue(
  run: ObserveRun,
  draft: ObserveState,
  kind: GraphKind,
  now: number,
  ids: () => Promise<IdList>,
): Promise<GraphPointer | undefined> {
  const pointer = draft.graphs[kind];
  if (!headScanRebaseDue(pointer, draft.seq, now)) return undefined;
  const baseChunks = await writeBase(run, kind, draft.seq, await ids());
  draft.graphs = { ...draft.graphs, [kind]: { ...pointer, baseSeq: draft.seq, baseChunks, baseAt: now } };
  return pointer;
}
