import { afterEach, describe, expect, it } from 'vitest';
import { DAY, type Harness, HOUR, MINUTE, pageAll, START, startHarness } from './helpers.ts';

let harness: Harness | undefined;

async function start(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  harness = await startHarness(options);
  return harness;
}

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('X sandbox: reads', () => {
  it('answers /2/users/me with the token owner', async () => {
    // Prepare
    const h = await start();

    // Act
    const answer = await h.get('/2/users/me?user.fields=public_metrics,created_at');

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ id: h.owner.id, username: 'shop', name: 'Shop' });
    expect(answer.body.data.public_metrics).toMatchObject({ followers_count: 250, following_count: 40 });
    expect(answer.body.data.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  });

  it('returns only id, name and username unless more user fields are asked for', async () => {
    // Prepare
    const h = await start();

    // Act
    const bare = await h.get(`/2/users/${h.owner.id}/followers?max_results=5`);
    const full = await h.get(
      `/2/users/${h.owner.id}/followers?max_results=5&user.fields=created_at,description,protected,profile_image_url,public_metrics`,
    );

    // Assess
    for (const user of bare.body.data) expect(Object.keys(user).sort()).toEqual(['id', 'name', 'username']);
    for (const user of full.body.data) {
      expect(Object.keys(user).sort()).toEqual([
        'created_at',
        'description',
        'id',
        'name',
        'profile_image_url',
        'protected',
        'public_metrics',
        'username',
      ]);
    }
  });

  it('pages through followers newest first, covering the list exactly once', async () => {
    // Prepare
    const h = await start({ orderNoise: 0.05 });

    // Act
    const { ids, pages } = await pageAll(h, `/2/users/${h.owner.id}/followers`, 37);

    // Assess
    expect(ids).toEqual(h.world.followerIds(h.owner.id));
    expect(new Set(ids).size).toBe(250);
    expect(pages).toBe(Math.ceil(250 / 37));
  });

  it('pages through followings too', async () => {
    // Prepare
    const h = await start();

    // Act
    const { ids } = await pageAll(h, `/2/users/${h.owner.id}/following`, 1000);

    // Assess
    expect(ids).toEqual(h.world.followingIds(h.owner.id));
    expect(ids).toHaveLength(40);
  });

  it('defaults to 100 per page with meta tokens both ways', async () => {
    // Prepare
    const h = await start();
    const first = await h.get(`/2/users/${h.owner.id}/followers`);

    // Act
    const second = await h.get(
      `/2/users/${h.owner.id}/followers?pagination_token=${first.body.meta.next_token}`,
    );
    const back = await h.get(
      `/2/users/${h.owner.id}/followers?pagination_token=${second.body.meta.previous_token}`,
    );

    // Assess
    expect(first.body.meta.result_count).toBe(100);
    expect(first.body.meta.previous_token).toBeUndefined();
    expect(first.body.meta.next_token).toMatch(/^[0-9A-V]{16}$/);
    expect(second.body.meta.result_count).toBe(100);
    expect(back.body.data).toEqual(first.body.data);
  });

  it('shows new followers on top without disturbing a scan in progress', async () => {
    // Prepare
    const h = await start();
    const first = await h.get(`/2/users/${h.owner.id}/followers?max_results=100`);
    const newcomer = h.world.createUser();

    // Act
    h.world.userFollows(newcomer.id, h.owner.id);
    const rest = await pageAll(h, `/2/users/${h.owner.id}/followers`, 1000);
    const second = await h.get(
      `/2/users/${h.owner.id}/followers?pagination_token=${first.body.meta.next_token}`,
    );
    const head = await h.get(`/2/users/${h.owner.id}/followers?max_results=1`);

    // Assess
    expect(head.body.data[0].id).toBe(newcomer.id);
    expect(rest.ids).toHaveLength(251);
    expect(second.body.data[0].id).toBe(rest.ids[101]);
  });

  it('refuses max_results out of 1-1000 and foreign pagination tokens with a 400', async () => {
    // Prepare
    const h = await start();
    const followingPage = await h.get(`/2/users/${h.owner.id}/following?max_results=10`);

    // Act
    const zero = await h.get(`/2/users/${h.owner.id}/followers?max_results=0`);
    const tooMany = await h.get(`/2/users/${h.owner.id}/followers?max_results=1001`);
    const foreign = await h.get(
      `/2/users/${h.owner.id}/followers?pagination_token=${followingPage.body.meta.next_token}`,
    );
    const unknown = await h.get(`/2/users/${h.owner.id}/followers?count=5`);
    const badField = await h.get(`/2/users/${h.owner.id}/followers?user.fields=shoe_size`);

    // Assess
    for (const answer of [zero, tooMany, foreign, unknown, badField]) {
      expect(answer.status).toBe(400);
      expect(answer.body.type).toBe('https://api.x.com/2/problems/invalid-request');
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(tooMany.body.errors[0]).toEqual({
      parameters: { max_results: ['1001'] },
      message: 'The `max_results` query parameter value [1001] is not between 1 and 1000',
    });
  });

  it('looks users up by ids, reporting deleted, suspended and unknown ones in errors', async () => {
    // Prepare
    const h = await start();
    const [a, b, c] = h.world.followerIds(h.owner.id);
    h.world.deleteUser(b!);
    h.world.suspendUser(c!);

    // Act
    const answer = await h.get(`/2/users?ids=${a},${b},${c},42&user.fields=public_metrics`);
    const single = await h.get(`/2/users/${c}`);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.data.map((user: { id: string }) => user.id)).toEqual([a]);
    expect(answer.body.errors).toMatchObject([
      { resource_id: b, title: 'Not Found Error', detail: `Could not find user with ids: [${b}].` },
      { resource_id: c, title: 'Forbidden', detail: `User has been suspended: [${c}].` },
      { resource_id: '42', title: 'Not Found Error' },
    ]);
    expect(single.body).toEqual({ errors: [expect.objectContaining({ resource_id: c, parameter: 'id' })] });
    expect(h.sandbox.stats.endpoint('users').usersReturned).toBe(1);
  });

  it('refuses a lookup of more than 100 ids', async () => {
    // Prepare
    const h = await start();
    const ids = h.world.followerIds(h.owner.id).slice(0, 101).join(',');

    // Act
    const answer = await h.get(`/2/users?ids=${ids}`);

    // Assess
    expect(answer.status).toBe(400);
  });

  it('drops deleted and suspended followers from the list', async () => {
    // Prepare
    const h = await start();
    const [a, b] = h.world.followerIds(h.owner.id);
    h.world.deleteUser(a!);
    h.world.suspendUser(b!);

    // Act
    const { ids } = await pageAll(h, `/2/users/${h.owner.id}/followers`, 1000);

    // Assess
    expect(ids).toHaveLength(248);
    expect(ids).not.toContain(a);
    expect(ids).not.toContain(b);
  });
});

