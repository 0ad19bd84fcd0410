/**
 * The follow-back engine end to end (observe → reconcile → act on the X sandbox, DynamoDB on
 * dynalite), attacked on DESIGN.md section 10's invariants 1–4: no follow twice, never whom the owner
 * does not want, no cap or platform limit exceeded, every new follower in one final state and
 * reported. Ground truth is the sandbox world: every follow call that reached X, with its outcome.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FollowOutcome } from '../../sandbox/world.ts';
import { silentLogger } from '../../shared/adapters/logger.ts';
import { act } from '../../shared/app/engine/act.ts';
import { policyOf } from '../../shared/app/engine/policy-of.ts';
import { accountStatus } from '../../shared/app/engine/status.ts';
import { acquireLease } from '../../shared/app/lease.ts';
import type { TickReport } from '../../shared/app/tick.ts';
import { FINAL_STATES, type FollowTask, keptPromise } from '../../shared/domain/engine/task.ts';
import { ConflictError } from '../../shared/domain/errors.ts';
import {
  type AccountHarness,
  type AccountHarnessOptions,
  AUTO_POLICY,
  DAY,
  gainFollowers,
  HOUR,
  MINUTE,
  maxInWindow,
  NO_SPAM_FILTERS,
  recordFollowAttempts,
  runTicks,
  startAccountHarness,
} from '../support/account-harness.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';

const db = useDynamoBackend(dynaliteBackend);
let harness: AccountHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/**
 * An auto-mode account, connected (baselines taken), detecting new followers within the hour, with
 * a one-day promise (follow-backs between 1 and 24 hours after detection) to keep the runs short.
 */
async function start(
  options: AccountHarnessOptions & { policy?: Record<string, unknown> } = {},
): Promise<AccountHarness> {
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

/** What X recorded for follow calls to `targetId`, in order. */
function outcomesFor(h: AccountHarness, targetId: string): FollowOutcome[] {
  return h.world
    .followCalls(h.owner.id)
    .filter((call) => call.targetId === targetId)
    .map((call) => call.outcome);
}

/** Follows (or requests) that took effect on X for `targetId`: must never exceed one. */
function effectsFor(h: AccountHarness, targetId: string): number {
  return outcomesFor(h, targetId).filter((outcome) => outcome === 'followed' || outcome === 'pending').length;
}

async function taskOf(h: AccountHarness, targetId: string): Promise<FollowTask> {
  const stored = await h.store.getTask(h.account, targetId);
  if (!stored) throw new Error(`no task for ${targetId}`);
  return stored.task;
}

async function statesOf(h: AccountHarness, ids: readonly string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await taskOf(h, id)).state));
}

