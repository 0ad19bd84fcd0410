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
  hasUnresolvedAttempt,
  releaseTask,
  resolveAsNotApplied,
  skipTask,
  unresolvedAttemptSince,
} from '../../domain/engine/task.ts';
import {
  AuthError,
  ConflictError,
  MalformedResponseError,
  RateLimitedError,
  TransientPlatformError,
  UserGoneError,
} from '../../domain/errors.ts';
import { recordSpend } from '../../domain/observe-plan.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Platform } from '../../ports/platform.ts';
import type { GraphStore } from '../../ports/store.ts';
import type { BucketStore, StoredTask, TaskStore } from '../../ports/tasks.ts';
import type { StateCell } from '../state-cell.ts';
import { blockUntil, type LoadedLimiter, loadFollowLimiters, refundFollow, takeFollow } from './limits.ts';
import { type Look, lookFollowState } from './look.ts';
import { emptyEngineState } from './policy-of.ts';
import { followerCheck, type StillFollows } from './still-follows.ts';

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
  taskLeaseMs?: number | undefined;
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
  /** Follows the target refused (X: neither a follow nor a request came of it). */
  refused: number;
  /**
   * Calls whose answer was lost and whose follow the network does not show now, long enough after
   * the call that the owner may have undone it: closed without calling again.
   */
  outcomeUnknown: number;
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
/**
 * With nothing due, act still looks again after this long. Approvals and new changesets wake the
 * account at once (they reset `nextActAt`); this only bounds how long a missed wake-up can last, so an
 * idle account (or one whose reads are paused by a spent cap) is not invoked every hour for nothing.
 */
const IDLE_RECHECK_MS = 6 * 3_600_000;
/** With open tasks, act looks again within the hour whatever the plan says. */
const OPEN_WORK_RECHECK_MS = 3_600_000;

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
    refused: 0,
    outcomeUnknown: 0,
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
  const stillFollows = followerCheck(account, cell, deps);
  const random = seededRandom(`${account.clientId}/${account.accountId}/${now}`);
  // Open work looks again within the hour (a task the plan could not see behind the read limit);
  // an account with none waits for a wake-up (approvals, new changesets) or the long recheck.
  const recheck = stored.size > 0 ? OPEN_WORK_RECHECK_MS : IDLE_RECHECK_MS;
  let nextActAt = Math.min(plan.wakeAt ?? Number.POSITIVE_INFINITY, now + recheck);

  const attempt: AttemptContext = {
    account,
    policy,
    cell,
    deps,
    options,
    limiters,
    random,
    report,
    log,
    stillFollows,
    looks: [],
  };
  for (const pick of plan.picks) {
    if (options.timeLeftMs() < MIN_TIME_FOR_A_FOLLOW_MS) {
      report.stopped = { reason: 'deadline' };
      nextActAt = now;
      break;
    }
    const entry = stored.get(pick.task.targetId);
    if (entry === undefined) continue;
    const result = await actOnTask(entry, attempt);
    if (result === 'next') continue;
    report.stopped = result;
    if (result.reason === 'rate_limited' && result.until !== undefined) {
      engine = { ...engine, blockedUntil: result.until };
      nextActAt = result.until;
    } else if (result.until !== undefined) {
      nextActAt = Math.min(nextActAt, result.until);
    }
    break;
  }
  // Looks at the owner's following list are reads like observe's: they count against its budget.
  let spend = cell.state.observe.spend;
  for (const users of attempt.looks) spend = recordSpend(spend, users, account.observe);
  engine = { ...engine, nextActAt };
  await cell.commit({ ...cell.state, observe: { ...cell.state.observe, spend }, engine });
  return report;
}

function followCheckOf(cell: StateCell, platform: Platform, at: number): FollowTask['followCheck'] {
  if (platform.relationships) return { via: 'relationship', observedAt: at };
  const graph = cell.state.observe.graphs.followers;
  // Removals are seen only by full scans: that is how fresh "still follows" is on X.
  return { via: 'observation', observedAt: graph.lastFullScanAt ?? cell.state.observe.lastHeadScanAt ?? at };
}

/** What acting on one task needs, shared by every task of the tick. */
interface AttemptContext {
  account: AccountRecord;
  policy: EnginePolicy;
  cell: StateCell;
  deps: ActDeps;
  options: ActOptions;
  limiters: LoadedLimiter[];
  random: () => number;
  report: ActReport;
  log: Logger;
  stillFollows: StillFollows;
  /** Users returned by each look at the owner's following list (billed reads on X). */
  looks: number[];
}

type TaskResult = 'next' | NonNullable<ActReport['stopped']>;

/**
 * How long after a follow call an owner's undo is taken as impossible: a look within it that finds no
 * follow means the call did not take effect. Lost answers are looked at within milliseconds; a call
 * left unresolved by a crash is looked at only when its lease has expired, past this.
 */
export const UNDO_HORIZON_MS = 30_000;

