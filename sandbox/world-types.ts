/**
 * The world's types: what it shows (WorldUser, pages, events, call outcomes), what it takes
 * (owner, user and world options), and the records it keeps inside (UserRecord, OwnerState).
 */
import type { Clock } from '../shared/ports/clock.ts';
import type { FollowList, PageQuery } from './follow-list.ts';
import type { RandomGenerator } from './rng.ts';

export type SpamSignal = 'empty_bio' | 'default_avatar' | 'new_account' | 'absurd_ratio' | 'spam_keywords';

/** A user as the world knows it: the public profile plus ground-truth flags no API shows. */
export interface WorldUser {
  /** Decimal string (X style: a legacy 32-bit id or a 64-bit snowflake). */
  id: string;
  username: string;
  name: string;
  description: string;
  /** Epoch ms. */
  createdAt: number;
  protected: boolean;
  defaultAvatar: boolean;
  profileImageUrl: string;
  followersCount: number;
  followingCount: number;
  postCount: number;
  listedCount: number;
  /** One of the accounts followback manages. */
  owner: boolean;
  /** Ground truth: a spam-like account. */
  spam: boolean;
  spamSignals: SpamSignal[];
  deleted: boolean;
  suspended: boolean;
  /** Declares itself automated (Mastodon's `bot`); shown by the open networks' sandboxes only. */
  bot: boolean;
  /** Asks bots not to interact: the Mastodon and Bluesky sandboxes add `#nobot` to the bio. */
  noBot: boolean;
  /** Never wrote a profile: the Bluesky sandbox shows no name, bio or creation date. */
  noProfile: boolean;
}

export interface OwnerOptions {
  /** The owner's handle (username), unique in the world. */
  handle: string;
  /** Default: the handle, capitalised. */
  name?: string;
  /** Default: 'Late follow backs!'. */
  description?: string;
  /** Default: a snowflake from `createdAt`. */
  id?: string;
  /** Default: five years before now. */
  createdAt?: number;
  /** Default false. */
  protected?: boolean;
  /** Followers at creation, with follow times spread over the account's life. Default 1000. */
  initialFollowers?: number;
  /** Accounts the owner already follows at creation. Default 300. */
  initialFollowing?: number;
  /** Share of the initial followings that are followers followed back. Default 0.5. */
  initialMutualShare?: number;
  /** New followers per day (Poisson). Default 20. */
  followersPerDay?: number;
  /** Followers who unfollow per day (Poisson). Default 2. */
  unfollowsPerDay?: number;
  /** Share of unfollows made by one of the `recentWindow` newest followers (churners). Default 0.5. */
  recentUnfollowShare?: number;
  /** How many of the newest follower slots count as recent. Default 200. */
  recentWindow?: number;
  /** Followers deleted or suspended per day (Poisson). Default 0.5. */
  deletionsPerDay?: number;
  /** Share of those that are suspensions rather than deletions. Default 0.4. */
  suspendedShare?: number;
  /** Share of new followers that are spam-like. Default 0.15. */
  spamShare?: number;
  /** Share of new (non-spam) followers with protected accounts. Default 0.05. */
  protectedShare?: number;
  /** Share of new follows that are former followers following again. Default 0.03. */
  refollowShare?: number;
  /** Share of follow requests to protected accounts that are accepted in time. Default 0.5. */
  pendingAcceptShare?: number;
  /** Mean delay before a request is accepted, in hours (exponential). Default 24. */
  pendingAcceptMeanHours?: number;
  /** Overrides the world's order noise for this owner's follower list. */
  orderNoise?: number;
  /**
   * With order noise: how many places below the top a newcomer may be listed (uniform from 1 to
   * this). Default 0: just below the newest one (an adjacent swap).
   */
  orderDisplacement?: number;
}

export type ResolvedOwnerOptions = Required<Omit<OwnerOptions, 'id'>> & { id: string | undefined };

export interface WorldOptions {
  seed: number;
  clock: Clock;
  /**
   * Probability that a new follower is listed just below the newest one instead of first: the
   * follower list is then not strictly newest-first, as on X where the order is not a contract.
   * Default 0.01; set 0 for a strict order.
   */
  orderNoise?: number;
  /** Share of (non-owner) users marked as bots, on the networks that show it. Default 0.02. */
  botShare?: number;
  /** Share of (non-owner) users whose bio says `#nobot`, on the open networks. Default 0.02. */
  noBotShare?: number;
}

