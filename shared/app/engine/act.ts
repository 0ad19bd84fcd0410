import type { AccountRecord } from '../../domain/account.ts';
import type { EngineState } from '../../domain/account-state.ts';
import type { EnginePolicy } from '../../domain/engine/policy.ts';
import { listEntryFor, quietCalendarOf, retryDelayMs, suggestedReserve } from '../../domain/engine/policy.ts';
import { pickNext, seededRandom } from '../../domain/engine/schedule.ts';
import {
  claimTask,
  completeTask,
  type FollowCallOutcome,
  type FollowTask,
  failTask,
  releaseTask,
  skipTask,
} from '../../domain/engine/task.ts';
import {
  AuthError,
  ConflictError,
  MalformedResponseError,
  RateLimitedError,
  TransientPlatformError,
  UserGoneError,
} from '../../domain/errors.ts';
import { idCodecFor } from '../../domain/idset/index.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Platform, Relationship } from '../../ports/platform.ts';
import type { GraphStore } from '../../ports/store.ts';
import type { BucketStore, StoredTask, TaskStore } from '../../ports/tasks.ts';
import { loadGraph } from '../observe/graph-repo.ts';
import type { StateCell } from '../state-cell.ts';
import { blockUntil, loadFollowLimiters, refundFollow, takeFollow } from './limits.ts';
import { emptyEngineState } from './policy-of.ts';

export interface ActDeps {
  platform: Platform;
  store: GraphStore;
  tasks: TaskStore & BucketStore;
  clock: Clock;
  logger: Logger;
}

export interface ActOptions {
  worker: string;
  timeLeftMs: () => number;
  appDailyCap: number | null;
  /** How long a claimed task stays leased while its follow call is in flight. */
  taskLeaseMs?: number;
  /** Tasks read per lane per tick: a tick can act on a few dozen at most. */
  readLimit?: number;
}

export interface ActReport {
  followed: number;
  requested: number;
  gone: number;
  alreadyFollowing: number;
  leftBeforeFollowBack: number;
  /** Tasks skipped because their target was put on the deny list after they were planned. */
  denied: number;
  retried: number;
  failed: number;
  /** Follow-backs made after their deadline. */
  late: number;
  /**
   * Open promises (of the tasks this tick read) that can no longer be kept under the caps: already
   * past their deadline, or queued behind more work than the capacity before it. Emitted as the
   * PromisesAtRisk metric, which alarms.
   */
  promisesAtRisk: number;
  stopped?:
    | { reason: 'rate_limited' | 'caps' | 'deadline' | 'auth' | 'blocked' | 'quiet'; until?: number }
    | undefined;
}

const MIN_TIME_FOR_A_FOLLOW_MS = 3_000;
/** With nothing due, act still looks again within the hour (approvals arrive out of band). */
const IDLE_RECHECK_MS = 3_600_000;

/**
 * Follows back the tasks that are due, earliest deadline first among the promises that can still be
 * kept (late work takes only the capacity left over), inside quiet hours and the caps. Each follow is
 * taken from the limiters (conditional writes), its task claimed under a lease (conditional write),
 * the follower re-checked, the call made, and the outcome recorded on the claimed version.
 */