describe('X sandbox: auth', () => {
  it('answers 401 in X shape without a token or with an unknown one', async () => {
    // Prepare
    const h = await start();

    // Act
    const missing = await h.get('/2/users/me', '');
    const unknown = await h.get('/2/users/me', 'not-a-token');

    // Assess
    for (const answer of [missing, unknown]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({
        title: 'Unauthorized',
        detail: 'Unauthorized',
        type: 'about:blank',
        status: 401,
      });
    }
  });

  it('stops honouring a revoked token', async () => {
    // Prepare
    const h = await start();
    h.world.tokens.revoke(h.token);

    // Act
    const answer = await h.get('/2/users/me');

    // Assess
    expect(answer.status).toBe(401);
  });
});

describe('X sandbox: writes', () => {
  it('follows, then reports an existing follow as following', async () => {
    // Prepare
    const h = await start();
    const target = h.world.createUser();

    // Act
    const first = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: target.id });
    const again = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: target.id });

    // Assess
    expect(first.body).toEqual({ data: { following: true, pending_follow: false } });
    expect(again.body).toEqual({ data: { following: true, pending_follow: false } });
    expect(h.world.isFollowing(h.owner.id, target.id)).toBe(true);
    expect(h.world.followCalls(h.owner.id)).toMatchObject([
      { targetId: target.id, outcome: 'followed', at: START },
      { targetId: target.id, outcome: 'already_following' },
    ]);
    expect(h.sandbox.stats.snapshot().totals.duplicateFollowCalls).toBe(1);
  });

  it('answers a follow of a protected account with a pending request', async () => {
    // Prepare
    const h = await start();
    const target = h.world.createUser({ protected: true });

    // Act
    const answer = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: target.id });

    // Assess
    expect(answer.body).toEqual({ data: { following: false, pending_follow: true } });
    expect(h.world.isPending(h.owner.id, target.id)).toBe(true);
  });

  it('answers 404 for a deleted target and 403 for a suspended one', async () => {
    // Prepare
    const h = await start();
    const deleted = h.world.createUser();
    const suspended = h.world.createUser();
    h.world.deleteUser(deleted.id);
    h.world.suspendUser(suspended.id);

    // Act
    const gone = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: deleted.id });
    const banned = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: suspended.id });

    // Assess
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({
      type: 'https://api.x.com/2/problems/resource-not-found',
      resource_id: deleted.id,
    });
    expect(banned.status).toBe(403);
    expect(banned.body).toMatchObject({ title: 'Forbidden', resource_id: suspended.id });
  });

  it('refuses to act for another user with a 403', async () => {
    // Prepare
    const h = await start();
    const other = h.world.addOwner({ handle: 'other', initialFollowers: 1, initialFollowing: 1 });
    const target = h.world.createUser();

    // Act
    const follow = await h.post(`/2/users/${other.id}/following`, { target_user_id: target.id });
    const unfollow = await h.del(`/2/users/${other.id}/following/${target.id}`);

    // Assess
    expect(follow.status).toBe(403);
    expect(unfollow.status).toBe(403);
    expect(h.world.isFollowing(other.id, target.id)).toBe(false);
  });

  it('refuses a follow body without a valid target_user_id', async () => {
    // Prepare
    const h = await start();

    // Act
    const answers = await Promise.all([
      h.post(`/2/users/${h.owner.id}/following`, 'not json'),
      h.post(`/2/users/${h.owner.id}/following`, { target_user_id: 12345 }),
      h.post(`/2/users/${h.owner.id}/following`, { target_user_id: '1', extra: true }),
    ]);

    // Assess
    for (const answer of answers) expect(answer.status).toBe(400);
  });

  it('unfollows and answers following false', async () => {
    // Prepare
    const h = await start();
    const followed = h.world.followingIds(h.owner.id)[0]!;

    // Act
    const answer = await h.del(`/2/users/${h.owner.id}/following/${followed}`);
    const again = await h.del(`/2/users/${h.owner.id}/following/${followed}`);

    // Assess
    expect(answer.body).toEqual({ data: { following: false } });
    expect(again.body).toEqual({ data: { following: false } });
    expect(h.world.isFollowing(h.owner.id, followed)).toBe(false);
    expect(h.world.unfollowCalls(h.owner.id).map((call) => call.outcome)).toEqual([
      'unfollowed',
      'not_following',
    ]);
  });
});

