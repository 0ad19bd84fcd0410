import { describe, expect, it } from 'vitest';
import { snowflakeTime } from '../../sandbox/ids.ts';
import { createWorld, type OwnerOptions, type World } from '../../sandbox/world.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { DAY, HOUR, MINUTE, START } from './helpers.ts';

function worldWith(
  owner: Partial<OwnerOptions>,
  seed = 42,
  orderNoise = 0,
): { world: World; clock: VirtualClock; ownerId: string } {
  const clock = new VirtualClock(START);
  const world = createWorld({ seed, clock, orderNoise });
  const created = world.addOwner({
    handle: 'shop',
    initialFollowers: 300,
    initialFollowing: 50,
    followersPerDay: 0,
    unfollowsPerDay: 0,
    deletionsPerDay: 0,
    ...owner,
  });
  return { world, clock, ownerId: created.id };
}

const LIVELY: Partial<OwnerOptions> = {
  followersPerDay: 120,
  unfollowsPerDay: 20,
  deletionsPerDay: 5,
  protectedShare: 0.2,
  refollowShare: 0.2,
};

function fingerprint(world: World, ownerId: string) {
  return {
    followers: world.followerIds(ownerId),
    following: world.followingIds(ownerId),
    events: world.events(),
    profiles: world
      .followerIds(ownerId)
      .slice(0, 20)
      .map((id) => world.user(id)),
  };
}

