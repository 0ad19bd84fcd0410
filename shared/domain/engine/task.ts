import { FollowbackError } from '../errors.ts';
import type { PlatformUser } from '../platform-user.ts';
import { boundedUser } from '../profile-bounds.ts';

/**
 * The follow-back task: one per (account, target), a small state machine.
 *
 *   pending_approval ──approve──▶ scheduled ──claim──▶ in_progress ──complete──▶ done | requested | gone
 *         │                          ▲    │                 │  │
 *         │ reject / skip            │    │ skip            │  └─fail (attempts left)──▶ scheduled (retryAt)
 *         ▼                          │    ▼                 │  └─fail (no attempts left)─▶ failed
 *      skipped ◀─────────────────────┴── skipped ◀── skip ──┘  └─release (429, no attempt)─▶ scheduled
 *
 * A task is born `pending_approval` (approve mode), `scheduled` (auto mode) or `skipped` (a recorded
 * skip with its reason). `done`, `requested`, `gone`, `skipped` and `failed` are final. An
 * `in_progress` task whose lease expired may be claimed again (a crashed worker); that retry may
 * find the follow already made, which the platform answers as "already following" = done.
 *
 * Every transition is a pure function returning a new task; an illegal one throws
 * IllegalTransitionError (or LeaseHeldError) and changes nothing. The use case persists the result
 * with a conditional write on the state it read, so two workers cannot both move the same task.
 */

export type TaskState =
  | 'pending_approval'
  | 'scheduled'
  | 'in_progress'
  | 'done'
  | 'requested'
  | 'gone'
  | 'skipped'
  | 'failed';

export const TASK_STATES: readonly TaskState[] = [
  'pending_approval',
  'scheduled',
  'in_progress',
  'done',
  'requested',
  'gone',
  'skipped',
  'failed',
];

export const FINAL_STATES: readonly TaskState[] = ['done', 'requested', 'gone', 'skipped', 'failed'];

export function isFinal(state: TaskState): boolean {
  return FINAL_STATES.includes(state);
}

/** Every legal (from → to) move. Final states have none. */
export const TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  pending_approval: ['scheduled', 'skipped'],
  scheduled: ['in_progress', 'skipped'],
  in_progress: ['in_progress', 'done', 'requested', 'gone', 'scheduled', 'failed', 'skipped'],
  done: [],
  requested: [],
  gone: [],
  skipped: [],
  failed: [],
};

