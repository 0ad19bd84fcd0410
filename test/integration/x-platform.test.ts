/**
 * The X adapter against the X sandbox on loopback, through the real twitter-api-v2 client: answers
 * become the port's shapes, failures become the named errors of shared/domain/errors.ts.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorld, type OwnerOptions, type World, type WorldUser } from '../../sandbox/world.ts';
import type { XFaultKind, XFaultSpec } from '../../sandbox/x/faults.ts';
import { startXSandbox, type XSandbox, type XSandboxOptions } from '../../sandbox/x/server.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { XPlatform, type XPlatformOptions } from '../../shared/adapters/x/x-platform.ts';
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
  sandbox: XSandbox;
  token: string;
  platform: XPlatform;
  /** Another adapter for the same owner (a later invocation, say). */
  adapter(options?: Partial<XPlatformOptions>): XPlatform;
}

interface SetupOptions {
  owner?: Partial<OwnerOptions>;
  server?: Omit<XSandboxOptions, 'world'>;
  platform?: Partial<XPlatformOptions>;
}

const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A still world (nothing changes unless a test says so) with one owner, strict newest-first order. */
async function setup(options: SetupOptions = {}): Promise<Setup> {
  const clock = new VirtualClock(START);
  const world = createWorld({ seed: 7, clock, orderNoise: 0 });
  const owner = world.addOwner({
    handle: 'shop',
    initialFollowers: 250,
    initialFollowing: 40,
    followersPerDay: 0,
    unfollowsPerDay: 0,
    deletionsPerDay: 0,
    ...options.owner,
  });
  const sandbox = await startXSandbox({ world, clock, ...options.server });
  closers.push(() => sandbox.close());
  const token = sandbox.issueToken(owner.id);
  const adapter = (more: Partial<XPlatformOptions> = {}) =>
    new XPlatform({ baseUrl: sandbox.baseUrl, accessToken: token, timeoutMs: 2_000, ...more });
  return { clock, world, owner, sandbox, token, platform: adapter(options.platform), adapter };
}

