/**
 * Invariants 1, 2, 4 and 6 of DESIGN.md section 10 when a follow's outcome is not known: a lost
 * answer is settled by looking at once (never by calling again after a backoff), a crashed worker's
 * call is settled by looking before anything else, a follow the engine made is never taken for the
 * owner's own, and a target that refuses the follow is a final outcome.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AccountHarness,
  type AccountHarnessOptions,
  AUTO_POLICY,
  followEffects as effectsFor,
  gainFollowers,
  HOUR,
  InjectedCrash,
  MINUTE,
  recordFollowAttempts,
  runTicks,
  startAccountHarness,
  taskOf,
} from '../support/account-harness.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';

const db = useDynamoBackend(dynaliteBackend);
let harness: AccountHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(options: AccountHarnessOptions = {}): Promise<AccountHarness> {
  harness = await startAccountHarness(db, {
    ...options,
    policy: { ...AUTO_POLICY, promise: { notBeforeHours: 1, withinHours: 24 }, ...options.policy },
    observe: { detectionDelayHours: 1, ...options.observe },
  });
  for (let i = 0; i < 4; i += 1) {
    await harness.tick();
    harness.clock.advance(15 * MINUTE);
  }
  return harness;
}

/** Ticks until the first follow call was made (and failed or crashed). */
async function tickUntilFirstCall(h: AccountHarness, calls: () => number): Promise<void> {
  for (let i = 0; i < 200 && calls() === 0; i += 1) {
    h.clock.advance(15 * MINUTE);
    await h.tick().catch((error) => {
      if (!(error instanceof InjectedCrash)) throw error;
    });
  }
  expect(calls()).toBeGreaterThan(0);
}

describe('a follow whose answer was lost', () => {
  it('is settled by looking at once, so an undo by the owner during the backoff is never overridden', async () => {
    // Prepare: X makes the follow but the answer is lost; the owner undoes it right after that tick
    const h = await start({ platformTimeoutMs: 300 });
    const [target] = gainFollowers(h, 1);
    h.sandbox.faults.add({ endpoint: 'follow', kind: 'timeout', apply: true, holdMs: 1_000 });
    const attempts = recordFollowAttempts(h);
    await tickUntilFirstCall(h, () => attempts.length);
    h.world.ownerUnfollows(h.owner.id, target!);

    // Act
    await runTicks(h, 30 * HOUR);

    // Assess: one follow on X, no second call, the task done (the follow-back was made)
    expect(effectsFor(h, target!)).toBe(1);
    expect(attempts).toHaveLength(1);
    expect((await taskOf(h, target!)).state).toBe('done');
  });
});

describe('a follow request whose answer was lost', () => {
  it('is settled as requested though the follower left, since X shows no requests to look at', async () => {
    // Prepare: a protected follower; X sends the request but its answer is cut short; the follower
    // leaves right after, and a full scan sees it
    const h = await start({
      observe: { fullScanMinDays: 0 },
      policy: { retry: { maxAttempts: 5, baseDelayMinutes: 180, maxDelayMinutes: 360 } },
    });
    const [target] = gainFollowers(h, 1, { protected: true });
    h.sandbox.faults.add({ endpoint: 'follow', kind: 'truncated', apply: true });
    const attempts = recordFollowAttempts(h);
    await tickUntilFirstCall(h, () => attempts.length);
    h.world.userUnfollows(target!, h.owner.id);

    // Act
    await runTicks(h, 8 * HOUR);

    // Assess: one request on X; the task says a request is pending, not that they left unasked
    expect(effectsFor(h, target!)).toBe(1);
    expect(h.world.isPending(h.owner.id, target!)).toBe(true);
    const task = await taskOf(h, target!);
    expect(task.state).toBe('requested');
  });
});

describe('a worker that died right after its follow call', () => {
  function crashAfterFollow(h: AccountHarness): () => number {
    const follow = h.platform.follow.bind(h.platform);
    let calls = 0;
    h.platform.follow = async (source, target) => {
      const result = await follow(source, target);
      calls += 1;
      if (calls === 1) throw new InjectedCrash('worker died after the follow call');
      return result;
    };
    return () => calls;
  }

  it('is not followed again when the owner undid the follow before the next claim looked', async () => {
    // Prepare
    const h = await start();
    const [target] = gainFollowers(h, 1);
    const calls = crashAfterFollow(h);
    await tickUntilFirstCall(h, calls);
    h.world.ownerUnfollows(h.owner.id, target!);

    // Act
    await runTicks(h, 30 * HOUR);

    // Assess: never followed twice; the task says why it was not retried
    expect(effectsFor(h, target!)).toBe(1);
    expect(calls()).toBe(1);
    const task = await taskOf(h, target!);
    expect(task.state).toBe('skipped');
    expect(task.skipReason).toBe('outcome_unknown');
  });

  it('is recorded as the engine’s follow-back, not the owner’s, when a following scan sees it first', async () => {
    // Prepare: the crash, then a full scan of the owner's following list is due on the next tick
    const h = await start({ observe: { fullScanMinDays: 0 } });
    const [target] = gainFollowers(h, 1);
    const calls = crashAfterFollow(h);
    await tickUntilFirstCall(h, calls);
    const stored = await h.store.getState(h.account);
    const observe = stored!.state.observe;
    await h.store.putState(
      h.account,
      {
        ...stored!.state,
        lease: undefined,
        observe: {
          ...observe,
          nextFullScanCheckAt: 0,
          graphs: {
            ...observe.graphs,
            following: { ...observe.graphs.following, lastFullScanAt: 0 },
            followers: { ...observe.graphs.followers, lastFullScanAt: h.clock.now() },
          },
        },
      },
      stored!.version,
    );

    // Act
    h.clock.advance(15 * MINUTE);
    const report = await h.tick();
    await runTicks(h, 2 * HOUR);

    // Assess: the scan saw the follow, and the task ended as the follow-back it was
    expect(report.ran && report.observe.ownerFollowed).toContain(target);
    expect(effectsFor(h, target!)).toBe(1);
    const task = await taskOf(h, target!);
    expect(task.state).toBe('done');
    expect(task.skipReason).toBeUndefined();
  });
});

describe('a target that refuses the follow', () => {
  it('is recorded once as refused, not retried as a malformed answer', async () => {
    // Prepare: the follower blocks the owner; X answers 200 with neither a follow nor a request
    const h = await start();
    const [target] = gainFollowers(h, 1);
    h.world.blockOwner(target!, h.owner.id);
    const attempts = recordFollowAttempts(h);

    // Act
    const reports = await runTicks(h, 30 * HOUR);

    // Assess
    expect(attempts.map((attempt) => attempt.result)).toEqual(['refused']);
    const task = await taskOf(h, target!);
    expect(task.state).toBe('skipped');
    expect(task.skipReason).toBe('refused_by_target');
    expect(reports.reduce((sum, r) => sum + (r.ran ? r.act.refused : 0), 0)).toBe(1);
  });
});
