/**
 * Invariants 4 and 9 of DESIGN.md section 10 under the faults a messy platform and a tight budget
 * bring: a refused cursor never wedges observation, re-follows are found whatever the anchor does,
 * bursts are read in large pages, a spent cap stops reads without wasted invocations and names
 * itself, and one follower's huge profile never stops the others.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../shared/adapters/logger.ts';
import { acquireLease } from '../../shared/app/lease.ts';
import { observe } from '../../shared/app/observe/observe.ts';
import type { TickReport } from '../../shared/app/tick.ts';
import {
  type AccountHarness,
  type AccountHarnessOptions,
  AUTO_POLICY,
  gainFollowers,
  HOUR,
  MINUTE,
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

async function start(options: AccountHarnessOptions = {}): Promise<AccountHarness> {
  harness = await startAccountHarness(db, {
    ...options,
    policy: { ...AUTO_POLICY, ...options.policy },
    observe: { detectionDelayHours: 1, ...options.observe },
  });
  await runTicks(harness, 2 * HOUR);
  return harness;
}

async function hasTask(h: AccountHarness, id: string): Promise<boolean> {
  return (await h.store.getTask(h.account, id)) !== undefined;
}

async function patchObserve(
  h: AccountHarness,
  patch: (
    observe: NonNullable<Awaited<ReturnType<AccountHarness['store']['getState']>>>['state']['observe'],
  ) => object,
): Promise<void> {
  const stored = await h.store.getState(h.account);
  if (!stored) throw new Error('no state');
  await h.store.putState(
    h.account,
    {
      ...stored.state,
      lease: undefined,
      observe: { ...stored.state.observe, ...patch(stored.state.observe) },
    },
    stored.version,
  );
}

describe('a refused pagination token', () => {
  it('is dropped from a full scan, which starts over, while new followers keep being found', async () => {
    // Prepare: a full scan of followers in progress whose cursor X refuses (400)
    const h = await start({ owner: { initialFollowers: 2_600 } });
    await patchObserve(h, (observe) => ({
      fullScan: {
        kind: 'followers',
        scanId: 'stuck',
        cursor: 'not-a-token-x-ever-gave',
        pages: 1,
        startedAt: h.clock.now(),
        fromSeq: observe.seq,
      },
    }));
    const newcomers = gainFollowers(h, 5);

    // Act
    const reports = await runTicks(h, 6 * HOUR);

    // Assess: the scan started over and finished; the newcomers got their tasks
    const refused = reports.filter((r) => r.ran && r.observe.stopped?.reason === 'cursor_refused');
    expect(refused.length).toBe(1);
    expect(reports.some((r) => r.ran && r.observe.fullScan?.state === 'finished')).toBe(true);
    for (const id of newcomers) expect(await hasTask(h, id)).toBe(true);
  });

  it('is dropped from an interrupted head scan, which starts again from the top', async () => {
    // Prepare
    const h = await start();
    await patchObserve(h, (observe) => ({
      headResume: { cursor: 'not-a-token-x-ever-gave', fromSeq: observe.seq, found: 0 },
    }));
    const newcomers = gainFollowers(h, 5);

    // Act
    await runTicks(h, 3 * HOUR);

    // Assess
    const state = (await h.store.getState(h.account))!.state.observe;
    expect(state.headResume).toBeUndefined();
    for (const id of newcomers) expect(await hasTask(h, id)).toBe(true);
  });
});

describe('re-follows between full scans', () => {
  it('finds a follower who came back just below an anchor member who came back too', async () => {
    // Prepare: a follower from before the connection leaves and follows again; then the newest
    // follower the last head scan saw does the same, so it is listed first
    const h = await start({ owner: { initialFollowers: 300 } });
    const followers = h.world.followerIds(h.owner.id);
    const anchor = (await h.store.getState(h.account))!.state.observe.headAnchor ?? [];
    const returner = followers.find((id) => !anchor.includes(id))!;
    h.world.userUnfollows(returner, h.owner.id);
    h.world.userFollows(returner, h.owner.id);
    h.clock.advance(MINUTE);
    h.world.userUnfollows(anchor[0]!, h.owner.id);
    h.world.userFollows(anchor[0]!, h.owner.id);

    // Act
    await runTicks(h, 3 * HOUR);

    // Assess
    expect(await hasTask(h, returner)).toBe(true);
  });

  it('finds the anchor members of a wave who came back in the order they were listed', async () => {
    // Prepare: a wave takes anchor members and older followers, and brings them back in list order
    // (newest first), so the members come back listed just above the anchor's own block, reversed
    const h = await start({ owner: { initialFollowers: 300, initialMutualShare: 0 } });
    const anchor = (await h.store.getState(h.account))!.state.observe.headAnchor ?? [];
    const members = [1, 3, 6, 7, 9, 12].map((position) => anchor[position]!);
    const older = h.world
      .followerIds(h.owner.id)
      .filter((id) => !anchor.includes(id))
      .slice(0, 48);
    const wave = [...members, ...older];
    for (const id of wave) h.world.userUnfollows(id, h.owner.id);
    h.clock.advance(30 * MINUTE);
    for (const id of wave) h.world.userFollows(id, h.owner.id);

    // Act
    await runTicks(h, 3 * HOUR);

    // Assess: every one of them is owed a follow-back, the members listed among newer ones too
    const missing: string[] = [];
    for (const id of wave) if (!(await hasTask(h, id))) missing.push(id);
    expect(missing).toEqual([]);
  });

  it('finds every follower of a re-follow wave larger than the old limit of 50', async () => {
    // Prepare: 300 followers from before the connection leave and follow again within an hour
    const h = await start({ owner: { initialFollowers: 1_500 } });
    const anchor = new Set((await h.store.getState(h.account))!.state.observe.headAnchor ?? []);
    const wave = h.world
      .followerIds(h.owner.id)
      .filter((id) => !anchor.has(id))
      .slice(0, 300);
    for (const id of wave) {
      h.world.userUnfollows(id, h.owner.id);
      h.world.userFollows(id, h.owner.id);
    }

    // Act
    await runTicks(h, 3 * HOUR);

    // Assess
    const missing: string[] = [];
    for (const id of wave) if (!(await hasTask(h, id))) missing.push(id);
    expect(missing).toEqual([]);
  });
});

describe('a burst of new followers', () => {
  it('reads 5,000 new followers in an hour in large pages', async () => {
    // Prepare: a quiet account, then 5,000 follow within the hour
    const h = await start({ observe: { readBudgetUsdPerMonth: 10_000 } });
    const before = h.sandbox.stats.snapshot().totals.requests;
    const burst = gainFollowers(h, 5_000);
    h.clock.advance(HOUR);

    // Act: observe alone (the follow-backs of 5,000 are another test's matter)
    const lease = await acquireLease(h.store, h.account, 'w', h.clock.now(), 10 * MINUTE);
    if (!lease.acquired) throw new Error('lease refused');
    const report = await observe(
      h.account,
      lease.cell,
      {
        platform: h.platform,
        store: h.store,
        clock: h.clock,
        logger: new MemoryLogger([]),
        newId: () => 'scan',
      },
      { timeLeftMs: () => 60_000, forceHeadScan: true },
    );

    // Assess: every one of them found, at most 0.02 list requests per new follower
    const requests = h.sandbox.stats.snapshot().totals.requests - before;
    expect(report.newFollowers).toHaveLength(burst.length);
    expect(requests / burst.length).toBeLessThanOrEqual(0.02);
  });
});

describe('a spent read cap', () => {
  it('stops reads until the next UTC day without invocations that read nothing, and names the cap', async () => {
    // Prepare: few requests a day, and a full scan of a large list underway
    const h = await start({
      owner: { initialFollowers: 20_000 },
      observe: { readRequestsPerDay: 12, readBudgetUsdPerMonth: 10_000 },
    });
    const reports: TickReport[] = [];

    // Act: a day and a half of ticks
    reports.push(...(await runTicks(h, 36 * HOUR)));

    // Assess: the stop names the requests cap and when it frees up; no tick ran to read nothing
    const stops = reports.filter((r) => r.ran && r.observe.stopped?.reason === 'budget');
    expect(stops.length).toBeGreaterThan(0);
    const first = stops[0]!;
    if (!first.ran) throw new Error('unreachable');
    expect(first.observe.stopped?.cap).toBe('readRequestsPerDay');
    expect(first.observe.stopped?.message).toMatch(/requests per day/);
    expect(first.observe.stopped?.until).toBe(Date.UTC(2026, 0, 6));
    const idle = reports.filter(
      (r) => r.ran && r.observe.requests === 0 && r.act.followed === 0 && r.reconcile.scheduled === 0,
    );
    expect(idle.length).toBeLessThanOrEqual(36 / 6);
  });
});

describe('a follower with a huge profile', () => {
  it('does not stop the account: it and every other follower get their tasks', async () => {
    // Prepare: one new follower's bio is 420 KB, beside ten ordinary ones
    const h = await start();
    const huge = h.world.createUser({
      profile: { description: 'x'.repeat(420_000), name: 'n'.repeat(5_000) },
    });
    h.world.userFollows(huge.id, h.owner.id);
    const others = gainFollowers(h, 10);

    // Act
    await runTicks(h, 3 * HOUR);

    // Assess
    for (const id of [huge.id, ...others]) expect(await hasTask(h, id)).toBe(true);
    const stored = await h.store.getTask(h.account, huge.id);
    expect(stored!.task.profile.bio.length).toBeLessThanOrEqual(2_000);
  });
});
