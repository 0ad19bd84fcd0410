/**
 * The Platform port in process, over a sandbox World, for X, Bluesky and Mastodon: what each sandbox
 * answers seen through its real adapter (shared/adapters/{x,bluesky,mastodon}), without HTTP, so that
 * a simulated day costs milliseconds. Kept the same (test/contract/platform-contract.ts runs the same
 * cases on both):
 *
 * - ids: X's decimal ids, Bluesky DIDs, Mastodon snowflakes (the World's own mappings);
 * - pages: X 1–1000 (pagination tokens bound to the list, a foreign or stale one refused with a 400 =
 *   MalformedResponseError), Bluesky 1–100 (cursor), Mastodon 1–80 (max_id);
 * - limits in fixed windows that open with their first hit, on the world's clock: X 15-minute windows
 *   per endpoint and the 24-hour follow cap (a 429's reset is the day's when the day is spent);
 *   Bluesky 3,000 requests per 5 minutes and write points (3 a follow) per hour and day; Mastodon
 *   300 requests per 5 minutes and 400 follows a day;
 * - follows: X answers following / pending_follow (already following is `followed`, protected is
 *   `requested`); Bluesky and Mastodon look first (already_following), Mastodon locked accounts are
 *   `requested`; deleted and suspended targets are UserGoneError; relationships on Bluesky/Mastodon;
 * - faults (sandbox/common/faults.ts kinds, plus the ones only a simulation needs): 5xx, timeouts
 *   applied or not, malformed and truncated 200s, 429 with the window's reset, 429 without headers
 *   (the adapter's fallback reset), 429 with a reset in the past, refused pagination tokens, short
 *   pages; and, outside the sandboxes, targets that block the owner (X answers 200
 *   `{following:false, pending_follow:false}`) and hostile profiles (any text in any field).
 */
import {
  CursorRejectedError,
  MalformedResponseError,
  RateLimitedError,
  TransientPlatformError,
  UserGoneError,
} from '../shared/domain/errors.ts';
import { defined } from '../shared/domain/invariant.ts';
import type {
  FollowNoticePage,
  FollowNoticeRequest,
  FollowResult,
  GraphPage,
  Network,
  PageRequest,
  Platform,
  PlatformLimits,
  PlatformUser,
  RateLimitSnapshot,
  Relationship,
} from '../shared/ports/platform.ts';
import { blueskyHandle } from './bluesky/shapes.ts';
import { type FaultKind, type FaultSpec, SandboxFaults } from './common/faults.ts';
import { type FollowNotificationOptions, FollowNotifications } from './common/follow-notifications.ts';
import { type PointsWindow, WindowMap } from './common/windows.ts';
import { mastodonUsername } from './mastodon/shapes.ts';
import type { World, WorldUser } from './world.ts';
import { decodeToken, encodeToken } from './x/pagination.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** What the fake can be told to do to one answer. */
export type FakeFaultKind =
  | FaultKind
  /** 429 whose headers are missing: the adapter falls back to now + its window. */
  | '429_no_headers'
  /** 429 whose reset is already past. */
  | '429_past_reset'
  /** The pagination token of this request is refused (X: 400; others: the same as malformed). */
  | 'refuse_cursor'
  /** A page shorter than asked, with a cursor to go on. */
  | 'short_page';

/** A queued fault (see SandboxFaults): `apply` makes a write take effect before the fault answers. */
export type FakeFaultSpec = Omit<FaultSpec<FakeEndpoint>, 'kind' | 'holdMs' | 'userId'> & {
  kind: FakeFaultKind;
};

interface FakeFault {
  kind: FakeFaultKind;
  apply?: boolean | undefined;
}

/** The port-level operations faults are aimed at (every network has each). */
export type FakeEndpoint =
  | 'me'
  | 'followers'
  | 'following'
  | 'follow'
  | 'unfollow'
  | 'lookup'
  | 'relationships'
  /** The change feed of new followers (Bluesky, Mastodon). */
  | 'notices';