/** One task: settle an unresolved call first, then vet, take the caps, claim, follow, record. */
async function actOnTask(entry: StoredTask, ctx: AttemptContext): Promise<TaskResult> {
  if (hasUnresolvedAttempt(entry.task)) return settleUnresolved(entry, ctx);
  const { cell, deps, options, report, policy } = ctx;
  const at = deps.clock.now();
  // The deny list may have grown since the task was planned (or approved): never follow them.
  const denied = listEntryFor(policy.denyList, {
    id: entry.task.targetId,
    handle: entry.task.profile.handle,
  });
  if (denied !== undefined) {
    const skipped = skipTask(entry.task, { at, reason: 'deny_list', detail: `on the deny list (${denied})` });
    if (await putIfUnchanged(cell, deps, skipped, entry.version)) report.denied += 1;
    return 'next';
  }
  // Checked before the claim, so that a claim is followed by its call at once: a claim whose outcome
  // was never recorded is then a call that may have been made.
  if (!(await ctx.stillFollows(entry.task))) {
    const skipped = skipTask(entry.task, {
      at,
      reason: 'left_before_followback',
      detail: 'no longer follows',
    });
    if (await putIfUnchanged(cell, deps, skipped, entry.version)) report.leftBeforeFollowBack += 1;
    return 'next';
  }
  const taken = await takeFollow(deps.tasks, ctx.limiters, at);
  if (!taken.ok) return { reason: 'caps', until: taken.availableAt };
  let claimed: FollowTask;
  let version: number;
  try {
    claimed = claimTask(entry.task, { at, holder: options.worker, leaseMs: options.taskLeaseMs ?? 120_000 });
    version = await deps.tasks.putTask(cell.ref, claimed, entry.version);
  } catch (error) {
    // Another worker claimed or changed it first: give the follow back and move on.
    await refundFollow(deps.tasks, ctx.limiters, taken.takenAt);
    if (isLostRace(error)) return 'next';
    throw error;
  }
  return callFollow({ task: claimed, version }, taken.takenAt, ctx);
}

/** Makes the follow call for a claimed task and records what came of it. */
async function callFollow(claimed: StoredTask, takenAt: number[], ctx: AttemptContext): Promise<TaskResult> {
  const { account, cell, deps, options, report, log } = ctx;
  const at = deps.clock.now();
  const task: FollowTask = { ...claimed.task, followCheck: followCheckOf(cell, deps.platform, at) };
  let outcome: FollowCallOutcome | 'refused';
  try {
    outcome = (await deps.platform.follow(account.platformUserId, task.targetId)).outcome;
  } catch (error) {
    if (error instanceof UserGoneError) {
      outcome = 'gone';
    } else if (error instanceof RateLimitedError) {
      // Refused before it was done: the task goes back, unattempted, until the reset the platform gave.
      await deps.tasks.putTask(
        cell.ref,
        releaseTask(task, { at, holder: options.worker, retryAt: error.resetAt }),
        claimed.version,
      );
      await blockUntil(deps.tasks, ctx.limiters, error.resetAt, error.details);
      log.warn('rate limited while following', { until: new Date(error.resetAt).toISOString() });
      return { reason: 'rate_limited', until: error.resetAt };
    } else if (error instanceof AuthError) {
      await deps.tasks.putTask(
        cell.ref,
        releaseTask(task, { at, holder: options.worker, retryAt: at + 3_600_000 }),
        claimed.version,
      );
      await refundFollow(deps.tasks, ctx.limiters, takenAt);
      log.error('credentials refused: the account must be reconnected', { error });
      return { reason: 'auth' };
    } else if (error instanceof TransientPlatformError || error instanceof MalformedResponseError) {
      // The call may or may not have taken effect: look now, never call again blindly.
      log.warn('follow answer lost; looking whether it took effect', { targetId: task.targetId, error });
      return settleByLooking({ task, version: claimed.version }, ctx, `${error.name}: ${error.message}`);
    } else {
      throw error;
    }
  }
  if (outcome === 'refused') {
    const skipped = skipTask(task, {
      at,
      reason: 'refused_by_target',
      detail: 'the network answered that no follow and no request came of it',
      holder: options.worker,
    });
    await deps.tasks.putTask(cell.ref, skipped, claimed.version);
    report.refused += 1;
    return 'next';
  }
  await recordOutcome({ task, version: claimed.version }, outcome, ctx);
  return 'next';
}

/**
 * A task whose last call's outcome is unknown (its answer was lost and a look failed, or its worker
 * died after claiming it): claim it, look, and record what the network shows. If no follow shows,
 * the call is made again only when an owner's undo in between is impossible (within the undo horizon,
 * or a request to a protected account, which repeats harmlessly); otherwise it is closed as
 * `outcome_unknown`, since following again could override the owner.
 */
