import { afterEach, describe, expect, it } from 'vitest';
import { acquireLease } from '../../shared/app/lease.ts';
import { loadGraph } from '../../shared/app/observe/graph-repo.ts';
import type { ObserveReport } from '../../shared/app/observe/observe.ts';
import type { TickReport } from '../../shared/app/tick.ts';
import type { GraphKind } from '../../shared/domain/account.ts';
import { ConflictError } from '../../shared/domain/errors.ts';
import { encodeIds, formatIds } from '../../shared/domain/idset/index.ts';
import {
  type AccountHarness,
  type AccountHarnessOptions,
  DAY,
  HOUR,
  MINUTE,
  startAccountHarness,
} from '../support/account-harness.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';

const db = useDynamoBackend(dynaliteBackend);
let harness: AccountHarness | undefined;

async function start(options: AccountHarnessOptions = {}): Promise<AccountHarness> {
  harness = await startAccountHarness(db, options);
  return harness;
}

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function observed(report: TickReport): ObserveReport {
  if (!report.ran) throw new Error(`tick did not run: ${report.reason}`);
  return report.observe;
}

async function snapshot(h: AccountHarness, kind: GraphKind): Promise<string[]> {
  const state = (await h.store.getState(h.account))!.state.observe;
  const ids = await loadGraph(h.store, h.account, kind, state.graphs[kind], state.seq);
  return formatIds(ids);
}

function sorted(ids: readonly string[]): string[] {
  return [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
}

/** Makes `count` new users follow the owner, a minute apart. */
function gainFollowers(h: AccountHarness, count: number): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const user = h.world.createUser();
    h.world.userFollows(user.id, h.owner.id);
    ids.push(user.id);
    h.clock.advance(MINUTE);
  }
  return ids;
}

/** Runs ticks until the account's full scans are done (baseline of both lists). */
async function settle(h: AccountHarness, ticks = 4): Promise<void> {
  for (let i = 0; i < ticks; i += 1) {
    await h.tick();
    h.clock.advance(15 * MINUTE);
  }
}