export const FAKE_LIMITS: Record<Network, PlatformLimits> = {
  x: {
    graphReadsPerWindow: 300,
    graphReadWindowMs: 15 * MINUTE,
    maxPageSize: 1000,
    followsPerWindow: 50,
    followWindowMs: 15 * MINUTE,
    followsPerDay: 400,
  },
  bluesky: {
    graphReadsPerWindow: 3_000,
    graphReadWindowMs: 5 * MINUTE,
    maxPageSize: 100,
    followsPerWindow: 1_666,
    followWindowMs: HOUR,
    followsPerDay: 11_666,
  },
  mastodon: {
    graphReadsPerWindow: 300,
    graphReadWindowMs: 5 * MINUTE,
    maxPageSize: 80,
    followsPerWindow: 300,
    followWindowMs: 5 * MINUTE,
    followsPerDay: 400,
  },
};

/** Server-side limits of the fake (the sandboxes' defaults; override to make caps bite). */
export interface FakeServerLimits {
  /** X: requests per 15-minute window, by operation. */
  xPerWindow: {
    followers: number;
    following: number;
    follow: number;
    unfollow: number;
    users: number;
    me: number;
  };
  xFollowsPerDay: number;
  /** Bluesky: requests per 5 minutes, write points per hour and per day, points per follow. */
  blueskyRequestsPer5Minutes: number;
  blueskyPointsPerHour: number;
  blueskyPointsPerDay: number;
  /** Mastodon: requests per 5 minutes, follows per day. */
  mastodonRequestsPer5Minutes: number;
  mastodonFollowsPerDay: number;
}

export const FAKE_SERVER_DEFAULTS: FakeServerLimits = {
  xPerWindow: { followers: 300, following: 300, follow: 50, unfollow: 50, users: 900, me: 75 },
  xFollowsPerDay: 400,
  blueskyRequestsPer5Minutes: 3_000,
  blueskyPointsPerHour: 5_000,
  blueskyPointsPerDay: 35_000,
  mastodonRequestsPer5Minutes: 300,
  mastodonFollowsPerDay: 400,
};

export interface FakePlatformOptions {
  world: World;
  network: Network;
  /** The owner's world id (the token's account). */
  ownerId: string;
  limits?: Partial<Omit<FakeServerLimits, 'xPerWindow'>> & {
    xPerWindow?: Partial<FakeServerLimits['xPerWindow']>;
  };
  /** Seed of the probabilistic faults' generator. */
  faultSeed?: number;
  /** How the change feed loses notifications (cleared, truncated, never delivered). Default: it does not. */
  notifications?: FollowNotificationOptions;
}

/** One answer the fake served, for a simulation's ground truth (429s, requests per window). */
export interface ServedCall {
  at: number;
  endpoint: FakeEndpoint;
  /** 'ok', the fault served, or '429' for a real limit. */
  result: 'ok' | '429' | 'error' | 'short_page' | 'refuse_cursor' | `fault:${FakeFaultKind}`;
  /** A 429's reset, as the answer said it (epoch ms). */
  resetAt?: number;
}

export class FakePlatform implements Platform {
  readonly network: Network;
  readonly limits: PlatformLimits;
  readonly world: World;
  readonly ownerId: string;
  readonly faults: SandboxFaults<FakeEndpoint>;
  /** Every call answered, in order. */
  readonly served: ServedCall[] = [];
  /** Targets (world ids) who block the owner: a follow is refused without error (X's 200). */
  readonly blockedBy = new Set<string>();
  /** Profile fields replaced (world id → fields): hostile or oversized profiles. */
  readonly profileOverrides = new Map<
    string,
    Partial<Pick<PlatformUser, 'handle' | 'name' | 'bio' | 'avatarUrl'>>
  >();
  /** The owner's follow notifications, as the sandboxes serve them (clear them as another app would). */
  readonly notifications: FollowNotifications;
  readonly #server: FakeServerLimits;
  readonly #windows = new WindowMap();

