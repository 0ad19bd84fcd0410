/**
 * The change feed (Mastodon's follow notifications, Bluesky's listNotifications) as observe's first
 * detection, with the list scans as the reconciliation that finds whoever the feed missed: on each
 * sandbox through its real client library.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BlueskySandbox } from '../../sandbox/bluesky/server.ts';
import type { MastodonSandbox } from '../../sandbox/mastodon/server.ts';
import type { ObserveReport } from '../../shared/app/observe/observe.ts';
import type { TickReport } from '../../shared/app/tick.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import {
  HOUR,
  MINUTE,
  type PlatformHarness,
  type PlatformHarnessOptions,
  startPlatformHarness,
} from '../support/platform-harness.ts';

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

const FEED_ENDPOINT = { bluesky: 'app.bsky.notification.listNotifications', mastodon: 'notifications' };

describe.each(['bluesky', 'mastodon'] as const)('the follow feed on %s', (network) => {
  async function start(options: Omit<PlatformHarnessOptions, 'network'> = {}) {
    harness = await startPlatformHarness(db, { network, ...options });
    // Baselines of both lists, and the feed's first look (which only sets its mark).
    for (let i = 0; i < 4; i += 1) {
      await harness.tick();
      harness.clock.advance(15 * MINUTE);
    }
    return harness;
  }

  function notifications(h: PlatformHarness) {
    return (h.sandbox as BlueskySandbox | MastodonSandbox).notifications;
  }

  it('finds new followers at the next tick from one feed request, before any head scan is due', async () => {
    // Prepare: a head scan has just run, so the next one is not due for a while
    const h = await start();
    await h.tick({});
    h.clock.advance(2 * MINUTE);
    const newcomers = await h.graph.gainFollowers(3);
    const before = h.stats.endpoint(FEED_ENDPOINT[network]).requests;
    const listsBefore = h.stats.endpoint(network === 'bluesky' ? 'app.bsky.graph.getFollowers' : 'followers');

    // Act
    h.clock.advance(15 * MINUTE);
    const report = observed(await h.tick());

    // Assess
    expect([...report.newFollowers].sort()).toEqual(newcomers.map(h.idOf).sort());
    expect(report.headScan).toBe('not_due');
    expect(h.stats.endpoint(FEED_ENDPOINT[network]).requests - before).toBe(1);
    const listsAfter = h.stats.endpoint(network === 'bluesky' ? 'app.bsky.graph.getFollowers' : 'followers');
    expect(listsAfter.requests).toBe(listsBefore.requests);
    expect(await h.snapshot('followers')).toEqual(h.sortedIds(await h.graph.followerIds()));
  });

  it('reports each new follower once though the feed and the scans both see them', async () => {
    // Prepare
    const h = await start({ observe: { fullScanMinDays: 0.25 } });
    const reported: string[] = [];
    const newcomers: string[] = [];

    // Act: followers come while ticks run for a day; one leaves again
    for (let hour = 0; hour < 24; hour += 1) {
      newcomers.push(...(await h.graph.gainFollowers(2)));
      if (hour === 5) await h.graph.userUnfollows(newcomers[0]!);
      for (const report of await h.runFor(HOUR))
        if (report.ran) reported.push(...report.observe.newFollowers);
    }

    // Assess
    expect(new Set(reported).size).toBe(reported.length);
    expect(reported.sort()).toEqual(newcomers.map(h.idOf).sort());
    expect(await h.snapshot('followers')).toEqual(h.sortedIds(await h.graph.followerIds()));
  });

  it('finds through the scans the followers whose notifications were cleared before it looked', async () => {
    // Prepare: the owner clears the notifications in another app right after four follow
    const h = await start();
    const cleared = await h.graph.gainFollowers(4);
    notifications(h).clear(h.owner.id);
    const later = await h.graph.gainFollowers(2);

    // Act
    const reports = await h.runFor(6 * HOUR);

    // Assess
    const reported = reports.flatMap((report) => (report.ran ? report.observe.newFollowers : []));
    expect(reported.sort()).toEqual([...cleared, ...later].map(h.idOf).sort());
  });

  it('loses nobody to a feed that keeps few notifications or drops some', async () => {
    // Prepare: the server keeps 5 notifications and a third never arrive; a burst of 200 follows
    const h = await start({ notifications: { retain: 5, lossShare: 0.3 } });
    const burst = await h.graph.gainFollowers(200);

    // Act
    const reports = await h.runFor(8 * HOUR);

    // Assess
    const reported = reports.flatMap((report) => (report.ran ? report.observe.newFollowers : []));
    expect(reported.sort()).toEqual(burst.map(h.idOf).sort());
    expect(await h.snapshot('followers')).toEqual(h.sortedIds(await h.graph.followerIds()));
  });

  it('finds a follower who left unnoticed and followed again, before any head scan is due', async () => {
    // Prepare: a follower from before the connection, whom the owner does not follow, leaves and
    // comes back between two looks (no full scan saw the gap: the snapshot still holds them)
    const h = await start();
    await h.tick({});
    h.clock.advance(2 * MINUTE);
    const returner = h.world.followerIds(h.owner.id).find((id) => !h.world.isFollowing(h.owner.id, id))!;
    h.world.userUnfollows(returner, h.owner.id);
    h.clock.advance(MINUTE);
    h.world.userFollows(returner, h.owner.id);

    // Act
    h.clock.advance(15 * MINUTE);
    const report = observed(await h.tick());

    // Assess: the feed said so; the follower is owed a follow-back
    expect(report.headScan).toBe('not_due');
    expect(report.newFollowers).toEqual([h.idOf(returner)]);
    expect(await h.store.getTask(h.account, h.idOf(returner))).toBeDefined();
  });

  it('does not report again the followers a scan found while the feed was failing', async () => {
    // Prepare: the feed fails for hours, while the scans find the newcomers
    const h = await start();
    (h.sandbox as BlueskySandbox | MastodonSandbox).faults.add({
      endpoint: FEED_ENDPOINT[network] as never,
      kind: '503',
      times: 16,
    });
    const newcomers = await h.graph.gainFollowers(3);

    // Act: the scans find them; then the feed works again and lists their notices
    const reports = await h.runFor(8 * HOUR);

    // Assess: each reported once
    const reported = reports.flatMap((report) => (report.ran ? report.observe.newFollowers : []));
    expect(reported.sort()).toEqual(newcomers.map(h.idOf).sort());
  });

  it('carries on with the scans when the feed fails, and reads it again next tick', async () => {
    // Prepare
    const h = await start();
    (h.sandbox as BlueskySandbox | MastodonSandbox).faults.add({
      endpoint: FEED_ENDPOINT[network] as never,
      kind: '503',
      times: 1,
    });
    const newcomers = await h.graph.gainFollowers(2);

    // Act
    h.clock.advance(15 * MINUTE);
    const failed = observed(await h.tick());
    h.clock.advance(15 * MINUTE);
    const next = observed(await h.tick());

    // Assess
    expect(failed.stopped).toBeUndefined();
    expect([...failed.newFollowers, ...next.newFollowers].sort()).toEqual(newcomers.map(h.idOf).sort());
  });
});