describe('X sandbox: rate limits', () => {
  it('sends the window headers on every answer, counting down', async () => {
    // Prepare
    const h = await start();

    // Act
    const first = await h.get(`/2/users/${h.owner.id}/followers?max_results=1`);
    h.clock.advance(MINUTE);
    const second = await h.get(`/2/users/${h.owner.id}/followers?max_results=1`);

    // Assess
    expect(first.headers.get('x-rate-limit-limit')).toBe('300');
    expect(first.headers.get('x-rate-limit-remaining')).toBe('299');
    expect(first.headers.get('x-rate-limit-reset')).toBe(String((START + 15 * MINUTE) / 1000));
    expect(second.headers.get('x-rate-limit-remaining')).toBe('298');
    expect(second.headers.get('x-rate-limit-reset')).toBe(String((START + 15 * MINUTE) / 1000));
  });

  it('answers 429 in X shape when the window is spent, until the virtual clock reaches the reset', async () => {
    // Prepare
    const h = await start({ server: { limits: { perWindow: { followers: 3 } } } });
    const path = `/2/users/${h.owner.id}/followers?max_results=1`;
    for (let i = 0; i < 3; i++) expect((await h.get(path)).status).toBe(200);

    // Act
    const limited = await h.get(path);
    h.clock.advance(15 * MINUTE - 1);
    const stillLimited = await h.get(path);
    h.clock.advance(1);
    const reset = await h.get(path);

    // Assess
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      title: 'Too Many Requests',
      detail: 'Too Many Requests',
      type: 'about:blank',
      status: 429,
    });
    expect(limited.headers.get('x-rate-limit-remaining')).toBe('0');
    expect(limited.headers.get('x-rate-limit-reset')).toBe(String((START + 15 * MINUTE) / 1000));
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(stillLimited.status).toBe(429);
    expect(reset.status).toBe(200);
    expect(reset.headers.get('x-rate-limit-remaining')).toBe('2');
    expect(h.sandbox.stats.endpoint('followers').rateLimited).toBe(2);
  });

  it('keeps separate windows per endpoint', async () => {
    // Prepare
    const h = await start({ server: { limits: { perWindow: { followers: 1 } } } });
    await h.get(`/2/users/${h.owner.id}/followers?max_results=1`);

    // Act
    const following = await h.get(`/2/users/${h.owner.id}/following?max_results=1`);

    // Assess
    expect(following.status).toBe(200);
    expect(following.headers.get('x-rate-limit-limit')).toBe('300');
  });

  it('caps follows at 400 a day with the 24-hour headers', async () => {
    // Prepare: lift the 15-minute window out of the way.
    const h = await start({ server: { limits: { perWindow: { follow: 1000 } } } });
    const targets = Array.from({ length: 401 }, () => h.world.createUser().id);
    let last: Awaited<ReturnType<Harness['post']>> | undefined;
    for (const id of targets.slice(0, 400)) {
      last = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: id });
      expect(last.status).toBe(200);
    }

    // Act
    h.clock.advance(HOUR);
    const capped = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: targets[400] });
    h.clock.advance(DAY - HOUR);
    const nextDay = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: targets[400] });

    // Assess
    expect(last!.headers.get('x-user-limit-24hour-limit')).toBe('400');
    expect(last!.headers.get('x-user-limit-24hour-remaining')).toBe('0');
    expect(last!.headers.get('x-user-limit-24hour-reset')).toBe(String((START + DAY) / 1000));
    expect(capped.status).toBe(429);
    expect(capped.headers.get('x-user-limit-24hour-remaining')).toBe('0');
    expect(h.world.isFollowing(h.owner.id, targets[400]!)).toBe(true);
    expect(nextDay.status).toBe(200);
    expect(nextDay.headers.get('x-user-limit-24hour-remaining')).toBe('399');
  });

  it('applies the 50-per-15-minutes follow window', async () => {
    // Prepare
    const h = await start();
    for (let i = 0; i < 50; i++) {
      await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: h.world.createUser().id });
    }

    // Act
    const limited = await h.post(`/2/users/${h.owner.id}/following`, {
      target_user_id: h.world.createUser().id,
    });

    // Assess
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-rate-limit-limit')).toBe('50');
    expect(limited.headers.get('x-user-limit-24hour-remaining')).toBe('350');
  });

  it('can cap follows app-wide across owners', async () => {
    // Prepare
    const h = await start({ server: { limits: { followsPerDayPerApp: 2 } } });
    const other = h.world.addOwner({ handle: 'other', initialFollowers: 0, initialFollowing: 0 });
    const otherToken = h.sandbox.issueToken(other.id);
    await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: h.world.createUser().id });
    await h.post(`/2/users/${other.id}/following`, { target_user_id: h.world.createUser().id }, otherToken);

    // Act
    const capped = await h.post(`/2/users/${h.owner.id}/following`, {
      target_user_id: h.world.createUser().id,
    });

    // Assess
    expect(capped.status).toBe(429);
    expect(capped.headers.get('x-app-limit-24hour-remaining')).toBe('0');
    expect(capped.headers.get('x-user-limit-24hour-remaining')).toBe('399');
  });
});