/** Options of a follow made through a platform API. */
export interface FollowOptions {
  /**
   * Whether a protected (locked) account turns the follow into a request. Default true (X,
   * Mastodon); false on Bluesky, which has no follow requests.
   */
  requests?: boolean;
}

export type WorldEventKind = 'followed' | 'unfollowed' | 'deleted' | 'suspended' | 'accepted';

/** Something that happened in the world, in time order. */
export interface WorldEvent {
  at: number;
  kind: WorldEventKind;
  /** followed/unfollowed: the owner followed; accepted: the owner whose request was accepted. */
  ownerId: string;
  userId: string;
}

export type FollowOutcome =
  | 'followed'
  | 'pending'
  | 'already_following'
  | 'already_pending'
  | 'not_found'
  | 'suspended'
  | 'self'
  /** The target blocks the owner: X answers 200 with neither a follow nor a request. */
  | 'blocked';

export type UnfollowOutcome = 'unfollowed' | 'cancelled' | 'not_following' | 'not_found';

export interface FollowCall {
  at: number;
  targetId: string;
  outcome: FollowOutcome;
}

export interface UnfollowCall {
  at: number;
  targetId: string;
  outcome: UnfollowOutcome;
}

export interface WorldPageEntry {
  user: WorldUser;
  /** Epoch ms of the follow. */
  followedAt: number;
  /** Position key in the list; pages continue below or above it. */
  key: number;
}

export interface WorldPage {
  /** In list order: newest first (up to order noise). */
  entries: WorldPageEntry[];
  moreBelow: boolean;
  moreAbove: boolean;
}

export type { PageQuery };

export interface CreateUserOptions {
  id?: string;
  createdAt?: number;
  protected?: boolean;
  spam?: boolean;
  /** Default: drawn by hash with the world's botShare. */
  bot?: boolean;
  /** Default: drawn by hash with the world's noBotShare. */
  noBot?: boolean;
  /** Profile text a stranger chose (hostile or huge), instead of the generated one. */
  profile?: { name?: string; description?: string; username?: string } | undefined;
  /** Never wrote a profile (Bluesky: no app.bsky.actor.profile record: no name, bio or creation date). */
  noProfile?: boolean;
}

/** A user as the world keeps it (internal to the world and its parts). */
export interface UserRecord {
  ordinal: number;
  id: string;
  createdAt: number;
  profileSeed: number;
  protected: boolean;
  spam: boolean;
  emptyBio: boolean;
  defaultAvatar: boolean;
  spamKeywords: boolean;
  absurdRatio: boolean;
  newAccount: boolean;
  deleted: boolean;
  suspended: boolean;
  followers: number;
  following: number;
  posts: number;
  listed: number;
  owner: OwnerState | undefined;
  bot: boolean;
  noBot: boolean;
  /** Profile text given at creation, over the generated one. */
  profileOverride?: { name?: string; description?: string; username?: string } | undefined;
  /** Ordinals of the owners this user blocks. */
  blocks?: Set<number>;
  noProfile?: boolean;
  /** Set when the open networks' ids are first needed (see NetworkIds, network-ids.ts). */
  did?: string;
  mastodonId?: string;
}

/** An owner followback manages, with its graph and its own random streams (internal). */
export interface OwnerState {
  record: UserRecord;
  handle: string;
  name: string;
  description: string;
  options: ResolvedOwnerOptions;
  followers: FollowList;
  following: FollowList;
  /** Follow requests to protected accounts: ordinal -> time asked. */
  pending: Map<number, number>;
  /** Most recent follow time of everyone who ever followed: ordinal -> epoch ms. */
  lastFollowedAt: Map<number, number>;
  /** Former followers (may follow again). */
  unfollowers: number[];
  followCalls: FollowCall[];
  unfollowCalls: UnfollowCall[];
  /** Choices: who follows, who leaves, who is accepted. */
  choice: RandomGenerator;
  requests: RandomGenerator;
}
