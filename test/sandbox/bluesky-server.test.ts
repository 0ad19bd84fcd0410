/**
 * The Bluesky sandbox over plain HTTP: XRPC answers in the lexicons' shapes (checked with the
 * lexicons @atproto/api ships), Bluesky's write points and rate limits, its sessions and errors.
 */
import { lexicons } from '@atproto/api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BlueskyLimits,
  type BlueskySandbox,
  startBlueskySandbox,
  TID_PATTERN,
} from '../../sandbox/bluesky/index.ts';
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
  sandbox: BlueskySandbox;
  did: string;
  access: string;
  refresh: string;
  get(nsid: string, params?: Record<string, string | string[]>, token?: string | null): Promise<Answer>;
  post(nsid: string, body: unknown, token?: string | null): Promise<Answer>;
}

let sandbox: BlueskySandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function setup(limits: Partial<BlueskyLimits> = {}): Promise<Setup> {
  const clock = new VirtualClock(START);
  const world = createWorld({ seed: 3, clock, orderNoise: 0 });
  const owner = world.addOwner({
    handle: 'shop',
    initialFollowers: 120,
    initialFollowing: 20,
    followersPerDay: 0,
    unfollowsPerDay: 0,
    deletionsPerDay: 0,
  });
  sandbox = await startBlueskySandbox({ world, limits });
  const base = sandbox.baseUrl;
  const call = async (
    method: string,
    nsid: string,
    query: string,
    body: unknown,
    token: string | null,
  ): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${base}/xrpc/${nsid}${query}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };
  const login = await call(
    'POST',
    'com.atproto.server.createSession',
    '',
    { identifier: sandbox.handleOf(owner.id), password: sandbox.appPasswordFor(owner.id) },
    null,
  );
  const setupValue: Setup = {
    clock,
    world,
    owner,
    sandbox,
    did: login.body.did,
    access: login.body.accessJwt,
    refresh: login.body.refreshJwt,
    get(nsid, params = {}, token) {
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(params)) {
        for (const one of Array.isArray(value) ? value : [value]) query.append(key, one);
      }
      const text = query.toString();
      return call(
        'GET',
        nsid,
        text ? `?${text}` : '',
        undefined,
        token === undefined ? setupValue.access : token,
      );
    },
    post(nsid, body, token) {
      return call('POST', nsid, '', body, token === undefined ? setupValue.access : token);
    },
  };
  return setupValue;
}

function followRecord(subject: string, at = START) {
  return { $type: 'app.bsky.graph.follow', subject, createdAt: new Date(at).toISOString() };
}

