/**
 * The Mastodon sandbox over plain HTTP: Mastodon's entities (Account, Relationship, Error), Link
 * header paging, the instance's rate limits and its daily follow limit, faults.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fromFlake, toFlake } from '../../sandbox/mastodon/ids.ts';
import {
  type MastodonLimits,
  type MastodonSandbox,
  type MastodonSandboxOptions,
  startMastodonSandbox,
} from '../../sandbox/mastodon/index.ts';
import { createWorld, type World, type WorldUser } from '../../sandbox/world.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked by the tests that read them
  body: any;
}

interface Setup {
  clock: VirtualClock;
  world: World;
  owner: WorldUser;
  sandbox: MastodonSandbox;
  ownerId: string;
  get(path: string, token?: string | null): Promise<Answer>;
  post(path: string, token?: string | null): Promise<Answer>;
}

let sandbox: MastodonSandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function setup(
  options: Omit<MastodonSandboxOptions, 'world'> & { limits?: Partial<MastodonLimits> } = {},
) {
  const clock = new VirtualClock(START);
  const world = createWorld({ seed: 5, clock, orderNoise: 0 });
  const owner = world.addOwner({
    handle: 'shop',
    initialFollowers: 200,
    initialFollowing: 20,
    followersPerDay: 0,
    unfollowsPerDay: 0,
    deletionsPerDay: 0,
  });
  sandbox = await startMastodonSandbox({ world, ...options });
  const token = sandbox.issueToken(owner.id);
  const base = sandbox.baseUrl;
  const call = async (method: string, path: string, auth: string | null | undefined): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (auth !== null) headers.authorization = `Bearer ${auth ?? token}`;
    const response = await fetch(path.startsWith('http') ? path : `${base}${path}`, { method, headers });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: response.status, headers: response.headers, body };
  };
  const result: Setup = {
    clock,
    world,
    owner,
    sandbox,
    ownerId: sandbox.idOf(owner.id),
    get: (path, auth) => call('GET', path, auth),
    post: (path, auth) => call('POST', path, auth),
  };
  return result;
}

/** The URL of a Link header's relation, or undefined. */
function link(answer: Answer, rel: string): string | undefined {
  const header = answer.headers.get('link') ?? '';
  return /<([^>]+)>;\s*rel="([^"]+)"/g
    .exec(header.split(',').find((part) => part.includes(`rel="${rel}"`)) ?? '')
    ?.at(1);
}

