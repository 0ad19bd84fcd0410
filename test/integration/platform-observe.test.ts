/**
 * Observe, the same suite on every network: each runs against its own sandbox through its real
 * client library (twitter-api-v2, @atcute/client, masto), with its own ids (X numbers, Bluesky DIDs,
 * Mastodon account ids) and page sizes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FEED_FIRST_PAGE_SIZE } from '../../shared/app/observe/feed.ts';
import type { ObserveReport } from '../../shared/app/observe/observe.ts';
import type { TickReport } from '../../shared/app/tick.ts';
import type { Network } from '../../shared/ports/platform.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { CONTRACT_NETWORKS, startContractHarness } from '../support/contract-target.ts';
import type { ContractHarness as PlatformHarness } from '../support/platform-harness.ts';
import { CAPABILITIES, DAY, HOUR, MINUTE, type PlatformHarnessOptions } from '../support/platform-harness.ts';

const db = useDynamoBackend(dynaliteBackend);
let harness: PlatformHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function observed(report: TickReport): ObserveReport {
  if (!report.ran) throw new Error(`tick did not run: ${report.reason}`);
  return report.observe;
}

/** Ticks until the baselines of both lists are taken. */
async function settle(h: PlatformHarness, ticks = 4): Promise<void> {
  for (let i = 0; i < ticks; i += 1) {
    await h.tick();
    h.clock.advance(15 * MINUTE);
  }
}