describe('world', () => {
  it('is the same for a seed however often it is advanced', () => {
    // Prepare
    const once = worldWith(LIVELY, 7, 0.1);
    const often = worldWith(LIVELY, 7, 0.1);

    // Act: one jump of three days, against irregular small steps with reads in between.
    once.clock.advance(3 * DAY);
    const steps = [1, 17 * MINUTE, 3 * HOUR, 59_999, 11 * HOUR, DAY];
    for (let i = 0; often.clock.now() < START + 3 * DAY; i++) {
      often.clock.set(Math.min(START + 3 * DAY, often.clock.now() + steps[i % steps.length]!));
      often.world.pageFollowers(often.ownerId, { limit: 5 });
    }

    // Assess
    expect(fingerprint(often.world, often.ownerId)).toEqual(fingerprint(once.world, once.ownerId));
    expect(once.world.events().length).toBeGreaterThan(300);
  });

  it('differs between seeds', () => {
    // Prepare
    const a = worldWith(LIVELY, 1);
    const b = worldWith(LIVELY, 2);

    // Act
    a.clock.advance(DAY);
    b.clock.advance(DAY);

    // Assess
    expect(a.world.followerIds(a.ownerId)).not.toEqual(b.world.followerIds(b.ownerId));
  });

  it('gains followers at about the configured rate', () => {
    // Prepare
    const { world, clock, ownerId } = worldWith({ followersPerDay: 200 });

    // Act
    clock.advance(10 * DAY);

    // Assess: 2000 expected, Poisson sd about 45.
    const gained = world.events({ ownerId, kinds: ['followed'] });
    expect(gained.length).toBeGreaterThan(1800);
    expect(gained.length).toBeLessThan(2200);
    expect(world.user(ownerId)?.followersCount).toBe(300 + gained.length);
    for (const event of gained.slice(0, 50)) {
      expect(world.followedAt(ownerId, event.userId)).toBe(event.at);
      expect(event.at).toBeGreaterThanOrEqual(START);
      expect(event.at).toBeLessThanOrEqual(START + 10 * DAY);
    }
  });

  it('gives initial followers past follow times, newest first', () => {
    // Prepare
    const { world, ownerId } = worldWith({ initialFollowers: 500 });

    // Act
    const times = world.followerIds(ownerId).map((id) => world.followedAt(ownerId, id)!);

    // Assess
    expect(times).toHaveLength(500);
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    expect(times[0]).toBeLessThanOrEqual(START);
    expect(times.at(-1)).toBeGreaterThan(START - 6 * 365 * DAY);
  });

  it('loses followers to unfollows, keeping when they had followed', () => {
    // Prepare
    const { world, clock, ownerId } = worldWith({ unfollowsPerDay: 30 });

    // Act
    clock.advance(5 * DAY);

    // Assess
    const left = world.events({ ownerId, kinds: ['unfollowed'] });
    expect(left.length).toBeGreaterThan(100);
    expect(left.length).toBeLessThan(200);
    expect(world.followerIds(ownerId)).toHaveLength(300 - left.length);
    for (const event of left) {
      expect(world.isFollower(ownerId, event.userId)).toBe(false);
      expect(world.followedAt(ownerId, event.userId)).toBeLessThan(START);
    }
  });

  it('deletes and suspends followers, who vanish from every list', () => {
    // Prepare
    const { world, clock, ownerId } = worldWith({
      deletionsPerDay: 20,
      suspendedShare: 0.5,
      initialMutualShare: 1,
    });

    // Act
    clock.advance(5 * DAY);

    // Assess
    const gone = world.events({ ownerId, kinds: ['deleted', 'suspended'] });
    const deleted = gone.filter((event) => event.kind === 'deleted');
    const suspended = gone.filter((event) => event.kind === 'suspended');
    expect(deleted.length).toBeGreaterThan(10);
    expect(suspended.length).toBeGreaterThan(10);
    const followers = new Set(world.followerIds(ownerId));
    const following = new Set(world.followingIds(ownerId));
    for (const event of deleted) expect(world.user(event.userId)?.deleted).toBe(true);
    for (const event of suspended) expect(world.user(event.userId)?.suspended).toBe(true);
    for (const event of gone) {
      expect(followers.has(event.userId)).toBe(false);
      expect(following.has(event.userId)).toBe(false);
    }
    expect(following.size).toBeLessThan(50);
  });

  it('lists followers strictly newest first without order noise', () => {
    // Prepare
    const { world, clock, ownerId } = worldWith({ followersPerDay: 500 });

    // Act
    clock.advance(DAY);
    const times = world.followerIds(ownerId).map((id) => world.followedAt(ownerId, id)!);

    // Assess
    expect([...times].sort((x, y) => y - x)).toEqual(times);
  });

  it('swaps adjacent followers out of order with order noise', () => {
    // Prepare
    const { world, clock, ownerId } = worldWith({ followersPerDay: 1000, initialFollowers: 0 }, 42, 0.2);

    // Act
    clock.advance(DAY);
    const times = world.followerIds(ownerId).map((id) => world.followedAt(ownerId, id)!);

    // Assess: some pairs are inverted, never two overlapping pairs, and undoing them sorts the list.
    const inverted: number[] = [];
    for (let i = 0; i + 1 < times.length; i++) if (times[i]! < times[i + 1]!) inverted.push(i);
    expect(inverted.length).toBeGreaterThan(times.length * 0.08);
    expect(inverted.length).toBeLessThan(times.length * 0.3);
    const repaired = [...times];
    for (let k = 0; k < inverted.length; k++) {
      const i = inverted[k]!;
      expect(inverted[k + 1]).not.toBe(i + 1);
      [repaired[i], repaired[i + 1]] = [repaired[i + 1]!, repaired[i]!];
    }
    expect([...times].sort((x, y) => y - x)).toEqual(repaired);
  });

  it('pages through the whole list exactly once while the world is still', () => {
    // Prepare
    const { world, ownerId } = worldWith({ initialFollowers: 1234 }, 3, 0.05);

    // Act
    const seen: string[] = [];
    let below: number | undefined;
    for (;;) {
      const page = world.pageFollowers(ownerId, { limit: 100, below });
      seen.push(...page.entries.map((entry) => entry.user.id));
      if (!page.moreBelow) break;
      below = page.entries.at(-1)!.key;
    }

    // Assess
    expect(seen).toEqual(world.followerIds(ownerId));
    expect(new Set(seen).size).toBe(1234);
  });

  it('mixes legacy 32-bit ids and snowflakes that encode the creation time', () => {
    // Prepare
    const { world, ownerId } = worldWith({ initialFollowers: 2000 });

    // Act
    const users = world.followerIds(ownerId).map((id) => world.user(id)!);

    // Assess
    const legacy = users.filter((user) => BigInt(user.id) < 2n ** 32n);
    const snowflakes = users.filter((user) => BigInt(user.id) >= 2n ** 32n);
    expect(legacy.length).toBeGreaterThan(200);
    expect(snowflakes.length).toBeGreaterThan(200);
    for (const user of legacy) expect(user.createdAt).toBeLessThan(Date.UTC(2015, 11, 1));
    for (const user of snowflakes) {
      expect(user.id).toMatch(/^[0-9]{18,19}$/);
      expect(snowflakeTime(BigInt(user.id))).toBe(user.createdAt);
    }
    expect(new Set(users.map((user) => user.id)).size).toBe(users.length);
    expect(new Set(users.map((user) => user.username.toLowerCase())).size).toBe(users.length);
  });

  it('makes spam-like followers carry at least two spam signals', () => {
    // Prepare
    const { world, ownerId } = worldWith({ initialFollowers: 2000, spamShare: 0.3 });

    // Act
    const users = world.followerIds(ownerId).map((id) => world.user(id)!);
    const spam = users.filter((user) => user.spam);

    // Assess
    expect(spam.length).toBeGreaterThan(450);
    expect(spam.length).toBeLessThan(750);
    for (const user of spam) expect(user.spamSignals.length).toBeGreaterThanOrEqual(2);
    expect(spam.some((user) => user.spamSignals.includes('absurd_ratio') && user.followingCount > 2000)).toBe(
      true,
    );
    expect(spam.some((user) => user.spamSignals.includes('default_avatar'))).toBe(true);
    expect(spam.some((user) => user.spamSignals.includes('spam_keywords'))).toBe(true);
    expect(spam.some((user) => user.spamSignals.includes('empty_bio') && user.description === '')).toBe(true);
    const fresh = spam.filter((user) => user.spamSignals.includes('new_account'));
    for (const user of fresh) {
      expect(world.followedAt(ownerId, user.id)! - user.createdAt).toBeLessThanOrEqual(14 * DAY);
    }
  });

  it('records follow calls, counting duplicates, apart from follows by hand', () => {
    // Prepare
    const { world, ownerId } = worldWith({});
    const [a, b] = world.followerIds(ownerId).filter((id) => !world.isFollowing(ownerId, id));

    // Act
    const first = world.follow(ownerId, a!);
    const again = world.follow(ownerId, a!);
    const byHand = world.ownerFollows(ownerId, b!);

    // Assess
    expect([first, again, byHand]).toEqual(['followed', 'already_following', 'followed']);
    expect(world.followCalls(ownerId).map((call) => [call.targetId, call.outcome])).toEqual([
      [a, 'followed'],
      [a, 'already_following'],
    ]);
    expect(world.stats.snapshot().totals).toMatchObject({ followCalls: 2, duplicateFollowCalls: 1 });
    expect(world.isFollowing(ownerId, b!)).toBe(true);
  });

  it('lets the owner unfollow by hand', () => {
    // Prepare
    const { world, ownerId } = worldWith({});
    const followed = world.followingIds(ownerId)[0]!;

    // Act
    const outcome = world.ownerUnfollows(ownerId, followed);

    // Assess
    expect(outcome).toBe('unfollowed');
    expect(world.isFollowing(ownerId, followed)).toBe(false);
    expect(world.followingIds(ownerId)).toHaveLength(49);
    expect(world.unfollowCalls(ownerId)).toEqual([]);
  });

  it('turns a follow of a protected account into a request, accepted later', () => {
    // Prepare
    const { world, clock, ownerId } = worldWith({ pendingAcceptShare: 1, pendingAcceptMeanHours: 2 });
    const locked = world.createUser({ protected: true });

    // Act
    const outcome = world.follow(ownerId, locked.id);
    const pendingAtFirst = world.isPending(ownerId, locked.id);
    clock.advance(2 * DAY);

    // Assess
    expect(outcome).toBe('pending');
    expect(pendingAtFirst).toBe(true);
    expect(world.isPending(ownerId, locked.id)).toBe(false);
    expect(world.isFollowing(ownerId, locked.id)).toBe(true);
    expect(world.events({ kinds: ['accepted'] })).toMatchObject([{ ownerId, userId: locked.id }]);
  });

  it('answers follows of deleted, suspended and missing users', () => {
    // Prepare
    const { world, ownerId } = worldWith({});
    const deleted = world.createUser();
    const suspended = world.createUser();
    world.deleteUser(deleted.id);
    world.suspendUser(suspended.id);

    // Act
    const outcomes = [
      world.follow(ownerId, deleted.id),
      world.follow(ownerId, suspended.id),
      world.follow(ownerId, '123'),
      world.follow(ownerId, ownerId),
    ];

    // Assess
    expect(outcomes).toEqual(['not_found', 'suspended', 'not_found', 'self']);
  });

  it('brings back former followers who follow again', () => {
    // Prepare
    const { world, clock, ownerId } = worldWith({
      followersPerDay: 50,
      unfollowsPerDay: 50,
      refollowShare: 0.5,
    });

    // Act
    clock.advance(10 * DAY);

    // Assess
    const left = new Map<string, number>();
    let returned = 0;
    for (const event of world.events({ ownerId, kinds: ['followed', 'unfollowed'] })) {
      if (event.kind === 'unfollowed') left.set(event.userId, event.at);
      else if (left.has(event.userId)) returned++;
    }
    expect(returned).toBeGreaterThan(10);
  });

  it('shows a follow between two owners on both sides', () => {
    // Prepare
    const { world, ownerId } = worldWith({});
    const other = world.addOwner({ handle: 'agency', initialFollowers: 10, initialFollowing: 0 });

    // Act
    world.follow(ownerId, other.id);
    const mutual = world.isFollower(other.id, ownerId);
    world.unfollow(ownerId, other.id);

    // Assess
    expect(mutual).toBe(true);
    expect(world.isFollower(other.id, ownerId)).toBe(false);
    expect(world.user(other.id)?.followersCount).toBe(10);
  });

  it('refuses bad owner options, naming the field', () => {
    // Prepare
    const { world } = worldWith({});

    // Act + Assess
    expect(() => world.addOwner({ handle: 'x', spamShare: 2 })).toThrow(/spamShare/);
    expect(() => world.addOwner({ handle: 'bad handle!' })).toThrow(ValidationError);
    expect(() => world.addOwner({ handle: 'SHOP' })).toThrow(/already taken/);
    expect(() => world.follow('999', '1')).toThrow(/ownerId/);
  });

  it('holds an owner with 100,000 followers gaining 500 a day through a week', () => {
    // Prepare
    const { world, clock, ownerId } = worldWith({
      initialFollowers: 100_000,
      initialFollowing: 1000,
      followersPerDay: 500,
      unfollowsPerDay: 50,
      deletionsPerDay: 5,
    });

    // Act: a week, with a head page every hour and a full scan at the end.
    for (let hour = 0; hour < 7 * 24; hour++) {
      clock.advance(HOUR);
      world.pageFollowers(ownerId, { limit: 20 });
    }
    let count = 0;
    let below: number | undefined;
    for (;;) {
      const page = world.pageFollowers(ownerId, { limit: 1000, below });
      count += page.entries.length;
      if (!page.moreBelow) break;
      below = page.entries.at(-1)!.key;
    }

    // Assess
    expect(count).toBe(world.user(ownerId)!.followersCount);
    expect(count).toBeGreaterThan(100_000 + 3000 - 500);
    expect(count).toBeLessThan(100_000 + 4000);
  });
});