describe('invariant 1: no account follows the same user twice', () => {
  it('follows each new follower back once when every tick is delivered twice in a row', async () => {
    // Prepare
    const h = await start();
    const ids = gainFollowers(h, 12);

    // Act: each scheduled tick arrives twice (SQS at-least-once), a second worker taking the copy
    const seconds: TickReport[] = [];
    for (let i = 0; i < 120; i += 1) {
      h.clock.advance(15 * MINUTE);
      await h.tick({ worker: 'a' });
      seconds.push(await h.tick({ worker: 'b' }));
    }

    // Assess: everyone followed back once; the copies found nothing to do
    expect(ids.map((id) => effectsFor(h, id))).toEqual(ids.map(() => 1));
    expect(h.sandbox.stats.snapshot().totals.duplicateFollowCalls).toBe(0);
    expect(await statesOf(h, ids)).toEqual(ids.map(() => 'done'));
    const secondFollows = seconds.reduce((sum, report) => sum + (report.ran ? report.act.followed : 0), 0);
    expect(secondFollows).toBe(0);
  });

  it('follows each new follower back once when two workers take the same tick at once', async () => {
    // Prepare
    const h = await start();
    const ids = gainFollowers(h, 12);

    // Act
    const outcomes: TickReport[][] = [];
    for (let i = 0; i < 120; i += 1) {
      h.clock.advance(15 * MINUTE);
      outcomes.push(await Promise.all([h.tick({ worker: 'a' }), h.tick({ worker: 'b' })]));
    }

    // Assess: at most one of each pair ran; everyone was followed back once
    for (const pair of outcomes) expect(pair.filter((report) => report.ran).length).toBeLessThanOrEqual(1);
    expect(ids.map((id) => effectsFor(h, id))).toEqual(ids.map(() => 1));
    expect(h.sandbox.stats.snapshot().totals.duplicateFollowCalls).toBe(0);
    expect(await statesOf(h, ids)).toEqual(ids.map(() => 'done'));
  });

  it('follows once, and within the caps, when a stalled worker and its successor act at the same time', async () => {
    // Prepare: 20 follow-backs all due; worker a's account lease runs out while it stalls, b takes over
    const h = await start();
    const ids = gainFollowers(h, 20);
    await runTicks(h, HOUR);
    expect(h.world.followCalls(h.owner.id)).toEqual([]);
    h.clock.advance(21 * HOUR);
    const policy = policyOf(h.account);
    const a = await acquireLease(h.store, h.account, 'a', h.clock.now(), MINUTE);
    h.clock.advance(2 * MINUTE);
    const b = await acquireLease(h.store, h.account, 'b', h.clock.now(), 5 * MINUTE);
    if (!a.acquired || !b.acquired) throw new Error('both leases should be granted');
    const deps = {
      platform: h.platform,
      store: h.store,
      tasks: h.store,
      clock: h.clock,
      logger: silentLogger,
    };
    const options = (worker: string) => ({ worker, timeLeftMs: () => 60_000, appDailyCap: 900 });

    // Act: both act on the same due tasks concurrently
    const [byA, byB] = await Promise.allSettled([
      act(h.account, policy, a.cell, deps, options('a')),
      act(h.account, policy, b.cell, deps, options('b')),
    ]);

    // Assess: the task claims and the limiter let each follow happen once, and the two workers
    // together took no more than one worker may (the pace bucket's burst); a's late commit is fenced
    const calls = h.world.followCalls(h.owner.id);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.length).toBeLessThanOrEqual(policy.caps.paceBurst);
    expect(new Set(calls.map((call) => call.targetId)).size).toBe(calls.length);
    expect(byA.status).toBe('rejected');
    expect((byA as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect(byB.status).toBe('fulfilled');

    // Act: the account carries on as usual
    await runTicks(h, 30 * HOUR);

    // Assess
    expect(ids.map((id) => effectsFor(h, id))).toEqual(ids.map(() => 1));
    expect(await statesOf(h, ids)).toEqual(ids.map(() => 'done'));
  });
});

describe('invariant 2: nobody the owner unfollowed, or on the deny list, is followed', () => {
  it('skips followers on the deny list, by handle or by id', async () => {
    // Prepare
    const h = await start();
    const byHandle = h.world.createUser();
    const byId = h.world.createUser();
    const welcome = h.world.createUser();
    h.account.policy = {
      ...h.account.policy,
      denyList: [`@${byHandle.username.toUpperCase()}`, `id:${byId.id}`],
    };
    await h.store.putAccount(h.account);
    for (const user of [byHandle, byId, welcome]) h.world.userFollows(user.id, h.owner.id);

    // Act
    await runTicks(h, 30 * HOUR);

    // Assess
    expect(outcomesFor(h, byHandle.id)).toEqual([]);
    expect(outcomesFor(h, byId.id)).toEqual([]);
    expect(outcomesFor(h, welcome.id)).toEqual(['followed']);
    expect((await taskOf(h, byHandle.id)).skipReason).toBe('deny_list');
    expect((await taskOf(h, byId.id)).skipReason).toBe('deny_list');
  });

  it('does not follow someone put on the deny list after their follow-back was planned', async () => {
    // Prepare: the follow-back is scheduled, then the owner denies them
    const h = await start();
    const [target] = gainFollowers(h, 1);
    await runTicks(h, HOUR);
    expect((await taskOf(h, target!)).state).toBe('scheduled');
    h.account.policy = { ...h.account.policy, denyList: [`id:${target}`] };
    await h.store.putAccount(h.account);

    // Act
    const reports = await runTicks(h, 30 * HOUR);

    // Assess
    expect(outcomesFor(h, target!)).toEqual([]);
    const task = await taskOf(h, target!);
    expect(task.state).toBe('skipped');
    expect(task.skipReason).toBe('deny_list');
    expect(reports.reduce((sum, report) => sum + (report.ran ? report.act.denied : 0), 0)).toBe(1);
  });

  it('never follows again someone it followed back and the owner then unfollowed, even when they follow anew', async () => {
    // Prepare: followed back; the owner unfollows them; full scans see it
    const h = await start({ observe: { fullScanMinDays: 0.5 } });
    const [target] = gainFollowers(h, 1);
    await runTicks(h, DAY);
    expect(outcomesFor(h, target!)).toEqual(['followed']);
    h.world.ownerUnfollows(h.owner.id, target!);
    await runTicks(h, DAY);

    // Act: they leave, are seen leaving, and follow again
    h.world.userUnfollows(target!, h.owner.id);
    await runTicks(h, DAY);
    h.world.userFollows(target!, h.owner.id);
    await runTicks(h, 30 * HOUR);

    // Assess
    expect(outcomesFor(h, target!)).toEqual(['followed']);
    expect(h.world.isFollowing(h.owner.id, target!)).toBe(false);
  });

  it('does not follow back someone the owner unfollowed before they followed', async () => {
    // Prepare: the owner unfollows someone they followed who does not follow them; a full scan sees it
    const h = await start({ observe: { fullScanMinDays: 0.5 } });
    const followers = new Set(h.world.followerIds(h.owner.id));
    const target = h.world.followingIds(h.owner.id).find((id) => !followers.has(id))!;
    h.world.ownerUnfollows(h.owner.id, target);
    await runTicks(h, DAY);

    // Act: they follow the owner
    h.world.userFollows(target, h.owner.id);
    await runTicks(h, 30 * HOUR);

    // Assess
    expect(outcomesFor(h, target)).toEqual([]);
    const task = await taskOf(h, target);
    expect(task.state).toBe('skipped');
    expect(task.skipReason).toBe('owner_unfollowed');
  });
});

describe('invariant 3: no cap or platform limit is exceeded', () => {
  it('keeps a backlog within the 15-minute and daily caps and gets no 429 from X', async () => {
    // Prepare: X's limits scaled down (6 per 15 minutes, 30 a day) with caps just below them, and a
    // burst of 60 new followers, more than two days of follows
    const h = await start({
      policy: { caps: { per15Minutes: 5, perDay: 24 }, promise: { notBeforeHours: 1, withinHours: 72 } },
      server: { limits: { perWindow: { follow: 6 }, followsPerDayPerUser: 30 } },
    });
    const ids = gainFollowers(h, 60);

    // Act
    await runTicks(h, 4 * DAY);

    // Assess: counted from X's own record of the follow calls
    const times = h.world.followCalls(h.owner.id).map((call) => call.at);
    expect(times).toHaveLength(60);
    expect(maxInWindow(times, 15 * MINUTE)).toBeLessThanOrEqual(5);
    expect(maxInWindow(times, DAY)).toBeLessThanOrEqual(24);
    expect(h.sandbox.stats.snapshot().totals.rateLimited).toBe(0);
    expect(ids.map((id) => effectsFor(h, id))).toEqual(ids.map(() => 1));
    const tasks = await Promise.all(ids.map((id) => taskOf(h, id)));
    expect(tasks.filter((task) => keptPromise(task) !== true)).toEqual([]);
  });

  it('stops at every 429 until X’s reset, and follows everyone once after the storm', async () => {
    // Prepare: the next eight follow calls are refused with 429
    const h = await start();
    const ids = gainFollowers(h, 30);
    await runTicks(h, 4 * HOUR);
    const attempts = recordFollowAttempts(h);
    h.sandbox.faults.add({ endpoint: 'follow', kind: '429', times: 8 });

    // Act
    await runTicks(h, 30 * HOUR);

    // Assess: no follow call between a 429 and the reset X gave
    const limited = attempts.filter((attempt) => attempt.result === 'RateLimitedError');
    expect(limited).toHaveLength(8);
    for (const refusal of limited) {
      const early = attempts.filter((attempt) => attempt.at > refusal.at && attempt.at < refusal.resetAt!);
      expect(early).toEqual([]);
    }
    expect(ids.map((id) => effectsFor(h, id))).toEqual(ids.map(() => 1));
    expect(await statesOf(h, ids)).toEqual(ids.map(() => 'done'));
    expect(h.sandbox.stats.snapshot().totals.rateLimited).toBe(8);
  });

  it.each([
    { window: '15-minute', limits: { perWindow: { follow: 3 } }, windowMs: 15 * MINUTE, followers: 30 },
    { window: '24-hour', limits: { followsPerDayPerUser: 6 }, windowMs: DAY, followers: 12 },
  ])('waits for each reset when X’s real $window limit is lower than the configured caps', async (c) => {
    // Prepare: X allows fewer follows than the caps (40 per 15 minutes, 350 a day) would take, and the
    // follow-backs all fall due within the same two hours
    const h = await start({
      server: { limits: c.limits },
      policy: { promise: { notBeforeHours: 1, withinHours: 3 } },
    });
    const ids = gainFollowers(h, c.followers);
    const attempts = recordFollowAttempts(h);

    // Act
    const runMs = 3 * DAY;
    await runTicks(h, runMs);

    // Assess: X refused some; the engine made no call before the reset X gave, so it met at most one
    // refusal per window of X; everyone was followed back once
    const refusals = attempts.filter((attempt) => attempt.result === 'RateLimitedError');
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.length).toBeLessThanOrEqual(Math.ceil(runMs / c.windowMs));
    for (const refusal of refusals) {
      const early = attempts.filter((attempt) => attempt.at > refusal.at && attempt.at < refusal.resetAt!);
      expect(early).toEqual([]);
    }
    expect(ids.map((id) => effectsFor(h, id))).toEqual(ids.map(() => 1));
  });
});