describe('Mastodon sandbox: entities', () => {
  it('answers verify_credentials with the owner as a CredentialAccount', async () => {
    // Prepare
    const s = await setup();

    // Act
    const answer = await s.get('/api/v1/accounts/verify_credentials');

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      id: s.ownerId,
      username: 'shop',
      acct: 'shop',
      display_name: 'Shop',
      locked: false,
      bot: false,
      note: '<p>Late follow backs!</p>',
      followers_count: 200,
      following_count: 20,
      source: { note: 'Late follow backs!', privacy: 'public' },
    });
    expect(answer.body.id).toMatch(/^\d+$/);
    expect(answer.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT00:00:00\.000Z$/);
  });

  it('shows locked accounts, bots, #nobot bios and default avatars as Mastodon does', async () => {
    // Prepare
    const s = await setup();
    const locked = s.world.createUser({ protected: true });
    const bot = s.world.createUser({ bot: true, noBot: true });

    // Act
    const a = await s.get(`/api/v1/accounts/${s.sandbox.idOf(locked.id)}`);
    const b = await s.get(`/api/v1/accounts/${s.sandbox.idOf(bot.id)}`);

    // Assess
    expect(a.body).toMatchObject({ locked: true, bot: false });
    expect(b.body).toMatchObject({ locked: false, bot: true });
    expect(b.body.note).toContain('#<span>nobot</span></a>');
    const user = s.world.user(bot.id)!;
    expect((b.body.avatar as string).endsWith('/missing.png')).toBe(user.defaultAvatar);
    expect(b.body.acct).toMatch(/^[A-Za-z0-9_]+(@[a-z.]+)?$/);
  });

  it('answers a Relationship to follow and unfollow, and requested: true for a locked account', async () => {
    // Prepare
    const s = await setup();
    const open = s.world.createUser();
    const locked = s.world.createUser({ protected: true });

    // Act
    const followed = await s.post(`/api/v1/accounts/${s.sandbox.idOf(open.id)}/follow`);
    const asked = await s.post(`/api/v1/accounts/${s.sandbox.idOf(locked.id)}/follow`);
    const unfollowed = await s.post(`/api/v1/accounts/${s.sandbox.idOf(open.id)}/unfollow`);

    // Assess
    expect(followed.body).toMatchObject({ id: s.sandbox.idOf(open.id), following: true, requested: false });
    expect(asked.body).toMatchObject({ following: false, requested: true });
    expect(unfollowed.body).toMatchObject({ following: false, requested: false });
    expect(s.world.isPending(s.owner.id, locked.id)).toBe(true);
  });

  it('answers relationships for the accounts it can show, suspended ones only when asked', async () => {
    // Prepare
    const s = await setup();
    const [follower] = s.world.followerIds(s.owner.id);
    const suspended = s.world.createUser();
    const deleted = s.world.createUser();
    const ids = [follower!, suspended.id, deleted.id].map((id) => s.sandbox.idOf(id));
    s.world.suspendUser(suspended.id);
    s.world.deleteUser(deleted.id);
    const query = ids.map((id) => `id[]=${id}`).join('&');

    // Act
    const plain = await s.get(`/api/v1/accounts/relationships?${query}`);
    const withSuspended = await s.get(`/api/v1/accounts/relationships?${query}&with_suspended=true`);

    // Assess
    expect(plain.body.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
    expect(plain.body[0]).toMatchObject({ followed_by: true });
    expect(withSuspended.body.map((r: { id: string }) => r.id)).toEqual([ids[0], ids[1]]);
  });

  it('answers Mastodon’s error entity: 401 bad token, 404 unknown account, 403 suspended target', async () => {
    // Prepare
    const s = await setup();
    const suspended = s.world.createUser();
    const suspendedId = s.sandbox.idOf(suspended.id);
    s.world.suspendUser(suspended.id);

    // Act
    const unauthorized = await s.get('/api/v1/accounts/verify_credentials', 'wrong');
    const missing = await s.get('/api/v1/accounts/1');
    const forbidden = await s.post(`/api/v1/accounts/${suspendedId}/follow`);
    const shown = await s.get(`/api/v1/accounts/${suspendedId}`);

    // Assess
    expect([unauthorized.status, unauthorized.body]).toEqual([401, { error: 'The access token is invalid' }]);
    expect([missing.status, missing.body]).toEqual([404, { error: 'Record not found' }]);
    expect([forbidden.status, forbidden.body]).toEqual([403, { error: 'This action is not allowed' }]);
    expect(shown.body).toMatchObject({ suspended: true, note: '' });
  });

  it('serves ids that are not numbers on an instance with flake ids, and back', async () => {
    // Prepare
    const s = await setup({ idStyle: 'flake' });

    // Act
    const me = await s.get('/api/v1/accounts/verify_credentials');
    const followers = await s.get(`/api/v1/accounts/${me.body.id}/followers?limit=5`);

    // Assess
    expect(me.body.id).toMatch(/^A[0-9A-Za-z]{12}$/);
    expect(fromFlake(toFlake('109876543210987654'))).toBe('109876543210987654');
    expect(followers.body).toHaveLength(5);
    expect(s.sandbox.userIdOf(me.body.id)).toBe(s.owner.id);
  });

  it('has no batch account lookup when it plays an instance older than 4.3', async () => {
    // Prepare
    const s = await setup({ batchAccounts: false });
    const id = s.sandbox.idOf(s.world.followerIds(s.owner.id)[0]!);

    // Act
    const batch = await s.get(`/api/v1/accounts?id[]=${id}`);
    const single = await s.get(`/api/v1/accounts/${id}`);

    // Assess
    expect(batch.status).toBe(404);
    expect(single.status).toBe(200);
  });
});

