/**
 * The Platform port: what the use cases need from a social network. Adapters (X, Bluesky, Mastodon)
 * translate their API into these shapes and their failures into the errors of shared/domain/errors.ts:
 * RateLimitedError (with the platform's reset time), TransientPlatformError (5xx, timeouts),
 * MalformedResponseError (an answer that is not the documented shape), UserGoneError (404/403 on a
 * target), AuthError (credentials refused).
 */
import type { Network } from '../domain/network.ts';
import type { PlatformUser } from '../domain/platform-user.ts';

export type { Network, PlatformUser };

/** Rate-limit state of one endpoint after a call, as the platform reported it. */
export interface RateLimitSnapshot {
  endpoint: string;
  limit: number;
  remaining: number;
  /** Epoch ms when the window resets. */
  resetAt: number;
}

export interface GraphPage {
  /** Users in the platform's order (X: newest first, but that is not a contract). */
  users: PlatformUser[];
  /** Opaque cursor for the next page; undefined on the last page. */
  nextCursor: string | undefined;
  rateLimit?: RateLimitSnapshot | undefined;
}

export interface PageRequest {
  cursor?: string | undefined;
  /** Users per page; adapters clamp to the platform's range (X: 1–1000). */
  pageSize: number;
}

/**
 * `refused`: the platform answered, and neither a follow nor a request came of it (X's 200
 * `{following: false, pending_follow: false}`: the target blocks the owner or refuses follows). Final.
 */
export type FollowOutcome = 'followed' | 'requested' | 'already_following' | 'refused';

export interface FollowResult {
  outcome: FollowOutcome;
  rateLimit?: RateLimitSnapshot | undefined;
}

export interface Relationship {
  /** They follow the owner. */
  followedBy: boolean;
  /** The owner follows them. */
  following: boolean;
  /** A follow request from the owner is pending. */
  requested: boolean;
}

/** Published limits of a platform; policies set caps below these. */
export interface PlatformLimits {
  /** Follower/following list reads per window per user. */
  graphReadsPerWindow: number;
  graphReadWindowMs: number;
  maxPageSize: number;
  /** Follow (and unfollow) calls per window per user. */
  followsPerWindow: number;
  followWindowMs: number;
  /** Follows per rolling day per user. */
  followsPerDay: number;
}

/** One "followed you" (or "asks to follow you") notification of the network's change feed. */
export interface FollowNotice {
  /** The notification's id on the network (Mastodon's id, Bluesky's record URI). */
  id: string;
  kind: 'follow' | 'follow_request';
  /** When the network says it happened (Mastodon `created_at`, Bluesky `indexedAt`), epoch ms. */
  at: number;
  user: PlatformUser;
  /**
   * Whether the notifier follows the owner now, where the feed tells (Bluesky's `viewer.followedBy`);
   * undefined where it does not (Mastodon).
   */
  followsNow?: boolean | undefined;
}

export interface FollowNoticePage {
  /** Newest first. */
  notices: FollowNotice[];
  /** Opaque cursor of the next (older) page; undefined on the last one. */
  nextCursor: string | undefined;
  rateLimit?: RateLimitSnapshot | undefined;
}

export interface FollowNoticeRequest {
  cursor?: string | undefined;
  /** Notices per page; adapters clamp to the network's range (Mastodon 1–80, Bluesky 1–100). */
  pageSize: number;
  /** Also ask for follow requests (a locked Mastodon owner's followers come through them). */
  requests?: boolean | undefined;
}

export interface Platform {
  readonly network: Network;
  readonly limits: PlatformLimits;
  /** The authenticated owner. */
  me(): Promise<PlatformUser>;
  listFollowers(userId: string, request: PageRequest): Promise<GraphPage>;
  listFollowing(userId: string, request: PageRequest): Promise<GraphPage>;
  follow(sourceUserId: string, targetUserId: string): Promise<FollowResult>;
  unfollow(sourceUserId: string, targetUserId: string): Promise<void>;
  lookupUsers(userIds: readonly string[]): Promise<PlatformUser[]>;
  /**
   * Direct relationship lookup where the network offers it cheaply (Mastodon, Bluesky).
   * Absent on X, where every read is billed: callers use the latest observation instead.
   */
  relationships?:
    | ((sourceUserId: string, targetUserIds: readonly string[]) => Promise<Map<string, Relationship>>)
    | undefined;
  /**
   * The network's change feed of new followers, newest first, where it has one cheaply (Mastodon's
   * notifications of type `follow`, Bluesky's listNotifications with reason `follow`). Absent on X
   * (its Activity API is Enterprise-only). A feed may miss people (cleared, truncated, paged past):
   * list scans stay the reconciliation.
   */
  followNotices?: ((request: FollowNoticeRequest) => Promise<FollowNoticePage>) | undefined;
}
