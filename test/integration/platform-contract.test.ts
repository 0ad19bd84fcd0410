/** The Platform contract on each sandbox over loopback HTTP, through the network's real adapter. */
import { describe } from 'vitest';
import { type BlueskyMethod, startBlueskySandbox } from '../../sandbox/bluesky/index.ts';
import { type MastodonEndpoint, startMastodonSandbox } from '../../sandbox/mastodon/index.ts';
import type { XEndpoint } from '../../sandbox/x/limits.ts';
import { startXSandbox } from '../../sandbox/x/server.ts';
import { createBlueskyPlatform } from '../../shared/adapters/bluesky/bluesky-platform.ts';
import { createMastodonPlatform } from '../../shared/adapters/mastodon/mastodon-platform.ts';
import { XPlatform } from '../../shared/adapters/x/x-platform.ts';
import { type ContractEndpoint, describePlatformContract } from '../contract/platform-contract.ts';

const X_ENDPOINTS: Record<ContractEndpoint, XEndpoint> = {
  followers: 'followers',
  following: 'following',
  follow: 'follow',
  lookup: 'users',
};
const BLUESKY_METHODS: Record<ContractEndpoint, BlueskyMethod> = {
  followers: 'app.bsky.graph.getFollowers',
  following: 'app.bsky.graph.getFollows',
  follow: 'com.atproto.repo.createRecord',
  lookup: 'app.bsky.actor.getProfiles',
};
const MASTODON_ENDPOINTS: Record<ContractEndpoint, MastodonEndpoint> = {
  followers: 'followers',
  following: 'following',
  follow: 'follow',
  lookup: 'accounts',
};

describe('the Platform contract on the sandboxes', () => {
  describePlatformContract({
    name: 'sandbox + real adapter',
    async start(network, world, owner, limits) {
      const clock = world.clock;
      if (network === 'x') {
        const x = await startXSandbox({
          world,
          limits: {
            perWindow: { follow: limits.follows ?? 50 },
            followsPerDayPerUser: limits.followsPerDay ?? 400,
          },
        });
        return {
          platform: new XPlatform({
            baseUrl: x.baseUrl,
            accessToken: x.issueToken(owner.id),
            timeoutMs: 2_000,
            clock,
          }),
          ownerId: owner.id,
          idOf: (id) => id,
          fault: (spec) => x.faults.add({ ...spec, endpoint: X_ENDPOINTS[spec.endpoint] }),
          close: () => x.close(),
        };
      }
      if (network === 'bluesky') {
        const bluesky = await startBlueskySandbox({
          world,
          // The contract is about answers, not the AppView's indexing lag (its own tests cover it).
          appViewLagMs: 0,
          limits: limits.follows === undefined ? {} : { writePointsPerHour: limits.follows * 3 },
        });
        return {
          platform: createBlueskyPlatform({
            service: bluesky.baseUrl,
            identifier: bluesky.handleOf(owner.id),
            password: bluesky.appPasswordFor(owner.id),
            clock,
            timeoutMs: 2_000,
          }),
          ownerId: bluesky.didOf(owner.id),
          idOf: (id) => bluesky.didOf(id),
          fault: (spec) => bluesky.faults.add({ ...spec, endpoint: BLUESKY_METHODS[spec.endpoint] }),
          close: () => bluesky.close(),
        };
      }
      const mastodon = await startMastodonSandbox({
        world,
        limits: limits.follows === undefined ? {} : { followsPerDay: limits.follows },
      });
      return {
        platform: createMastodonPlatform({
          url: mastodon.baseUrl,
          accessToken: mastodon.issueToken(owner.id),
          clock,
          timeoutMs: 2_000,
          ...(limits.follows === undefined ? {} : { instance: { followsPerDay: limits.follows } }),
        }),
        ownerId: mastodon.idOf(owner.id),
        idOf: (id) => mastodon.idOf(id),
        fault: (spec) => mastodon.faults.add({ ...spec, endpoint: MASTODON_ENDPOINTS[spec.endpoint] }),
        close: () => mastodon.close(),
      };
    },
  });
});
