/**
 * `approve` mode (X's default) end to end: follow-backs wait for the owner; the promise clock starts
 * at approval; a decision taken twice (double click, retried request, a crash half-way) changes each
 * task once; unknown or already decided targets are reported, never half-applied.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FollowOutcome } from '../../sandbox/world.ts';
import { decideApprovals, listCandidates } from '../../shared/app/engine/approve.ts';
import { accountStatus } from '../../shared/app/engine/status.ts';
import type { FollowTask } from '../../shared/domain/engine/task.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import {
  type AccountHarness,
  type AccountHarnessOptions,
  DAY,
  gainFollowers,
  HOUR,
  MINUTE,
  NO_SPAM_FILTERS,
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

/** An X account on its default mode (approve), connected, with a one-day promise. */
async function start(options: AccountHarnessOptions = {}): Promise<AccountHarness> {
  harness = await startAccountHarness(db, {
    ...options,
    policy: { spam: NO_SPAM_FILTERS, promise: { notBeforeHours: 1, withinHours: 24 }, ...options.policy },
    observe: { detectionDelayHours: 1, ...options.observe },
  });
  for (let i = 0; i < 4; i += 1) {
    await harness.tick();
    harness.clock.advance(15 * MINUTE);
  }
  return harness;
}

function decide(h: AccountHarness, decision: Parameters<typeof decideApprovals>[1]) {
  return decideApprovals(h.account, decision, { tasks: h.store, state: h.store, clock: h.clock });
}

function outcomesFor(h: AccountHarness, targetId: string): FollowOutcome[] {
  return h.world
    .followCalls(h.owner.id)
    .filter((call) => call.targetId === targetId)
    .map((call) => call.outcome);
}

async function stored(h: AccountHarness, targetId: string): Promise<{ task: FollowTask; version: number }> {
  const entry = await h.store.getTask(h.account, targetId);
  if (!entry) throw new Error(`no task for ${targetId}`);
  return entry;
}

const sortedIds = (ids: readonly string[]) => [...ids].sort();

