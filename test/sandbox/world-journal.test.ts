import { describe, expect, it } from 'vitest';
import { createWorld, World } from '../../sandbox/world.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DAY, HOUR, START } from './helpers.ts';

describe('world journal', () => {
  it('rebuilds the same world from its seed and journal, follows and unfollows included', () => {
    // Prepare: a lively owner whom followback follows back and the owner unfollows by hand
    const clock = new VirtualClock(START);
    const world = createWorld({ seed: 7, clock });
    const owner = world.addOwner({
      handle: 'bakery',
      initialFollowers: 200,
      followersPerDay: 60,
      unfollowsPerDay: 5,
    });
    const token = world.issueToken(owner.id);
    clock.advance(DAY);
    const followers = world.followerIds(owner.id);
    for (const id of followers.slice(0, 5)) world.follow(owner.id, id);
    clock.advance(3 * HOUR);
    world.ownerUnfollows(owner.id, followers[0]!);
    clock.advance(2 * DAY);

    // Act: replay the journal on a fresh world with the same seed
    const replayClock = new VirtualClock(0);
    const replayed = World.replay({ seed: 7, clock: replayClock }, START, world.journal());
    replayClock.set(clock.now());

    // Assess: the same graph, the same calls, the same token
    expect(replayed.followerIds(owner.id)).toEqual(world.followerIds(owner.id));
    expect(replayed.followingIds(owner.id)).toEqual(world.followingIds(owner.id));
    expect(replayed.followCalls(owner.id)).toEqual(world.followCalls(owner.id));
    expect(replayed.events()).toEqual(world.events());
    expect(replayed.tokens.resolve(token)).toBe(owner.id);
    expect(replayed.isFollowing(owner.id, followers[0]!)).toBe(false);
  });
});
