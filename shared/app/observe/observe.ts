import type { AccountRecord } from '../../domain/account.ts';
import type { ObserveState } from '../../domain/account-state.ts';
import { fullScanToStart } from '../../domain/observe/full-scan-choice.ts';
import { dayKey, FULL_SCAN_CHECK_INTERVAL_MS, rollSpend } from '../../domain/observe-plan.ts';
import type { StateCell } from '../state-cell.ts';
import { takeBaseline } from './baseline.ts';
import { lookAtFeed } from './feed-look.ts';
import { continueFullScan, startFullScan } from './full-scan.ts';
import { headScan } from './head-scan.ts';
import { refreshOwnerCounts } from './owner-counts.ts';
import { ObserveRun } from './run.ts';
import { Stop } from './stop.ts';
import type { ObserveDeps, ObserveOptions, ObserveReport } from './types.ts';

export type { ObserveDeps, ObserveOptions, ObserveReport, StopReason } from './types.ts';

/**
 * Observe one account: read what changed on the platform, store compact snapshots and changesets.
 * Every page read is checkpointed, every failure stops cleanly with the checkpoint kept, and the
 * next tick continues where this one stopped. This file is the run's order of steps: the owner's
 * counts, the baseline (baseline.ts), the change feed (feed-look.ts), the head scan (head-scan.ts)
 * and the full scans (full-scan.ts).
 */
export async function observe(
  account: AccountRecord,
  cell: StateCell,
  deps: ObserveDeps,
  options: ObserveOptions,
): Promise<ObserveReport> {
  const run = new ObserveRun(account, cell, deps, options);
  const now = deps.clock.now();
  const held = readsHeld(run, now);
  if (held !== undefined) {
    run.report.headScan = 'skipped';
    run.report.stopped = held;
    return run.report;
  }
  // Kept for the run's first commit: a commit of its own would rewrite the state item on every tick
  // (DynamoDB bills each write by the item's size) to say what the next tick works out again.
  run.keepObserve({
    ...run.observe,
    spend: rollSpend(run.observe.spend, now),
    readBlockedUntil: undefined,
    readsPaused: undefined,
  });
  try {
    await observeSteps(run, now);
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    keepStop(run, error);
  }
  if (run.observe !== cell.state.observe && !sameState(run.observe, cell.state.observe))
    await run.commitObserve(run.observe);
  return run.report;
}

/** Why reads may not start now (the platform's window, or the account's own spent cap), if so. */
function readsHeld(run: ObserveRun, now: number): ObserveReport['stopped'] {
  const { observe, account } = run;
  if (observe.readBlockedUntil !== undefined && observe.readBlockedUntil > now) {
    return { reason: 'rate_limited', message: 'reads blocked', until: observe.readBlockedUntil };
  }
  const paused = observe.readsPaused;
  if (paused !== undefined && paused.until > now) {
    return {
      reason: 'budget',
      message:
        paused.cap === 'readRequestsPerDay'
          ? `read requests per day spent (${account.observe.readRequestsPerDay} a day)`
          : `read budget spent ($${account.observe.readBudgetUsdPerMonth.toFixed(2)} a month)`,
      until: paused.until,
      cap: paused.cap,
    };
  }
  return undefined;
}

/** The run's steps in their order; a Stop thrown by any of them ends the run. */
async function observeSteps(run: ObserveRun, now: number): Promise<void> {
  // The owner's counts: one user read a UTC day (X bills it once a day however often it is read).
  if (run.observe.owner === undefined || dayKey(run.observe.owner.at) !== dayKey(now))
    await refreshOwnerCounts(run);
  if (run.observe.graphs.followers.baseSeq === 0 && run.observe.fullScan === undefined) {
    await takeBaseline(run);
  }
  // The change feed first, where the network has one: new followers within a tick, one request.
  await lookAtFeed(run, now);
  // New followers first: a full scan in progress (slow, or stuck on a bad cursor) never starves
  // the head scan.
  const headDue =
    run.options.forceHeadScan ||
    run.observe.headResume !== undefined ||
    run.observe.nextHeadScanAt === undefined ||
    run.observe.nextHeadScanAt <= now;
  const headScanIfDue = async () => {
    if (headDue && run.observe.graphs.followers.baseSeq > 0 && run.report.headScan === 'not_due') {
      await headScan(run);
    }
  };
  await headScanIfDue();
  if (run.observe.fullScan !== undefined) await continueFullScan(run);
  // The baseline's full scan may just have finished: the first head scan follows it at once.
  await headScanIfDue();
  if (run.observe.fullScan === undefined && (run.observe.nextFullScanCheckAt ?? 0) <= now) {
    await fullScanIfDue(run, now);
  }
  // A baseline just taken: the feed's first look sets its mark now, not a tick later.
  if (run.observe.feed === undefined) await lookAtFeed(run, now);
}

/** Starts (and reads) the full scan of the list that is due and affordable, if one is. */
async function fullScanIfDue(run: ObserveRun, now: number): Promise<void> {
  const kind = fullScanToStart(run.observe, run.account.observe, run.deps.platform.limits.maxPageSize, now);
  run.keepObserve({ ...run.observe, nextFullScanCheckAt: now + FULL_SCAN_CHECK_INTERVAL_MS });
  if (kind === undefined) return;
  // A followers scan starts right after a head scan, so whoever is in the list but not in the
  // snapshot when it ends was not there before the scan began.
  if (kind === 'followers' && run.report.headScan === 'not_due') await headScan(run);
  await startFullScan(run, kind);
  await continueFullScan(run);
}

/** Reports the stop and keeps what it means for the next ticks (a blocked window, paused reads). */
function keepStop(run: ObserveRun, stop: Stop): void {
  run.report.stopped = { reason: stop.reason, message: stop.message, until: stop.until, cap: stop.cap };
  run.log.warn('observe stopped', { reason: stop.reason, cap: stop.cap, detail: stop.message });
  const blockedUntil = stop.reason === 'rate_limited' ? stop.until : run.observe.readBlockedUntil;
  const readsPaused =
    stop.reason === 'budget' && stop.until !== undefined && stop.cap !== undefined
      ? { until: stop.until, cap: stop.cap }
      : run.observe.readsPaused;
  run.keepObserve({ ...run.observe, readBlockedUntil: blockedUntil, readsPaused });
}

/** Whether two observe states say the same (JSON-equal: they are plain data), so nothing needs writing. */
function sameState(a: ObserveState, b: ObserveState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