  constructor(options: FakePlatformOptions) {
    this.world = options.world;
    this.network = options.network;
    this.ownerId = options.ownerId;
    this.limits = FAKE_LIMITS[options.network];
    this.faults = new SandboxFaults<FakeEndpoint>(
      options.faultSeed ?? options.world.seed,
      `fake-${options.network}`,
    );
    this.notifications = new FollowNotifications(options.world, options.notifications);
    this.#server = {
      ...FAKE_SERVER_DEFAULTS,
      ...options.limits,
      xPerWindow: { ...FAKE_SERVER_DEFAULTS.xPerWindow, ...options.limits?.xPerWindow },
    };
  }

  /** Queues a fault for the next matching calls (taken in the order added). */
  inject(spec: FakeFaultSpec): number {
    return this.faults.add(spec as unknown as FaultSpec<FakeEndpoint>);
  }

  /** The owner's id on this network. */
  get ownerPlatformId(): string {
    return this.platformIdOf(this.ownerId);
  }

  platformIdOf(worldId: string): string {
    if (this.network === 'x') return worldId;
    const id = this.network === 'bluesky' ? this.world.didOf(worldId) : this.world.mastodonIdOf(worldId);
    if (id === undefined) throw new Error(`no ${this.network} id for ${worldId}`);
    return id;
  }

  worldIdOf(platformId: string): string | undefined {
    if (this.network === 'x') return /^[0-9]{1,19}$/.test(platformId) ? platformId : undefined;
    return this.network === 'bluesky'
      ? this.world.userIdForDid(platformId)
      : this.world.userIdForMastodonId(platformId);
  }

  // ---- the port -------------------------------------------------------------------------------

  async me(): Promise<PlatformUser> {
    const fault = this.#enter('me', this.#readWindows('me'));
    this.#failRead('me', fault);
    return this.#toUser(defined(this.world.user(this.ownerId), 'the owner of the fake platform'));
  }

  listFollowers(userId: string, request: PageRequest): Promise<GraphPage> {
    return this.#list('followers', userId, request);
  }

  listFollowing(userId: string, request: PageRequest): Promise<GraphPage> {
    return this.#list('following', userId, request);
  }

  async follow(_sourceUserId: string, targetUserId: string): Promise<FollowResult> {
    const targetId = this.worldIdOf(targetUserId);
    if (this.network === 'x') return this.#xFollow(targetUserId, targetId);
    // Bluesky and Mastodon look first: the profile's viewer state, the relationship.
    const looked = await this.#look('relationships', targetUserId, targetId);
    if (looked.following) return { outcome: 'already_following' };
    if (looked.requested) return { outcome: 'requested' };
    const windows = this.#writeWindows();
    const fault = this.#enter('follow', windows.before, windows.check);
    const apply =
      !fault || (fault.apply ?? false) || fault.kind === 'short_page' || fault.kind === 'refuse_cursor';
    let outcome: FollowResult['outcome'] | undefined;
    if (apply) {
      const world =
        targetId === undefined
          ? 'not_found'
          : this.world.follow(this.ownerId, targetId, this.network === 'bluesky' ? { requests: false } : {});
      if (world === 'not_found' || world === 'suspended') {
        this.#record('follow', 'error');
        throw gone('follow', targetUserId);
      }
      if (world === 'followed' || world === 'pending') windows.count();
      outcome = world === 'pending' || world === 'already_pending' ? 'requested' : 'followed';
    }
    this.#failWrite('follow', fault, windows.reset());
    this.#record('follow', 'ok');
    // A fault that does not apply the follow throws in #failWrite: here the follow was applied.
    return {
      outcome: defined(outcome, 'the outcome of an applied follow'),
      rateLimit: windows.snapshot('follow'),
    };
  }

  async unfollow(_sourceUserId: string, targetUserId: string): Promise<void> {
    const targetId = this.worldIdOf(targetUserId);
    if (this.network === 'bluesky') {
      const looked = await this.#look('relationships', targetUserId, targetId).catch((error: unknown) => {
        if (error instanceof UserGoneError) return { following: false, requested: false };
        throw error;
      });
      if (!looked.following) return;
    }
    const windows = this.network === 'x' ? this.#xWindows('unfollow') : this.#writeWindows(true);
    const fault = this.#enter('unfollow', windows.before, windows.check);
    if (!fault || fault.apply) {
      const outcome = targetId === undefined ? 'not_found' : this.world.unfollow(this.ownerId, targetId);
      if (outcome === 'not_found' && this.network !== 'bluesky') {
        this.#record('unfollow', 'error');
        throw gone('unfollow', targetUserId);
      }
      windows.count();
    }
    this.#failWrite('unfollow', fault, windows.reset());
    this.#record('unfollow', 'ok');
  }

  async lookupUsers(userIds: readonly string[]): Promise<PlatformUser[]> {
    const batch = this.network === 'x' ? 100 : this.network === 'bluesky' ? 25 : 40;
    const users: PlatformUser[] = [];
    for (let start = 0; start < userIds.length; start += batch) {
      const fault = this.#enter('lookup', this.#readWindows('users'));
      this.#failRead('lookup', fault);
      for (const id of userIds.slice(start, start + batch)) {
        const worldId = this.worldIdOf(id);
        const user = worldId === undefined ? undefined : this.world.user(worldId);
        if (user && !user.deleted && !user.suspended) users.push(this.#toUser(user));
      }
      this.#record('lookup', 'ok');
    }
    return users;
  }

  get relationships(): Platform['relationships'] {
    if (this.network === 'x') return undefined;
    return async (_source, targetUserIds) => {
      const out = new Map<string, Relationship>();
      const batch = this.network === 'bluesky' ? 25 : 40;
      for (let start = 0; start < targetUserIds.length; start += batch) {
        const fault = this.#enter('relationships', this.#readWindows('users'));
        this.#failRead('relationships', fault);
        for (const id of targetUserIds.slice(start, start + batch)) {
          const worldId = this.worldIdOf(id);
          const user = worldId === undefined ? undefined : this.world.user(worldId);
          if (worldId === undefined || !user || user.deleted || user.suspended) continue;
          out.set(id, {
            followedBy: this.world.isFollower(this.ownerId, worldId),
            following: this.world.isFollowing(this.ownerId, worldId),
            requested: this.network === 'mastodon' && this.world.isPending(this.ownerId, worldId),
          });
        }
        this.#record('relationships', 'ok');
      }
      return out;
    };
  }

  /**
   * The change feed as the adapters read the sandboxes' (Bluesky's listNotifications with reason
   * `follow`, Mastodon's follow notifications): newest first, pages of 1–100 (Bluesky) or 1–80
   * (Mastodon) below an opaque cursor, an undone follow's notification gone with it. Absent on X.
   */
  get followNotices(): Platform['followNotices'] {
    if (this.network === 'x') return undefined;
    return async (request: FollowNoticeRequest): Promise<FollowNoticePage> => {
      const max = this.network === 'bluesky' ? 100 : 80;
      const limit = Math.min(max, Math.max(1, Math.floor(request.pageSize)));
      const windows = this.#readWindows('users');
      const fault = this.#enter('notices', windows);
      const listId = `notifications:${this.ownerId}`;
      let below: number | undefined;
      if (request.cursor !== undefined) {
        const cursor = decodeToken(listId, request.cursor);
        if (cursor?.direction !== 'next') {
          this.#record('notices', 'error');
          throw new MalformedResponseError(`${this.#endpoint('notices')}: Malformed cursor (400)`, {
            details: { endpoint: this.#endpoint('notices'), status: 400 },
          });
        }
        below = cursor.key;
      }
      this.#failRead('notices', fault);
      const all = this.notifications
        .list(this.ownerId)
        .filter((notification) => below === undefined || notification.seq < below);
      const page = all.slice(0, fault?.kind === 'short_page' ? Math.max(1, Math.floor(limit / 3)) : limit);
      const last = page[page.length - 1];
      const nextCursor =
        last !== undefined && all.length > page.length
          ? encodeToken(listId, { direction: 'next', key: last.seq })
          : undefined;
      this.#record('notices', fault?.kind === 'short_page' ? 'short_page' : 'ok');
      return {
        notices: page.map((notification) => {
          const user = defined(this.world.user(notification.userId), 'the world user of a notification');
          return {
            id: `${this.network}:notification:${notification.seq}`,
            kind: 'follow' as const,
            at: notification.at,
            user: this.#toUser(user),
            // Bluesky's author.viewer.followedBy; Mastodon's notifications do not say.
            followsNow: this.network === 'bluesky' ? this.world.isFollower(this.ownerId, user.id) : undefined,
          };
        }),
        nextCursor,
        rateLimit: this.#snapshot(
          this.#endpoint('notices'),
          defined(windows[0], 'the request window of the read'),
        ),
      };
    };
  }

  // ---- lists ----------------------------------------------------------------------------------

  async #list(side: 'followers' | 'following', userId: string, request: PageRequest): Promise<GraphPage> {
    const limit = Math.min(this.limits.maxPageSize, Math.max(1, Math.floor(request.pageSize)));
    const windows = this.#readWindows(side);
    const fault = this.#enter(side, windows);
    const worldId = this.worldIdOf(userId);
    const listId =
      this.network === 'x'
        ? `${side}:${userId}`
        : `${side === 'followers' ? 'app.bsky.graph.getFollowers' : 'app.bsky.graph.getFollows'}:${worldId}`;
    let below: number | undefined;
    if (request.cursor !== undefined) {
      if (this.network === 'mastodon') {
        below = /^\d{1,15}$/.test(request.cursor) ? Number(request.cursor) : undefined;
      } else {
        const cursor = decodeToken(listId, request.cursor);
        if (cursor?.direction !== 'next' || fault?.kind === 'refuse_cursor') {
          this.#record(side, fault?.kind === 'refuse_cursor' ? 'refuse_cursor' : 'error');
          // As the adapters read the refusal: X answers 400 to a cursor that is not the list's own
          // (CursorRejectedError); Bluesky's PDS answers 502 (TransientPlatformError).
          if (this.network === 'bluesky') {
            throw new TransientPlatformError(`${this.#endpoint(side)}: server error 502`, {
              details: { endpoint: this.#endpoint(side) },
            });
          }
          throw new CursorRejectedError(`${this.#endpoint(side)}: the pagination token was refused (400)`, {
            details: { endpoint: this.#endpoint(side), status: 400 },
          });
        }
        below = cursor.key;
      }
    }
    this.#failRead(side, fault);
    const listed = worldId === undefined ? undefined : this.world.user(worldId);
    if (worldId === undefined || !listed || listed.deleted) {
      this.#record(side, 'error');
      throw new MalformedResponseError(`${this.#endpoint(side)}: the user is not available`, {
        details: { endpoint: this.#endpoint(side) },
      });
    }
    const asked = fault?.kind === 'short_page' ? Math.max(1, Math.floor(limit / 3)) : limit;
    const page =
      side === 'followers'
        ? this.world.pageFollowers(worldId, { limit: asked, below })
        : this.world.pageFollowing(worldId, { limit: asked, below });
    const last = page.entries[page.entries.length - 1];
    let nextCursor: string | undefined;
    if (last && page.moreBelow) {
      nextCursor =
        this.network === 'mastodon'
          ? String(last.key)
          : encodeToken(listId, { direction: 'next', key: last.key });
    }
    if (nextCursor === request.cursor) nextCursor = undefined;
    this.#record(side, fault?.kind === 'short_page' ? 'short_page' : 'ok');
    return {
      users: page.entries.map((entry) => this.#toUser(entry.user)),
      nextCursor,
      rateLimit: this.#snapshot(this.#endpoint(side), defined(windows[0], 'the request window of the read')),
    };
  }

  // ---- follows on X -----------------------------------------------------------------------------

  #xFollow(targetUserId: string, targetId: string | undefined): FollowResult {
    const windows = this.#xWindows('follow');
    const fault = this.#enter('follow', windows.before, windows.check);
    const apply = !fault || (fault.apply ?? false);
    let outcome: FollowResult['outcome'] | undefined;
    let blocked = false;
    if (apply) {
      if (targetId !== undefined && this.blockedBy.has(targetId) && !this.world.user(targetId)?.deleted) {
        blocked = true;
      } else {
        const world = targetId === undefined ? 'not_found' : this.world.follow(this.ownerId, targetId);
        if (world === 'not_found' || world === 'suspended') {
          this.#record('follow', 'error');
          throw gone('users/:id/following (POST)', targetUserId, world === 'suspended' ? 403 : 404);
        }
        if (world === 'self') {
          this.#record('follow', 'error');
          throw new MalformedResponseError('users/:id/following (POST): unexpected status 400', {
            details: { endpoint: 'users/:id/following (POST)', status: 400 },
          });
        }
        outcome = world === 'pending' || world === 'already_pending' ? 'requested' : 'followed';
      }
      windows.count();
    }
    this.#failWrite('follow', fault, windows.reset());
    if (blocked) {
      // X's 200 with neither a follow nor a request, as the adapter reads it: the target refuses.
      this.#record('follow', 'ok');
      return { outcome: 'refused', rateLimit: windows.snapshot('users/:id/following (POST)') };
    }
    this.#record('follow', 'ok');
    // A fault that does not apply the follow throws in #failWrite: here the follow was applied.
    return {
      outcome: defined(outcome, 'the outcome of an applied follow'),
      rateLimit: windows.snapshot('users/:id/following (POST)'),
    };
  }

  // ---- limits ---------------------------------------------------------------------------------

  #readWindows(operation: 'followers' | 'following' | 'users' | 'me'): PointsWindow[] {
    const owner = this.ownerId;
    if (this.network === 'x') {
      return [this.#windows.get(`${owner}|${operation}`, this.#server.xPerWindow[operation], 15 * MINUTE)];
    }
    if (this.network === 'bluesky') {
      return [this.#windows.get(`${owner}|requests`, this.#server.blueskyRequestsPer5Minutes, 5 * MINUTE)];
    }
    return [this.#windows.get(`${owner}|requests`, this.#server.mastodonRequestsPer5Minutes, 5 * MINUTE)];
  }

  /** X's follow/unfollow windows: the 15-minute one taken on entry, the day's counted on success. */
  #xWindows(operation: 'follow' | 'unfollow') {
    const owner = this.ownerId;
    const window = this.#windows.get(
      `${owner}|${operation}`,
      this.#server.xPerWindow[operation],
      15 * MINUTE,
    );
    const day =
      operation === 'follow'
        ? this.#windows.get(`${owner}|follow-day`, this.#server.xFollowsPerDay, DAY)
        : undefined;
    const now = () => this.world.clock.now();
    return {
      before: [window],
      check: () => (day && day.state(now()).remaining <= 0 ? day : undefined),
      count: () => day?.take(now()),
      reset: () => {
        const state = day?.state(now());
        return state && state.remaining <= 0 ? state.resetAt : window.state(now()).resetAt;
      },
      snapshot: (endpoint: string) => this.#snapshot(endpoint, window),
    };
  }

  /** Bluesky's write points / Mastodon's follow day, after the request window. */
  #writeWindows(unfollow = false) {
    const owner = this.ownerId;
    const now = () => this.world.clock.now();
    const requests = defined(this.#readWindows('users')[0], 'the request window of users');
    const spend: PointsWindow[] =
      this.network === 'bluesky'
        ? [
            this.#windows.get(`${owner}|pointsHour`, this.#server.blueskyPointsPerHour, HOUR),
            this.#windows.get(`${owner}|pointsDay`, this.#server.blueskyPointsPerDay, DAY),
          ]
        : unfollow
          ? []
          : [this.#windows.get(`${owner}|follow-day`, this.#server.mastodonFollowsPerDay, DAY)];
    const points = this.network === 'bluesky' ? (unfollow ? 1 : 3) : 1;
    return {
      before: [requests],
      check: () => spend.find((window) => !window.fits(now(), points)),
      count: () => {
        for (const window of spend) window.take(now(), points);
      },
      reset: () =>
        [requests, ...spend]
          .map((w) => w.state(now()))
          .reduce((tightest, state) => (state.remaining < tightest.remaining ? state : tightest)).resetAt,
      snapshot: (endpoint: string) => this.#snapshot(endpoint, spend[0] ?? requests),
    };
  }

  /**
   * Takes one request from the windows (a 429 when one is spent, or when `check` names a spent cap),
   * then the next fault for the endpoint, if any.
   */
  #enter(endpoint: FakeEndpoint, windows: PointsWindow[], check?: () => PointsWindow | undefined) {
    const now = this.world.clock.now();
    this.world.advanceTo(now);
    for (const window of windows) {
      if (!window.take(now)) {
        this.#record(endpoint, '429', window.state(now).resetAt);
        throw this.#rateLimited(endpoint, window.state(now).resetAt);
      }
    }
    const spent = check?.();
    if (spent) {
      this.#record(endpoint, '429', spent.state(now).resetAt);
      throw this.#rateLimited(endpoint, spent.state(now).resetAt);
    }
    return this.faults.take(endpoint, undefined) as FakeFault | undefined;
  }

  #rateLimited(endpoint: FakeEndpoint, resetAt: number): RateLimitedError {
    return new RateLimitedError(
      resetAt,
      `${this.#endpoint(endpoint)}: rate limited until ${new Date(resetAt).toISOString()}`,
      {
        details: { endpoint: this.#endpoint(endpoint) },
      },
    );
  }

  /** A read's fault: thrown as the adapter would (short pages and refused cursors are the list's). */
  #failRead(endpoint: FakeEndpoint, fault: { kind: FakeFaultKind } | undefined): void {
    if (!fault || fault.kind === 'short_page' || fault.kind === 'refuse_cursor') return;
    this.#recordAndThrow(endpoint, fault.kind, this.world.clock.now() + 15 * MINUTE);
  }

  /** A write's fault, after the write took effect when `apply` was asked. */
  #failWrite(endpoint: FakeEndpoint, fault: { kind: FakeFaultKind } | undefined, resetAt: number): void {
    if (!fault || fault.kind === 'short_page' || fault.kind === 'refuse_cursor') return;
    this.#recordAndThrow(endpoint, fault.kind, resetAt);
  }

  /** Records the fault served (with a 429's reset, as the answer says it) and throws its error. */
  #recordAndThrow(endpoint: FakeEndpoint, kind: FakeFaultKind, resetAt: number): never {
    const error = this.#faultError(endpoint, kind, resetAt);
    this.#record(endpoint, `fault:${kind}`, error instanceof RateLimitedError ? error.resetAt : undefined);
    throw error;
  }

  #faultError(endpoint: FakeEndpoint, kind: FakeFaultKind, resetAt: number): Error {
    const name = this.#endpoint(endpoint);
    const now = this.world.clock.now();
    switch (kind) {
      case '500':
      case '503':
        return new TransientPlatformError(`${name}: server error ${kind}`, { details: { endpoint: name } });
      case 'timeout':
        return new TransientPlatformError(`${name}: request failed (timeout)`, {
          details: { endpoint: name },
        });
      case '429':
        return this.#rateLimited(endpoint, resetAt);
      case '429_no_headers':
        return this.#rateLimited(endpoint, now + (this.network === 'x' ? 15 : 5) * MINUTE);
      case '429_past_reset':
        return this.#rateLimited(endpoint, now - 10 * MINUTE);
      case 'truncated':
        return new MalformedResponseError(`${name}: the answer could not be read (truncated)`, {
          details: { endpoint: name },
        });
      default:
        return new MalformedResponseError(`${name}: unexpected answer at data`, {
          details: { endpoint: name },
        });
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  async #look(endpoint: FakeEndpoint, targetUserId: string, targetId: string | undefined) {
    const fault = this.#enter(endpoint, this.#readWindows('users'));
    this.#failRead(endpoint, fault);
    const user = targetId === undefined ? undefined : this.world.user(targetId);
    if (targetId === undefined || !user || user.deleted || user.suspended) {
      this.#record(endpoint, 'error');
      throw gone(this.#endpoint(endpoint), targetUserId);
    }
    this.#record(endpoint, 'ok');
    return {
      following: this.world.isFollowing(this.ownerId, targetId),
      requested: this.network === 'mastodon' && this.world.isPending(this.ownerId, targetId),
    };
  }

  #snapshot(endpoint: string, window: PointsWindow): RateLimitSnapshot {
    const state = window.state(this.world.clock.now());
    return {
      endpoint,
      limit: state.limit,
      remaining: state.remaining,
      resetAt: Math.ceil(state.resetAt / 1000) * 1000,
    };
  }

  #record(endpoint: FakeEndpoint, result: ServedCall['result'], resetAt?: number): void {
    this.served.push({
      at: this.world.clock.now(),
      endpoint,
      result,
      ...(resetAt === undefined ? {} : { resetAt }),
    });
  }

  #endpoint(endpoint: FakeEndpoint): string {
    if (this.network === 'x') {
      return {
        me: 'users/me',
        followers: 'users/:id/followers',
        following: 'users/:id/following',
        follow: 'users/:id/following (POST)',
        unfollow: 'users/:source_user_id/following/:target_user_id (DELETE)',
        lookup: 'users',
        relationships: 'users',
        notices: 'notifications',
      }[endpoint];
    }
    if (this.network === 'bluesky') {
      return {
        me: 'app.bsky.actor.getProfile',
        followers: 'app.bsky.graph.getFollowers',
        following: 'app.bsky.graph.getFollows',
        follow: 'com.atproto.repo.createRecord',
        unfollow: 'com.atproto.repo.deleteRecord',
        lookup: 'app.bsky.actor.getProfiles',
        relationships: 'app.bsky.actor.getProfile',
        notices: 'app.bsky.notification.listNotifications',
      }[endpoint];
    }
    return {
      me: 'accounts/verify_credentials',
      followers: 'accounts/:id/followers',
      following: 'accounts/:id/following',
      follow: 'accounts/:id/follow',
      unfollow: 'accounts/:id/unfollow',
      lookup: 'accounts',
      relationships: 'accounts/relationships',
      notices: 'notifications',
    }[endpoint];
  }

  /** The user as the network's adapter reads its sandbox's answer. */
  #toUser(user: WorldUser): PlatformUser {
    const override = this.profileOverrides.get(user.id);
    const nobot = (text: string) => (!user.noBot ? text : text === '' ? '#nobot' : `${text} #nobot`);
    let out: PlatformUser;
    if (this.network === 'x') {
      out = {
        id: user.id,
        handle: user.username,
        name: user.name,
        bio: user.description,
        createdAt: user.createdAt,
        followersCount: user.followersCount,
        followingCount: user.followingCount,
        protected: user.protected,
        defaultAvatar: user.profileImageUrl.includes('default_profile_images'),
        avatarUrl: user.profileImageUrl,
      };
    } else if (this.network === 'bluesky') {
      out = {
        id: this.platformIdOf(user.id),
        handle: blueskyHandle(user),
        name: user.name.slice(0, 64),
        bio: nobot(user.description),
        createdAt: user.createdAt,
        followersCount: user.followersCount,
        followingCount: user.followingCount,
        protected: false,
        defaultAvatar: user.defaultAvatar,
        avatarUrl: user.defaultAvatar
          ? undefined
          : `https://cdn.bsky.app/img/avatar/plain/${this.platformIdOf(user.id)}`,
        bot: undefined,
      };
    } else {
      out = {
        id: this.platformIdOf(user.id),
        handle: mastodonUsername(user),
        name: user.name,
        bio: nobot(user.description),
        createdAt: user.createdAt,
        followersCount: user.followersCount,
        followingCount: user.followingCount,
        protected: user.protected,
        defaultAvatar: user.defaultAvatar,
        avatarUrl: user.defaultAvatar ? 'https://missing.png' : `https://files.example/${user.id}.png`,
        bot: user.bot,
      };
    }
    return override ? { ...out, ...override } : out;
  }
}

function gone(endpoint: string, targetUserId: string, status = 404): UserGoneError {
  return new UserGoneError(`${endpoint}: user ${targetUserId} is not available (${status})`, {
    details: { endpoint, status, targetUserId },
  });
}
