/**
 * The Mastodon adapter against the Mastodon sandbox on loopback, through the real masto client:
 * answers become the port's shapes, failures the named errors of shared/domain/errors.ts, and an
 * instance's own limits are the adapter's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultKind } from '../../sandbox/common/faults.ts';
import {
  type MastodonLimits,
  type MastodonSandbox,
  type MastodonSandboxOptions,
  startMastodonSandbox,
} from '../../sandbox/mastodon/index.ts';
import { createWorld, type World, type WorldUser } from '../../sandbox/world.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import {
  createMastodonPlatform,
  MASTODON_LIMITS,
  type MastodonPlatform,
  type MastodonPlatformOptions,
  mastodonLimits,
  noteText,
} from '../../shared/adapters/mastodon/mastodon-platform.ts';
import {
  AuthError,
  MalformedResponseError,
  RateLimitedError,
  TransientPlatformError,
  UserGoneError,
  ValidationError,
} from '../../shared/domain/errors.ts';
import type { GraphPage, PageRequest } from '../../shared/ports/platform.ts';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Setup {
  clock: VirtualClock;
  world: World;
  owner: WorldUser;
  sandbox: MastodonSandbox;
  me: string;
  platform: MastodonPlatform;
  adapter(options?: Partial<MastodonPlatformOptions>): MastodonPlatform;
}

const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setup(
  options: Omit<MastodonSandboxOptions, 'world'> & { limits?: Partial<MastodonLimits> } = {},
): Promise<Setup> {
  const clock = new VirtualClock(START);
  const world = createWorld({ seed: 13, clock, orderNoise: 0 });
  const owner = world.addOwner({
    handle: 'shop',
    initialFollowers: 250,
    initialFollowing: 30,
    followersPerDay: 0,
    unfollowsPerDay: 0,
    deletionsPerDay: 0,
  });
  const sandbox = await startMastodonSandbox({ world, ...options });
  closers.push(() => sandbox.close());
  const token = sandbox.issueToken(owner.id);
  const adapter = (more: Partial<MastodonPlatformOptions> = {}) =>
    createMastodonPlatform({ url: sandbox.baseUrl, accessToken: token, clock, timeoutMs: 1_000, ...more });
  return { clock, world, owner, sandbox, me: sandbox.idOf(owner.id), platform: adapter(), adapter };
}

async function readAll(read: (request: PageRequest) => Promise<GraphPage>, pageSize: number) {
  const ids: string[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await read({ cursor, pageSize });
    ids.push(...page.users.map((user) => user.id));
    sizes.push(page.users.length);
    cursor = page.nextCursor;
  } while (cursor);
  return { ids, sizes };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

describe('Mastodon adapter: reads', () => {
  it('reads the owner as a PlatformUser', async () => {
    // Prepare
    const s = await setup();

    // Act
    const me = await s.platform.me();

    // Assess
    expect(me).toMatchObject({
      id: s.me,
      handle: 'shop',
      name: 'Shop',
      bio: 'Late follow backs!',
      followersCount: 250,
      followingCount: 30,
      protected: false,
      bot: false,
    });
  });

  it('pages followers at most 80 at a time through the Link header, newest first', async () => {
    // Prepare
    const s = await setup();

    // Act
    const { ids, sizes } = await readAll((request) => s.platform.listFollowers(s.me, request), 1_000);

    // Assess
    expect(sizes).toEqual([80, 80, 80, 10]);
    expect(ids).toEqual(s.world.followerIds(s.owner.id).map((id) => s.sandbox.idOf(id)));
  });

  it('pages followings, and reports the instance’s request window in the page', async () => {
    // Prepare
    const s = await setup();

    // Act
    const { ids } = await readAll((request) => s.platform.listFollowing(s.me, request), 20);
    const page = await s.platform.listFollowing(s.me, { pageSize: 5 });

    // Assess
    expect(ids).toEqual(s.world.followingIds(s.owner.id).map((id) => s.sandbox.idOf(id)));
    expect(page.rateLimit).toMatchObject({ limit: 300, resetAt: START + 5 * MINUTE });
  });

  it('reads an instance whose ids are not numbers', async () => {
    // Prepare
    const s = await setup({ idStyle: 'flake' });

    // Act
    const { ids } = await readAll((request) => s.platform.listFollowers(s.me, request), 80);

    // Assess
    expect(ids.every((id) => /^A[0-9A-Za-z]{12}$/.test(id))).toBe(true);
    expect(ids.map((id) => s.sandbox.userIdOf(id))).toEqual(s.world.followerIds(s.owner.id));
  });

  it('maps profiles: the note’s text, bot and locked flags, default avatar; suspended ones are left out', async () => {
    // Prepare
    const s = await setup();
    const bot = s.world.createUser({ bot: true, noBot: true, protected: true });
    const suspended = s.world.createUser();
    const suspendedId = s.sandbox.idOf(suspended.id);
    s.world.suspendUser(suspended.id);

    // Act
    const users = await s.platform.lookupUsers([s.sandbox.idOf(bot.id), suspendedId]);

    // Assess
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({
      bot: true,
      protected: true,
      defaultAvatar: s.world.user(bot.id)!.defaultAvatar,
    });
    expect(users[0]!.bio).toMatch(/#nobot$/);
    expect(users[0]!.bio).not.toMatch(/</);
  });

  it('looks profiles up 40 at a time, or one by one on an instance older than 4.3', async () => {
    // Prepare
    const s = await setup({ batchAccounts: false });
    const ids = s.world.followerIds(s.owner.id).slice(0, 5);
    s.world.deleteUser(ids[2]!);

    // Act
    const users = await s.platform.lookupUsers(ids.map((id) => s.sandbox.idOf(id)));

    // Assess
    expect(users).toHaveLength(4);
    expect(s.world.stats.endpoint('account').requests).toBe(5);
  });

  it('falls back to one-by-one look-ups when the batch route answers a plain-text 404', async () => {
    // Prepare: a server that does not have GET /api/v1/accounts and says so in plain text
    const s = await setup({ batchAccounts: false, quirks: { notFound: 'text' } });
    const ids = s.world.followerIds(s.owner.id).slice(0, 5);

    // Act
    const users = await s.platform.lookupUsers(ids.map((id) => s.sandbox.idOf(id)));
    const again = await s.platform.lookupUsers(ids.slice(0, 2).map((id) => s.sandbox.idOf(id)));

    // Assess: every profile, and the batch route is not asked again
    expect(users.map((user) => user.id)).toEqual(ids.map((id) => s.sandbox.idOf(id)));
    expect(again).toHaveLength(2);
    expect(s.world.stats.endpoint('unknown').requests).toBe(1);
  });

  it('keeps a plain-text failure of the batch route transient when single look-ups fail too', async () => {
    // Prepare: the instance is down behind a proxy (HTML 503 on every route)
    const s = await setup();
    const ids = s.world.followerIds(s.owner.id).slice(0, 3);
    s.sandbox.faults.add({ endpoint: '*', kind: '503', times: 2 });

    // Act
    const error = await failure(s.platform.lookupUsers(ids.map((id) => s.sandbox.idOf(id))));
    const later = await s.platform.lookupUsers(ids.map((id) => s.sandbox.idOf(id)));

    // Assess: retried later, still in batches
    expect(error).toBeInstanceOf(TransientPlatformError);
    expect(later).toHaveLength(3);
    expect(s.world.stats.endpoint('accounts').requests).toBe(2);
  });

  it.each([
    ['ignores limit and sends no Link header', { pageSize: 40, noLink: true }],
    ['sends no Link header', { noLink: true }],
    ['sends no rate-limit headers', { noRateLimitHeaders: true }],
    ['does all three', { pageSize: 40, noLink: true, noRateLimitHeaders: true }],
  ] as const)('reads every follower from a server that %s', async (_, quirks) => {
    // Prepare
    const s = await setup({ quirks });

    // Act
    const { ids } = await readAll((request) => s.platform.listFollowers(s.me, request), 80);

    // Assess
    expect(ids).toEqual(s.world.followerIds(s.owner.id).map((id) => s.sandbox.idOf(id)));
  });

  it('tells relationships, leaving out accounts that are gone', async () => {
    // Prepare
    const s = await setup();
    const follower = s.world.followerIds(s.owner.id).find((id) => !s.world.isFollowing(s.owner.id, id))!;
    const gone = s.world.createUser();
    const goneId = s.sandbox.idOf(gone.id);
    s.world.deleteUser(gone.id);

    // Act
    const relationships = await s.platform.relationships(s.me, [s.sandbox.idOf(follower), goneId]);

    // Assess
    expect(relationships.get(s.sandbox.idOf(follower))).toEqual({
      followedBy: true,
      following: false,
      requested: false,
    });
    expect(relationships.has(goneId)).toBe(false);
  });
});

describe('Mastodon adapter: writes', () => {
  it('follows an open account, and a locked one becomes a request', async () => {
    // Prepare
    const s = await setup();
    const open = s.world.createUser();
    const locked = s.world.createUser({ protected: true });

    // Act
    const followed = await s.platform.follow(s.me, s.sandbox.idOf(open.id));
    const requested = await s.platform.follow(s.me, s.sandbox.idOf(locked.id));

    // Assess
    expect(followed.outcome).toBe('followed');
    expect(followed.rateLimit).toMatchObject({ limit: 300 });
    expect(requested.outcome).toBe('requested');
    expect(s.world.isPending(s.owner.id, locked.id)).toBe(true);
  });

  it('treats a token without write access as an authorization problem, not a gone account', async () => {
    // Prepare: the owner connected with read scopes only
    const s = await setup();
    const target = s.world.createUser();
    s.world.userFollows(target.id, s.owner.id);
    const platform = s.adapter({ accessToken: s.sandbox.issueToken(s.owner.id, ['read']) });

    // Act
    const error = await failure(platform.follow(s.me, s.sandbox.idOf(target.id)));

    // Assess
    expect(error).toBeInstanceOf(AuthError);
    expect(error).not.toBeInstanceOf(UserGoneError);
    expect(error.message).toMatch(/insufficient_scope|reconnect/);
    expect(s.world.isFollowing(s.owner.id, target.id)).toBe(false);
  });

  it('makes no second follow call for someone already followed or already asked', async () => {
    // Prepare
    const s = await setup();
    const locked = s.world.createUser({ protected: true });
    await s.platform.follow(s.me, s.sandbox.idOf(locked.id));
    const followed = s.world.followingIds(s.owner.id)[0]!;

    // Act
    const again = await s.platform.follow(s.me, s.sandbox.idOf(locked.id));
    const already = await s.platform.follow(s.me, s.sandbox.idOf(followed));

    // Assess
    expect(again.outcome).toBe('requested');
    expect(already.outcome).toBe('already_following');
    expect(s.world.stats.endpoint('follow').requests).toBe(1);
  });

  it('unfollows', async () => {
    // Prepare
    const s = await setup();
    const followed = s.world.followingIds(s.owner.id)[0]!;

    // Act
    await s.platform.unfollow(s.me, s.sandbox.idOf(followed));

    // Assess
    expect(s.world.isFollowing(s.owner.id, followed)).toBe(false);
  });

  it.each([
    ['deleted', (world: World, id: string) => world.deleteUser(id)],
    ['suspended', (world: World, id: string) => world.suspendUser(id)],
  ])('refuses to follow a %s account with UserGoneError', async (_, remove) => {
    // Prepare
    const s = await setup();
    const user = s.world.createUser();
    const id = s.sandbox.idOf(user.id);
    remove(s.world, user.id);

    // Act
    const error = await failure(s.platform.follow(s.me, id));
    const unfollow = await failure(s.platform.unfollow(s.me, id));

    // Assess
    expect(error).toBeInstanceOf(UserGoneError);
    expect(unfollow).toBeInstanceOf(UserGoneError);
    expect(s.world.stats.endpoint('follow').requests).toBe(0);
  });

  it('turns the instance’s daily follow limit into RateLimitedError at its reset', async () => {
    // Prepare: an instance that allows 2 follows a day
    const s = await setup({ limits: { followsPerDay: 2 } });
    const users = Array.from({ length: 3 }, () => s.world.createUser());
    await s.platform.follow(s.me, s.sandbox.idOf(users[0]!.id));
    s.clock.advance(HOUR);
    await s.platform.follow(s.me, s.sandbox.idOf(users[1]!.id));

    // Act
    const error = await failure(s.platform.follow(s.me, s.sandbox.idOf(users[2]!.id)));

    // Assess
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).resetAt).toBe(START + 24 * HOUR);
  });
});

describe('Mastodon adapter: failures and limits', () => {
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
    s.sandbox.faults.add({ endpoint: 'followers', kind, holdMs: 3_000 });

    // Act
    const error = await failure(s.platform.listFollowers(s.me, { pageSize: 10 }));

    // Assess
    expect(error).toBeInstanceOf(type);
    if (error instanceof RateLimitedError) expect(error.resetAt).toBe(START + 5 * MINUTE);
  });

  it('maps a refused token to AuthError', async () => {
    // Prepare
    const s = await setup();

    // Act
    const error = await failure(s.adapter({ accessToken: 'revoked' }).me());

    // Assess
    expect(error).toBeInstanceOf(AuthError);
  });

  it('takes an instance’s own limits, and refuses nonsense ones', () => {
    expect(MASTODON_LIMITS).toMatchObject({ maxPageSize: 80, graphReadsPerWindow: 300, followsPerDay: 400 });
    expect(mastodonLimits({ requestsPer5Minutes: 1_000, followsPerDay: 1_000 })).toMatchObject({
      graphReadsPerWindow: 1_000,
      followsPerWindow: 1_000,
      followsPerDay: 1_000,
    });
    expect(() => mastodonLimits({ followsPerDay: 0 })).toThrow(ValidationError);
    expect(() => createMastodonPlatform({ url: 'mastodon.social', accessToken: 't' })).toThrow(
      ValidationError,
    );
  });

  it('reads a note’s text: paragraphs, line breaks, hashtags and entities', () => {
    expect(
      noteText(
        '<p>Baker &amp; cook<br />Paris</p><p>Hi <a href="x" class="hashtag">#<span>nobot</span></a></p>',
      ),
    ).toBe('Baker & cook\nParis\n\nHi #nobot');
    expect(noteText('<p>&lt;3 &#39;bread&#39; &#x1F35E;</p>')).toBe("<3 'bread' 🍞");
  });
});
