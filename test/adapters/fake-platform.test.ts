/** FakePlatform, the simulation's in-process platform, keeps the contract each sandbox keeps through its adapter. */
import { describe } from 'vitest';
import { FakePlatform } from '../../sandbox/fake-platform.ts';
import { describePlatformContract } from '../contract/platform-contract.ts';

describe('the Platform contract on FakePlatform', () => {
  describePlatformContract({
    name: 'in-process fake',
    async start(network, world, owner, limits) {
      const platform = new FakePlatform({
        world,
        network,
        ownerId: owner.id,
        limits: {
          ...(limits.follows === undefined
            ? {}
            : {
                xPerWindow: { follow: limits.follows },
                blueskyPointsPerHour: limits.follows * 3,
                mastodonFollowsPerDay: limits.follows,
              }),
          ...(limits.followsPerDay === undefined ? {} : { xFollowsPerDay: limits.followsPerDay }),
        },
      });
      return {
        platform,
        ownerId: platform.ownerPlatformId,
        idOf: (id) => platform.platformIdOf(id),
        fault: ({ holdMs: _holdMs, ...spec }) => platform.inject({ ...spec, times: 1 }),
        close: async () => {},
      };
    },
  });
});