describe.each(CONTRACT_NETWORKS)('observe on %s', (network: Network) => {
  async function start(options: Omit<PlatformHarnessOptions, 'network'> = {}): Promise<PlatformHarness> {
    harness = await startContractHarness(db, { network, ...options });
    return harness;
  }

  it('takes a baseline of both lists without reporting old followers as new', async () => {
    // Prepare
    const h = await start();

    // Act
    const first = observed(await h.tick());
    h.clock.advance(6 * HOUR + MINUTE);
    await h.tick();

    // Assess
    expect(first.newFollowers).toEqual([]);
    expect(await h.snapshot('followers')).toEqual(h.sortedIds(await h.graph.followerIds()));
    expect(await h.snapshot('following')).toEqual(h.sortedIds(await h.graph.followingIds()));
  });

  it('detects new followers by reading only the head of the list', async () => {
    // Prepare
    const h = await start();
    await settle(h);
    const newcomers = await h.graph.gainFollowers(12);

    // Act
    h.clock.advance(7 * HOUR);
    const report = observed(await h.tick());

    // Assess: everyone new is found, and what was read follows the new followers, not the 250 old
    // ones (where the network has a change feed, its first page comes on top)
    expect([...report.newFollowers].sort()).toEqual(newcomers.map(h.idOf).sort());
    // (the 12, the run of known ones that ends the scan, the overlap below it, a page's overshoot;
    // where the network has a change feed, its first page on top)
    const feed = h.platform.followNotices === undefined ? 0 : FEED_FIRST_PAGE_SIZE;
    expect(report.usersRead).toBeLessThanOrEqual(12 + 3 + 10 + 14 + feed);
    expect(await h.snapshot('followers')).toEqual(h.sortedIds(await h.graph.followerIds()));
  });

  it('reports lost followers and the owner’s own follows and unfollows from full scans', async () => {
    // Prepare
    const h = await start({ observe: { fullScanMinDays: 1 } });
    await settle(h);
    const followers = await h.graph.followerIds();
    const leavers = followers.slice(10, 13);
    for (const id of leavers) await h.graph.userUnfollows(id);
    const following = await h.graph.followingIds();
    const dropped = following[0]!;
    await h.graph.ownerUnfollows(dropped);
    const picked = followers.filter((id) => !following.includes(id) && !h.graph.isProtected(id)).slice(0, 2);
    for (const id of picked) await h.graph.ownerFollows(id);

    // Act
    const reports = await h.runFor(2 * DAY);

    // Assess
    const all = reports.flatMap((report) => (report.ran ? [report.observe] : []));
    expect(all.flatMap((report) => report.lostFollowers).sort()).toEqual(leavers.map(h.idOf).sort());
    expect(all.flatMap((report) => report.ownerUnfollowed)).toEqual([h.idOf(dropped)]);
    expect(all.flatMap((report) => report.ownerFollowed).sort()).toEqual(picked.map(h.idOf).sort());
  });

  const pageSize = CAPABILITIES[network].pageSize;

  it('resumes a full scan across invocations when the time budget runs out', async () => {
    // Prepare: a list of three full-size pages, read one page per invocation
    const h = await start({ owner: { initialFollowers: Math.round(2.6 * pageSize) } });
    let requestsAllowed = 1;
    const timeLeftMs = () => (requestsAllowed-- > 0 ? 60_000 : 0);

    // Act
    const reports: ObserveReport[] = [];
    for (let i = 0; i < 3; i += 1) {
      requestsAllowed = 1;
      reports.push(observed(await h.tick({ timeLeftMs })));
      h.clock.advance(MINUTE);
    }

    // Assess
    expect(reports.map((report) => report.stopped?.reason)).toEqual(['deadline', 'deadline', 'deadline']);
    expect(reports.map((report) => report.fullScan?.state)).toEqual(['progressed', 'progressed', 'finished']);
    expect(await h.snapshot('followers')).toEqual(h.sortedIds(await h.graph.followerIds()));
  });

  describe.each(['429', '503', 'timeout', 'malformed', 'truncated'] as const)(
    'a %s in the middle of a full scan',
    (kind) => {
      it('stops cleanly, keeps the checkpoint and the snapshot, and a later tick finishes the scan', async () => {
        // Prepare: a settled account whose next full scan has read its first page
        const h = await start({
          owner: { initialFollowers: Math.round(2.6 * pageSize) },
          observe: { fullScanMinDays: 1 },
        });
        await settle(h, 8);
        const before = await h.snapshot('followers');
        // Not among the newest: the head scan stops at them as usual.
        const leavers = (await h.graph.followerIds()).slice(100, 103);
        for (const id of leavers) await h.graph.userUnfollows(id);
        h.clock.advance(DAY);
        // head scan + first page of the full scan
        let allowed = 2;
        const budget = () => (allowed-- > 0 ? 60_000 : 0);
        const started = observed(await h.tick({ timeLeftMs: budget }));
        expect(started.fullScan?.kind).toBe('followers');
        const checkpoint = (await h.store.getState(h.account))!.state.observe.fullScan;
        expect(checkpoint?.pages).toBe(1);

        // Act: the next page fails
        h.fault({ endpoint: 'followers', kind, holdMs: 3_000 });
        h.clock.advance(MINUTE);
        const failed = observed(await h.tick());

        // Assess: stopped, checkpoint and snapshot kept
        expect(failed.stopped?.reason).toBe(kind === '429' ? 'rate_limited' : 'platform_error');
        const kept = (await h.store.getState(h.account))!.state.observe;
        expect(kept.fullScan?.scanId).toBe(checkpoint?.scanId);
        expect(kept.fullScan?.pages).toBe(1);
        expect(await h.snapshot('followers')).toEqual(before);

        // Act: a later tick continues from the checkpoint
        h.clock.advance(16 * MINUTE);
        const resumed = observed(await h.tick());

        // Assess
        expect(resumed.fullScan?.state).toBe('finished');
        expect([...resumed.lostFollowers].sort()).toEqual(leavers.map(h.idOf).sort());
        expect(await h.snapshot('followers')).toEqual(h.sortedIds(await h.graph.followerIds()));
      });
    },
  );

  it('finds followers who follow while ticks run, each exactly once, with no 429 in steady state', async () => {
    // Prepare
    const h = await start({ orderNoise: 0.5 });
    await settle(h);
    const newcomers: string[] = [];

    // Act: a follower an hour for a day and a half
    const reports: TickReport[] = [];
    for (let hour = 0; hour < 36; hour += 1) {
      newcomers.push(...(await h.graph.gainFollowers(1)));
      h.clock.advance(59 * MINUTE);
      reports.push(await h.tick());
    }
    h.clock.advance(7 * HOUR);
    reports.push(await h.tick());

    // Assess
    const found = reports.flatMap((report) => (report.ran ? report.observe.newFollowers : []));
    expect([...found].sort()).toEqual(newcomers.map(h.idOf).sort());
    expect(h.graph.totals().rateLimited).toBe(0);
  });
});
