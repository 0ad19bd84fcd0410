/**
 * What the world adds for the open networks: Bluesky DIDs and Mastodon ids for every user, the
 * bot and #nobot flags, and follows on a network without follow requests, all deterministic, all
 * replayed from the journal, and none of it changing what the X sandbox sees.
 */
import { describe, expect, it } from 'vitest';
import { createWorld, World } from '../../sandbox/world.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const HOUR = 3_600_000;

function world(seed = 1, extra: { botShare?: number; noBotShare?: number } = {}) {
  const clock = new VirtualClock(START);
  const w = createWorld({ seed, clock, orderNoise: 0, ...extra });
  const owner = w.addOwner({ handle: 'shop', initialFollowers: 400, initialFollowing: 50 });
  return { clock, world: w, owner };
}

describe('world ids on the open networks', () => {
  it('gives every user a did:plc and a Mastodon snowflake, unique, with lookups back', () => {
    // Prepare
    const { world: w, owner } = world();
    const ids = [owner.id, ...w.followerIds(owner.id), ...w.followingIds(owner.id)];

    // Act
    const dids = ids.map((id) => w.didOf(id)!);
    const mastodon = ids.map((id) => w.mastodonIdOf(id)!);

    // Assess
    expect(dids.every((did) => /^did:plc:[a-z2-7]{24}$/.test(did))).toBe(true);
    expect(mastodon.every((id) => /^\d{16,19}$/.test(id))).toBe(true);
    expect(new Set(dids).size).toBe(new Set(ids).size);
    expect(new Set(mastodon).size).toBe(new Set(ids).size);
    expect(dids.map((did) => w.userIdForDid(did))).toEqual(ids);
    expect(mastodon.map((id) => w.userIdForMastodonId(id))).toEqual(ids);
    expect(w.userIdForDid('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')).toBeUndefined();
  });

  it('keeps Mastodon ids unique when accounts are created in the same second', () => {
    // Prepare
    const { world: w } = world();
    const createdAt = START - 400 * 24 * HOUR;

    // Act
    const users = Array.from({ length: 300 }, () => w.createUser({ createdAt }));
    const ids = users.map((user) => w.mastodonIdOf(user.id)!);

    // Assess
    expect(new Set(ids).size).toBe(300);
    expect(ids.every((id) => BigInt(id) >> 16n === BigInt(Math.floor(createdAt / 1000) * 1000))).toBe(true);
  });

  it('derives the same ids for the same seed, whatever order they are asked in', () => {
    // Prepare
    const a = world(7);
    const b = world(7);
    const ids = a.world.followerIds(a.owner.id);

    // Act
    const forward = ids.map((id) => a.world.mastodonIdOf(id));
    const backward = [...ids]
      .reverse()
      .map((id) => b.world.mastodonIdOf(id))
      .reverse();

    // Assess
    expect(backward).toEqual(forward);
    expect(ids.map((id) => b.world.didOf(id))).toEqual(ids.map((id) => a.world.didOf(id)));
  });

  it('marks about the asked share of users as bots and as #nobot, never an owner', () => {
    // Prepare
    const { world: w, owner } = world(3, { botShare: 0.1, noBotShare: 0.05 });

    // Act
    const users = w.followerIds(owner.id).map((id) => w.user(id)!);

    // Assess
    const bots = users.filter((user) => user.bot).length;
    const quiet = users.filter((user) => user.noBot).length;
    expect(bots).toBeGreaterThan(20);
    expect(bots).toBeLessThan(65);
    expect(quiet).toBeGreaterThan(5);
    expect(quiet).toBeLessThan(40);
    expect(w.user(owner.id)).toMatchObject({ bot: false, noBot: false });
  });

  it('leaves the X view of a world as it was: the same users, graph and profiles whatever the shares', () => {
    // Prepare / Act
    const plain = world(9, { botShare: 0, noBotShare: 0 });
    const flagged = world(9, { botShare: 0.5, noBotShare: 0.5 });

    // Assess
    const strip = (w: typeof plain) =>
      w.world.followerIds(w.owner.id).map((id) => {
        const { bot: _bot, noBot: _noBot, ...rest } = w.world.user(id)!;
        return rest;
      });
    expect(strip(flagged)).toEqual(strip(plain));
  });
});

describe('follows without requests', () => {
  it('follows a protected account at once when the network has no follow requests', () => {
    // Prepare
    const { world: w, owner } = world();
    const locked = w.createUser({ protected: true });
    const other = w.createUser({ protected: true });

    // Act
    const direct = w.follow(owner.id, locked.id, { requests: false });
    const asked = w.follow(owner.id, other.id);

    // Assess
    expect([direct, asked]).toEqual(['followed', 'pending']);
    expect(w.isFollowing(owner.id, locked.id)).toBe(true);
    expect(w.followingSince(owner.id, locked.id)).toBe(START);
  });

  it('replays direct follows from the journal as they happened', () => {
    // Prepare
    const { clock, world: w, owner } = world(4);
    const locked = w.createUser({ protected: true });
    clock.advance(HOUR);
    w.follow(owner.id, locked.id, { requests: false });

    // Act
    const replayed = World.replay(
      { seed: 4, clock: new VirtualClock(START), orderNoise: 0 },
      START,
      w.journal(),
    );

    // Assess
    expect(replayed.isFollowing(owner.id, locked.id)).toBe(true);
    expect(replayed.followingIds(owner.id)).toEqual(w.followingIds(owner.id));
    expect(replayed.didOf(locked.id)).toBe(w.didOf(locked.id));
  });
});