describe('approve mode', () => {
  it('queues follow-backs for approval and follows nobody until the owner approves', async () => {
    // Prepare
    const h = await start();
    const first = gainFollowers(h, 3);
    await runTicks(h, 2 * HOUR);
    const second = gainFollowers(h, 2);

    // Act
    await runTicks(h, 30 * HOUR);

    // Assess: all wait, oldest first, with no plan yet (the promise has not started)
    expect(h.world.followCalls(h.owner.id)).toEqual([]);
    const candidates = await listCandidates(h.store, h.account);
    expect(candidates.map((task) => task.state)).toEqual(candidates.map(() => 'pending_approval'));
    expect(sortedIds(candidates.slice(0, 3).map((task) => task.targetId))).toEqual(sortedIds(first));
    expect(sortedIds(candidates.slice(3).map((task) => task.targetId))).toEqual(sortedIds(second));
    expect(candidates.every((task) => task.deadline === undefined && task.dueAt === undefined)).toBe(true);
    const status = await accountStatus(h.account, { tasks: h.store, state: h.store }, h.clock.now());
    expect(status.mode).toBe('approve');
    expect(status.awaitingApproval).toBe(5);
  });

  it('starts the promise clock at approval and follows back inside the window from then', async () => {
    // Prepare: three candidates have waited a day
    const h = await start();
    const ids = gainFollowers(h, 3);
    await runTicks(h, DAY);
    const approvedAt = h.clock.now();

    // Act
    const result = await decide(h, { approve: ids.slice(0, 2), skip: [] });
    await runTicks(h, 30 * HOUR);

    // Assess: window = approval + [1 h, 24 h]; the one not approved still waits
    expect(sortedIds(result.approved)).toEqual(sortedIds(ids.slice(0, 2)));
    for (const id of ids.slice(0, 2)) {
      const { task } = await stored(h, id);
      expect(task.approvedAt).toBe(approvedAt);
      expect(task.windowStart).toBe(approvedAt + HOUR);
      expect(task.deadline).toBe(approvedAt + 24 * HOUR);
      expect(task.state).toBe('done');
      const [call] = h.world.followCalls(h.owner.id).filter((c) => c.targetId === id);
      expect(call!.at).toBeGreaterThanOrEqual(approvedAt + HOUR);
      expect(call!.at).toBeLessThanOrEqual(approvedAt + 24 * HOUR);
    }
    expect((await stored(h, ids[2]!)).task.state).toBe('pending_approval');
    expect(outcomesFor(h, ids[2]!)).toEqual([]);
  });

  it('changes a task once when the same approval is taken twice in a row', async () => {
    // Prepare
    const h = await start();
    const ids = gainFollowers(h, 2);
    await runTicks(h, 2 * HOUR);
    const first = await decide(h, { approve: ids, skip: [] });
    const afterFirst = await Promise.all(ids.map((id) => stored(h, id)));

    // Act: the same click again, a minute later
    h.clock.advance(MINUTE);
    const again = await decide(h, { approve: ids, skip: [] });

    // Assess
    expect(sortedIds(first.approved)).toEqual(sortedIds(ids));
    expect(again).toEqual({ approved: [], skipped: [], notWaiting: ids });
    expect(await Promise.all(ids.map((id) => stored(h, id)))).toEqual(afterFirst);
  });

  it('changes a task once when two requests approve it at the same time, and follows it back once', async () => {
    // Prepare
    const h = await start();
    const ids = gainFollowers(h, 6);
    await runTicks(h, 2 * HOUR);

    // Act
    const [a, b] = await Promise.all([
      decide(h, { approve: ids, skip: [] }),
      decide(h, { approve: [...ids].reverse(), skip: [] }),
    ]);
    await runTicks(h, 30 * HOUR);

    // Assess: each target approved by exactly one request, reported as not waiting by the other
    expect(sortedIds([...a.approved, ...b.approved])).toEqual(sortedIds(ids));
    expect(sortedIds([...a.approved, ...a.notWaiting])).toEqual(sortedIds(ids));
    expect(sortedIds([...b.approved, ...b.notWaiting])).toEqual(sortedIds(ids));
    for (const id of ids) expect(outcomesFor(h, id)).toEqual(['followed']);
  });

  it('reports unknown targets and targets no longer waiting, and changes nothing for them', async () => {
    // Prepare: one follower already followed back
    const h = await start();
    const [done, waiting] = gainFollowers(h, 2);
    await runTicks(h, 2 * HOUR);
    await decide(h, { approve: [done!], skip: [] });
    await runTicks(h, DAY);
    const before = await stored(h, done!);
    expect(before.task.state).toBe('done');

    // Act
    const result = await decide(h, { approve: ['1234567', done!, waiting!], skip: ['7654321'] });

    // Assess
    expect(result.approved).toEqual([waiting]);
    expect(sortedIds(result.notWaiting)).toEqual(sortedIds(['1234567', done!, '7654321']));
    expect(await stored(h, done!)).toEqual(before);
    expect(await h.store.getTask(h.account, '1234567')).toBeUndefined();
    expect(await h.store.getTask(h.account, '7654321')).toBeUndefined();
  });

  it('skips a declined candidate for good, with the owner’s reason', async () => {
    // Prepare
    const h = await start();
    const [declined, approved] = gainFollowers(h, 2);
    await runTicks(h, 2 * HOUR);

    // Act
    const result = await decide(h, { approve: [approved!], skip: [declined!] });
    await runTicks(h, 30 * HOUR);

    // Assess
    expect(result.skipped).toEqual([declined]);
    const { task } = await stored(h, declined!);
    expect(task.state).toBe('skipped');
    expect(task.skipReason).toBe('rejected_by_owner');
    expect(outcomesFor(h, declined!)).toEqual([]);
    expect(outcomesFor(h, approved!)).toEqual(['followed']);
  });

  it('refuses a decision that approves and skips the same candidate, changing nothing', async () => {
    // Prepare
    const h = await start();
    const ids = gainFollowers(h, 2);
    await runTicks(h, 2 * HOUR);
    const before = await Promise.all(ids.map((id) => stored(h, id)));

    // Act / Assess
    await expect(decide(h, { approve: ids, skip: [ids[1]!] })).rejects.toBeInstanceOf(ValidationError);
    expect(await Promise.all(ids.map((id) => stored(h, id)))).toEqual(before);
  });

  it('approves every waiting candidate with "all", except those skipped in the same decision', async () => {
    // Prepare
    const h = await start();
    const ids = gainFollowers(h, 5);
    await runTicks(h, 2 * HOUR);

    // Act
    const result = await decide(h, { approve: 'all', skip: [ids[0]!] });

    // Assess
    expect(sortedIds(result.approved)).toEqual(sortedIds(ids.slice(1)));
    expect(result.skipped).toEqual([ids[0]]);
    expect(await listCandidates(h.store, h.account)).toEqual([]);
  });

  it('loses no decision when an approval round crashes half-way and is retried', async () => {
    // Prepare: the third task write of the round fails, as if the request died there
    const h = await start();
    const ids = gainFollowers(h, 5);
    await runTicks(h, 2 * HOUR);
    const putTask = h.store.putTask.bind(h.store);
    let writes = 0;
    h.store.putTask = async (ref, task, version) => {
      if (task.state === 'scheduled' && ++writes === 3) throw new Error('request died');
      return putTask(ref, task, version);
    };

    // Act
    await expect(decide(h, { approve: ids, skip: [] })).rejects.toThrow('request died');
    const retried = await decide(h, { approve: ids, skip: [] });
    await runTicks(h, 30 * HOUR);

    // Assess: two approved before the crash are "not waiting"; the rest approved by the retry
    expect(retried.approved).toHaveLength(3);
    expect(sortedIds([...retried.approved, ...retried.notWaiting])).toEqual(sortedIds(ids));
    for (const id of ids) expect(outcomesFor(h, id)).toEqual(['followed']);
  });

  it('skips approvals that waited longer than the policy allows, and never follows them', async () => {
    // Prepare
    const h = await start({ policy: { approvalExpiryDays: 1 } });
    const ids = gainFollowers(h, 2);

    // Act
    await runTicks(h, 3 * DAY);
    const late = await decide(h, { approve: ids, skip: [] });

    // Assess
    for (const id of ids) {
      const { task } = await stored(h, id);
      expect(task.state).toBe('skipped');
      expect(task.skipReason).toBe('approval_expired');
    }
    expect(late.notWaiting).toEqual(ids);
    expect(h.world.followCalls(h.owner.id)).toEqual([]);
  });
});
