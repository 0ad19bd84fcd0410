import type { ObserveSettings } from './account.ts';
import type {
  GraphPointer,
  ObserveState,
  OwnerCountHistory,
  OwnerCounts,
  ReadCap,
  ReadSpend,
} from './account-state.ts';
import { nextFeedLookAt } from './feed-plan.ts';

/**
 * Pure planning for observe: when to head-scan, how big a first page, whether a full scan is
 * affordable. On X every user returned by a list read is billed, so reads follow what changed.
 */

const HOUR = 3_600_000;
export const MIN_HEAD_SCAN_INTERVAL_MS = 15 * 60_000;

export function dayKey(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

export function monthKey(at: number): string {
  return new Date(at).toISOString().slice(0, 7);
}

/** Starts a new day's and month's count when the UTC day or month has turned. */
export function rollSpend(spend: ReadSpend, now: number): ReadSpend {
  const day = dayKey(now);
  const month = monthKey(now);
  return {
    ...spend,
    day,
    dayRequests: spend.day === day ? spend.dayRequests : 0,
    dayUsers: spend.day === day ? spend.dayUsers : 0,
    dayBilled: spend.day === day ? (spend.dayBilled ?? spend.dayUsers) : 0,
    month,
    monthUsd: spend.month === month ? spend.monthUsd : 0,
    monthBilled: spend.month === month ? (spend.monthBilled ?? 0) : 0,
  };
}

/**
 * One read request: `users` returned, of which `billed` are billed (X bills a user once per app and
 * UTC day; by default every user returned is counted as billed, the safe side).
 */
export function recordSpend(
  spend: ReadSpend,
  users: number,
  settings: ObserveSettings,
  billed: number = users,
): ReadSpend {
  const charged = Math.min(users, Math.max(0, billed));
  return {
    ...spend,
    dayRequests: spend.dayRequests + 1,
    dayUsers: spend.dayUsers + users,
    dayBilled: (spend.dayBilled ?? 0) + charged,
    monthUsd: spend.monthUsd + charged * settings.usdPerUserRead,
    monthBilled: (spend.monthBilled ?? 0) + charged,
    totalRequests: spend.totalRequests + 1,
    totalUsers: spend.totalUsers + users,
    totalBilled: (spend.totalBilled ?? 0) + charged,
  };
}

/**
 * Users X has already billed this app for today, as far as observe knows: the anchor's members read
 * today (head scans read the newest followers again and again). A read of anyone else is counted as
 * billed, the safe side.
 */
export function readToday(observe: ObserveState, now: number): ReadonlySet<string> {
  const record = observe.anchorRead;
  if (record === undefined || record.day !== dayKey(now)) return new Set();
  return new Set((observe.headAnchor ?? []).slice(0, record.count));
}

/** Whether one more request returning up to `users` users fits the day's requests and the month's money. */
export function canAfford(spend: ReadSpend, users: number, settings: ObserveSettings): boolean {
  return readRefusal(spend, users, settings, 0) === undefined;
}

/** Daily owner-count samples kept: enough for a digest's period and the one before. */
export const OWNER_HISTORY_DAYS = 15;

/** The history with today's sample (replacing an earlier one of the same UTC day). */
export function withOwnerSample(
  history: OwnerCountHistory | undefined,
  sample: OwnerCounts,
): OwnerCountHistory {
  const kept = (history ?? []).filter((entry) => dayKey(entry.at) !== dayKey(sample.at));
  return [...kept, sample].slice(-OWNER_HISTORY_DAYS);
}

/**
 * How many followers left over [start, now] by the owner's own counts: the count at the start, plus
 * the new followers found since, less the count now. Undefined without a sample at or before start
 * (the nearest earlier one is used).
 */
export function leftByCount(
  observe: Pick<ObserveState, 'owner' | 'ownerHistory'>,
  start: number,
  newSince: number,
): number | undefined {
  const history = observe.ownerHistory ?? [];
  const before = history.filter((entry) => entry.at <= start);
  const atStart = before[before.length - 1] ?? history[0];
  const now = observe.owner;
  if (atStart === undefined || now === undefined) return undefined;
  return Math.max(0, atStart.followers + newSince - now.followers);
}

/**
 * Whether the follower snapshot can be shown as the list: `complete` after a full scan with the
 * counts agreeing; `partial` while it holds only followers seen since connection; `drifted` when
 * the owner's count is off the snapshot by more than a share (names of who left are missing).
 */
export type SnapshotTrust = 'complete' | 'partial' | 'drifted';
export const SNAPSHOT_DRIFT_SHARE = 0.05;

export function snapshotTrust(observe: Pick<ObserveState, 'graphs' | 'owner'>): SnapshotTrust {
  const pointer = observe.graphs.followers;
  if (!pointer.complete) return 'partial';
  const counted = observe.owner?.followers;
  if (counted === undefined) return 'complete';
  return Math.abs(pointer.count - counted) > Math.max(10, pointer.count * SNAPSHOT_DRIFT_SHARE)
    ? 'drifted'
    : 'complete';
}

/** Why one more read does not fit: the cap it would exceed, and when that cap frees up again. */
export interface ReadRefusal {
  cap: ReadCap;
  /** The next UTC day (requests per day) or month (money per month), epoch ms. */
  until: number;
  message: string;
}

/**
 * The cap that one more request returning up to `users` users would exceed, if any: the day's
 * requests first (it frees up sooner), then the month's money.
 */
export function readRefusal(
  spend: ReadSpend,
  users: number,
  settings: ObserveSettings,
  now: number,
): ReadRefusal | undefined {
  const date = new Date(now);
  if (spend.dayRequests + 1 > settings.readRequestsPerDay) {
    return {
      cap: 'readRequestsPerDay',
      until: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1),
      message: `read requests per day spent (${spend.dayRequests} of ${settings.readRequestsPerDay} on ${spend.day})`,
    };
  }
  if (spend.monthUsd + users * settings.usdPerUserRead > settings.readBudgetUsdPerMonth + 1e-9) {
    return {
      cap: 'readBudgetUsdPerMonth',
      until: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1),
      message: `read budget spent (${spend.month}: $${spend.monthUsd.toFixed(2)} of $${settings.readBudgetUsdPerMonth.toFixed(2)})`,
    };
  }
  return undefined;
}