export function canTransition(from: TaskState, to: TaskState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Why a follower was not (or will not be) followed back. Every skip records one. */
export type SkipReason =
  | 'spam_empty_profile'
  | 'spam_new_account'
  | 'spam_ratio'
  | 'spam_default_avatar'
  | 'spam_keyword'
  | 'deny_list'
  | 'owner_unfollowed'
  | 'owner_blocked'
  | 'already_following'
  | 'predates_connection'
  | 'bot_or_nobot'
  | 'mode_off'
  | 'self'
  | 'rejected_by_owner'
  | 'approval_expired'
  | 'left_before_followback'
  | 'refused_by_target'
  | 'outcome_unknown';

export const SKIP_REASONS: readonly SkipReason[] = [
  'spam_empty_profile',
  'spam_new_account',
  'spam_ratio',
  'spam_default_avatar',
  'spam_keyword',
  'deny_list',
  'owner_unfollowed',
  'owner_blocked',
  'already_following',
  'predates_connection',
  'bot_or_nobot',
  'mode_off',
  'self',
  'rejected_by_owner',
  'approval_expired',
  'left_before_followback',
  'refused_by_target',
  'outcome_unknown',
];

/** One-line explanation of each skip reason, for the digest, status and approval pages. */
export const SKIP_REASON_TEXT: Readonly<Record<SkipReason, string>> = {
  spam_empty_profile: 'empty profile (no bio, no picture)',
  spam_new_account: 'account too new',
  spam_ratio: 'follows far more accounts than follow it',
  spam_default_avatar: 'default profile picture',
  spam_keyword: 'profile contains a blocked keyword',
  deny_list: 'on the deny list',
  owner_unfollowed: 'the owner unfollowed them before',
  owner_blocked: 'blocked by the owner',
  already_following: 'already followed',
  predates_connection: 'followed before the account was connected (no backfill)',
  bot_or_nobot: 'a bot, or asks bots not to interact (#nobot)',
  mode_off: 'follow-backs are off for this account',
  self: 'the account itself',
  rejected_by_owner: 'the owner declined',
  approval_expired: 'waited too long for approval',
  left_before_followback: 'unfollowed before the follow-back',
  refused_by_target: 'the account refuses follows from the owner (it blocks the owner, say)',
  outcome_unknown:
    'a follow-back whose answer was lost is not shown by the network now, and the owner may have undone it: not tried again',
};

/** A spam signal found on a profile; shown in approvals even when it did not cause a skip. */
export type SpamSignalKind = 'empty_profile' | 'new_account' | 'ratio' | 'default_avatar' | 'keyword';

export interface SpamSignal {
  kind: SpamSignalKind;
  /** Human-readable, e.g. "account is 2 days old (minimum 7)". */
  detail: string;
}

/** What the owner needs to decide on an approval, and what the spam filters looked at. */
export interface TaskProfile {
  handle: string;
  name: string;
  bio: string;
  followersCount?: number | undefined;
  followingCount?: number | undefined;
  /** Account creation, epoch ms. */
  createdAt?: number | undefined;
  protected: boolean;
  defaultAvatar?: boolean | undefined;
  avatarUrl?: string | undefined;
  bot?: boolean | undefined;
}

/** The profile facts a task keeps, from the platform's user. */
export function taskProfileOf(unbounded: PlatformUser): TaskProfile {
  // Bounded again here: a task item must stay far below DynamoDB's 400 KB whatever an adapter passed.
  const user = boundedUser(unbounded);
  return {
    handle: user.handle,
    name: user.name,
    bio: user.bio,
    followersCount: user.followersCount,
    followingCount: user.followingCount,
    createdAt: user.createdAt,
    protected: user.protected,
    defaultAvatar: user.defaultAvatar,
    avatarUrl: user.avatarUrl,
    bot: user.bot,
  };
}

export interface TaskLease {
  holder: string;
  /** Epoch ms the lease expires; after it another worker may claim the task. */
  until: number;
}

/** The planned times of a task, from schedule.ts `planTask`. */
export interface TaskPlan {
  /** Promise start + notBefore: the earliest time to act. */
  windowStart: number;
  /** The jittered planned time, in [windowStart, deadline] (or `now` when born late). */
  dueAt: number;
  /** Promise start + within: the promise. */
  deadline: number;
}

export interface FollowTask {
  targetId: string;
  state: TaskState;
  /** When observe saw the new follower. */
  detectedAt: number;
  /** When they followed, if the platform tells (Bluesky records do; X does not). */
  followedAt?: number | undefined;
  approvedAt?: number | undefined;
  /** Followed before the connection; served best effort, with no promise. */
  backfill: boolean;
  /** Planned times; absent while pending approval (the promise clock has not started). */
  windowStart?: number | undefined;
  dueAt?: number | undefined;
  deadline?: number | undefined;
  /** Not before this time after a transient failure or a 429 (backoff). */
  retryAt?: number | undefined;
  /** Follow calls started (claims); a claim after a crash counts too. */
  attempts: number;
  /** When the latest claim (and so the latest follow call) started. */
  attemptStartedAt?: number | undefined;
  /**
   * A follow call whose outcome is not known (its answer was lost and looking did not settle it)
   * started then: before anything else, the engine looks whether it took effect; it never calls again
   * blindly.
   */
  unresolvedSince?: number | undefined;
  lastError?: string | undefined;
  lease?: TaskLease | undefined;
  skipReason?: SkipReason | undefined;
  skipDetail?: string | undefined;
  /** When the follow-back was made (done) or requested (requested). */
  doneAt?: number | undefined;
  /** When the task reached a final state, whichever. */
  closedAt?: number | undefined;
  profile: TaskProfile;
  signals: SpamSignal[];
  /**
   * How the engine knew they still followed when it acted: a direct relationship lookup, or the
   * latest observation of the follower list (on X, where each read is billed) and when it was made.
   */
  followCheck?: { via: 'relationship' | 'observation'; observedAt: number } | undefined;
  /** Last change, epoch ms. */
  updatedAt: number;
}

/** A move the state machine does not allow (e.g. done -> scheduled). */
export class IllegalTransitionError extends FollowbackError {
  override readonly name = 'IllegalTransitionError';
  constructor(
    readonly targetId: string,
    readonly from: TaskState,
    readonly to: TaskState,
    why = '',
  ) {
    super(`task ${targetId}: illegal transition ${from} -> ${to}${why ? ` (${why})` : ''}`, {
      details: { targetId, from, to },
    });
  }
}

/** Another worker holds an unexpired lease on the task. */
export class LeaseHeldError extends FollowbackError {
  override readonly name = 'LeaseHeldError';
  constructor(
    readonly targetId: string,
    readonly holder: string,
    readonly until: number,
  ) {
    super(`task ${targetId}: leased by ${holder} until ${new Date(until).toISOString()}`, {
      details: { targetId, holder, until },
    });
  }
}

function move(task: FollowTask, to: TaskState, why?: string): void {
  if (!canTransition(task.state, to)) throw new IllegalTransitionError(task.targetId, task.state, to, why);
}

/** The instant the promise clock starts: approval, else when they followed, else detection. */
export function promiseStartOf(task: Pick<FollowTask, 'approvedAt' | 'followedAt' | 'detectedAt'>): number {
  return task.approvedAt ?? task.followedAt ?? task.detectedAt;
}

export interface NewTaskInput {
  targetId: string;
  detectedAt: number;
  followedAt?: number | undefined;
  backfill?: boolean | undefined;
  profile: TaskProfile;
  signals?: SpamSignal[] | undefined;
}

function base(input: NewTaskInput, state: TaskState, at: number): FollowTask {
  return {
    targetId: input.targetId,
    state,
    detectedAt: input.detectedAt,
    followedAt: input.followedAt,
    backfill: input.backfill ?? false,
    attempts: 0,
    profile: input.profile,
    signals: input.signals ?? [],
    updatedAt: at,
  };
}

/** A follow-back waiting for the owner's approval (approve mode). */
export function createPendingTask(input: NewTaskInput): FollowTask {
  return base(input, 'pending_approval', input.detectedAt);
}

/** A follow-back to carry out at `plan.dueAt` (auto mode). */
export function createScheduledTask(input: NewTaskInput, plan: TaskPlan): FollowTask {
  return { ...base(input, 'scheduled', input.detectedAt), ...plan };
}

/** A recorded skip: the follower reaches its final state at once, with the reason. */
export function createSkippedTask(
  input: NewTaskInput,
  skip: { reason: SkipReason; detail: string; at?: number | undefined },
): FollowTask {
  const at = skip.at ?? input.detectedAt;
  return { ...base(input, 'skipped', at), skipReason: skip.reason, skipDetail: skip.detail, closedAt: at };
}

/** The owner approved: the promise clock starts now, with the plan computed from `at`. */
export function approveTask(task: FollowTask, input: { at: number; plan: TaskPlan }): FollowTask {
  requireState(task, 'pending_approval', 'scheduled');
  return { ...task, state: 'scheduled', approvedAt: input.at, ...input.plan, updatedAt: input.at };
}

/** The owner declined. */
export function rejectTask(task: FollowTask, input: { at: number; detail?: string | undefined }): FollowTask {
  requireState(task, 'pending_approval', 'skipped');
  return skipTask(task, { at: input.at, reason: 'rejected_by_owner', detail: input.detail ?? 'declined' });
}

/**
 * Skips a task that is not final yet (e.g. they left before the follow-back, or were denied since).
 * An `in_progress` task under an unexpired lease can be skipped only by the lease holder.
 */
export function skipTask(
  task: FollowTask,
  input: { at: number; reason: SkipReason; detail: string; holder?: string | undefined },
): FollowTask {
  move(task, 'skipped');
  if (
    task.state === 'in_progress' &&
    task.lease &&
    task.lease.until > input.at &&
    task.lease.holder !== input.holder
  ) {
    throw new LeaseHeldError(task.targetId, task.lease.holder, task.lease.until);
  }
  return {
    ...task,
    state: 'skipped',
    skipReason: input.reason,
    skipDetail: input.detail,
    lease: undefined,
    unresolvedSince: undefined,
    closedAt: input.at,
    updatedAt: input.at,
  };
}

/**
 * A worker takes the task for one follow attempt. Legal from `scheduled`, or from `in_progress`
 * whose lease has expired (the previous worker crashed). Counts an attempt.
 */
export function claimTask(
  task: FollowTask,
  input: { at: number; holder: string; leaseMs: number },
): FollowTask {
  move(task, 'in_progress');
  if (task.state === 'in_progress' && task.lease && task.lease.until > input.at) {
    throw new LeaseHeldError(task.targetId, task.lease.holder, task.lease.until);
  }
  return {
    ...task,
    state: 'in_progress',
    attempts: task.attempts + 1,
    attemptStartedAt: input.at,
    // A crashed worker's claim (in progress, lease expired) may have made its call: still unknown.
    unresolvedSince: task.unresolvedSince ?? unresolvedAttemptSince(task),
    lease: { holder: input.holder, until: input.at + input.leaseMs },
    updatedAt: input.at,
  };
}

/**
 * Since when the task has a follow call whose outcome is not known: one recorded as unresolved, or
 * the claim of a worker that never recorded its outcome (in progress, lease expired). Undefined when
 * every call it made has a known outcome.
 */
export function unresolvedAttemptSince(task: FollowTask): number | undefined {
  if (task.unresolvedSince !== undefined) return task.unresolvedSince;
  if (task.state !== 'in_progress') return undefined;
  return task.attemptStartedAt ?? task.updatedAt;
}

/** Whether a follow call of this task may have taken effect without its outcome being recorded. */
export function hasUnresolvedAttempt(task: FollowTask): boolean {
  return unresolvedAttemptSince(task) !== undefined;
}

/**
 * The claimed task after looking settled that its unresolved call did not take effect: an ordinary
 * claim from here on (its call may be made).
 */
export function resolveAsNotApplied(task: FollowTask, at: number): FollowTask {
  return { ...task, unresolvedSince: undefined, updatedAt: at };
}

function requireState(task: FollowTask, from: TaskState, to: TaskState): void {
  if (task.state !== from) {
    throw new IllegalTransitionError(task.targetId, task.state, to, `only from ${from}`);
  }
}

/** The worker finishing an attempt must be the one holding the lease. */
function assertHolder(task: FollowTask, holder: string, to: TaskState): void {
  requireState(task, 'in_progress', to);
  if (task.lease?.holder !== holder) {
    throw new IllegalTransitionError(
      task.targetId,
      task.state,
      to,
      `lease held by ${task.lease?.holder ?? 'nobody'}`,
    );
  }
}

/** The platform's answer to the follow call, mapped to a final state. */
export type FollowCallOutcome = 'followed' | 'requested' | 'already_following' | 'gone';

const OUTCOME_STATE: Readonly<Record<FollowCallOutcome, TaskState>> = {
  followed: 'done',
  already_following: 'done',
  requested: 'requested',
  gone: 'gone',
};

/** Records the follow call's outcome: followed / already following = done; protected = requested. */
export function completeTask(
  task: FollowTask,
  input: { at: number; holder: string; outcome: FollowCallOutcome },
): FollowTask {
  const to = OUTCOME_STATE[input.outcome];
  assertHolder(task, input.holder, to);
  const done = to === 'done' || to === 'requested';
  return {
    ...task,
    state: to,
    lease: undefined,
    unresolvedSince: undefined,
    doneAt: done ? input.at : task.doneAt,
    closedAt: input.at,
    updatedAt: input.at,
  };
}

/**
 * A transient failure (5xx, timeout): back to `scheduled` until `retryAt`, or `failed` with the
 * error once `maxAttempts` attempts were made. A permanent failure passes `retryAt: undefined`.
 */
export function failTask(
  task: FollowTask,
  input: {
    at: number;
    holder: string;
    error: string;
    retryAt: number | undefined;
    maxAttempts: number;
    /** The call may have taken effect and looking could not tell: the next claim looks first. */
    unresolved?: boolean | undefined;
  },
): FollowTask {
  const unresolvedSince = input.unresolved
    ? (task.unresolvedSince ?? task.attemptStartedAt ?? input.at)
    : undefined;
  // An unresolved call is never given up on blindly: it waits to be looked at, whatever the attempts.
  const retry =
    input.retryAt !== undefined && (unresolvedSince !== undefined || task.attempts < input.maxAttempts);
  const to: TaskState = retry ? 'scheduled' : 'failed';
  assertHolder(task, input.holder, to);
  if (retry) {
    return {
      ...task,
      state: 'scheduled',
      lease: undefined,
      unresolvedSince,
      lastError: input.error,
      retryAt: input.retryAt,
      updatedAt: input.at,
    };
  }
  return {
    ...task,
    state: 'failed',
    unresolvedSince: undefined,
    lease: undefined,
    lastError: input.error,
    closedAt: input.at,
    updatedAt: input.at,
  };
}

/**
 * Gives the task back without counting an attempt: the account is rate limited (429) until
 * `retryAt`, or the worker stopped before calling the platform.
 */
export function releaseTask(
  task: FollowTask,
  input: { at: number; holder: string; retryAt: number },
): FollowTask {
  assertHolder(task, input.holder, 'scheduled');
  return {
    ...task,
    state: 'scheduled',
    attempts: Math.max(0, task.attempts - 1),
    lease: undefined,
    retryAt: input.retryAt,
    updatedAt: input.at,
  };
}

/** Whether a pending approval has waited longer than `expiryDays` (then skip it: approval_expired). */
export function isApprovalExpired(task: FollowTask, expiryDays: number | null, at: number): boolean {
  return (
    task.state === 'pending_approval' && expiryDays !== null && at - task.detectedAt > expiryDays * 86_400_000
  );
}

/** Whether the follow-back kept the promise (done or requested by the deadline); undefined if not yet known. */
export function keptPromise(task: FollowTask): boolean | undefined {
  if (task.state !== 'done' && task.state !== 'requested') return undefined;
  if (task.deadline === undefined || task.doneAt === undefined) return undefined;
  return task.doneAt <= task.deadline;
}
