/**
 * The Platform port's contract on each network, one suite for every implementation: each sandbox
 * over HTTP through its real adapter (test/integration/platform-contract.test.ts) and FakePlatform,
 * the in-process fake the simulation runs on (test/adapters/fake-platform.test.ts). What the fake
 * must answer the same: ids, page sizes and cursors, follow outcomes, gone targets, relationships,
 * limits and their resets, and the platform's faults as the port's named errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultKind } from '../../sandbox/common/faults.ts';
import { createWorld, type World, type WorldUser } from '../../sandbox/world.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import {
  CursorRejectedError,
  MalformedResponseError,
  RateLimitedError,
  TransientPlatformError,
  UserGoneError,
} from '../../shared/domain/errors.ts';
import type { Network, Platform } from '../../shared/ports/platform.ts';

export const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;

/** The operations faults are aimed at, whatever each network calls them. */
export type ContractEndpoint = 'followers' | 'following' | 'follow' | 'lookup';

export interface ContractSubject {
  platform: Platform;
  /** The owner's id on the network. */
  ownerId: string;
  idOf(worldId: string): string;
  fault(spec: { endpoint: ContractEndpoint; kind: FaultKind; apply?: boolean; holdMs?: number }): void;
  close(): Promise<void>;
}

export interface ContractLimits {
  /** Follows per window the server allows (X's 15-minute window, Bluesky's hourly points, Mastodon's day). */
  follows?: number;
  /** X only: follows per 24 hours per user. */
  followsPerDay?: number;
}

export interface PlatformBackend {
  name: string;
  start(network: Network, world: World, owner: WorldUser, limits: ContractLimits): Promise<ContractSubject>;
}