/** New followers a head scan should find, at least, to keep reads per new follower low. */
export function targetNewPerHeadScan(settings: ObserveSettings): number {
  // Each scan also reads the run of known followers that ends it and a little overshoot. Amplification
  // (new + extra) / new stays near 1.2 when a scan finds at least ~15 new.
  return Math.max(4, settings.headScanKnownRun * 5);
}

/**
 * Delay until the next head scan: long enough that a scan finds about `targetNewPerHeadScan`
 * followers, never longer than the detection delay the owner accepts, never shorter than a tick.
 */
export function headScanInterval(growthPerHour: number, settings: ObserveSettings): number {
  // A follower is seen at the first tick after the scan that follows them: keep a tick's room.
  const ceiling = Math.max(
    MIN_HEAD_SCAN_INTERVAL_MS,
    settings.detectionDelayHours * HOUR - MIN_HEAD_SCAN_INTERVAL_MS,
  );
  if (growthPerHour <= 0) return ceiling;
  const wanted = (targetNewPerHeadScan(settings) / growthPerHour) * HOUR;
  return Math.min(ceiling, Math.max(MIN_HEAD_SCAN_INTERVAL_MS, wanted));
}

/**
 * First page size of a head scan: a little under the followers expected since the last scan. X bills
 * every user returned, so reading a few too few (and one more small page) is cheaper than reading
 * too many; the known followers that end the scan are read on the last page.
 */
export function headFirstPageSize(
  expectedNew: number,
  settings: ObserveSettings,
  maxPageSize: number,
): number {
  const size = Math.floor(expectedNew * HEAD_PAGE_SHARE);
  return Math.min(maxPageSize, Math.max(1, size, expectedNew < 1 ? settings.headScanKnownRun : 1));
}

/**
 * Later pages: the known followers still needed to end the scan (the run not yet met) plus a
 * share of the new followers still expected.
 */
export function headNextPageSize(
  progress: {
    found: number;
    expected: number;
    run: number;
    /** The page just read: its size, and how many of its users were new (or re-follows). */
    lastPage?: { size: number; fresh: number } | undefined;
    /** Places read on below the run that ends the scan (see nextHeadOverlap). */
    overlap?: number | undefined;
  },
  settings: ObserveSettings,
  maxPageSize: number,
): number {
  const missingRun = Math.max(1, settings.headScanKnownRun - progress.run) + (progress.overlap ?? 0);
  const rest = Math.max(0, Math.floor((progress.expected - progress.found) * HEAD_PAGE_SHARE));
  let size = missingRun + rest;
  const last = progress.lastPage;
  // Far more than expected keeps coming (a burst): grow the pages with what the scan keeps finding,
  // so a burst costs a handful of requests, not one small page per few followers. A few more than
  // expected is no burst: a doubled page would read known followers past the run, and on a UTC day's
  // first scan X bills each of them.
  const burst = progress.found > progress.expected + settings.headScanKnownRun;
  if (burst && last && last.size > 0 && last.fresh * 2 >= last.size)
    size = Math.max(size, last.size * 2, last.fresh * 2);
  return Math.min(maxPageSize, size);
}