describe('Bluesky sandbox: lexicon shapes', () => {
  it('answers every method it serves in the shape its lexicon defines', async () => {
    // Prepare
    const s = await setup();
    const follower = s.world.followerIds(s.owner.id)[0]!;
    const stranger = s.world.createUser();

    // Act
    const answers: [string, unknown][] = [];
    const followers = await s.get('app.bsky.graph.getFollowers', { actor: s.did, limit: '5' });
    answers.push(['app.bsky.graph.getFollowers', followers.body]);
    answers.push([
      'app.bsky.graph.getFollows',
      (await s.get('app.bsky.graph.getFollows', { actor: s.did })).body,
    ]);
    answers.push([
      'app.bsky.actor.getProfile',
      (await s.get('app.bsky.actor.getProfile', { actor: s.did })).body,
    ]);
    const profiles = await s.get('app.bsky.actor.getProfiles', {
      actors: [s.sandbox.didOf(follower), s.sandbox.didOf(stranger.id)],
    });
    answers.push(['app.bsky.actor.getProfiles', profiles.body]);
    answers.push(['com.atproto.server.getSession', (await s.get('com.atproto.server.getSession')).body]);
    const created = await s.post('com.atproto.repo.createRecord', {
      repo: s.did,
      collection: 'app.bsky.graph.follow',
      record: followRecord(s.sandbox.didOf(stranger.id)),
    });
    answers.push(['com.atproto.repo.createRecord', created.body]);
    const rkey = (created.body.uri as string).split('/').pop()!;
    answers.push([
      'com.atproto.repo.deleteRecord',
      (
        await s.post('com.atproto.repo.deleteRecord', {
          repo: s.did,
          collection: 'app.bsky.graph.follow',
          rkey,
        })
      ).body,
    ]);
    answers.push([
      'com.atproto.server.refreshSession',
      (await s.post('com.atproto.server.refreshSession', undefined, s.refresh)).body,
    ]);

    // Assess
    for (const [nsid, body] of answers)
      expect(() => lexicons.assertValidXrpcOutput(nsid, body), nsid).not.toThrow();
    expect(followers.body.followers).toHaveLength(5);
    expect(profiles.body.profiles).toHaveLength(2);
    expect(rkey).toMatch(TID_PATTERN);
  });

  it('gives authenticated readers their viewer state: the follow record each way', async () => {
    // Prepare
    const s = await setup();
    const mutual = s.world.followingIds(s.owner.id).find((id) => s.world.isFollower(s.owner.id, id))!;
    const did = s.sandbox.didOf(mutual);

    // Act
    const signedIn = await s.get('app.bsky.actor.getProfile', { actor: did });
    const anonymous = await s.get('app.bsky.actor.getProfile', { actor: did }, null);

    // Assess
    expect(signedIn.body.viewer.following).toMatch(new RegExp(`^at://${s.did}/app\\.bsky\\.graph\\.follow/`));
    expect(signedIn.body.viewer.followedBy).toMatch(new RegExp(`^at://${did}/app\\.bsky\\.graph\\.follow/`));
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.viewer).toBeUndefined();
  });

  it('pages followers newest first with cursors, covering the list exactly once', async () => {
    // Prepare
    const s = await setup();

    // Act
    const dids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await s.get('app.bsky.graph.getFollowers', {
        actor: s.did,
        limit: '50',
        ...(cursor ? { cursor } : {}),
      });
      dids.push(...page.body.followers.map((profile: { did: string }) => profile.did));
      cursor = page.body.cursor;
      pages += 1;
    } while (cursor);

    // Assess
    expect(pages).toBe(3);
    expect(dids).toEqual(s.world.followerIds(s.owner.id).map((id) => s.sandbox.didOf(id)));
  });

  it.each([
    ['a limit of 0', { limit: '0' }, /less than 1/],
    ['a limit of 101', { limit: '101' }, /greater than 100/],
    ['an unknown parameter', { sort: 'new' }, /Unexpected parameter/],
  ])('refuses %s with an InvalidRequest error', async (_, params, message) => {
    // Prepare
    const s = await setup();

    // Act
    const answer = await s.get('app.bsky.graph.getFollowers', { actor: s.did, ...params });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: 'InvalidRequest', message: expect.stringMatching(message) });
  });

  it('fails on a made-up cursor as the PDS does: 502, the AppView’s 500 passed on', async () => {
    // Prepare
    const s = await setup();

    // Act
    const answer = await s.get('app.bsky.graph.getFollowers', { actor: s.did, cursor: 'not-a-cursor' });

    // Assess
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({ error: 'InternalServerError', message: 'Internal Server Error' });
  });

  it('fails a whole getProfiles batch on one malformed identifier, and leaves out unknown ones', async () => {
    // Prepare
    const s = await setup();
    const known = s.sandbox.didOf(s.world.followerIds(s.owner.id)[0]!);

    // Act
    const malformed = await s.get('app.bsky.actor.getProfiles', { actors: [known, 'not a did'] });
    const unknown = await s.get('app.bsky.actor.getProfiles', {
      actors: [known, 'did:plc:nobodyatall0000000000'],
    });

    // Assess
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('InvalidRequest');
    expect(unknown.status).toBe(200);
    expect(unknown.body.profiles.map((profile: { did: string }) => profile.did)).toEqual([known]);
  });

  it('resolves anyone’s handle, not only the owners’', async () => {
    // Prepare
    const s = await setup();
    const follower = s.world.user(s.world.followerIds(s.owner.id)[0]!)!;
    const handle = `${follower.username.toLowerCase()}.bsky.social`;

    // Act
    const answer = await s.get('app.bsky.actor.getProfile', { actor: handle });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.did).toBe(s.sandbox.didOf(follower.id));
  });

  it('shows an account without a profile record with no name, bio or creation date', async () => {
    // Prepare
    const s = await setup();
    const bare = s.world.createUser({ noProfile: true, noBot: true });

    // Act
    const answer = await s.get('app.bsky.actor.getProfile', { actor: s.sandbox.didOf(bare.id) });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).not.toHaveProperty('displayName');
    expect(answer.body).not.toHaveProperty('description');
    expect(answer.body).not.toHaveProperty('createdAt');
    expect(() => lexicons.assertValidXrpcOutput('app.bsky.actor.getProfile', answer.body)).not.toThrow();
  });

  it('answers XRPC errors for unknown methods, wrong verbs, gone and suspended accounts', async () => {
    // Prepare
    const s = await setup();
    const [deleted, suspended] = [s.world.createUser(), s.world.createUser()];
    s.world.deleteUser(deleted.id);
    s.world.suspendUser(suspended.id);

    // Act
    const unknown = await s.get('app.bsky.feed.getTimeline');
    const verb = await s.post('app.bsky.actor.getProfile', {});
    const gone = await s.get('app.bsky.actor.getProfile', { actor: s.sandbox.didOf(deleted.id) });
    const takenDown = await s.get('app.bsky.actor.getProfile', { actor: s.sandbox.didOf(suspended.id) });
    const profiles = await s.get('app.bsky.actor.getProfiles', {
      actors: [s.sandbox.didOf(deleted.id), s.sandbox.didOf(suspended.id), s.did],
    });

    // Assess
    expect([unknown.status, unknown.body.error]).toEqual([501, 'MethodNotImplemented']);
    expect([verb.status, verb.body.error]).toEqual([400, 'InvalidRequest']);
    expect(gone.body).toEqual({ error: 'InvalidRequest', message: 'Profile not found' });
    expect([takenDown.status, takenDown.body.error]).toEqual([400, 'AccountTakedown']);
    expect(profiles.body.profiles.map((profile: { did: string }) => profile.did)).toEqual([s.did]);
  });

  it('shows #nobot in the bio of a user who asks bots to stay away, and no avatar for the default one', async () => {
    // Prepare
    const s = await setup();
    const quiet = s.world.createUser({ noBot: true });

    // Act
    const profile = await s.get('app.bsky.actor.getProfile', { actor: s.sandbox.didOf(quiet.id) });

    // Assess
    expect(profile.body.description).toMatch(/#nobot$/);
    expect(profile.body.avatar === undefined).toBe(s.world.user(quiet.id)!.defaultAvatar);
  });
});

