import { afterEach, describe, expect, it } from 'vitest';
import { startBlueskySandbox } from '../../sandbox/bluesky/server.ts';
import { startMastodonSandbox } from '../../sandbox/mastodon/server.ts';
import { createWorld } from '../../sandbox/world.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';

const START = Date.UTC(2026, 0, 5, 9);
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

function world() {
  const clock = new VirtualClock(START);
  const w = createWorld({ seed: 3, clock, orderNoise: 0 });
  const owner = w.addOwner({ handle: 'shop', initialFollowers: 5, followersPerDay: 0, unfollowsPerDay: 0 });
  const followers: string[] = [];
  for (let i = 0; i < 90; i += 1) {
    clock.advance(60_000);
    const user = w.createUser();
    w.userFollows(user.id, owner.id);
    followers.push(user.id);
  }
  return { clock, w, owner, followers };
}

describe('the sandboxes’ follow notifications', () => {
  it('pages Mastodon’s newest first with max_id, min_id and a Link header, 40 by default and 80 at most', async () => {
    // Prepare
    const { w, owner, followers } = world();
    const sandbox = await startMastodonSandbox({ world: w });
    close = () => sandbox.close();
    const token = sandbox.issueToken(owner.id);
    const get = async (query: string) => {
      const answer = await fetch(`${sandbox.baseUrl}/api/v1/notifications?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return {
        link: answer.headers.get('link') ?? '',
        body: (await answer.json()) as Array<{
          id: string;
          type: string;
          created_at: string;
          account: { id: string };
        }>,
      };
    };

    // Act
    const first = await get('types[]=follow');
    const most = await get('types[]=follow&limit=500');
    const next = await get(`types[]=follow&max_id=${first.body.at(-1)!.id}`);
    const above = await get(`min_id=${next.body[0]!.id}&limit=5`);
    const other = await get('types[]=mention');

    // Assess
    expect(first.body).toHaveLength(40);
    expect(most.body).toHaveLength(80);
    expect(first.body[0]).toMatchObject({ type: 'follow', account: { id: sandbox.idOf(followers.at(-1)!) } });
    expect(Date.parse(first.body[0]!.created_at)).toBeGreaterThan(Date.parse(first.body[1]!.created_at));
    expect(first.link).toMatch(/rel="next"/);
    expect(next.body[0]!.account.id).toBe(sandbox.idOf(followers.at(-41)!));
    expect(above.body.map((n) => n.id)).toEqual(first.body.slice(-5).map((n) => n.id));
    expect(other.body).toEqual([]);
  });

  it('answers Bluesky’s listNotifications in the lexicon’s shape, with a cursor and reasons', async () => {
    // Prepare
    const { w, owner, followers } = world();
    const sandbox = await startBlueskySandbox({ world: w });
    close = () => sandbox.close();
    const session = (await (
      await fetch(`${sandbox.baseUrl}/xrpc/com.atproto.server.createSession`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          identifier: sandbox.handleOf(owner.id),
          password: sandbox.appPasswordFor(owner.id),
        }),
      })
    ).json()) as { accessJwt: string };
    const list = async (query: string) =>
      fetch(`${sandbox.baseUrl}/xrpc/app.bsky.notification.listNotifications?${query}`, {
        headers: { authorization: `Bearer ${session.accessJwt}` },
      });

    // Act
    type Page = { notifications: Array<Record<string, unknown>>; cursor?: string };
    const first = (await (await list('reasons=follow&limit=50')).json()) as Page;
    const next = (await (
      await list(`reasons=follow&cursor=${encodeURIComponent(first.cursor!)}`)
    ).json()) as Page;
    const tooMany = await list('limit=101');
    const anonymous = await fetch(`${sandbox.baseUrl}/xrpc/app.bsky.notification.listNotifications`);

    // Assess
    expect(first.notifications).toHaveLength(50);
    expect(first.notifications[0]).toMatchObject({
      reason: 'follow',
      author: {
        did: sandbox.didOf(followers.at(-1)!),
        viewer: { followedBy: expect.stringMatching(/^at:\/\//) },
      },
      record: { $type: 'app.bsky.graph.follow', subject: sandbox.didOf(owner.id) },
      isRead: false,
    });
    expect(String(first.notifications[0]!.uri)).toMatch(/^at:\/\/did:[^/]+\/app\.bsky\.graph\.follow\/.+$/);
    expect(next.notifications).toHaveLength(40);
    expect(next.cursor).toBeUndefined();
    expect(tooMany.status).toBe(400);
    expect(anonymous.status).toBe(401);
  });
});