export async function act(
  account: AccountRecord,
  policy: EnginePolicy,
  cell: StateCell,
  deps: ActDeps,
  options: ActOptions,
): Promise<ActReport> {
  const report: ActReport = {
    followed: 0,
    requested: 0,
    gone: 0,
    alreadyFollowing: 0,
    leftBeforeFollowBack: 0,
    denied: 0,
    retried: 0,
    failed: 0,
    late: 0,
    promisesAtRisk: 0,
  };
  const log = deps.logger.child({ clientId: account.clientId, accountId: account.accountId, useCase: 'act' });
  const now = deps.clock.now();
  let engine: EngineState = cell.state.engine ?? emptyEngineState();
  if (policy.mode === 'off') {
    // Follow-backs are off: planned ones wait (they resume if the mode comes back on).
    await cell.commit({ ...cell.state, engine: { ...engine, nextActAt: now + IDLE_RECHECK_MS } });
    return report;
  }
  if (engine.blockedUntil !== undefined && engine.blockedUntil > now) {
    report.stopped = { reason: 'blocked', until: engine.blockedUntil };
    return report;
  }

  const quiet = quietCalendarOf(policy);
  const limiters = await loadFollowLimiters(deps.tasks, account, policy, options.appDailyCap);
  const readLimit = options.readLimit ?? 100;
  // Earliest deadlines still keepable, those already late, and what is released now: due work is
  // never hidden behind many earlier deadlines that are not due yet.
  const [onTime, late, released] = await Promise.all([
    deps.tasks.listActive(cell.ref, { now, from: 'onTime', limit: readLimit }),
    deps.tasks.listActive(cell.ref, { now, from: 'late', limit: readLimit }),
    deps.tasks.listReleased(cell.ref, { now, limit: readLimit }),
  ]);
  const stored = new Map<string, StoredTask>(
    [...onTime, ...late, ...released].map((entry) => [entry.task.targetId, entry]),
  );
  const plan = pickNext(
    [...stored.values()].map((entry) => entry.task),
    now,
    { limiters: limiters.map(({ config, state }) => ({ config, state })), quiet },
    { until: now, reserve: suggestedReserve(cell.state.observe.growthPerHour, policy) },
  );

  report.promisesAtRisk = plan.queue.filter((entry) => entry.lane === 'late').length;
  let stillFollows: ((targetIds: string[]) => Promise<Map<string, boolean>>) | undefined;
  const random = seededRandom(`${account.clientId}/${account.accountId}/${now}`);
  let nextActAt = Math.min(plan.wakeAt ?? Number.POSITIVE_INFINITY, now + IDLE_RECHECK_MS);

  for (const pick of plan.picks) {
    if (options.timeLeftMs() < MIN_TIME_FOR_A_FOLLOW_MS) {
      report.stopped = { reason: 'deadline' };
      nextActAt = now;
      break;
    }
    const entry = stored.get(pick.task.targetId)!;
    const at = deps.clock.now();
    // The deny list may have grown since the task was planned (or approved): never follow them.
    const denied = listEntryFor(policy.denyList, {
      id: entry.task.targetId,
      handle: entry.task.profile.handle,
    });
    if (denied !== undefined) {
      try {
        const skipped = skipTask(entry.task, {
          at,
          reason: 'deny_list',
          detail: `on the deny list (${denied})`,
        });
        await deps.tasks.putTask(cell.ref, skipped, entry.version);
        report.denied += 1;
      } catch (error) {
        if (!(error instanceof ConflictError) && (error as Error).name !== 'LeaseHeldError') throw error;
      }
      continue;
    }
    const taken = await takeFollow(deps.tasks, limiters, at);
    if (!taken.ok) {
      report.stopped = { reason: 'caps', until: taken.availableAt };
      nextActAt = Math.min(nextActAt, taken.availableAt);
      break;
    }
    let claimed: FollowTask;
    let version: number;
    try {
      claimed = claimTask(entry.task, {
        at,
        holder: options.worker,
        leaseMs: options.taskLeaseMs ?? 120_000,
      });
      version = await deps.tasks.putTask(cell.ref, claimed, entry.version);
    } catch (error) {
      // Another worker claimed or changed it first: give the follow back and move on.
      await refundFollow(deps.tasks, limiters, taken.takenAt);
      if (error instanceof ConflictError || (error as Error).name === 'LeaseHeldError') continue;
      throw error;
    }

    stillFollows ??= await followerCheck(account, cell, deps);
    const follows = (await stillFollows([claimed.targetId])).get(claimed.targetId);
    if (follows === false) {
      const skipped = skipTask(claimed, {
        at,
        reason: 'left_before_followback',
        detail: 'no longer follows',
        holder: options.worker,
      });
      await deps.tasks.putTask(cell.ref, skipped, version);
      await refundFollow(deps.tasks, limiters, taken.takenAt);
      report.leftBeforeFollowBack += 1;
      continue;
    }
    const checked: FollowTask = { ...claimed, followCheck: followCheckOf(cell, deps.platform, at) };

    let outcome: FollowCallOutcome;
    try {
      const result = await deps.platform.follow(account.platformUserId, claimed.targetId);
      outcome = result.outcome;
    } catch (error) {
      if (error instanceof UserGoneError) {
        outcome = 'gone';
      } else if (error instanceof RateLimitedError) {
        // Stop this account until the reset the platform gave; the task goes back, unattempted.
        await deps.tasks.putTask(
          cell.ref,
          releaseTask(checked, { at, holder: options.worker, retryAt: error.resetAt }),
          version,
        );
        await blockUntil(deps.tasks, limiters, error.resetAt, error.details);
        engine = { ...engine, blockedUntil: error.resetAt };
        report.stopped = { reason: 'rate_limited', until: error.resetAt };
        nextActAt = error.resetAt;
        log.warn('rate limited while following', { until: new Date(error.resetAt).toISOString() });
        break;
      } else if (error instanceof TransientPlatformError || error instanceof MalformedResponseError) {
        const retryAt = at + retryDelayMs(checked.attempts, policy.retry, random);
        const next = failTask(checked, {
          at,
          holder: options.worker,
          error: `${error.name}: ${error.message}`,
          retryAt,
          maxAttempts: policy.retry.maxAttempts,
        });
        await deps.tasks.putTask(cell.ref, next, version);
        if (next.state === 'failed') report.failed += 1;
        else report.retried += 1;
        log.warn('follow failed', {
          targetId: claimed.targetId,
          attempts: next.attempts,
          state: next.state,
          error,
        });
        continue;
      } else if (error instanceof AuthError) {
        await deps.tasks.putTask(
          cell.ref,
          releaseTask(checked, { at, holder: options.worker, retryAt: at + 3_600_000 }),
          version,
        );
        await refundFollow(deps.tasks, limiters, taken.takenAt);
        report.stopped = { reason: 'auth' };
        log.error('credentials refused: the account must be reconnected', { error });
        break;
      } else {
        throw error;
      }
    }
    const done = completeTask(checked, { at: deps.clock.now(), holder: options.worker, outcome });
    await deps.tasks.putTask(cell.ref, done, version);
    if (outcome === 'followed') report.followed += 1;
    else if (outcome === 'already_following') report.alreadyFollowing += 1;
    else if (outcome === 'requested') report.requested += 1;
    else report.gone += 1;
    if (
      (outcome === 'followed' || outcome === 'requested') &&
      done.deadline !== undefined &&
      at > done.deadline
    ) {
      report.late += 1;
    }
  }

  engine = { ...engine, nextActAt };
  await cell.commit({ ...cell.state, engine });
  return report;
}

