/**
 * The Bluesky adapter against the Bluesky sandbox on loopback, through its real XRPC client (@atcute/client):
 * answers become the port's shapes, failures the named errors of shared/domain/errors.ts, sessions
 * are resumed, refreshed and stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BlueskyLimits, BlueskyMethod, BlueskySandbox } from '../../sandbox/bluesky/index.ts';
import { startBlueskySandbox } from '../../sandbox/bluesky/index.ts';
import type { FaultKind } from '../../sandbox/common/faults.ts';
import { createWorld, type World, type WorldUser } from '../../sandbox/world.ts';
import {
  BLUESKY_LIMITS,
  type BlueskyPlatform,
  type BlueskyPlatformOptions,
  type BlueskySession,
  createBlueskyPlatform,
} from '../../shared/adapters/bluesky/bluesky-platform.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { resolvePolicy } from '../../shared/config/policy.ts';
import { evaluateCandidate } from '../../shared/domain/engine/spam.ts';
import {
  AuthError,
  MalformedResponseError,
  RateLimitedError,
  TransientPlatformError,
  UserGoneError,
  ValidationError,
} from '../../shared/domain/errors.ts';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Setup {
  clock: VirtualClock;
  world: World;
  owner: WorldUser;
  sandbox: BlueskySandbox;
  did: string;
  platform: BlueskyPlatform;
  sessions: (BlueskySession | undefined)[];
  adapter(options?: Partial<BlueskyPlatformOptions>): BlueskyPlatform;
}

const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setup(options: { limits?: Partial<BlueskyLimits>; followers?: number } = {}): Promise<Setup> {
  const clock = new VirtualClock(START);
  const world = createWorld({ seed: 11, clock, orderNoise: 0 });
  const owner = world.addOwner({
    handle: 'shop',
    initialFollowers: options.followers ?? 250,
    initialFollowing: 30,
    followersPerDay: 0,
    unfollowsPerDay: 0,
    deletionsPerDay: 0,
  });
  const sandbox = await startBlueskySandbox({ world, limits: options.limits });
  closers.push(() => sandbox.close());
  const sessions: (BlueskySession | undefined)[] = [];
  const adapter = (more: Partial<BlueskyPlatformOptions> = {}) =>
    createBlueskyPlatform({
      service: sandbox.baseUrl,
      identifier: sandbox.handleOf(owner.id),
      password: sandbox.appPasswordFor(owner.id),
      onSession: (session) => {
        sessions.push(session);
      },
      clock,
      timeoutMs: 1_000,
      ...more,
    });
  return {
    clock,
    world,
    owner,
    sandbox,
    did: sandbox.didOf(owner.id),
    platform: adapter(),
    sessions,
    adapter,
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

describe('Bluesky adapter: reads', () => {
  it('reads the owner’s profile with counts, as a PlatformUser', async () => {
    // Prepare
    const s = await setup();

    // Act
    const me = await s.platform.me();

    // Assess
    expect(me).toMatchObject({
      id: s.did,
      handle: 'shop.bsky.social',
      name: 'Shop',
      bio: 'Late follow backs!',
      followersCount: 250,
      followingCount: 30,
      protected: false,
      defaultAvatar: false,
    });
  });

  it('pages followers at most 100 at a time, to the end, newest first', async () => {
    // Prepare
    const s = await setup();

    // Act
    const ids: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await s.platform.listFollowers(s.did, { cursor, pageSize: 1_000 });
      ids.push(...page.users.map((user) => user.id));
      sizes.push(page.users.length);
      cursor = page.nextCursor;
    } while (cursor);

    // Assess
    expect(sizes).toEqual([100, 100, 50]);
    expect(ids).toEqual(s.world.followerIds(s.owner.id).map((id) => s.sandbox.didOf(id)));
  });

  it('reads followings and reports the read window in the page', async () => {
    // Prepare
    const s = await setup();

    // Act
    const page = await s.platform.listFollowing(s.did, { pageSize: 10 });

    // Assess
    expect(page.users.map((user) => user.id)).toEqual(
      s.world
        .followingIds(s.owner.id)
        .slice(0, 10)
        .map((id) => s.sandbox.didOf(id)),
    );
    expect(page.rateLimit).toMatchObject({ endpoint: 'app.bsky.graph.getFollows', limit: 3_000 });
  });

  it('looks profiles up 25 at a time, leaving out the ones that are gone', async () => {
    // Prepare
    const s = await setup();
    const ids = s.world.followerIds(s.owner.id).slice(0, 60);
    s.world.deleteUser(ids[3]!);
    const quiet = s.world.createUser({ noBot: true });

    // Act
    const users = await s.platform.lookupUsers([...ids, quiet.id].map((id) => s.sandbox.didOf(id)));

    // Assess
    expect(users).toHaveLength(60);
    expect(s.world.stats.endpoint('app.bsky.actor.getProfiles').requests).toBe(3);
    expect(users.every((user) => user.followersCount !== undefined)).toBe(true);
    expect(users.at(-1)!.bio).toMatch(/#nobot/);
  });

  it('tells relationships from the owner’s viewer state; a gone target is absent', async () => {
    // Prepare
    const s = await setup();
    const follower = s.world.followerIds(s.owner.id).find((id) => !s.world.isFollowing(s.owner.id, id))!;
    const followed = s.world.followingIds(s.owner.id).find((id) => !s.world.isFollower(s.owner.id, id))!;
    const gone = s.world.createUser();
    s.world.deleteUser(gone.id);
    const [a, b, c] = [follower, followed, gone.id].map((id) => s.sandbox.didOf(id));

    // Act
    const relationships = await s.platform.relationships(s.did, [a!, b!, c!]);

    // Assess
    expect(relationships.get(a!)).toEqual({ followedBy: true, following: false, requested: false });
    expect(relationships.get(b!)).toEqual({ followedBy: false, following: true, requested: false });
    expect(relationships.has(c!)).toBe(false);
  });
});

describe('Bluesky adapter: what the AppView shows', () => {
  it('leaves malformed identifiers out of a profile look-up instead of failing the whole batch', async () => {
    // Prepare
    const s = await setup();
    const ids = s.world
      .followerIds(s.owner.id)
      .slice(0, 3)
      .map((id) => s.sandbox.didOf(id));

    // Act
    const users = await s.platform.lookupUsers([ids[0]!, 'not a did', ids[1]!, ids[2]!]);
    const relationships = await s.platform.relationships(s.did, ['did:', ids[0]!]);

    // Assess
    expect(users.map((user) => user.id)).toEqual(ids);
    expect([...relationships.keys()]).toEqual([ids[0]]);
  });

  it('reads an account without a profile record as no name, bio or creation date; vetting calls it neither new nor old', async () => {
    // Prepare
    const s = await setup();
    const bare = s.world.createUser({ noProfile: true });
    const policy = resolvePolicy('bluesky', {
      spam: { newAccount: { action: 'skip', minAgeDays: 30 }, emptyProfile: 'flag' },
    });

    // Act
    const [user] = await s.platform.lookupUsers([s.sandbox.didOf(bare.id)]);
    const verdict = evaluateCandidate(user!, policy, { now: s.clock.now() });

    // Assess
    expect(user).toMatchObject({ name: '', bio: '', createdAt: undefined });
    expect(verdict.verdict).toBe('follow');
    expect(verdict.signals.map((signal) => signal.kind)).not.toContain('new_account');
  });
});

describe('Bluesky adapter: writes', () => {
  it('follows by creating a record, reporting the tightest window (the per-IP one)', async () => {
    // Prepare
    const s = await setup();
    const user = s.world.createUser({ protected: true });

    // Act
    const result = await s.platform.follow(s.did, s.sandbox.didOf(user.id));
    s.clock.advance(1_000);
    await s.platform.me();

    // Assess: the create's headers describe the 3,000 requests / 5 minutes window, not write points
    expect(result.outcome).toBe('followed');
    expect(result.rateLimit).toMatchObject({ limit: 3_000, resetAt: START + 5 * MINUTE });
    expect(result.rateLimit!.remaining).toBeLessThan(3_000);
    expect(s.world.isFollowing(s.owner.id, user.id)).toBe(true);
    expect(s.sandbox.followRecords(s.owner.id).map((record) => record.subject)).toEqual([
      s.sandbox.didOf(user.id),
    ]);
  });

  it('answers already_following to a follow repeated before the AppView indexed the first', async () => {
    // Prepare: the AppView shows a new record only after its lag; a second worker asks at once
    const s = await setup();
    const user = s.world.createUser();
    const did = s.sandbox.didOf(user.id);
    await s.platform.follow(s.did, did);

    // Act
    const again = await s.adapter().follow(s.did, did);
    const sameAdapter = await s.platform.follow(s.did, did);

    // Assess
    expect(again.outcome).toBe('already_following');
    expect(sameAdapter.outcome).toBe('already_following');
    expect(s.world.stats.endpoint('com.atproto.repo.createRecord').requests).toBe(1);
    expect(s.sandbox.followRecords(s.owner.id)).toHaveLength(1);
  });

  it('shares the PDS’s 3,000 requests window between every account behind one address', async () => {
    // Prepare: two owners of one deployment, a window of 6 requests
    const s = await setup({ limits: { requestsPerWindow: 6 } });
    const other = s.world.addOwner({ handle: 'cafe', initialFollowers: 5, initialFollowing: 1 });
    const second = s.adapter({
      identifier: s.sandbox.handleOf(other.id),
      password: s.sandbox.appPasswordFor(other.id),
    });

    // Act: the first owner spends five of the six (logins count in windows of their own)
    for (let i = 0; i < 5; i += 1) await s.platform.me();
    const error = await failure(
      (async () => {
        await second.me();
        await second.me();
      })(),
    );

    // Assess: the second owner is limited too, until the shared window resets
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).resetAt).toBe(START + 5 * MINUTE);
  });

  it('does not create a second record for someone already followed', async () => {
    // Prepare
    const s = await setup();
    const followed = s.world.followingIds(s.owner.id)[0]!;

    // Act
    const result = await s.platform.follow(s.did, s.sandbox.didOf(followed));

    // Assess
    expect(result.outcome).toBe('already_following');
    expect(s.world.stats.endpoint('com.atproto.repo.createRecord').requests).toBe(0);
  });

  it('unfollows by deleting the record, its own or one made by hand', async () => {
    // Prepare
    const s = await setup();
    const mine = s.world.createUser();
    await s.platform.follow(s.did, s.sandbox.didOf(mine.id));
    const byHand = s.world.followingIds(s.owner.id).find((id) => id !== mine.id)!;

    // Act
    await s.platform.unfollow(s.did, s.sandbox.didOf(mine.id));
    await s.platform.unfollow(s.did, s.sandbox.didOf(byHand));

    // Assess
    expect(s.world.isFollowing(s.owner.id, mine.id)).toBe(false);
    expect(s.world.isFollowing(s.owner.id, byHand)).toBe(false);
    expect(s.sandbox.followRecords(s.owner.id)).toEqual([]);
  });

  it.each([
    ['deleted', (world: World, id: string) => world.deleteUser(id)],
    ['suspended', (world: World, id: string) => world.suspendUser(id)],
  ])('refuses to follow a %s account with UserGoneError, creating nothing', async (_, remove) => {
    // Prepare
    const s = await setup();
    const user = s.world.createUser();
    const did = s.sandbox.didOf(user.id);
    remove(s.world, user.id);

    // Act
    const error = await failure(s.platform.follow(s.did, did));

    // Assess
    expect(error).toBeInstanceOf(UserGoneError);
    expect(s.world.stats.endpoint('com.atproto.repo.createRecord').requests).toBe(0);
  });

  it('turns spent write points into RateLimitedError at the hour’s reset', async () => {
    // Prepare: 6 points an hour are two follows
    const s = await setup({ limits: { writePointsPerHour: 6 } });
    const users = Array.from({ length: 3 }, () => s.world.createUser());
    await s.platform.follow(s.did, s.sandbox.didOf(users[0]!.id));
    s.clock.advance(10 * MINUTE);
    await s.platform.follow(s.did, s.sandbox.didOf(users[1]!.id));

    // Act
    const error = await failure(s.platform.follow(s.did, s.sandbox.didOf(users[2]!.id)));

    // Assess
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).resetAt).toBe(START + HOUR);
  });
});

describe('Bluesky adapter: failures', () => {
  it.each<[FaultKind, string, abstract new (...args: never[]) => Error]>([
    ['500', 'TransientPlatformError', TransientPlatformError],
    ['503', 'TransientPlatformError', TransientPlatformError],
    ['timeout', 'TransientPlatformError', TransientPlatformError],
    ['malformed', 'MalformedResponseError', MalformedResponseError],
    ['truncated', 'MalformedResponseError', MalformedResponseError],
    ['429', 'RateLimitedError', RateLimitedError],
  ])('maps a %s to %s', async (kind, _, type) => {
    // Prepare
    const s = await setup();
    await s.platform.me();
    s.sandbox.faults.add({ endpoint: 'app.bsky.graph.getFollowers' as BlueskyMethod, kind, holdMs: 3_000 });

    // Act
    const error = await failure(s.platform.listFollowers(s.did, { pageSize: 10 }));

    // Assess
    expect(error).toBeInstanceOf(type);
    if (error instanceof RateLimitedError) expect(error.resetAt).toBe(START + 5 * MINUTE);
  });

  it('refuses a wrong app password with AuthError', async () => {
    // Prepare
    const s = await setup();
    const adapter = s.adapter({ password: 'aaaa-bbbb-cccc-dddd' });

    // Act
    const error = await failure(adapter.me());

    // Assess
    expect(error).toBeInstanceOf(AuthError);
  });

  it('refuses a service that is not a URL, and an account with no credentials', () => {
    expect(() => createBlueskyPlatform({ service: 'bsky', identifier: 'a', password: 'b' })).toThrow(
      ValidationError,
    );
    expect(() => createBlueskyPlatform({ service: 'https://bsky.social' })).toThrow(ValidationError);
  });

  it('states Bluesky’s limits: pages of 100, 1,666 follows an hour and 11,666 a day at 3 points each', () => {
    expect(BLUESKY_LIMITS).toMatchObject({
      maxPageSize: 100,
      followsPerWindow: 1_666,
      followsPerDay: 11_666,
    });
  });
});

describe('Bluesky adapter: sessions', () => {
  it('stores the session at login and again whenever it is refreshed', async () => {
    // Prepare
    const s = await setup();
    await s.platform.me();

    // Act: the access token expires after two hours
    s.clock.advance(2 * HOUR + MINUTE);
    await s.platform.listFollowers(s.did, { pageSize: 5 });

    // Assess
    expect(s.sessions).toHaveLength(2);
    expect(s.sessions[1]!.refreshJwt).not.toBe(s.sessions[0]!.refreshJwt);
    expect(s.platform.session).toEqual(s.sessions[1]);
    expect(s.world.stats.endpoint('com.atproto.server.createSession').requests).toBe(1);
  });

  it('resumes a stored session without logging in again', async () => {
    // Prepare
    const s = await setup();
    await s.platform.me();
    const stored = s.sessions[0]!;

    // Act
    const resumed = s.adapter({ session: stored, identifier: undefined, password: undefined });
    const me = await resumed.me();

    // Assess
    expect(me.id).toBe(s.did);
    expect(s.world.stats.endpoint('com.atproto.server.createSession').requests).toBe(1);
  });

  it('logs in again with the app password when the stored session was refused', async () => {
    // Prepare
    const s = await setup();
    await s.platform.me();
    const stored = s.sessions[0]!;
    s.sandbox.sessions.revokeAll(s.did);
    s.clock.advance(2_000);

    // Act
    const me = await s.adapter({ session: stored }).me();
    const without = s.adapter({ session: stored, identifier: undefined, password: undefined });
    const error = await failure(without.me());

    // Assess
    expect(me.id).toBe(s.did);
    expect(s.world.stats.endpoint('com.atproto.server.createSession').requests).toBe(2);
    expect(error).toBeInstanceOf(AuthError);
  });
});