describe('Mastodon sandbox: paging', () => {
  it('pages followers newest first through Link headers, covering the list exactly once', async () => {
    // Prepare
    const s = await setup();

    // Act
    const ids: string[] = [];
    let next: string | undefined = `/api/v1/accounts/${s.ownerId}/followers?limit=80`;
    let pages = 0;
    while (next) {
      const page = await s.get(next);
      ids.push(...page.body.map((account: { id: string }) => account.id));
      next = link(page, 'next');
      pages += 1;
    }

    // Assess
    expect(pages).toBe(3);
    expect(ids).toEqual(s.world.followerIds(s.owner.id).map((id) => s.sandbox.idOf(id)));
  });

  it('clamps the limit to 80 and pages back up with min_id', async () => {
    // Prepare
    const s = await setup();

    // Act
    const first = await s.get(`/api/v1/accounts/${s.ownerId}/followers?limit=500`);
    const second = await s.get(link(first, 'next')!);
    const back = await s.get(link(second, 'prev')!);

    // Assess
    expect(first.body).toHaveLength(80);
    expect(link(first, 'next')).toMatch(/max_id=\d+/);
    expect(back.body.map((a: { id: string }) => a.id)).toEqual(first.body.map((a: { id: string }) => a.id));
  });

  it('reads only what is newer than since_id', async () => {
    // Prepare
    const s = await setup();
    const first = await s.get(`/api/v1/accounts/${s.ownerId}/followers?limit=1`);
    const top = /min_id=(\d+)/.exec(link(first, 'prev')!)![1];
    const newcomer = s.world.createUser();
    s.world.userFollows(newcomer.id, s.owner.id);

    // Act
    const since = await s.get(`/api/v1/accounts/${s.ownerId}/followers?since_id=${top}`);

    // Assess
    expect(since.body.map((a: { id: string }) => a.id)).toEqual([s.sandbox.idOf(newcomer.id)]);
  });
});

describe('Mastodon sandbox: limits', () => {
  it('allows 300 requests per 5 minutes, with X-RateLimit headers and an ISO reset', async () => {
    // Prepare
    const s = await setup();

    // Act
    let last: Answer | undefined;
    for (let i = 0; i < 300; i += 1) last = await s.get('/api/v1/accounts/verify_credentials');
    const refused = await s.get('/api/v1/accounts/verify_credentials');
    s.clock.advance(5 * MINUTE);
    const after = await s.get('/api/v1/accounts/verify_credentials');

    // Assess
    expect(last!.headers.get('x-ratelimit-limit')).toBe('300');
    expect(last!.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'Too many requests' });
    expect(refused.headers.get('x-ratelimit-reset')).toBe(new Date(START + 5 * MINUTE).toISOString());
    expect(after.status).toBe(200);
  });

  it('takes the instance’s own limits, and caps follows per day (already following does not count)', async () => {
    // Prepare: an instance with 20 requests per 5 minutes and 3 follows a day
    const s = await setup({ limits: { requestsPerWindow: 20, followsPerDay: 3 } });
    const users = Array.from({ length: 4 }, () => s.world.createUser());

    // Act
    const statuses: number[] = [];
    for (const user of users.slice(0, 3))
      statuses.push((await s.post(`/api/v1/accounts/${s.sandbox.idOf(user.id)}/follow`)).status);
    const again = await s.post(`/api/v1/accounts/${s.sandbox.idOf(users[0]!.id)}/follow`);
    const refused = await s.post(`/api/v1/accounts/${s.sandbox.idOf(users[3]!.id)}/follow`);
    s.clock.advance(24 * HOUR);
    const nextDay = await s.post(`/api/v1/accounts/${s.sandbox.idOf(users[3]!.id)}/follow`);

    // Assess
    expect(statuses).toEqual([200, 200, 200]);
    expect(again.status).toBe(200);
    expect(again.headers.get('x-ratelimit-limit')).toBe('20');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-ratelimit-limit')).toBe('3');
    expect(refused.headers.get('x-ratelimit-reset')).toBe(new Date(START + 24 * HOUR).toISOString());
    expect(s.world.isFollowing(s.owner.id, users[3]!.id)).toBe(true);
    expect(nextDay.status).toBe(200);
  });
});

describe('Mastodon sandbox: faults', () => {
  it.each([
    ['500', 500, 'application/json'],
    ['503', 503, 'text/html'],
    ['429', 429, 'application/json'],
    ['malformed', 200, 'application/json'],
    ['truncated', 200, 'application/json'],
  ] as const)('answers a %s fault in place of the answer', async (kind, status, type) => {
    // Prepare
    const s = await setup();
    s.sandbox.faults.add({ endpoint: 'followers', kind });

    // Act
    const faulted = await s.get(`/api/v1/accounts/${s.ownerId}/followers`);
    const next = await s.get(`/api/v1/accounts/${s.ownerId}/followers`);

    // Assess
    expect(faulted.status).toBe(status);
    expect(faulted.headers.get('content-type')).toContain(type);
    expect(next.status).toBe(200);
    expect(s.world.stats.endpoint('followers').faults).toBe(1);
  });
});