describe('Bluesky sandbox: records', () => {
  it('follows by creating a record and unfollows by deleting it, whatever the account is locked on X', async () => {
    // Prepare
    const s = await setup();
    const locked = s.world.createUser({ protected: true });
    const subject = s.sandbox.didOf(locked.id);

    // Act
    const created = await s.post('com.atproto.repo.createRecord', {
      repo: s.did,
      collection: 'app.bsky.graph.follow',
      record: followRecord(subject),
    });
    const beforeIndexing = s.world.isFollowing(s.owner.id, locked.id);
    s.clock.advance(1_000);
    await s.get('com.atproto.server.getSession');
    const following = s.world.isFollowing(s.owner.id, locked.id);
    const rkey = (created.body.uri as string).split('/').pop()!;
    await s.post('com.atproto.repo.deleteRecord', { repo: s.did, collection: 'app.bsky.graph.follow', rkey });

    // Assess: the AppView shows the follow only after its indexing lag
    expect(beforeIndexing).toBe(false);
    expect(following).toBe(true);
    expect(s.world.isFollowing(s.owner.id, locked.id)).toBe(false);
    expect(s.sandbox.followRecords(s.owner.id)).toEqual([]);
  });

  it('deletes a follow made by hand by the key its viewer state names', async () => {
    // Prepare
    const s = await setup();
    const followed = s.world.followingIds(s.owner.id)[0]!;
    const profile = await s.get('app.bsky.actor.getProfile', { actor: s.sandbox.didOf(followed) });
    const rkey = (profile.body.viewer.following as string).split('/').pop()!;

    // Act
    const answer = await s.post('com.atproto.repo.deleteRecord', {
      repo: s.did,
      collection: 'app.bsky.graph.follow',
      rkey,
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(s.world.isFollowing(s.owner.id, followed)).toBe(false);
  });

  it('replaces the older record when a second follow of the same subject is created, as the PDS does', async () => {
    // Prepare
    const s = await setup();
    const user = s.world.createUser();
    const record = followRecord(s.sandbox.didOf(user.id));
    const create = () =>
      s.post('com.atproto.repo.createRecord', { repo: s.did, collection: 'app.bsky.graph.follow', record });

    // Act
    const first = await create();
    const second = await create();
    s.clock.advance(1_000);
    const listed = await s.get('com.atproto.repo.listRecords', {
      repo: s.did,
      collection: 'app.bsky.graph.follow',
    });

    // Assess: one record, the newer; the follow stands
    expect(s.sandbox.followRecords(s.owner.id).map((one) => one.uri)).toEqual([second.body.uri]);
    expect(second.body.uri).not.toBe(first.body.uri);
    const uris = listed.body.records.map((one: { uri: string }) => one.uri);
    expect(uris).toContain(second.body.uri);
    expect(uris).not.toContain(first.body.uri);
    expect(s.world.isFollowing(s.owner.id, user.id)).toBe(true);
  });

  it('lists a new follow record at once (the PDS), while the AppView shows it only after its lag', async () => {
    // Prepare
    const s = await setup();
    const user = s.world.createUser();
    const subject = s.sandbox.didOf(user.id);
    s.clock.advance(MINUTE);

    // Act
    const created = await s.post('com.atproto.repo.createRecord', {
      repo: s.did,
      collection: 'app.bsky.graph.follow',
      record: followRecord(subject),
    });
    const listed = await s.get('com.atproto.repo.listRecords', {
      repo: s.did,
      collection: 'app.bsky.graph.follow',
      limit: '5',
    });
    const profile = await s.get('app.bsky.actor.getProfile', { actor: subject });
    s.clock.advance(1_000);
    const later = await s.get('app.bsky.actor.getProfile', { actor: subject });

    // Assess: newest first in the repo; viewer.following only once indexed
    expect(listed.body.records[0]).toMatchObject({ uri: created.body.uri, value: { subject } });
    expect(listed.body.records).toHaveLength(5);
    expect(listed.body.cursor).toEqual(expect.any(String));
    expect(profile.body.viewer.following).toBeUndefined();
    expect(later.body.viewer.following).toBe(created.body.uri);
  });

  it('stores a follow of a deleted account without following anyone, as the PDS does', async () => {
    // Prepare
    const s = await setup();
    const gone = s.world.createUser();
    s.world.deleteUser(gone.id);

    // Act
    const answer = await s.post('com.atproto.repo.createRecord', {
      repo: s.did,
      collection: 'app.bsky.graph.follow',
      record: followRecord(s.sandbox.didOf(gone.id)),
    });

    // Assess
    expect(answer.status).toBe(200);
    s.clock.advance(1_000);
    s.world.advanceTo(s.clock.now());
    await s.get('com.atproto.server.getSession');
    expect(s.world.followCalls(s.owner.id).map((call) => call.outcome)).toEqual(['not_found']);
  });

  it.each([
    ['another collection', { collection: 'app.bsky.feed.like' }, 400],
    ['a subject that is not a DID', { record: followRecord('alice.bsky.social') }, 400],
    ['another account’s repo', { repo: 'did:plc:someoneelse0000000000000' }, 401],
  ])('refuses a record in %s', async (_, change, status) => {
    // Prepare
    const s = await setup();
    const user = s.world.createUser();

    // Act
    const answer = await s.post('com.atproto.repo.createRecord', {
      repo: s.did,
      collection: 'app.bsky.graph.follow',
      record: followRecord(s.sandbox.didOf(user.id)),
      ...change,
    });

    // Assess
    expect(answer.status).toBe(status);
    expect(s.world.isFollowing(s.owner.id, user.id)).toBe(false);
  });
});

describe('Bluesky sandbox: limits', () => {
  it('states Bluesky’s limits: 5,000 points an hour, 35,000 a day, 3 per create, 1 per delete', async () => {
    // Prepare / Act
    const s = await setup();

    // Assess
    expect(s.sandbox.limits).toMatchObject({
      writePointsPerHour: 5_000,
      writePointsPerDay: 35_000,
      createPoints: 3,
      deletePoints: 1,
      requestsPerWindow: 3_000,
    });
  });

  it('charges write points, says so in ratelimit headers, and answers 429 until the hour resets', async () => {
    // Prepare: 30 points an hour is ten follows
    const s = await setup({ writePointsPerHour: 30 });
    const users = Array.from({ length: 11 }, () => s.world.createUser());
    const create = (user: WorldUser) =>
      s.post('com.atproto.repo.createRecord', {
        repo: s.did,
        collection: 'app.bsky.graph.follow',
        record: followRecord(s.sandbox.didOf(user.id)),
      });

    // Act
    const answers: Answer[] = [];
    for (const user of users.slice(0, 10)) answers.push(await create(user));
    const refused = await create(users[10]!);
    s.clock.advance(HOUR);
    const later = await create(users[10]!);

    // Assess
    expect(answers.map((answer) => answer.headers.get('ratelimit-remaining'))).toEqual([
      '27',
      '24',
      '21',
      '18',
      '15',
      '12',
      '9',
      '6',
      '3',
      '0',
    ]);
    expect(answers[0]!.headers.get('ratelimit-policy')).toBe('30;w=3600');
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe('RateLimitExceeded');
    expect(Number(refused.headers.get('ratelimit-reset')) * 1000).toBe(START + HOUR);
    s.clock.advance(1_000);
    await s.get('com.atproto.server.getSession');
    expect(s.world.isFollowing(s.owner.id, users[10]!.id)).toBe(true);
    expect(later.status).toBe(200);
  });

  it('keeps counting against the day when the hours reset', async () => {
    // Prepare: 9 points an hour, 15 a day: five follows a day
    const s = await setup({ writePointsPerHour: 9, writePointsPerDay: 15 });
    const users = Array.from({ length: 6 }, () => s.world.createUser());

    // Act
    const statuses: number[] = [];
    for (const user of users) {
      const answer = await s.post('com.atproto.repo.createRecord', {
        repo: s.did,
        collection: 'app.bsky.graph.follow',
        record: followRecord(s.sandbox.didOf(user.id)),
      });
      statuses.push(answer.status);
      if (statuses.length === 3) s.clock.advance(HOUR);
    }

    // Assess
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('limits sessions per identifier: 30 logins in 5 minutes', async () => {
    // Prepare
    const s = await setup();
    const identifier = s.sandbox.handleOf(s.owner.id);
    const password = s.sandbox.appPasswordFor(s.owner.id);

    // Act: one login happened in setup
    const statuses: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      statuses.push(
        (await s.post('com.atproto.server.createSession', { identifier, password }, null)).status,
      );
    }

    // Assess
    expect(statuses.filter((status) => status === 200)).toHaveLength(29);
    expect(statuses.at(-1)).toBe(429);
  });
});

describe('Bluesky sandbox: sessions', () => {
  it('refuses a wrong app password', async () => {
    // Prepare
    const s = await setup();

    // Act
    const answer = await s.post(
      'com.atproto.server.createSession',
      { identifier: s.did, password: 'aaaa-bbbb-cccc-dddd' },
      null,
    );

    // Assess
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('AuthenticationRequired');
  });

  it('expires access tokens after two hours; a used refresh token works for two more hours', async () => {
    // Prepare
    const s = await setup();

    // Act
    s.clock.advance(2 * HOUR);
    const expired = await s.get('com.atproto.server.getSession');
    const refreshed = await s.post('com.atproto.server.refreshSession', undefined, s.refresh);
    const fresh = await s.get('com.atproto.server.getSession', {}, refreshed.body.accessJwt);
    s.clock.advance(HOUR + 55 * MINUTE);
    const reused = await s.post('com.atproto.server.refreshSession', undefined, s.refresh);
    s.clock.advance(10 * MINUTE);
    const tooLate = await s.post('com.atproto.server.refreshSession', undefined, s.refresh);

    // Assess
    expect(expired.body).toEqual({ error: 'ExpiredToken', message: 'Token has expired' });
    expect(refreshed.body.refreshJwt).not.toBe(s.refresh);
    expect(fresh.status).toBe(200);
    expect(reused.status).toBe(200);
    expect(tooLate.status).toBe(400);
  });

  it('keeps an access token working after its app password is revoked, until it expires', async () => {
    // Prepare
    const s = await setup();

    // Act
    s.sandbox.revokeAppPassword(s.owner.id);
    const stillWorks = await s.get('com.atproto.server.getSession');
    const login = await s.post('com.atproto.server.createSession', {
      identifier: s.did,
      password: s.sandbox.appPasswordFor(s.owner.id),
    });
    const refresh = await s.post('com.atproto.server.refreshSession', undefined, s.refresh);
    s.clock.advance(2 * HOUR);
    const expired = await s.get('com.atproto.server.getSession');

    // Assess
    expect(stillWorks.status).toBe(200);
    expect(login.status).toBe(401);
    expect(refresh.status).toBe(400);
    expect(expired.body.error).toBe('ExpiredToken');
  });

  it('refuses an access token where a refresh token is needed, and the reverse', async () => {
    // Prepare
    const s = await setup();

    // Act
    const refreshWithAccess = await s.post('com.atproto.server.refreshSession', undefined, s.access);
    const readWithRefresh = await s.get('com.atproto.server.getSession', {}, s.refresh);

    // Assess
    expect(refreshWithAccess.body.error).toBe('InvalidToken');
    expect(readWithRefresh.body.error).toBe('InvalidToken');
  });
});

describe('Bluesky sandbox: faults', () => {
  it.each(['500', '503', 'malformed', 'truncated', '429'] as const)(
    'answers a %s fault in place of the answer',
    async (kind) => {
      // Prepare
      const s = await setup();
      s.sandbox.faults.add({ endpoint: 'app.bsky.graph.getFollowers', kind });

      // Act
      const faulted = await s.get('app.bsky.graph.getFollowers', { actor: s.did });
      const next = await s.get('app.bsky.graph.getFollowers', { actor: s.did });

      // Assess
      const expected = { '500': 500, '503': 503, malformed: 200, truncated: 200, '429': 429 }[kind];
      expect(faulted.status).toBe(expected);
      if (kind === 'malformed') {
        expect(() => lexicons.assertValidXrpcOutput('app.bsky.graph.getFollowers', faulted.body)).toThrow();
      }
      if (kind === 'truncated') expect(typeof faulted.body).toBe('string');
      if (kind === '429') expect(faulted.headers.get('ratelimit-remaining')).toBe('0');
      expect(next.status).toBe(200);
      expect(s.world.stats.endpoint('app.bsky.graph.getFollowers').faults).toBe(1);
    },
  );

  it('applies a write before losing its answer when asked to', async () => {
    // Prepare
    const s = await setup();
    const user = s.world.createUser();
    s.sandbox.faults.add({ endpoint: 'com.atproto.repo.createRecord', kind: '500', apply: true });

    // Act
    const answer = await s.post('com.atproto.repo.createRecord', {
      repo: s.did,
      collection: 'app.bsky.graph.follow',
      record: followRecord(s.sandbox.didOf(user.id)),
    });

    // Assess
    expect(answer.status).toBe(500);
    s.clock.advance(1_000);
    await s.get('com.atproto.server.getSession');
    expect(s.world.isFollowing(s.owner.id, user.id)).toBe(true);
  });
});