describe('serving what is due', () => {
  it('follows back a due follower even when more than a read’s worth of earlier-deadline ones are not due yet', async () => {
    // Prepare: 101 follow-backs planned; the 100 with the earliest deadline fall due in 10 hours, the
    // last one (deadline a minute later) is due now. This is what a big approved backlog looks like
    // (one deadline, due times spread over the first half of the window) next to a newer follower.
    const h = await start();
    const ids = gainFollowers(h, 101);
    await runTicks(h, HOUR);
    const now = h.clock.now();
    const stored = await Promise.all(ids.map(async (id) => (await h.store.getTask(h.account, id))!));
    expect(stored.map((entry) => entry.task.state)).toEqual(ids.map(() => 'scheduled'));
    const deadline = now + 20 * HOUR;
    const [due, ...later] = stored;
    for (const entry of later) {
      await h.store.putTask(
        h.account,
        { ...entry.task, windowStart: now, dueAt: now + 10 * HOUR, deadline },
        entry.version,
      );
    }
    await h.store.putTask(
      h.account,
      { ...due!.task, windowStart: now, dueAt: now, deadline: deadline + MINUTE },
      due!.version,
    );

    // Act: the next two hours, well before the others fall due
    await runTicks(h, 2 * HOUR);

    // Assess
    expect(outcomesFor(h, due!.task.targetId)).toEqual(['followed']);
  });
});