/**
 * How to tell whether targets still follow the owner, as cheaply as the network allows: a direct
 * relationship lookup where there is one (Mastodon, Bluesky); on X, where every read is billed, the
 * latest observation of the follower list.
 */
async function followerCheck(
  account: AccountRecord,
  cell: StateCell,
  deps: ActDeps,
): Promise<(targetIds: string[]) => Promise<Map<string, boolean>>> {
  const platform = deps.platform;
  if (platform.relationships) {
    return async (targetIds) => {
      const relationships: Map<string, Relationship> = await platform.relationships!(
        account.platformUserId,
        targetIds,
      );
      return new Map(targetIds.map((id) => [id, relationships.get(id)?.followedBy ?? false]));
    };
  }
  const observe = cell.state.observe;
  const ids = idCodecFor(account.network);
  const followers = await loadGraph(
    deps.store,
    cell.ref,
    'followers',
    observe.graphs.followers,
    observe.seq,
    ids,
  );
  return async (targetIds) => new Map(targetIds.map((id) => [id, ids.has(followers, id)]));
}

function followCheckOf(cell: StateCell, platform: Platform, at: number): FollowTask['followCheck'] {
  if (platform.relationships) return { via: 'relationship', observedAt: at };
  const graph = cell.state.observe.graphs.followers;
  // Removals are seen only by full scans: that is how fresh "still follows" is on X.
  return { via: 'observation', observedAt: graph.lastFullScanAt ?? cell.state.observe.lastHeadScanAt ?? at };
}