async function settleUnresolved(entry: StoredTask, ctx: AttemptContext): Promise<TaskResult> {
  const { cell, deps, options } = ctx;
  const at = deps.clock.now();
  let claimed: StoredTask;
  try {
    const task = claimTask(entry.task, {
      at,
      holder: options.worker,
      leaseMs: options.taskLeaseMs ?? 120_000,
    });
    // This claim only looks: it is not a call.
    const looking = { ...task, attempts: entry.task.attempts };
    claimed = { task: looking, version: await deps.tasks.putTask(cell.ref, looking, entry.version) };
  } catch (error) {
    if (isLostRace(error)) return 'next';
    throw error;
  }
  return settleByLooking(claimed, ctx, claimed.task.lastError ?? 'the outcome of an earlier call is unknown');
}

/** Looks whether the claimed task's call took effect and records it, or readies the task to call again. */
async function settleByLooking(claimed: StoredTask, ctx: AttemptContext, why: string): Promise<TaskResult> {
  const { account, cell, deps, options, report, policy, log } = ctx;
  const at = deps.clock.now();
  const since = unresolvedAttemptSince(claimed.task) ?? claimed.task.attemptStartedAt ?? at;
  let look: Look;
  try {
    look = await lookFollowState(deps.platform, account.platformUserId, claimed.task.targetId);
    ctx.looks.push(look.usersRead);
  } catch (error) {
    // Still unknown: the next claim looks again (after a backoff), and never calls blindly.
    const retryAt =
      error instanceof RateLimitedError
        ? error.resetAt
        : at + retryDelayMs(claimed.task.attempts, policy.retry, ctx.random);
    const next = failTask(claimed.task, {
      at,
      holder: options.worker,
      error: why,
      retryAt,
      maxAttempts: policy.retry.maxAttempts,
      unresolved: true,
    });
    await deps.tasks.putTask(cell.ref, next, claimed.version);
    report.retried += 1;
    log.warn('could not look whether a follow took effect; will look again', {
      targetId: claimed.task.targetId,
      error,
    });
    return 'next';
  }
  if (look.state === 'following' || look.state === 'requested') {
    await recordOutcome(claimed, look.state === 'following' ? 'followed' : 'requested', ctx);
    return 'next';
  }
  const undoImpossible = at - since <= UNDO_HORIZON_MS;
  const repeatsHarmlessly = account.network === 'x' && claimed.task.profile.protected;
  if (!claimed.task.unresolvedSince || undoImpossible) {
    // Looked at once after a lost answer: the call did not take effect. Retry it after a backoff.
    const next = failTask(resolveAsNotApplied(claimed.task, at), {
      at,
      holder: options.worker,
      error: why,
      retryAt: at + retryDelayMs(claimed.task.attempts, policy.retry, ctx.random),
      maxAttempts: policy.retry.maxAttempts,
    });
    await deps.tasks.putTask(cell.ref, next, claimed.version);
    if (next.state === 'failed') report.failed += 1;
    else report.retried += 1;
    return 'next';
  }
  if (repeatsHarmlessly) {
    const taken = await takeFollow(deps.tasks, ctx.limiters, at);
    if (!taken.ok) {
      await deps.tasks.putTask(
        cell.ref,
        releaseTask(claimed.task, { at, holder: options.worker, retryAt: taken.availableAt }),
        claimed.version,
      );
      return { reason: 'caps', until: taken.availableAt };
    }
    const calling = { ...resolveAsNotApplied(claimed.task, at), attempts: claimed.task.attempts + 1 };
    return callFollow({ task: calling, version: claimed.version }, taken.takenAt, ctx);
  }
  const skipped = skipTask(claimed.task, {
    at,
    reason: 'outcome_unknown',
    detail: `${why}; no follow shows now, and the owner may have undone it since ${new Date(since).toISOString()}`,
    holder: options.worker,
  });
  await deps.tasks.putTask(cell.ref, skipped, claimed.version);
  report.outcomeUnknown += 1;
  log.warn('follow outcome unknown and not shown now: closed without calling again', {
    targetId: claimed.task.targetId,
  });
  return 'next';
}

/** Records a follow's known outcome on the claimed version, and counts it. */
async function recordOutcome(
  claimed: StoredTask,
  outcome: FollowCallOutcome,
  ctx: AttemptContext,
): Promise<void> {
  const { cell, deps, options, report } = ctx;
  const at = deps.clock.now();
  const done = completeTask(claimed.task, { at, holder: options.worker, outcome });
  await deps.tasks.putTask(cell.ref, done, claimed.version);
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

/** Writes a task if nobody changed it since it was read; false when another worker got there first. */
async function putIfUnchanged(
  cell: StateCell,
  deps: ActDeps,
  task: FollowTask,
  version: number,
): Promise<boolean> {
  try {
    await deps.tasks.putTask(cell.ref, task, version);
    return true;
  } catch (error) {
    if (isLostRace(error)) return false;
    throw error;
  }
}

function isLostRace(error: unknown): boolean {
  return error instanceof ConflictError || (error as Error).name === 'LeaseHeldError';
}