describe('observe', () => {
  it('takes a baseline of both lists without reporting old followers as new', async () => {
    // Prepare
    const h = await start();

    // Act
    const first = observed(await h.tick());
    h.clock.advance(6 * HOUR + MINUTE);
    await h.tick();

    // Assess
    expect(first.newFollowers).toEqual([]);
    expect(await snapshot(h, 'followers')).toEqual(sorted(h.world.followerIds(h.owner.id)));
    expect(await snapshot(h, 'following')).toEqual(sorted(h.world.followingIds(h.owner.id)));
    const state = (await h.store.getState(h.account))!.state.observe;
    expect(state.graphs.followers.complete).toBe(true);
  });

  it('detects new followers by reading only the head of the list', async () => {
    // Prepare
    const h = await start();
    await settle(h);
    const newcomers = gainFollowers(h, 12);

    // Act
    h.clock.advance(7 * HOUR);
    const report = observed(await h.tick({}));

    // Assess: everyone new is found, and the read cost follows the new followers, not the 250 old ones
    // (the 12, the run of known ones that ends the scan, the overlap below it, a page's overshoot)
    expect(sorted(report.newFollowers)).toEqual(sorted(newcomers));
    expect(report.usersRead).toBeLessThanOrEqual(12 + 3 + 10 + 14);
    expect(report.usersBilled).toBeLessThanOrEqual(report.usersRead);
    expect(await snapshot(h, 'followers')).toEqual(sorted(h.world.followerIds(h.owner.id)));
  });

  it("rebases the owner's following list too once the followers' changesets pile up above it", async () => {
    // Prepare: every reader of a list replays all changesets since its base, whatever their list
    const h = await start();
    await settle(h);
    const following = await snapshot(h, 'following');

    // Act: forty head scans that each find a new follower, and no full scan of the following list
    for (let i = 0; i < 40; i += 1) {
      gainFollowers(h, 1);
      h.clock.advance(HOUR);
      await h.tick();
    }

    // Assess
    const state = (await h.store.getState(h.account))!.state.observe;
    expect(state.graphs.following.lastFullScanAt).toBeLessThan(h.clock.now() - 40 * HOUR);
    expect(state.seq - state.graphs.following.baseSeq).toBeLessThanOrEqual(31);
    expect(await snapshot(h, 'following')).toEqual(following);
  });

  it('finds new followers listed below known ones, as X does not promise newest-first', async () => {
    // Prepare: every new follower lands just below the newest one
    const h = await start({ orderNoise: 1 });
    await settle(h);
    const newcomers: string[] = [];

    // Act: followers arrive over two days while ticks run
    const reports: TickReport[] = [];
    for (let hour = 0; hour < 48; hour += 1) {
      newcomers.push(...gainFollowers(h, 1));
      h.clock.advance(59 * MINUTE);
      reports.push(await h.tick());
    }
    h.clock.advance(7 * HOUR);
    reports.push(await h.tick());

    // Assess: each found exactly once
    const found = reports.flatMap((report) => (report.ran ? report.observe.newFollowers : []));
    expect(sorted(found)).toEqual(sorted(newcomers));
  });

  it('reads less below the known followers day by day while the list proves in order', async () => {
    // Prepare: a list in X's usual order, head scans hourly
    const h = await start({ orderNoise: 0 });
    await settle(h);
    const before = (await h.store.getState(h.account))!.state.observe.headOverlap ?? 10;

    // Act: three days of hourly ticks, a follower every few hours
    for (let hour = 0; hour < 72; hour += 1) {
      if (hour % 4 === 0) gainFollowers(h, 1);
      h.clock.advance(59 * MINUTE);
      await h.tick();
    }

    // Assess: the slack halves every day without evidence of disorder (10 → about 1.25 in three days)
    const after = (await h.store.getState(h.account))!.state.observe.headOverlap ?? 0;
    expect(before).toBeGreaterThan(5);
    expect(after).toBeLessThanOrEqual(before / 4);
  });

  it('resumes a full scan across invocations when the time budget runs out', async () => {
    // Prepare: 2,600 followers are three pages of 1,000
    const h = await start({ owner: { initialFollowers: 2_600 } });
    let requestsAllowed = 1;
    const timeLeftMs = () => (requestsAllowed-- > 0 ? 60_000 : 0);

    // Act: each invocation may read one page only
    const reports: ObserveReport[] = [];
    for (let i = 0; i < 3; i += 1) {
      requestsAllowed = 1;
      reports.push(observed(await h.tick({ timeLeftMs })));
      h.clock.advance(MINUTE);
    }

    // Assess
    expect(reports.map((report) => report.stopped?.reason)).toEqual(['deadline', 'deadline', 'deadline']);
    expect(reports.map((report) => report.fullScan?.state)).toEqual(['progressed', 'progressed', 'finished']);
    expect(await snapshot(h, 'followers')).toEqual(sorted(h.world.followerIds(h.owner.id)));
  });

  describe.each(['503', '500', 'timeout', 'malformed', 'truncated', '429'] as const)(
    'a %s in the middle of a full scan',
    (kind) => {
      it('stops cleanly, keeps the checkpoint and the stored snapshot, and the next tick finishes', async () => {
        // Prepare: a settled account whose next full scan is underway
        const h = await start({ owner: { initialFollowers: 2_600 }, observe: { fullScanMinDays: 1 } });
        await settle(h, 8);
        const before = await snapshot(h, 'followers');
        // More than 5% of the list by the owner's counts: worth a full scan to name them
        const leavers = h.world.followerIds(h.owner.id).slice(100, 240);
        for (const id of leavers) h.world.userUnfollows(id, h.owner.id);
        h.clock.advance(DAY);
        let allowed = 1;
        const onePage = () => (allowed-- > 0 ? 60_000 : 0);
        // head scan + first page of the full scan
        allowed = 2;
        const started = observed(await h.tick({ timeLeftMs: onePage }));
        expect(started, JSON.stringify(started)).toMatchObject({ fullScan: { kind: 'followers' } });
        const checkpoint = (await h.store.getState(h.account))!.state.observe.fullScan;
        expect(checkpoint?.pages).toBe(1);

        // Act: the next page fails
        h.sandbox.faults.add({ endpoint: 'followers', kind, times: 1, holdMs: 3_000 });
        h.clock.advance(MINUTE);
        const failed = observed(await h.tick());

        // Assess: stopped with the checkpoint kept and nothing stored lost
        expect(failed.stopped?.reason).toBe(kind === '429' ? 'rate_limited' : 'platform_error');
        const kept = (await h.store.getState(h.account))!.state.observe;
        expect(kept.fullScan?.scanId).toBe(checkpoint?.scanId);
        expect(kept.fullScan?.pages).toBe(1);
        expect(await snapshot(h, 'followers')).toEqual(before);

        // Act: later ticks continue from the checkpoint
        h.clock.advance(16 * MINUTE);
        const resumed = observed(await h.tick());

        // Assess
        expect(resumed.fullScan?.state).toBe('finished');
        expect(sorted(resumed.lostFollowers)).toEqual(sorted(leavers));
        expect(await snapshot(h, 'followers')).toEqual(sorted(h.world.followerIds(h.owner.id)));
      });
    },
  );

  it('reports a follower who left and followed again between full scans as new', async () => {
    // Prepare: a settled account; someone deep in the list leaves unnoticed (no full scan) and returns
    const h = await start();
    await settle(h);
    await h.runFor(DAY);
    const returning = h.world.followerIds(h.owner.id)[120]!;
    h.world.userUnfollows(returning, h.owner.id);
    h.clock.advance(HOUR);
    h.world.userFollows(returning, h.owner.id);
    const newcomers = gainFollowers(h, 4);

    // Act
    const reports = await h.runFor(DAY);

    // Assess: reported once, with the genuinely new ones
    const found = reports.flatMap((report) => (report.ran ? report.observe.newFollowers : []));
    expect(sorted(found)).toEqual(sorted([returning, ...newcomers]));
  });

  it('makes no request while the platform said to wait, and continues after the reset', async () => {
    // Prepare
    const h = await start();
    await settle(h);
    gainFollowers(h, 3);
    h.clock.advance(7 * HOUR);
    h.sandbox.faults.add({ endpoint: 'followers', kind: '429', times: 1 });
    const limited = observed(await h.tick());
    const requestsBefore = h.sandbox.stats.snapshot().totals.requests;

    // Act
    h.clock.advance(MINUTE);
    const early = await h.tick();
    h.clock.advance(15 * MINUTE);
    const after = observed(await h.tick());

    // Assess
    expect(limited.stopped?.reason).toBe('rate_limited');
    expect(early).toEqual({ ran: false, reason: 'not_due' });
    expect(h.sandbox.stats.snapshot().totals.requests).toBeGreaterThan(requestsBefore);
    expect(after.newFollowers).toHaveLength(3);
  });

  it('reports lost followers and the owner’s own follows and unfollows from full scans', async () => {
    // Prepare
    const h = await start({ observe: { fullScanMinDays: 1 } });
    await settle(h);
    const followers = h.world.followerIds(h.owner.id);
    // More than 5% of the list by the owner's counts: worth a full scan to name them
    const leavers = followers.slice(10, 24);
    for (const id of leavers) h.world.userUnfollows(id, h.owner.id);
    const following = h.world.followingIds(h.owner.id);
    const dropped = following[0]!;
    h.world.ownerUnfollows(h.owner.id, dropped);
    const picked = followers
      .filter((id) => !following.includes(id) && !h.world.user(id)?.protected)
      .slice(0, 2);
    for (const id of picked) h.world.ownerFollows(h.owner.id, id);

    // Act
    const reports = await h.runFor(2 * DAY);

    // Assess
    const all = reports.flatMap((report) => (report.ran ? [report.observe] : []));
    expect(sorted(all.flatMap((report) => report.lostFollowers))).toEqual(sorted(leavers));
    expect(all.flatMap((report) => report.ownerUnfollowed)).toEqual([dropped]);
    expect(sorted(all.flatMap((report) => report.ownerFollowed))).toEqual(sorted(picked));
  });

  it('stops before a request the month’s read budget cannot pay for', async () => {
    // Prepare: five cents cannot pay for a page of followers at $0.01 a user
    const h = await start({ observe: { readBudgetUsdPerMonth: 0.05 } });

    // Act
    const report = observed(await h.tick());

    // Assess
    expect(report.stopped?.reason).toBe('budget');
    expect(h.sandbox.stats.snapshot().endpoints.followers?.requests ?? 0).toBe(0);
  });

  it('is not invoked to read nothing once the day’s read requests are spent to the last', async () => {
    // Prepare: four requests a day, as many as the connection's reads take
    const h = await start({ observe: { readRequestsPerDay: 4 } });

    // Act: a tick every 15 minutes for six hours, followers arriving
    const reports: ObserveReport[] = [];
    for (let i = 0; i < 24; i += 1) {
      if (i % 4 === 1) gainFollowers(h, 1);
      const report = await h.tick();
      if (report.ran) reports.push(report.observe);
      h.clock.advance(15 * MINUTE);
    }

    // Assess: no tick ran only to find the cap spent, and no more than four requests were made
    const idle = reports.filter((report) => report.stopped?.reason === 'budget' && report.requests === 0);
    expect(idle).toEqual([]);
    expect(reports.reduce((sum, report) => sum + report.requests, 0)).toBeLessThanOrEqual(4);
  });

  it('lets one of two workers run a tick delivered twice at once', async () => {
    // Prepare
    const h = await start();

    // Act
    const [a, b] = await Promise.all([h.tick({ worker: 'a' }), h.tick({ worker: 'b' })]);

    // Assess
    const ran = [a, b].filter((report) => report.ran);
    expect(ran).toHaveLength(1);
    expect([a, b].find((report) => !report.ran)).toMatchObject({ ran: false, reason: 'leased' });
  });

  it('reads nothing when the same tick is delivered again', async () => {
    // Prepare
    const h = await start();
    await h.tick();
    const requests = h.sandbox.stats.snapshot().totals.requests;

    // Act
    const again = await h.tick();

    // Assess
    expect(again).toEqual({ ran: false, reason: 'not_due' });
    expect(h.sandbox.stats.snapshot().totals.requests).toBe(requests);
  });

  it('fences out a worker whose lease expired: it cannot overwrite what its successor wrote', async () => {
    // Prepare: worker a takes the lease, stalls past it; worker b takes over and commits a changeset
    const h = await start();
    const a = await acquireLease(h.store, h.account, 'a', h.clock.now(), 60_000);
    h.clock.advance(2 * MINUTE);
    const b = await acquireLease(h.store, h.account, 'b', h.clock.now(), 60_000);
    if (!a.acquired || !b.acquired) throw new Error('both leases should be granted');
    const empty = encodeIds(new BigUint64Array(0));
    const changeset = {
      seq: 1,
      at: h.clock.now(),
      kind: 'followers' as const,
      source: 'head' as const,
      added: empty,
      removed: empty,
      addedCount: 0,
      removedCount: 0,
      profiles: [],
    };
    await h.store.putChangeset(h.account, changeset, b.cell.fence);

    // Act / Assess: a's late writes are refused
    await expect(h.store.putChangeset(h.account, changeset, a.cell.fence)).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(a.cell.commit(a.cell.state)).rejects.toBeInstanceOf(ConflictError);
  });

  it("counts reconcile's profile look-ups against the read budget", async () => {
    // Prepare: a follower a full scan found (its changeset carries no profile), committed
    const h = await start();
    await settle(h);
    const stranger = h.world.createUser();
    h.world.userFollows(stranger.id, h.owner.id);
    const lease = await acquireLease(h.store, h.account, 'test', h.clock.now(), 60_000);
    if (!lease.acquired) throw new Error('lease should be granted');
    const observe = lease.cell.state.observe;
    const empty = encodeIds(new BigUint64Array(0));
    const seq = observe.seq + 1;
    await h.store.putChangeset(
      h.account,
      {
        seq,
        at: h.clock.now(),
        kind: 'followers',
        source: 'full',
        added: encodeIds(new BigUint64Array([BigInt(stranger.id)])),
        removed: empty,
        addedCount: 1,
        removedCount: 0,
        profiles: [],
      },
      lease.cell.fence,
    );
    await lease.cell.commit({ ...lease.cell.state, observe: { ...observe, seq }, lease: undefined });
    const before = observe.spend;
    const lookupsBefore = h.sandbox.stats.endpoint('users').requests;

    // Act
    const report = await h.tick();

    // Assess: one look-up request, one user billed, both in the account's spend
    if (!report.ran) throw new Error(`tick did not run: ${report.reason}`);
    expect(h.sandbox.stats.endpoint('users').requests - lookupsBefore).toBe(1);
    const after = (await h.store.getState(h.account))!.state.observe.spend;
    const observeBilled = report.observe.usersBilled;
    expect((after.totalBilled ?? 0) - (before.totalBilled ?? 0)).toBe(observeBilled + 1);
    expect(after.totalRequests - before.totalRequests).toBe(report.observe.requests + 1);
  });

  it('loses nothing when a worker crashes between storing a changeset and committing it', async () => {
    // Prepare: the state write after the head scan's changeset fails once, as if the worker died
    const h = await start();
    await settle(h);
    const newcomers = gainFollowers(h, 5);
    h.clock.advance(7 * HOUR);
    const putState = h.store.putState.bind(h.store);
    let crashes = 0;
    h.store.putState = async (ref, state, version) => {
      if (crashes === 0 && state.observe.seq > (await h.store.getState(ref))!.state.observe.seq) {
        crashes += 1;
        throw new Error('worker crashed');
      }
      return putState(ref, state, version);
    };

    // Act
    await expect(h.tick()).rejects.toThrow('worker crashed');
    h.clock.advance(6 * MINUTE);
    const retry = await h.tick();
    h.clock.advance(10 * MINUTE);
    const after = retry.ran ? retry : await h.tick();

    // Assess: the lease expired, the retry found the same followers and committed them once
    expect(crashes).toBe(1);
    expect(sorted(observed(after).newFollowers)).toEqual(sorted(newcomers));
    expect(await snapshot(h, 'followers')).toEqual(sorted(h.world.followerIds(h.owner.id)));
  });
});
