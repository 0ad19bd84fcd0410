import type { AccountRecord } from '../domain/account.ts';
import type { AccountState } from '../domain/account-state.ts';
import { nextObserveAt } from '../domain/observe-plan.ts';
import type { Clock } from '../ports/clock.ts';
import type { FollowerSampleStore } from '../ports/digest-store.ts';
import type { Logger } from '../ports/logger.ts';
import type { Platform } from '../ports/platform.ts';
import type { AccountStateStore, GraphStore } from '../ports/store.ts';
import type { BucketStore, TaskStore } from '../ports/tasks.ts';
import { type ActReport, act } from './engine/act.ts';
import { appDailyCapOf, type EngineSettings, policyOf } from './engine/policy-of.ts';
import { type ReconcileReport, reconcile } from './engine/reconcile.ts';
import {
  queuesUnfollows,
  runUnfollowQueue,
  type UnfollowQueueDeps,
  type UnfollowRunReport,
} from './engine/unfollow-queue.ts';
import { acquireLease, releaseLease } from './lease.ts';
import type { StateCell } from './state-cell.ts';

/** With unfollows still queued and no time from the caps, the tick looks again after this long. */
const UNFOLLOW_RECHECK_MS = 15 * 60_000;

import { type ObserveReport, observe } from './observe/observe.ts';

/** Everything a tick stores: run state, snapshots and changesets, tasks, limiter buckets. */
export type EngineStore = AccountStateStore & GraphStore & TaskStore & BucketStore;

export interface TickDeps {
  platform: Platform;
  store: EngineStore;
  clock: Clock;
  logger: Logger;
  newId: () => string;
  engine?: EngineSettings | undefined;
  /** Where the daily follower counts for the digest's 12-week chart go (optional). */
  samples?: Pick<FollowerSampleStore, 'putFollowerSample'> | undefined;
  /**
   * The owner's queued unfollows (Bluesky and Mastodon): after act, the tick carries out what the
   * caps leave, and wakes again when they allow the next (optional: without it, none are run).
   */
  unfollows?: Omit<UnfollowQueueDeps, 'store' | 'clock' | 'engine' | 'logger'> | undefined;
}

export interface TickOptions {
  /** Who is running the tick (a Lambda request id, a local worker name). */
  worker: string;
  timeLeftMs: () => number;
  /** How long the lease holds if the worker dies without releasing it. */
  leaseMs?: number;
}

export type TickReport =
  | { ran: false; reason: 'inactive' | 'leased' | 'not_due'; heldBy?: string }
  | {
      ran: true;
      observe: ObserveReport;
      reconcile: ReconcileReport;
      act: ActReport;
      unfollows?: UnfollowRunReport | undefined;
    };

/** When the account next has work: something to observe, to reconcile or to act on. */
export function nextTickAt(state: AccountState): number {
  const engine = state.engine;
  if (!engine || engine.reconciledSeq < state.observe.seq) return 0;
  const act = Math.max(engine.nextActAt, engine.blockedUntil ?? 0);
  return Math.min(nextObserveAt(state.observe), act);
}

/**
 * One tick for one account, under its lease: observe what changed, reconcile it into follow tasks,
 * act on the tasks that are due. A duplicate delivery finds the lease held, or nothing due.
 */
export async function runAccountTick(
  account: AccountRecord,
  deps: TickDeps,
  options: TickOptions,
): Promise<TickReport> {
  if (account.status !== 'active') return { ran: false, reason: 'inactive' };
  const now = deps.clock.now();
  const current = await deps.store.getState(account);
  if (current && nextTickAt(current.state) > now) return { ran: false, reason: 'not_due' };
  // Queued unfollows wake act (the console sets nextActAt to 0; the queue's run sets it to when the
  // caps allow the next): only ticks whose act was due read the queue, not every observation tick.
  const actDue = (current?.state.engine?.nextActAt ?? 0) <= now;
  const policy = policyOf(account);
  const lease = await acquireLease(deps.store, account, options.worker, now, options.leaseMs ?? 5 * 60_000);
  if (!lease.acquired) {
    deps.logger.info('account is leased by another worker', {
      accountId: account.accountId,
      heldBy: lease.heldBy,
    });
    return { ran: false, reason: 'leased', heldBy: lease.heldBy };
  }
  const cell = lease.cell;
  const observed = await observe(account, cell, deps, { timeLeftMs: options.timeLeftMs });
  const reconciled = await reconcile(account, policy, cell, { ...deps, tasks: deps.store });
  const acted = await act(
    account,
    policy,
    cell,
    { ...deps, tasks: deps.store },
    {
      worker: options.worker,
      timeLeftMs: options.timeLeftMs,
      appDailyCap: appDailyCapOf(account, deps.engine ?? {}),
      taskLeaseMs: deps.engine?.taskLeaseMs,
    },
  );
  let unfollows: UnfollowRunReport | undefined;
  try {
    if (actDue) unfollows = await runQueuedUnfollows(account, cell, deps, options);
  } catch (error) {
    // The queue keeps its items (a claim's lease runs out); the tick's own work is committed.
    deps.logger.warn('queued unfollows failed; retried on a later tick', {
      accountId: account.accountId,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
  await releaseLease(cell);
  if (deps.samples && observed.requests > 0) await recordFollowerSample(account, cell.state, deps);
  return {
    ran: true,
    observe: observed,
    reconcile: reconciled,
    act: acted,
    ...(unfollows ? { unfollows } : {}),
  };
}

/** Queued unfollows after act (follow-backs first), with a wake-up when the caps allow the next. */
async function runQueuedUnfollows(
  account: AccountRecord,
  cell: StateCell,
  deps: TickDeps,
  options: TickOptions,
): Promise<UnfollowRunReport | undefined> {
  if (deps.unfollows === undefined || !queuesUnfollows(account)) return undefined;
  const engine = cell.state.engine;
  if (engine?.blockedUntil !== undefined && engine.blockedUntil > deps.clock.now()) return undefined;
  const report = await runUnfollowQueue(
    account,
    deps.platform,
    { ...deps.unfollows, store: deps.store, clock: deps.clock, engine: deps.engine, logger: deps.logger },
    { worker: options.worker, timeLeftMs: options.timeLeftMs },
  );
  if (report.remaining > 0 && cell.state.engine) {
    const wake = report.nextAt ?? deps.clock.now() + UNFOLLOW_RECHECK_MS;
    const next = Math.min(cell.state.engine.nextActAt, Math.max(wake, deps.clock.now()));
    if (next !== cell.state.engine.nextActAt) {
      await cell.commit({ ...cell.state, engine: { ...cell.state.engine, nextActAt: next } });
    }
  }
  return report;
}

/** One sample per account and UTC day (the latest wins) of the follower count, for the digest chart. */
async function recordFollowerSample(
  account: AccountRecord,
  state: AccountState,
  deps: TickDeps,
): Promise<void> {
  const observe = state.observe;
  const followers = observe.graphs.followers.complete
    ? observe.graphs.followers.count
    : (observe.owner?.followers ?? observe.graphs.followers.count);
  const following = observe.graphs.following.complete
    ? observe.graphs.following.count
    : observe.owner?.following;
  try {
    await deps.samples?.putFollowerSample(account, { at: deps.clock.now(), followers, following });
  } catch (error) {
    // A missed sample leaves a gap in a chart; it must not fail the tick.
    deps.logger.warn('could not record the follower sample', { accountId: account.accountId, error });
  }
}