/** Reads a list to its end, page by page; returns the ids in order and the pages read. */
async function readAll(
  read: (request: PageRequest) => Promise<GraphPage>,
  pageSize: number,
  cursor?: string,
): Promise<{ ids: string[]; pages: GraphPage[] }> {
  const ids: string[] = [];
  const pages: GraphPage[] = [];
  let next = cursor;
  do {
    const page = await read({ cursor: next, pageSize });
    pages.push(page);
    ids.push(...page.users.map((user) => user.id));
    next = page.nextCursor;
  } while (next !== undefined);
  return { ids, pages };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

/** A loopback reverse proxy that serves `target` under a path prefix and records the paths asked. */
async function startPrefixProxy(target: string, prefix: string): Promise<{ url: string; paths: string[] }> {
  const upstream = new URL(target);
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    paths.push(path);
    if (!path.startsWith(`${prefix}/`)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('outside the prefix');
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: path.slice(prefix.length),
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`, paths };
}

describe('XPlatform against the X sandbox', () => {
  describe('reading', () => {
    it('returns the authenticated owner with the counts X reports', async () => {
      // Prepare
      const { platform, owner } = await setup();

      // Act
      const me = await platform.me();

      // Assess
      expect(me).toMatchObject({
        id: owner.id,
        handle: 'shop',
        followersCount: 250,
        followingCount: 40,
        protected: false,
      });
      expect(me.createdAt).toBe(owner.createdAt);
    });

    it('pages through the followers exactly once, in the order X lists them', async () => {
      // Prepare
      const { platform, world, owner } = await setup();

      // Act
      const { ids, pages } = await readAll((request) => platform.listFollowers(owner.id, request), 100);

      // Assess
      expect(pages.map((page) => page.users.length)).toEqual([100, 100, 50]);
      expect(ids).toEqual(world.followerIds(owner.id));
      expect(new Set(ids).size).toBe(250);
      expect(pages.at(-1)!.nextCursor).toBeUndefined();
    });

    it('pages through the accounts the owner follows exactly once', async () => {
      // Prepare
      const { platform, world, owner } = await setup();

      // Act
      const { ids, pages } = await readAll((request) => platform.listFollowing(owner.id, request), 15);

      // Assess
      expect(pages).toHaveLength(3);
      expect(ids).toEqual(world.followingIds(owner.id));
    });

    it('resumes a scan from the cursor it returned, on another adapter, with no gap or repeat', async () => {
      // Prepare: a first invocation reads two pages and stops; then someone new follows.
      const { platform, world, owner, clock, adapter } = await setup();
      const before = world.followerIds(owner.id);
      const first = await platform.listFollowers(owner.id, { pageSize: 80 });
      const second = await platform.listFollowers(owner.id, { pageSize: 80, cursor: first.nextCursor });
      clock.advance(10 * MINUTE);
      const newcomer = world.createUser();
      world.userFollows(newcomer.id, owner.id);

      // Act: the next invocation continues from the stored cursor.
      const rest = await readAll(
        (request) => adapter().listFollowers(owner.id, request),
        80,
        second.nextCursor,
      );

      // Assess
      const ids = [...first.users, ...second.users].map((user) => user.id).concat(rest.ids);
      expect(ids).toEqual(before);
      expect(ids).not.toContain(newcomer.id);
    });

    it('clamps the page size to the 1–1000 users X allows', async () => {
      // Prepare
      const { platform, owner } = await setup();

      // Act
      const tiny = await platform.listFollowers(owner.id, { pageSize: 0 });
      const huge = await platform.listFollowers(owner.id, { pageSize: 5_000 });

      // Assess
      expect(tiny.users).toHaveLength(1);
      expect(huge.users).toHaveLength(250);
      expect(huge.nextCursor).toBeUndefined();
    });

    it('reports the rate-limit state of the list endpoint on every page', async () => {
      // Prepare
      const { platform, owner, clock } = await setup();
      const first = await platform.listFollowers(owner.id, { pageSize: 100 });
      clock.advance(4 * MINUTE);

      // Act
      const second = await platform.listFollowers(owner.id, { pageSize: 100, cursor: first.nextCursor });

      // Assess
      expect(first.rateLimit).toEqual({
        endpoint: 'users/:id/followers',
        limit: 300,
        remaining: 299,
        resetAt: START + 15 * MINUTE,
      });
      expect(second.rateLimit).toMatchObject({ remaining: 298, resetAt: START + 15 * MINUTE });
    });

    it('looks up more than 100 users in batches of 100', async () => {
      // Prepare
      const { platform, world, sandbox } = await setup();
      const ids = Array.from({ length: 150 }, () => world.createUser().id);

      // Act
      const users = await platform.lookupUsers(ids);

      // Assess
      expect(users.map((user) => user.id)).toEqual(ids);
      expect(sandbox.stats.endpoint('users').requests).toBe(2);
    });

    it('skips deleted and suspended users in a lookup instead of failing', async () => {
      // Prepare
      const { platform, world } = await setup();
      const ids = Array.from({ length: 6 }, () => world.createUser().id);
      world.deleteUser(ids[1]!);
      world.suspendUser(ids[4]!);

      // Act
      const users = await platform.lookupUsers([...ids, '999999999999']);

      // Assess
      expect(users.map((user) => user.id)).toEqual([ids[0], ids[2], ids[3], ids[5]]);
    });

    it('asks the token provider for the current token, so a rotated token is used at once', async () => {
      // Prepare: the provider hands out a second token after the first call.
      const { world, owner, sandbox, token, adapter } = await setup();
      const rotated = sandbox.issueToken(owner.id);
      const tokens = [token, rotated];
      let calls = 0;
      const platform = adapter({ accessToken: async () => tokens[Math.min(calls++, 1)]! });
      await platform.me();
      world.tokens.revoke(token);

      // Act
      const me = await platform.me();

      // Assess
      expect(me.id).toBe(owner.id);
      expect(calls).toBe(2);
    });
  });

  describe('following', () => {
    it('follows a public account and reports the follow endpoint’s rate-limit state', async () => {
      // Prepare
      const { platform, world, owner } = await setup();
      const target = world.createUser();

      // Act
      const result = await platform.follow(owner.id, target.id);

      // Assess
      expect(result).toEqual({
        outcome: 'followed',
        rateLimit: {
          endpoint: 'users/:id/following (POST)',
          limit: 50,
          remaining: 49,
          resetAt: START + 15 * MINUTE,
        },
      });
      expect(world.isFollowing(owner.id, target.id)).toBe(true);
    });

    it('asks to follow a protected account, which answers "requested"', async () => {
      // Prepare
      const { platform, world, owner } = await setup();
      const target = world.createUser({ protected: true });

      // Act
      const result = await platform.follow(owner.id, target.id);

      // Assess
      expect(result.outcome).toBe('requested');
      expect(world.isPending(owner.id, target.id)).toBe(true);
      expect(world.isFollowing(owner.id, target.id)).toBe(false);
    });

    it('treats following someone already followed as done, not as an error', async () => {
      // Prepare
      const { platform, world, owner } = await setup();
      const target = world.followingIds(owner.id)[0]!;

      // Act
      const result = await platform.follow(owner.id, target);

      // Assess
      expect(result.outcome).toBe('followed');
      expect(world.followingIds(owner.id).filter((id) => id === target)).toHaveLength(1);
    });

    it.each([
      ['deleted', (world: World, id: string) => world.deleteUser(id)],
      ['suspended', (world: World, id: string) => world.suspendUser(id)],
    ])('reports a %s target as gone', async (_state, remove) => {
      // Prepare
      const { platform, world, owner } = await setup();
      const target = world.createUser();
      remove(world, target.id);

      // Act
      const error = await failure(platform.follow(owner.id, target.id));

      // Assess
      expect(error).toBeInstanceOf(UserGoneError);
      expect(error.message).toContain(target.id);
      expect(world.isFollowing(owner.id, target.id)).toBe(false);
    });

    it('unfollows, and unfollowing someone not followed is no error', async () => {
      // Prepare
      const { platform, world, owner } = await setup();
      const followed = world.followingIds(owner.id)[3]!;
      const stranger = world.createUser();

      // Act
      await platform.unfollow(owner.id, followed);
      await platform.unfollow(owner.id, stranger.id);

      // Assess
      expect(world.isFollowing(owner.id, followed)).toBe(false);
      expect(world.unfollowCalls(owner.id).map((call) => call.outcome)).toEqual([
        'unfollowed',
        'not_following',
      ]);
    });

    it('reports an unfollow of a deleted account as gone', async () => {
      // Prepare
      const { platform, world, owner } = await setup();
      const followed = world.followingIds(owner.id)[5]!;
      world.deleteUser(followed);

      // Act
      const error = await failure(platform.unfollow(owner.id, followed));

      // Assess
      expect(error).toBeInstanceOf(UserGoneError);
    });
  });

  describe('rate limits', () => {
    it('turns a 429 into RateLimitedError that waits for the sandbox’s window reset', async () => {
      // Prepare: two list reads per window; the window opened at START.
      const { platform, owner, clock } = await setup({ server: { limits: { perWindow: { followers: 2 } } } });
      await platform.listFollowers(owner.id, { pageSize: 10 });
      clock.advance(5 * MINUTE);
      await platform.listFollowers(owner.id, { pageSize: 10 });
      clock.advance(5 * MINUTE);

      // Act
      const error = await failure(platform.listFollowers(owner.id, { pageSize: 10 }));

      // Assess
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).resetAt).toBe(START + 15 * MINUTE);
      expect(error.message).toContain('users/:id/followers');
    });

    it('turns an injected 429 into RateLimitedError at the reset of the window in progress', async () => {
      // Prepare
      const { platform, owner, clock } = await setup({
        server: { faults: [{ endpoint: 'followers', kind: '429', times: 1 }] },
      });
      clock.advance(2 * MINUTE);

      // Act
      const error = await failure(platform.listFollowers(owner.id, { pageSize: 10 }));

      // Assess
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).resetAt).toBe(START + 17 * MINUTE);
    });

    it('waits for the 24-hour follow cap’s reset when that cap is what is spent', async () => {
      // Prepare: two follows a day; the window of 50 per 15 minutes is far from spent.
      const { platform, world, owner, clock } = await setup({
        server: { limits: { followsPerDayPerUser: 2 } },
      });
      await platform.follow(owner.id, world.createUser().id);
      clock.advance(HOUR);
      await platform.follow(owner.id, world.createUser().id);
      clock.advance(HOUR);
      const target = world.createUser();

      // Act
      const error = await failure(platform.follow(owner.id, target.id));

      // Assess
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).resetAt).toBe(START + 24 * HOUR);
      expect(world.isFollowing(owner.id, target.id)).toBe(false);
    });
  });

  describe('failures', () => {
    it.each(['500', '503'] as const)('turns a %s into TransientPlatformError', async (kind) => {
      // Prepare
      const { platform, owner } = await setup({ server: { faults: [{ endpoint: 'followers', kind }] } });

      // Act
      const error = await failure(platform.listFollowers(owner.id, { pageSize: 10 }));

      // Assess
      expect(error).toBeInstanceOf(TransientPlatformError);
      expect(error.message).toContain(kind);
    });

    it('gives up on an answer that never comes after its timeout, as a TransientPlatformError', {
      timeout: 10_000,
    }, async () => {
      // Prepare: the sandbox holds the socket until it closes.
      const { platform, owner } = await setup({
        server: { faults: [{ endpoint: 'followers', kind: 'timeout' }] },
        platform: { timeoutMs: 150 },
      });
      const started = performance.now();

      // Act
      const error = await failure(platform.listFollowers(owner.id, { pageSize: 10 }));
      const elapsed = performance.now() - started;
      const next = await platform.listFollowers(owner.id, { pageSize: 10 });

      // Assess
      expect(error).toBeInstanceOf(TransientPlatformError);
      expect(error.message).toContain('users/:id/followers');
      expect(elapsed).toBeLessThan(5_000);
      expect(next.users).toHaveLength(10);
    });

    it.each([
      ['followers', 'malformed', 'users/:id/followers'],
      ['followers', 'truncated', 'users/:id/followers'],
      ['me', 'malformed', 'users/me'],
      ['me', 'truncated', 'users/me'],
    ] as const)(
      'turns a %s answer that is %s into MalformedResponseError naming %s',
      async (endpoint, kind, name) => {
        // Prepare
        const fault: XFaultSpec = { endpoint, kind: kind satisfies XFaultKind };
        const { platform, owner } = await setup({ server: { faults: [fault] } });

        // Act
        const error = await failure(
          endpoint === 'me' ? platform.me() : platform.listFollowers(owner.id, { pageSize: 10 }),
        );

        // Assess
        expect(error).toBeInstanceOf(MalformedResponseError);
        expect(error.message).toContain(name);
      },
    );

    it('turns refused credentials into AuthError', async () => {
      // Prepare
      const { world, owner, token, adapter } = await setup();
      world.tokens.revoke(token);

      // Act
      const me = await failure(adapter().me());
      const list = await failure(
        adapter({ accessToken: 'sbx-made-up' }).listFollowers(owner.id, { pageSize: 10 }),
      );

      // Assess
      expect(me).toBeInstanceOf(AuthError);
      expect(list).toBeInstanceOf(AuthError);
    });
  });

  describe('base URL', () => {
    it.each(['/x', '/x/'])('reaches X through a base URL with a path prefix (%s)', async (suffix) => {
      // Prepare
      const { sandbox, token, owner, world } = await setup();
      const proxy = await startPrefixProxy(sandbox.baseUrl, '/x');
      const platform = new XPlatform({
        baseUrl: `${proxy.url.replace(/\/x$/, '')}${suffix}`,
        accessToken: token,
      });

      // Act
      const me = await platform.me();
      const page = await platform.listFollowers(owner.id, { pageSize: 5 });

      // Assess
      expect(me.id).toBe(owner.id);
      expect(page.users.map((user) => user.id)).toEqual(world.followerIds(owner.id).slice(0, 5));
      expect(proxy.paths.map((path) => path.split('?')[0])).toEqual([
        '/x/2/users/me',
        `/x/2/users/${owner.id}/followers`,
      ]);
    });

    it.each([
      ['not a URL', 'api.x.com'],
      ['not http or https', 'ftp://api.x.com'],
    ])('refuses a base URL that is %s, naming X_API_BASE_URL', (_why, baseUrl) => {
      // Prepare
      const options = { baseUrl, accessToken: 'token' };

      // Act
      const create = () => new XPlatform(options);

      // Assess
      expect(create).toThrow(ValidationError);
      expect(create).toThrow(/X_API_BASE_URL/);
    });
  });
});