/**
 * Without evidence of disorder the overlap halves this often. Only the day's first head scan pays for
 * it (later ones re-read users X billed today), so a slack nobody needs costs its size every UTC day.
 */
export const HEAD_OVERLAP_HALF_LIFE_MS = 12 * HOUR;

/** The most places a head scan reads on below its known block (the anchor holds the newest 100). */
export const MAX_HEAD_OVERLAP = 80;

/**
 * Places the next head scan reads on below the run of known followers that ends it. A scan that met
 * a new follower listed below `orderDepth` known ones learns the list is that much out of order, and
 * reads twice as deep from then on (so a deeper displacement is met, and learned, the next time);
 * while such evidence keeps coming the overlap keeps its depth, and without any it halves every
 * HEAD_OVERLAP_HALF_LIFE_MS. The run itself covers a follower listed just below one known (X's usual
 * noise), so that costs nothing extra.
 */
export function nextHeadOverlap(
  current: number,
  orderDepth: number,
  elapsedMs: number,
  knownRun: number,
  learned = false,
): number {
  const disorder = orderDepth >= 2;
  const wanted = disorder ? Math.max(0, 2 * orderDepth + 1 - knownRun) : 0;
  // A list once seen out of order keeps the depth: deeper displacements are met only inside it, and
  // evidence of them comes only from inside it. Before any, the overlap is a guess, and decays.
  const kept =
    disorder || learned ? current : current * 2 ** (-Math.max(0, elapsedMs) / HEAD_OVERLAP_HALF_LIFE_MS);
  const next = Math.min(MAX_HEAD_OVERLAP, Math.max(wanted, kept));
  return next < 0.5 ? 0 : Math.round(next * 100) / 100;
}

/** Share of the expected new followers a page asks for (measured: 0.5–1.0 differ little; see bench). */
const HEAD_PAGE_SHARE = 0.8;

/** Smoothed growth (new followers per hour), from one head scan's findings over the time since the last. */
export function updateGrowth(previousPerHour: number, found: number, elapsedMs: number): number {
  if (elapsedMs <= 0) return previousPerHour;
  const observed = found / (elapsedMs / HOUR);
  // Weight by elapsed time: a long gap says more than a 15-minute one.
  const weight = Math.min(0.7, 0.2 + elapsedMs / (24 * HOUR));
  return previousPerHour <= 0 ? observed : previousPerHour * (1 - weight) + observed * weight;
}

/**
 * Whether a full scan of a list may start now: it is its turn (least days since the last) and
 * the month's money left, after reserving what head scans will need, pays for the whole list.
 */
export function fullScanAffordable(input: {
  pointer: GraphPointer;
  estimatedCount: number;
  spend: ReadSpend;
  growthPerHour: number;
  now: number;
  settings: ObserveSettings;
  pageSize: number;
}): boolean {
  const { pointer, estimatedCount, spend, growthPerHour, now, settings, pageSize } = input;
  if (
    pointer.lastFullScanAt !== undefined &&
    now - pointer.lastFullScanAt < settings.fullScanMinDays * 24 * HOUR
  ) {
    return false;
  }
  const monthEnd = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + 1, 1);
  const hoursLeft = (monthEnd - now) / HOUR;
  const headReserve = growthPerHour * hoursLeft * 1.5 * settings.usdPerUserRead;
  const scanCost = Math.max(1, estimatedCount) * settings.usdPerUserRead;
  const requests = Math.ceil(Math.max(1, estimatedCount) / pageSize);
  if (spend.dayRequests + requests > settings.readRequestsPerDay) return false;
  return spend.monthUsd + headReserve + scanCost <= settings.readBudgetUsdPerMonth;
}

/** How long observe waits before asking again whether a full scan fits the budget. */
export const FULL_SCAN_CHECK_INTERVAL_MS = 6 * HOUR;

/**
 * When observe next has work for an account: a scan to continue, the next head scan, or the next
 * look at whether a full scan is affordable. A tick before then only reads the state item and leaves.
 */
export function nextObserveAt(observe: ObserveState): number {
  // Nothing is read before the platform's window resets or the account's own spent cap frees up.
  const notBefore = Math.max(observe.readBlockedUntil ?? 0, observe.readsPaused?.until ?? 0);
  if (
    observe.fullScan !== undefined ||
    observe.headResume !== undefined ||
    observe.nextHeadScanAt === undefined
  ) {
    return notBefore;
  }
  const next = Math.min(
    observe.nextHeadScanAt,
    observe.nextFullScanCheckAt ?? 0,
    nextFeedLookAt(observe.feed) ?? Number.POSITIVE_INFINITY,
  );
  return Math.max(next, notBefore);
}