describe('X sandbox: faults', () => {
  it('serves queued 500 and 503 answers, then recovers', async () => {
    // Prepare
    const h = await start({ server: { faults: [{ endpoint: 'followers', kind: '500' }] } });
    h.sandbox.faults.add({ endpoint: 'followers', kind: '503', times: 2 });
    const path = `/2/users/${h.owner.id}/followers?max_results=1`;

    // Act
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await h.get(path)).status);
    const other = await h.get(`/2/users/${h.owner.id}/following?max_results=1`);

    // Assess
    expect(statuses).toEqual([500, 503, 503, 200]);
    expect(other.status).toBe(200);
    expect(h.sandbox.faults.pending()).toEqual([]);
    expect(h.sandbox.stats.endpoint('followers').faults).toBe(3);
  });

  it('serves an injected 429 with the window reset', async () => {
    // Prepare
    const h = await start({ server: { faults: [{ endpoint: '*', kind: '429' }] } });

    // Act
    const answer = await h.get('/2/users/me');

    // Assess
    expect(answer.status).toBe(429);
    expect(answer.headers.get('x-rate-limit-remaining')).toBe('0');
    expect(answer.headers.get('x-rate-limit-reset')).toBe(String((START + 15 * MINUTE) / 1000));
  });

  it('answers 200 with a malformed body or with invalid JSON', async () => {
    // Prepare
    const h = await start({
      server: {
        faults: [
          { endpoint: 'followers', kind: 'malformed' },
          { endpoint: 'followers', kind: 'truncated' },
        ],
      },
    });
    const path = `/2/users/${h.owner.id}/followers`;

    // Act
    const malformed = await h.get(path);
    const truncated = await h.get(path);

    // Assess
    expect(malformed.status).toBe(200);
    expect(Array.isArray(malformed.body.data)).toBe(false);
    expect(truncated.status).toBe(200);
    expect(truncated.body).toBeUndefined();
    expect(() => JSON.parse(truncated.text)).toThrow();
  });

  it('holds the socket on a timeout, then drops it', async () => {
    // Prepare
    const h = await start({ server: { faults: [{ endpoint: 'me', kind: 'timeout', holdMs: 150 }] } });

    // Act
    const began = Date.now();
    const outcome = await h.get('/2/users/me').then(
      () => 'answered',
      () => 'dropped',
    );

    // Assess
    expect(outcome).toBe('dropped');
    expect(Date.now() - began).toBeGreaterThanOrEqual(140);
  });

  it('holds a timed-out request until the client gives up', async () => {
    // Prepare
    const h = await start({ server: { faults: [{ endpoint: 'me', kind: 'timeout' }] } });

    // Act
    const outcome = await fetch(`${h.sandbox.baseUrl}/2/users/me`, {
      headers: { authorization: `Bearer ${h.token}` },
      signal: AbortSignal.timeout(100),
    }).then(
      () => 'answered',
      (error: Error) => error.name,
    );

    // Assess
    expect(outcome).toBe('TimeoutError');
  });

  it('applies a follow before failing when asked, as when the answer is lost', async () => {
    // Prepare
    const h = await start({
      server: {
        faults: [
          { endpoint: 'follow', kind: '503', apply: true },
          { endpoint: 'follow', kind: '500' },
        ],
      },
    });
    const applied = h.world.createUser();
    const notApplied = h.world.createUser();

    // Act
    const first = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: applied.id });
    const second = await h.post(`/2/users/${h.owner.id}/following`, { target_user_id: notApplied.id });

    // Assess
    expect([first.status, second.status]).toEqual([503, 500]);
    expect(h.world.isFollowing(h.owner.id, applied.id)).toBe(true);
    expect(h.world.isFollowing(h.owner.id, notApplied.id)).toBe(false);
    expect(first.headers.get('x-user-limit-24hour-remaining')).toBe('399');
  });

  it('injects probabilistic faults deterministically for a seed', async () => {
    // Prepare
    const runs: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const h = await start({ server: { faults: [{ endpoint: 'me', kind: '503', probability: 0.5 }] } });
      const statuses: number[] = [];

      // Act
      for (let i = 0; i < 20; i++) statuses.push((await h.get('/2/users/me')).status);
      runs.push(statuses);
      await h.close();
      harness = undefined;
    }

    // Assess
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[0]!.filter((status) => status === 503).length).toBeGreaterThan(3);
    expect(runs[0]!.filter((status) => status === 200).length).toBeGreaterThan(3);
  });

  it('limits a fault to one user when asked', async () => {
    // Prepare
    const h = await start();
    const other = h.world.addOwner({ handle: 'other', initialFollowers: 0, initialFollowing: 0 });
    h.sandbox.faults.add({ endpoint: 'me', kind: '500', userId: other.id });

    // Act
    const mine = await h.get('/2/users/me');
    const theirs = await h.get('/2/users/me', h.sandbox.issueToken(other.id));

    // Assess
    expect(mine.status).toBe(200);
    expect(theirs.status).toBe(500);
  });
});

describe('X sandbox: stats', () => {
  it('counts requests and users returned per endpoint, and resets', async () => {
    // Prepare
    const h = await start();

    // Act
    await h.get(`/2/users/${h.owner.id}/followers?max_results=100`);
    await h.get(`/2/users/${h.owner.id}/followers?max_results=30`);
    await h.get('/2/users/me');
    const before = h.sandbox.stats.snapshot();
    h.sandbox.stats.reset();

    // Assess
    expect(before.endpoints.followers).toMatchObject({
      requests: 2,
      usersReturned: 130,
      byStatus: { 200: 2 },
    });
    expect(before.totals).toMatchObject({ requests: 3, usersReturned: 131, rateLimited: 0 });
    expect(h.sandbox.stats.snapshot().totals.requests).toBe(0);
    expect(h.sandbox.internalErrors).toEqual([]);
  });
});
