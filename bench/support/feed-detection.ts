/**
 * Detection delay on the networks with a change feed (Mastodon's follow notifications, Bluesky's
 * listNotifications): a seeded account of 2,000 followers gaining ~100 a day (some leaving, some
 * following again), three simulated days of the real tick every 15 minutes, through each sandbox,
 * its real adapter and the in-memory store. Delay = the tick that first reported a follower less
 * the follow, scored against the world's ground truth.
 */

import { startBlueskySandbox } from '../../sandbox/bluesky/server.ts';
import { startMastodonSandbox } from '../../sandbox/mastodon/server.ts';
import { createWorld } from '../../sandbox/world.ts';
import { createBlueskyPlatform } from '../../shared/adapters/bluesky/bluesky-platform.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { silentLogger } from '../../shared/adapters/logger.ts';
import { createMastodonPlatform } from '../../shared/adapters/mastodon/mastodon-platform.ts';
import { MemoryStore } from '../../shared/adapters/memory/memory-store.ts';
import { runAccountTick } from '../../shared/app/tick.ts';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import type { AccountRecord } from '../../shared/domain/account.ts';
import { defined } from '../../shared/domain/invariant.ts';
import type { Platform } from '../../shared/ports/platform.ts';
import { DEFAULT_START } from '../../shared/runtime/local.ts';
import { type DetectionScore, Detections, scoreDetections } from './detection.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const TICK_MS = 15 * MINUTE;

export interface FeedDetection {
  network: 'mastodon' | 'bluesky';
  score: DetectionScore;
  feedRequests: number;
  listRequests: number;
}

/** `feed: false` hides the adapter's feed: the scans alone, as before the feed. */
export async function measureFeedDetection(
  network: 'mastodon' | 'bluesky',
  options: { days?: number; feed?: boolean } = {},
): Promise<FeedDetection> {
  const days = options.days ?? 3;
  const clock = new VirtualClock(DEFAULT_START);
  const world = createWorld({ seed: network === 'mastodon' ? 21 : 22, clock });
  const owner = world.addOwner({
    handle: 'feedshop',
    initialFollowers: 2_000,
    initialFollowing: 200,
    followersPerDay: 100,
    unfollowsPerDay: 5,
    deletionsPerDay: 0.5,
  });
  let platform: Platform;
  let platformId: string;
  let worldIdOf: (platformId: string) => string | undefined;
  let close: () => Promise<void>;
  let feedEndpoint: string;
  let listEndpoint: string;
  if (network === 'mastodon') {
    const sandbox = await startMastodonSandbox({ world, clock });
    platform = createMastodonPlatform({
      url: sandbox.baseUrl,
      accessToken: sandbox.issueToken(owner.id),
      clock,
    });
    platformId = sandbox.idOf(owner.id);
    worldIdOf = (id) => sandbox.userIdOf(id);
    close = () => sandbox.close();
    feedEndpoint = 'notifications';
    listEndpoint = 'followers';
  } else {
    const sandbox = await startBlueskySandbox({ world, clock });
    platform = createBlueskyPlatform({
      service: sandbox.baseUrl,
      identifier: sandbox.handleOf(owner.id),
      password: sandbox.appPasswordFor(owner.id),
      clock,
    });
    platformId = sandbox.didOf(owner.id);
    worldIdOf = (id) => world.userIdForDid(id);
    close = () => sandbox.close();
    feedEndpoint = 'app.bsky.notification.listNotifications';
    listEndpoint = 'app.bsky.graph.getFollowers';
  }
  if (options.feed === false) {
    const withFeed = platform;
    platform = {
      network: withFeed.network,
      limits: withFeed.limits,
      me: () => withFeed.me(),
      listFollowers: (userId, request) => withFeed.listFollowers(userId, request),
      listFollowing: (userId, request) => withFeed.listFollowing(userId, request),
      follow: (source, target) => withFeed.follow(source, target),
      unfollow: (source, target) => withFeed.unfollow(source, target),
      lookupUsers: (userIds) => withFeed.lookupUsers(userIds),
      relationships: (source, targets) =>
        defined(withFeed.relationships, 'relationships of the platform with a feed').call(
          withFeed,
          source,
          targets,
        ),
    };
  }
  try {
    const store = new MemoryStore({ clock });
    const account: AccountRecord = {
      clientId: 'bench',
      accountId: `${network}-feedshop`,
      network,
      platformUserId: platformId,
      handle: owner.username,
      status: 'active',
      observe: resolveObserveSettings(network, {}),
      createdAt: clock.now(),
      policy: { mode: 'off' },
    };
    await store.putAccount(account);
    let ids = 0;
    const deps = { platform, store, clock, logger: silentLogger, newId: () => `scan-${++ids}` };
    const detections = new Detections();
    // Connection: the baselines, then the measured days.
    for (let i = 0; i < 8; i += 1) {
      await runAccountTick(account, deps, { worker: 'bench', timeLeftMs: () => 60_000 });
      clock.advance(TICK_MS);
    }
    const from = clock.now();
    const feedBefore = world.stats.endpoint(feedEndpoint).requests;
    const listBefore = world.stats.endpoint(listEndpoint).requests;
    while (clock.now() < from + days * DAY) {
      const report = await runAccountTick(account, deps, { worker: 'bench', timeLeftMs: () => 60_000 });
      if (report.ran) {
        const found = report.observe.newFollowers.flatMap((id) => worldIdOf(id) ?? []);
        detections.record(found, clock.now());
      }
      clock.advance(TICK_MS);
    }
    const score = scoreDetections({
      world,
      ownerId: owner.id,
      from,
      to: clock.now(),
      graceMs: TICK_MS,
      detections,
    });
    return {
      network,
      score,
      feedRequests: world.stats.endpoint(feedEndpoint).requests - feedBefore,
      listRequests: world.stats.endpoint(listEndpoint).requests - listBefore,
    };
  } finally {
    await close();
  }
}
