import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  approveTask,
  canTransition,
  claimTask,
  completeTask,
  createPendingTask,
  createScheduledTask,
  createSkippedTask,
  FINAL_STATES,
  type FollowTask,
  failTask,
  IllegalTransitionError,
  isApprovalExpired,
  isFinal,
  keptPromise,
  LeaseHeldError,
  promiseStartOf,
  rejectTask,
  releaseTask,
  SKIP_REASON_TEXT,
  SKIP_REASONS,
  skipTask,
  TASK_STATES,
  type TaskPlan,
  type TaskProfile,
  taskProfileOf,
} from '../../shared/domain/engine/index.ts';

const T0 = Date.UTC(2026, 3, 1, 12);
const HOUR = 3_600_000;
const PROFILE: TaskProfile = { handle: 'alice', name: 'Alice', bio: 'bakery', protected: false };
const PLAN: TaskPlan = { windowStart: T0 + 2 * HOUR, dueAt: T0 + 10 * HOUR, deadline: T0 + 72 * HOUR };

function scheduled(): FollowTask {
  return createScheduledTask({ targetId: '1790000000000000001', detectedAt: T0, profile: PROFILE }, PLAN);
}

function claimed(holder = 'worker-a'): FollowTask {
  return claimTask(scheduled(), { at: PLAN.dueAt, holder, leaseMs: 60_000 });
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('follow task state machine', () => {
  it('goes scheduled -> in_progress -> done when followed, counting one attempt', () => {
    // Prepare
    const task = claimed();

    // Act
    const done = completeTask(task, { at: PLAN.dueAt + 1_000, holder: 'worker-a', outcome: 'followed' });

    // Assess
    expect(done).toMatchObject({ state: 'done', attempts: 1, doneAt: PLAN.dueAt + 1_000, lease: undefined });
    expect(keptPromise(done)).toBe(true);
  });

  it('counts "already following" as done and a protected account as requested', () => {
    // Act
    const already = completeTask(claimed(), {
      at: T0 + 11 * HOUR,
      holder: 'worker-a',
      outcome: 'already_following',
    });
    const requested = completeTask(claimed(), {
      at: T0 + 11 * HOUR,
      holder: 'worker-a',
      outcome: 'requested',
    });
    const gone = completeTask(claimed(), { at: T0 + 11 * HOUR, holder: 'worker-a', outcome: 'gone' });

    // Assess
    expect([already.state, requested.state, gone.state]).toEqual(['done', 'requested', 'gone']);
    expect(gone.doneAt).toBeUndefined();
    expect(gone.closedAt).toBe(T0 + 11 * HOUR);
  });

  it('refuses done -> scheduled with a named error and leaves the task as it was', () => {
    // Prepare
    const done = completeTask(claimed(), { at: T0 + 11 * HOUR, holder: 'worker-a', outcome: 'followed' });
    const snapshot = structuredClone(done);

    // Act
    const error = caught(() =>
      releaseTask(done, { at: T0 + 12 * HOUR, holder: 'worker-a', retryAt: T0 + 13 * HOUR }),
    );

    // Assess
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error).toMatchObject({ name: 'IllegalTransitionError', from: 'done', to: 'scheduled' });
    expect(done).toEqual(snapshot);
  });

  it('keeps every final state final, whatever is attempted', () => {
    const finals = FINAL_STATES;
    const attempts: Array<(task: FollowTask) => unknown> = [
      (t) => approveTask(t, { at: T0, plan: PLAN }),
      (t) => rejectTask(t, { at: T0 }),
      (t) => skipTask(t, { at: T0, reason: 'deny_list', detail: 'x' }),
      (t) => claimTask(t, { at: T0, holder: 'w', leaseMs: 1 }),
      (t) => completeTask(t, { at: T0, holder: 'w', outcome: 'followed' }),
      (t) => failTask(t, { at: T0, holder: 'w', error: 'boom', retryAt: T0 + 1, maxAttempts: 5 }),
      (t) => releaseTask(t, { at: T0, holder: 'w', retryAt: T0 + 1 }),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...finals), fc.constantFrom(...attempts), (state, attempt) => {
        // Prepare
        const task: FollowTask = { ...scheduled(), state, lease: { holder: 'w', until: T0 + HOUR } };

        // Act
        const error = caught(() => attempt(task));

        // Assess
        expect(error).toBeInstanceOf(IllegalTransitionError);
      }),
    );
  });

  it('allows exactly the transitions of the table', () => {
    // Assess
    for (const from of TASK_STATES) {
      expect(isFinal(from)).toBe(FINAL_STATES.includes(from));
      for (const to of TASK_STATES) {
        if (isFinal(from)) expect(canTransition(from, to)).toBe(false);
      }
    }
    expect(canTransition('pending_approval', 'scheduled')).toBe(true);
    expect(canTransition('pending_approval', 'in_progress')).toBe(false);
    expect(canTransition('scheduled', 'done')).toBe(false);
  });

  it('starts the promise clock at approval', () => {
    // Prepare
    const pending = createPendingTask({ targetId: '42', detectedAt: T0, profile: PROFILE });
    const approvedAt = T0 + 30 * HOUR;

    // Act
    const approved = approveTask(pending, {
      at: approvedAt,
      plan: {
        windowStart: approvedAt + 2 * HOUR,
        dueAt: approvedAt + 5 * HOUR,
        deadline: approvedAt + 72 * HOUR,
      },
    });

    // Assess
    expect(pending.deadline).toBeUndefined();
    expect(approved).toMatchObject({ state: 'scheduled', approvedAt, deadline: approvedAt + 72 * HOUR });
    expect(promiseStartOf(approved)).toBe(approvedAt);
    expect(promiseStartOf({ detectedAt: T0, followedAt: T0 - HOUR })).toBe(T0 - HOUR);
  });

  it('records the owner declining as a skip with its reason', () => {
    // Prepare
    const pending = createPendingTask({ targetId: '42', detectedAt: T0, profile: PROFILE });

    // Act
    const rejected = rejectTask(pending, { at: T0 + HOUR });

    // Assess
    expect(rejected).toMatchObject({
      state: 'skipped',
      skipReason: 'rejected_by_owner',
      closedAt: T0 + HOUR,
    });
    expect(caught(() => rejectTask(scheduled(), { at: T0 }))).toBeInstanceOf(IllegalTransitionError);
  });

  it('retries a transient failure after its backoff, then fails with the error after N attempts', () => {
    // Prepare
    let task = scheduled();
    const states: string[] = [];

    // Act
    for (let i = 0; i < 3; i++) {
      task = claimTask(task, { at: T0 + i * HOUR, holder: 'w', leaseMs: 60_000 });
      task = failTask(task, {
        at: T0 + i * HOUR + 1,
        holder: 'w',
        error: `503 #${i}`,
        retryAt: T0 + (i + 0.5) * HOUR,
        maxAttempts: 3,
      });
      states.push(task.state);
    }

    // Assess
    expect(states).toEqual(['scheduled', 'scheduled', 'failed']);
    expect(task).toMatchObject({ attempts: 3, lastError: '503 #2', closedAt: T0 + 2 * HOUR + 1 });
  });

  it('gives a task back on a 429 without counting the attempt', () => {
    // Prepare
    const task = claimed();

    // Act
    const released = releaseTask(task, { at: T0, holder: 'worker-a', retryAt: T0 + HOUR });

    // Assess
    expect(released).toMatchObject({ state: 'scheduled', attempts: 0, retryAt: T0 + HOUR, lease: undefined });
  });

  it('lets another worker take over only after the lease expired, and refuses the stale holder', () => {
    // Prepare
    const task = claimed('worker-a'); // lease until dueAt + 60 s

    // Act
    const early = caught(() =>
      claimTask(task, { at: PLAN.dueAt + 30_000, holder: 'worker-b', leaseMs: 60_000 }),
    );
    const takeover = claimTask(task, { at: PLAN.dueAt + 61_000, holder: 'worker-b', leaseMs: 60_000 });
    const stale = caught(() =>
      completeTask(takeover, { at: PLAN.dueAt + 62_000, holder: 'worker-a', outcome: 'followed' }),
    );

    // Assess
    expect(early).toBeInstanceOf(LeaseHeldError);
    expect(takeover).toMatchObject({ state: 'in_progress', attempts: 2, lease: { holder: 'worker-b' } });
    expect(stale).toBeInstanceOf(IllegalTransitionError);
  });

  it('skips a follower who left before the follow-back, from any open state', () => {
    // Act
    const fromPending = skipTask(createPendingTask({ targetId: '7', detectedAt: T0, profile: PROFILE }), {
      at: T0 + HOUR,
      reason: 'left_before_followback',
      detail: 'no longer follows',
    });
    const fromWorker = skipTask(claimed(), {
      at: PLAN.dueAt + 1,
      reason: 'left_before_followback',
      detail: 'no longer follows',
      holder: 'worker-a',
    });
    const byOther = caught(() =>
      skipTask(claimed(), { at: PLAN.dueAt + 1, reason: 'deny_list', detail: 'denied', holder: 'someone' }),
    );

    // Assess
    expect([fromPending.state, fromWorker.state]).toEqual(['skipped', 'skipped']);
    expect(fromWorker.skipReason).toBe('left_before_followback');
    expect(byOther).toBeInstanceOf(LeaseHeldError);
  });

  it('records a skip at birth, expires old approvals and explains every reason', () => {
    // Act
    const skipped = createSkippedTask(
      { targetId: '9', detectedAt: T0, profile: PROFILE },
      { reason: 'spam_keyword', detail: 'profile contains "crypto"' },
    );
    const pending = createPendingTask({ targetId: '9', detectedAt: T0, profile: PROFILE });

    // Assess
    expect(skipped).toMatchObject({ state: 'skipped', skipReason: 'spam_keyword', closedAt: T0 });
    expect(isApprovalExpired(pending, 30, T0 + 31 * 24 * HOUR)).toBe(true);
    expect(isApprovalExpired(pending, 30, T0 + 29 * 24 * HOUR)).toBe(false);
    expect(isApprovalExpired(pending, null, T0 + 999 * 24 * HOUR)).toBe(false);
    for (const reason of SKIP_REASONS) expect(SKIP_REASON_TEXT[reason].length).toBeGreaterThan(0);
  });

  it('keeps the profile facts an approval needs from the platform user', () => {
    // Act
    const profile = taskProfileOf({
      id: '42',
      handle: 'bob',
      name: 'Bob',
      bio: 'potter',
      protected: true,
      followersCount: 10,
      followingCount: 20,
      createdAt: T0,
      defaultAvatar: false,
      bot: false,
    });

    // Assess
    expect(profile).toMatchObject({
      handle: 'bob',
      name: 'Bob',
      bio: 'potter',
      protected: true,
      followersCount: 10,
    });
    expect(profile).not.toHaveProperty('id');
  });
});