export function describePlatformContract(backend: PlatformBackend): void {
  describe.each(['x', 'bluesky', 'mastodon'] as const)(`on %s (${backend.name})`, (network) => {
    let subject: ContractSubject | undefined;
    afterEach(async () => {
      await subject?.close();
      subject = undefined;
    });

    async function start(limits: ContractLimits = {}) {
      const clock = new VirtualClock(START);
      const world = createWorld({ seed: 11, clock, orderNoise: 0.05 });
      const owner = world.addOwner({
        handle: 'shop',
        initialFollowers: 230,
        initialFollowing: 30,
        followersPerDay: 0,
        unfollowsPerDay: 0,
        deletionsPerDay: 0,
      });
      subject = await backend.start(network, world, owner, limits);
      return { clock, world, owner, s: subject, p: subject.platform };
    }

    async function readAll(p: Platform, ownerId: string, side: 'followers' | 'following', pageSize: number) {
      const ids: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const page =
          side === 'followers'
            ? await p.listFollowers(ownerId, { cursor, pageSize })
            : await p.listFollowing(ownerId, { cursor, pageSize });
        ids.push(...page.users.map((user) => user.id));
        sizes.push(page.users.length);
        cursor = page.nextCursor;
      } while (cursor !== undefined && sizes.length < 50);
      return { ids, sizes };
    }

    it('names the owner', async () => {
      // Prepare
      const { s, p, owner } = await start();

      // Act
      const me = await p.me();

      // Assess
      expect(me.id).toBe(s.ownerId);
      expect(me.id).toBe(s.idOf(owner.id));
      expect(p.network).toBe(network);
    });

    it('pages through both lists in the platform’s order, clamping the page size', async () => {
      // Prepare
      const { s, p, world, owner } = await start();

      // Act
      const followers = await readAll(p, s.ownerId, 'followers', 70);
      const following = await readAll(p, s.ownerId, 'following', 5_000);

      // Assess
      expect(followers.ids).toEqual(world.followerIds(owner.id).map(s.idOf));
      expect(Math.max(...followers.sizes)).toBe(70);
      expect(following.ids).toEqual(world.followingIds(owner.id).map(s.idOf));
      expect(following.sizes[0]).toBe(Math.min(30, p.limits.maxPageSize));
    });

    it('gives users the profile facts the engine reads', async () => {
      // Prepare
      const { s, p, world, owner } = await start();
      const first = world.followerIds(owner.id)[0]!;

      // Act
      const page = await p.listFollowers(s.ownerId, { pageSize: 1 });

      // Assess
      const user = page.users[0]!;
      const truth = world.user(first)!;
      expect(user.id).toBe(s.idOf(first));
      expect(user.protected).toBe(network === 'bluesky' ? false : truth.protected);
      expect(user.bio.includes('#nobot')).toBe(network !== 'x' && truth.noBot);
      expect(
        user.createdAt === undefined ? undefined : Math.abs(user.createdAt - truth.createdAt) < 86_400_000,
      ).not.toBe(false);
    });

    it('follows, requests on a locked account, and unfollows', async () => {
      // Prepare
      const { s, p, world, owner } = await start();
      const open = world.createUser();
      const locked = world.createUser({ protected: true });

      // Act
      const followed = await p.follow(s.ownerId, s.idOf(open.id));
      const again = await p.follow(s.ownerId, s.idOf(open.id));
      const asked = await p.follow(s.ownerId, s.idOf(locked.id));
      await p.unfollow(s.ownerId, s.idOf(open.id));

      // Assess
      expect(followed.outcome).toBe('followed');
      expect(again.outcome).toBe(network === 'x' ? 'followed' : 'already_following');
      expect(asked.outcome).toBe(network === 'bluesky' ? 'followed' : 'requested');
      expect(world.isFollowing(owner.id, open.id)).toBe(false);
      expect(world.followCalls(owner.id).filter((call) => call.outcome === 'followed').length).toBe(
        network === 'bluesky' ? 2 : 1,
      );
    });

    it('answers UserGoneError for deleted and suspended targets', async () => {
      // Prepare
      const { s, p, world } = await start();
      const deleted = world.createUser();
      const suspended = world.createUser();
      world.deleteUser(deleted.id);
      world.suspendUser(suspended.id);

      // Act
      const results = await Promise.allSettled([
        p.follow(s.ownerId, s.idOf(deleted.id)),
        p.follow(s.ownerId, s.idOf(suspended.id)),
      ]);

      // Assess
      for (const result of results) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(UserGoneError);
      }
    });

    it('looks users up, leaving out the gone', async () => {
      // Prepare
      const { s, p, world } = await start();
      const users = [world.createUser(), world.createUser(), world.createUser()];
      world.deleteUser(users[1]!.id);

      // Act
      const found = await p.lookupUsers(users.map((user) => s.idOf(user.id)));

      // Assess
      expect(found.map((user) => user.id).sort()).toEqual(
        [s.idOf(users[0]!.id), s.idOf(users[2]!.id)].sort(),
      );
    });

    it('tells relationships where the network offers them', async () => {
      // Prepare
      const { s, p, world, owner } = await start();
      const follower = world.followerIds(owner.id).find((id) => !world.isFollowing(owner.id, id))!;
      const followed = world.followingIds(owner.id)[0]!;
      const gone = world.createUser();
      world.deleteUser(gone.id);

      // Act
      const relationships = await p.relationships?.(s.ownerId, [follower, followed, gone.id].map(s.idOf));

      // Assess
      if (network === 'x') {
        expect(relationships).toBeUndefined();
        return;
      }
      expect(relationships?.get(s.idOf(follower))).toMatchObject({ followedBy: true, following: false });
      expect(relationships?.get(s.idOf(followed))).toMatchObject({ following: true });
      expect(relationships?.has(s.idOf(gone.id))).toBe(false);
    });

    it('lists follow notices newest first in pages, an undone follow’s gone (none on X)', async () => {
      // Prepare: three follow, one of them leaves again
      const { s, p, world, owner, clock } = await start();
      const [first, second, third] = [world.createUser(), world.createUser(), world.createUser()];
      for (const user of [first, second, third]) {
        world.userFollows(user.id, owner.id);
        clock.advance(MINUTE);
      }
      world.userUnfollows(second.id, owner.id);

      // Act
      const firstPage = await p.followNotices?.({ pageSize: 1 });
      const rest = firstPage?.nextCursor
        ? await p.followNotices?.({ pageSize: 50, cursor: firstPage.nextCursor })
        : undefined;

      // Assess
      if (network === 'x') {
        expect(p.followNotices).toBeUndefined();
        return;
      }
      expect(firstPage?.notices.map((notice) => notice.user.id)).toEqual([s.idOf(third.id)]);
      expect(firstPage?.notices[0]).toMatchObject({ kind: 'follow', at: START + 2 * MINUTE });
      const ids = rest?.notices.map((notice) => notice.user.id) ?? [];
      expect(ids[0]).toBe(s.idOf(first.id));
      expect(ids).not.toContain(s.idOf(second.id));
    });

    it('refuses follows past the window with RateLimitedError and its reset', async () => {
      // Prepare
      const { s, p, world, clock } = await start({ follows: 3 });
      const targets = Array.from({ length: 4 }, () => world.createUser());

      // Act
      for (const target of targets.slice(0, 3)) await p.follow(s.ownerId, s.idOf(target.id));
      const refused = await p.follow(s.ownerId, s.idOf(targets[3]!.id)).catch((error: unknown) => error);

      // Assess
      expect(refused).toBeInstanceOf(RateLimitedError);
      const window = { x: 15 * MINUTE, bluesky: 60 * MINUTE, mastodon: 24 * 60 * MINUTE }[network];
      expect((refused as RateLimitedError).resetAt).toBeGreaterThan(clock.now());
      expect((refused as RateLimitedError).resetAt).toBeLessThanOrEqual(clock.now() + window + 1_000);
    });

    it('answers a spent 24-hour cap with its reset, not the window’s (X)', async () => {
      if (network !== 'x') return;
      // Prepare
      const { s, p, world, clock } = await start({ followsPerDay: 2 });
      const targets = Array.from({ length: 3 }, () => world.createUser());

      // Act
      await p.follow(s.ownerId, s.idOf(targets[0]!.id));
      clock.advance(20 * MINUTE);
      await p.follow(s.ownerId, s.idOf(targets[1]!.id));
      const refused = await p.follow(s.ownerId, s.idOf(targets[2]!.id)).catch((error: unknown) => error);

      // Assess
      expect(refused).toBeInstanceOf(RateLimitedError);
      expect((refused as RateLimitedError).resetAt).toBe(START + 24 * 60 * MINUTE);
    });

    it('turns 5xx, 429, malformed and truncated answers into the port’s errors', async () => {
      // Prepare
      const { s, p } = await start();
      const kinds: [FaultKind, new (...args: never[]) => Error][] = [
        ['500', TransientPlatformError],
        ['503', TransientPlatformError],
        ['429', RateLimitedError],
        ['malformed', MalformedResponseError],
        ['truncated', MalformedResponseError],
      ];

      // Act / Assess
      for (const [kind, type] of kinds) {
        s.fault({ endpoint: 'followers', kind });
        const error = await p.listFollowers(s.ownerId, { pageSize: 10 }).catch((e: unknown) => e);
        expect(error, kind).toBeInstanceOf(type);
      }
      expect((await p.listFollowers(s.ownerId, { pageSize: 10 })).users).toHaveLength(10);
    });

    it('applies a follow whose answer is lost when told to, and not otherwise', async () => {
      // Prepare
      const { s, p, world, owner } = await start();
      const [applied, dropped] = [world.createUser(), world.createUser()];

      // Act
      s.fault({ endpoint: 'follow', kind: '500', apply: true });
      const first = await p.follow(s.ownerId, s.idOf(applied.id)).catch((e: unknown) => e);
      s.fault({ endpoint: 'follow', kind: '500' });
      const second = await p.follow(s.ownerId, s.idOf(dropped.id)).catch((e: unknown) => e);

      // Assess
      expect(first).toBeInstanceOf(TransientPlatformError);
      expect(second).toBeInstanceOf(TransientPlatformError);
      expect(world.isFollowing(owner.id, applied.id)).toBe(true);
      expect(world.isFollowing(owner.id, dropped.id)).toBe(false);
    });

    it('loses the answer of a timed-out follow, applied or not, as a TransientPlatformError', async () => {
      // Prepare
      const { s, p, world, owner } = await start();
      const [applied, dropped] = [world.createUser(), world.createUser()];

      // Act
      s.fault({ endpoint: 'follow', kind: 'timeout', apply: true, holdMs: 100 });
      const first = await p.follow(s.ownerId, s.idOf(applied.id)).catch((e: unknown) => e);
      s.fault({ endpoint: 'follow', kind: 'timeout', holdMs: 100 });
      const second = await p.follow(s.ownerId, s.idOf(dropped.id)).catch((e: unknown) => e);

      // Assess
      expect(first).toBeInstanceOf(TransientPlatformError);
      expect(second).toBeInstanceOf(TransientPlatformError);
      expect(world.isFollowing(owner.id, applied.id)).toBe(true);
      expect(world.isFollowing(owner.id, dropped.id)).toBe(false);
    });

    it('refuses a cursor that is not one of the list’s own (X, Bluesky); Mastodon starts over', async () => {
      // Prepare
      const { s, p, world, owner } = await start();
      const following = await p.listFollowing(s.ownerId, { pageSize: 5 });

      // Act
      const result = await p
        .listFollowers(s.ownerId, {
          pageSize: 5,
          cursor: network === 'mastodon' ? 'nope' : following.nextCursor,
        })
        .catch((e: unknown) => e);

      // Assess
      if (network === 'mastodon') {
        expect((result as { users: { id: string }[] }).users[0]?.id).toBe(
          s.idOf(world.followerIds(owner.id)[0]!),
        );
      } else if (network === 'x') {
        expect(result).toBeInstanceOf(CursorRejectedError);
      } else {
        // Bluesky's PDS answers a bad cursor with a 502 (the AppView's 500 passed on).
        expect(result).toBeInstanceOf(TransientPlatformError);
      }
    });
  });
}