describe('invariant 4: every new follower reaches one final state and is reported', () => {
  it('requests a protected account once and records the request as final', async () => {
    // Prepare
    const h = await start();
    const [target] = gainFollowers(h, 1, { protected: true });

    // Act
    await runTicks(h, 30 * HOUR);

    // Assess
    expect(outcomesFor(h, target!)).toEqual(['pending']);
    expect(h.world.isPending(h.owner.id, target!)).toBe(true);
    expect((await taskOf(h, target!)).state).toBe('requested');
  });

  it.each(['deleted', 'suspended'] as const)(
    'records a follower %s before the follow-back as gone',
    async (fate) => {
      // Prepare: detected and planned, then the account disappears
      const h = await start();
      const [target] = gainFollowers(h, 1);
      await runTicks(h, HOUR);
      expect((await taskOf(h, target!)).state).toBe('scheduled');
      if (fate === 'deleted') h.world.deleteUser(target!);
      else h.world.suspendUser(target!);

      // Act
      await runTicks(h, 30 * HOUR);

      // Assess
      expect(h.world.isFollowing(h.owner.id, target!)).toBe(false);
      expect((await taskOf(h, target!)).state).toBe('gone');
    },
  );

  it('does not follow back a follower who left before the due time', async () => {
    // Prepare: follow-backs come 12 hours at the earliest; full scans every 6 hours see who left
    const h = await start({
      policy: { promise: { notBeforeHours: 12, withinHours: 36 } },
      observe: { fullScanMinDays: 0.25 },
    });
    const [leaver, stayer] = gainFollowers(h, 2);
    await runTicks(h, HOUR);
    expect(await statesOf(h, [leaver!, stayer!])).toEqual(['scheduled', 'scheduled']);

    // Act
    h.world.userUnfollows(leaver!, h.owner.id);
    await runTicks(h, 30 * HOUR);

    // Assess
    expect(outcomesFor(h, leaver!)).toEqual([]);
    expect(outcomesFor(h, stayer!)).toEqual(['followed']);
    const task = await taskOf(h, leaver!);
    expect(task.state).toBe('skipped');
    expect(task.skipReason).toBe('left_before_followback');
  });

  it('follows back a follower who left and followed again before the due time', async () => {
    // Prepare: a full scan sees them gone, a later one sees them back, all before the due time
    const h = await start({
      policy: { promise: { notBeforeHours: 20, withinHours: 36 } },
      observe: { fullScanMinDays: 0.25 },
    });
    const [returner] = gainFollowers(h, 1);
    await runTicks(h, HOUR);
    h.world.userUnfollows(returner!, h.owner.id);
    await runTicks(h, 8 * HOUR);
    h.world.userFollows(returner!, h.owner.id);

    // Act
    await runTicks(h, 30 * HOUR);

    // Assess
    expect(outcomesFor(h, returner!)).toEqual(['followed']);
    expect((await taskOf(h, returner!)).state).toBe('done');
  });

  it('gives every kind of new follower exactly one final state, each reported once by a tick', async () => {
    // Prepare: ordinary, protected, spam-like, denied, deleted and leaving followers
    const h = await start({
      policy: { promise: { notBeforeHours: 12, withinHours: 36 } },
      observe: { fullScanMinDays: 0.25 },
    });
    const ordinary = gainFollowers(h, 6);
    const protectedOnes = gainFollowers(h, 2, { protected: true });
    const denied = h.world.createUser();
    const spammer = h.world.createUser({ spam: true });
    h.account.policy = {
      ...h.account.policy,
      denyList: [`id:${denied.id}`],
      spam: { ...NO_SPAM_FILTERS, keywords: { action: 'skip', words: [spammer.username] } },
    };
    await h.store.putAccount(h.account);
    h.world.userFollows(denied.id, h.owner.id);
    h.world.userFollows(spammer.id, h.owner.id);
    const doomed = gainFollowers(h, 2);
    const reports: TickReport[] = [];
    await runTicks(h, HOUR, { onReport: (report) => reports.push(report) });
    h.world.deleteUser(doomed[0]!);
    h.world.userUnfollows(doomed[1]!, h.owner.id);

    // Act
    await runTicks(h, 30 * HOUR, { onReport: (report) => reports.push(report) });

    // Assess: every task is final, and the ticks' reports add up to exactly those final states
    const all = [...ordinary, ...protectedOnes, denied.id, spammer.id, ...doomed];
    const tasks = await Promise.all(all.map((id) => taskOf(h, id)));
    expect(tasks.every((task) => FINAL_STATES.includes(task.state))).toBe(true);
    let reported = 0;
    for (const report of reports) {
      if (!report.ran) continue;
      const { reconcile, act: acted } = report;
      reported += Object.values(reconcile.skipped).reduce((sum, n) => sum + (n ?? 0), 0);
      reported += reconcile.closed;
      reported +=
        acted.followed +
        acted.requested +
        acted.gone +
        acted.alreadyFollowing +
        acted.leftBeforeFollowBack +
        acted.denied +
        acted.failed;
    }
    expect(reported).toBe(all.length);
    const status = await accountStatus(h.account, { tasks: h.store, state: h.store }, h.clock.now());
    expect(status.tasks.done).toBe(ordinary.length);
    expect(status.tasks.requested).toBe(protectedOnes.length);
    expect(status.skipsByReason.deny_list).toBe(1);
    expect(status.skipsByReason.spam_keyword).toBe(1);
    expect(status.tasks.gone + (status.skipsByReason.left_before_followback ?? 0)).toBe(doomed.length);
    expect(all.map((id) => effectsFor(h, id)).reduce((a, b) => a + b, 0)).toBe(
      ordinary.length + protectedOnes.length,
    );
  });
});
