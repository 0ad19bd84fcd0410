import { listEntryFor, retryDelayMs } from '../../domain/engine/policy.ts';
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
import type { Platform } from '../../ports/platform.ts';
import type { StoredTask } from '../../ports/tasks.ts';
import type { StateCell } from '../state-cell.ts';
import type { ActDeps, AttemptContext, TaskResult } from './act-context.ts';
import { blockUntil, refundFollow, takeFollow } from './limits.ts';
import { type Look, lookFollowState } from './look.ts';

function followCheckOf(cell: StateCell, platform: Platform, at: number): FollowTask['followCheck'] {
  if (platform.relationships) return { via: 'relationship', observedAt: at };
  const graph = cell.state.observe.graphs.followers;
  // Removals are seen only by full scans: that is how fresh "still follows" is on X.
  return { via: 'observation', observedAt: graph.lastFullScanAt ?? cell.state.observe.lastHeadScanAt ?? at };
}

/**
 * How long after a follow call an owner's undo is taken as impossible: a look within it that finds no
 * follow means the call did not take effect. Lost answers are looked at within milliseconds; a call
 * left unresolved by a crash is looked at only when its lease has expired, past this.
 */
export const UNDO_HORIZON_MS = 30_000;

/** One task: settle an unresolved call first, then vet, take the caps, claim, follow, record. */
export async function actOnTask(entry: StoredTask, ctx: AttemptContext): Promise<TaskResult> {
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

/** Whether a call may still be repeated in this run (a repeated one whose answer is lost again waits). */
type Repeat = 'may_repeat' | 'repeated';

/** Makes the follow call for a claimed task and records what came of it. */
async function callFollow(
  claimed: StoredTask,
  takenAt: number[],
  ctx: AttemptContext,
  repeat: Repeat = 'may_repeat',
): Promise<TaskResult> {
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
      return settleByLooking(
        { task, version: claimed.version },
        ctx,
        `${error.name}: ${error.message}`,
        repeat,
      );
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
async function settleByLooking(
  claimed: StoredTask,
  ctx: AttemptContext,
  why: string,
  repeat: Repeat = 'may_repeat',
): Promise<TaskResult> {
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
  // X lists no follow requests: a look cannot tell whether a protected target's request was made.
  // Asking again repeats harmlessly (X answers the pending request), so it is asked again now rather
  // than taken as not made: else the task could close as if no request were pending.
  const requestInvisible = account.network === 'x' && claimed.task.profile.protected;
  if (requestInvisible && repeat === 'may_repeat') {
    const taken = await takeFollow(deps.tasks, ctx.limiters, at);
    if (!taken.ok) {
      await deps.tasks.putTask(
        cell.ref,
        releaseTask(
          { ...claimed.task, unresolvedSince: since },
          { at, holder: options.worker, retryAt: taken.availableAt },
        ),
        claimed.version,
      );
      return { reason: 'caps', until: taken.availableAt };
    }
    const calling = { ...resolveAsNotApplied(claimed.task, at), attempts: claimed.task.attempts + 1 };
    return callFollow({ task: calling, version: claimed.version }, taken.takenAt, ctx, 'repeated');
  }
  if (requestInvisible || !claimed.task.unresolvedSince || undoImpossible) {
    // Looked at once after a lost answer: the call did not take effect (or, for a request asked
    // again in this very run, cannot be seen). Try again after a backoff; an unseen request is
    // still looked at (and asked) first.
    const next = failTask(requestInvisible ? claimed.task : resolveAsNotApplied(claimed.task, at), {
      at,
      holder: options.worker,
      error: why,
      retryAt: at + retryDelayMs(claimed.task.attempts, policy.retry, ctx.random),
      maxAttempts: policy.retry.maxAttempts,
      unresolved: requestInvisible,
    });
    await deps.tasks.putTask(cell.ref, next, claimed.version);
    if (next.state === 'failed') report.failed += 1;
    else report.retried += 1;
    return 'next';
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
