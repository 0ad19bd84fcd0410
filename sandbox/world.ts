/**
 * The simulated social world behind every platform sandbox: users, the owners followback manages,
 * and who follows whom, changing over time. Network-neutral: a platform server (X first) turns it
 * into that platform's API.
 *
 * Seeded and clock-driven. The world advances lazily to `clock.now()` whenever it is read or
 * written. Changes come from Poisson processes (new followers, unfollows, deletions and
 * suspensions, accepted follow requests), each with its own seeded generators for timing and for
 * choices, processed in time order from one agenda. Advancing to T in one call or in many calls
 * processes the same events in the same order, so a seed and the same inputs give the same world.
 *
 * It also keeps the ground truth benchmarks and invariant tests need: when each follow happened,
 * every follow call an owner made, and request counters (see SandboxStats).
 *
 * One world, several networks: a user has one internal id (X style, a decimal string) and, derived
 * from it deterministically, a Bluesky DID (`didOf`) and a Mastodon account id (`mastodonIdOf`),
 * with reverse lookups, so the X, Bluesky and Mastodon sandboxes serve the same people. Flags only
 * the open networks show (a Mastodon `bot`, `#nobot` in a bio) come from hashes of the seed and the
 * id, never from the world's random streams, so adding them changed nothing X sees.
 */
import { createHash } from 'node:crypto';

import { ValidationError } from '../shared/domain/errors.ts';
import type { Clock } from '../shared/ports/clock.ts';
import { FollowList, type PageQuery } from './follow-list.ts';
import { EventHeap } from './heap.ts';
import { FIRST_ACCOUNT_AT, xUserId } from './ids.ts';
import { profileText } from './profiles.ts';
import { chance, exponential, hash32, intBetween, type RandomGenerator, streamRng, uniform } from './rng.ts';
import { SandboxStats } from './stats.ts';
import { TokenRegistry } from './tokens.ts';

const DAY_MS = 86_400_000;
const YEAR_MS = 365.25 * DAY_MS;

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

/**
 * Every change made to the world from outside its own random processes, with the time it was made.
 * Replaying the journal on a world with the same seed rebuilds the same world (the local demo
 * persists it between runs).
 */
export type JournalEntry =
  | { at: number; op: 'addOwner'; options: OwnerOptions }
  | {
      at: number;
      op: 'follow' | 'unfollow' | 'ownerFollows' | 'ownerUnfollows';
      ownerId: string;
      userId: string;
      /** A follow on a network without follow requests (Bluesky): protected accounts are followed. */
      direct?: true;
    }
  | { at: number; op: 'createUser'; options: CreateUserOptions }
  | {
      at: number;
      op: 'userFollows' | 'userUnfollows' | 'acceptFollowRequest';
      ownerId: string;
      userId: string;
    }
  | { at: number; op: 'deleteUser' | 'suspendUser'; userId: string }
  | { at: number; op: 'blockOwner'; ownerId: string; userId: string }
  | { at: number; op: 'issueToken'; ownerId: string };

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

interface UserRecord {
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
  /** Set when the open networks' ids are first needed (see #indexPlatformIds). */
  did?: string;
  mastodonId?: string;
}

interface OwnerState {
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

type StreamKind = 'gain' | 'unfollow' | 'gone';

interface StreamItem {
  at: number;
  seq: number;
  kind: StreamKind;
  owner: OwnerState;
  timing: RandomGenerator;
  ratePerMs: number;
}

interface AcceptItem {
  at: number;
  seq: number;
  kind: 'accept';
  owner: OwnerState;
  target: number;
  /** The request this acceptance answers (a cancelled and renewed request gets its own). */
  requestedAt: number;
}

type AgendaItem = StreamItem | AcceptItem;

function share(value: number, field: string): number {
  if (!(value >= 0 && value <= 1))
    throw new ValidationError(`${field} must be between 0 and 1, got ${value}`);
  return value;
}

function nonNegative(value: number, field: string): number {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new ValidationError(`${field} must be a finite number >= 0, got ${value}`);
  }
  return value;
}

function logUniform(rng: RandomGenerator, low: number, high: number): number {
  return Math.round(Math.exp(Math.log(low) + uniform(rng) * (Math.log(high) - Math.log(low))));
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `did:plc:` and 24 base32 characters of a hash of the user's internal id, as PLC mints them. */
function didFor(userId: string): string {
  const hash = createHash('sha256').update(`did:plc|${userId}`).digest();
  let out = 'did:plc:';
  for (let i = 0; i < 24; i++) out += BASE32[hash[i]! & 31];
  return out;
}

/** A number in [0, 1) from a hash of the labels (no random stream is drawn from). */
function unitHash(...labels: (string | number)[]): number {
  return (hash32(labels.join('|')) >>> 0) / 4_294_967_296;
}

export class World {
  readonly seed: number;
  readonly clock: Clock;
  readonly orderNoise: number;
  readonly botShare: number;
  readonly noBotShare: number;
  /** Request counters, shared by the platform servers of this world. */
  readonly stats = new SandboxStats();
  /** Bearer tokens of this world's owners (pluggable: servers take any TokenResolver). */
  readonly tokens: TokenRegistry;

  readonly #users: UserRecord[] = [];
  readonly #byId = new Map<string, number>();
  readonly #handles = new Set<string>();
  readonly #owners: OwnerState[] = [];
  readonly #agenda = new EventHeap<AgendaItem>();
  readonly #events: WorldEvent[] = [];
  readonly #userRng: RandomGenerator;
  #seq = 0;
  #now: number;
  readonly #journal: JournalEntry[] = [];
  /** Open-network ids: users up to this ordinal have a DID and a Mastodon id. */
  #platformIndexed = 0;
  readonly #byDid = new Map<string, number>();
  readonly #byMastodonId = new Map<string, number>();

  constructor(options: WorldOptions) {
    this.seed = options.seed;
    this.clock = options.clock;
    this.orderNoise = share(options.orderNoise ?? 0.01, 'orderNoise');
    this.botShare = share(options.botShare ?? 0.02, 'botShare');
    this.noBotShare = share(options.noBotShare ?? 0.02, 'noBotShare');
    this.tokens = new TokenRegistry(options.seed);
    this.#userRng = streamRng(options.seed, 'users');
    this.#now = options.clock.now();
  }

  /** The time the world has advanced to (epoch ms). */
  get now(): number {
    return this.#now;
  }

  /**
   * Processes every event up to `at` in time order. Reads and writes call it with `clock.now()`;
   * calling it with an earlier time does nothing.
   */
  advanceTo(at: number): void {
    for (;;) {
      const next = this.#agenda.peek();
      if (next === undefined || next.at > at) break;
      this.#agenda.pop();
      this.#process(next);
    }
    if (at > this.#now) this.#now = at;
  }

  // ---- owners -------------------------------------------------------------------------------

  /** Adds an account followback manages, with its initial graph; its changes start now. */
  addOwner(options: OwnerOptions): WorldUser {
    this.#sync();
    this.#journal.push({ at: this.#now, op: 'addOwner', options: { ...options } });
    const now = this.#now;
    const resolved = this.#resolveOwnerOptions(options, now);
    const ownerIndex = this.#owners.length;
    const init = streamRng(this.seed, 'owner', ownerIndex, 'init');
    const record = this.#newRecord({
      rng: init,
      createdAt: resolved.createdAt,
      id: resolved.id,
      spam: false,
      protected: resolved.protected,
    });
    record.defaultAvatar = false;
    record.emptyBio = false;
    const owner: OwnerState = {
      record,
      handle: resolved.handle,
      name: resolved.name,
      description: resolved.description,
      options: resolved,
      followers: new FollowList(),
      following: new FollowList(),
      pending: new Map(),
      lastFollowedAt: new Map(),
      unfollowers: [],
      followCalls: [],
      unfollowCalls: [],
      choice: streamRng(this.seed, 'owner', ownerIndex, 'choice'),
      requests: streamRng(this.seed, 'owner', ownerIndex, 'requests'),
    };
    record.owner = owner;
    this.#handles.add(resolved.handle.toLowerCase());
    this.#owners.push(owner);
    this.#seedGraph(owner, init, now);
    const streams: [StreamKind, number][] = [
      ['gain', resolved.followersPerDay],
      ['unfollow', resolved.unfollowsPerDay],
      ['gone', resolved.deletionsPerDay],
    ];
    for (const [kind, perDay] of streams) {
      const timing = streamRng(this.seed, 'owner', ownerIndex, kind, 'timing');
      const ratePerMs = perDay / DAY_MS;
      const at = now + exponential(timing, ratePerMs);
      if (Number.isFinite(at)) this.#agenda.push({ at, seq: this.#seq++, kind, owner, timing, ratePerMs });
    }
    return this.#view(record);
  }

  ownerIds(): string[] {
    return this.#owners.map((owner) => owner.record.id);
  }

  isOwner(userId: string): boolean {
    const ordinal = this.#byId.get(userId);
    return ordinal !== undefined && this.#users[ordinal]!.owner !== undefined;
  }

  /** The resolved options an owner was created with. */
  ownerOptions(ownerId: string): ResolvedOwnerOptions {
    return { ...this.#owner(ownerId).options };
  }

  issueToken(ownerId: string): string {
    this.#journal.push({ at: this.#now, op: 'issueToken', ownerId });
    this.#owner(ownerId);
    return this.tokens.issue(ownerId);
  }

  // ---- reading --------------------------------------------------------------------------------

  user(userId: string): WorldUser | undefined {
    this.#sync();
    const ordinal = this.#byId.get(userId);
    return ordinal === undefined ? undefined : this.#view(this.#users[ordinal]!);
  }

  /** The user of an ordinal (0 to userCount - 1), in the order the world made them. */
  userAt(ordinal: number): WorldUser | undefined {
    this.#sync();
    const record = this.#users[ordinal];
    return record === undefined ? undefined : this.#view(record);
  }

  /** Number of users the world holds (owners, followers, followings, ever). */
  get userCount(): number {
    return this.#users.length;
  }

  /** A page of the users following `userId`, in list order. Users without a graph have none. */
  pageFollowers(userId: string, query: PageQuery): WorldPage {
    return this.#pageOf(userId, 'followers', query);
  }

  /** A page of the users `userId` follows, newest first. */
  pageFollowing(userId: string, query: PageQuery): WorldPage {
    return this.#pageOf(userId, 'following', query);
  }

  /** Ground truth: follower ids in list order (O(list)). */
  followerIds(ownerId: string): string[] {
    this.#sync();
    return this.#owner(ownerId)
      .followers.all()
      .map((entry) => this.#users[entry.ordinal]!.id);
  }

  /** Ground truth: ids the owner follows, newest first (O(list)). */
  followingIds(ownerId: string): string[] {
    this.#sync();
    return this.#owner(ownerId)
      .following.all()
      .map((entry) => this.#users[entry.ordinal]!.id);
  }

  /** Ground truth: ids the owner has asked to follow (protected accounts), oldest request first. */
  pendingIds(ownerId: string): string[] {
    this.#sync();
    return [...this.#owner(ownerId).pending.keys()].map((ordinal) => this.#users[ordinal]!.id);
  }

  isFollower(ownerId: string, userId: string): boolean {
    this.#sync();
    const ordinal = this.#byId.get(userId);
    return ordinal !== undefined && this.#owner(ownerId).followers.has(ordinal);
  }

  isFollowing(ownerId: string, userId: string): boolean {
    this.#sync();
    const ordinal = this.#byId.get(userId);
    return ordinal !== undefined && this.#owner(ownerId).following.has(ordinal);
  }

  isPending(ownerId: string, userId: string): boolean {
    this.#sync();
    const ordinal = this.#byId.get(userId);
    return ordinal !== undefined && this.#owner(ownerId).pending.has(ordinal);
  }

  /** Epoch ms since when the owner follows `userId`, or undefined when they do not. */
  followingSince(ownerId: string, userId: string): number | undefined {
    this.#sync();
    const ordinal = this.#byId.get(userId);
    return ordinal === undefined ? undefined : this.#owner(ownerId).following.followedAt(ordinal);
  }

  // ---- ids on the open networks ---------------------------------------------------------------

  /** The user's Bluesky DID (did:plc), or undefined for an unknown id. */
  didOf(userId: string): string | undefined {
    const ordinal = this.#byId.get(userId);
    if (ordinal === undefined) return undefined;
    this.#indexPlatformIds(ordinal);
    return this.#users[ordinal]!.did;
  }

  /** The internal id of the user with this DID, or undefined. */
  userIdForDid(did: string): string | undefined {
    this.#indexPlatformIds(this.#users.length - 1);
    const ordinal = this.#byDid.get(did);
    return ordinal === undefined ? undefined : this.#users[ordinal]!.id;
  }

  /**
   * The user's Mastodon account id: a Mastodon-style snowflake (creation time in ms, shifted 16
   * bits, and 16 bits of a hash), unique in the world; undefined for an unknown id.
   */
  mastodonIdOf(userId: string): string | undefined {
    const ordinal = this.#byId.get(userId);
    if (ordinal === undefined) return undefined;
    this.#indexPlatformIds(ordinal);
    return this.#users[ordinal]!.mastodonId;
  }

  /** The internal id of the user with this Mastodon id, or undefined. */
  userIdForMastodonId(mastodonId: string): string | undefined {
    this.#indexPlatformIds(this.#users.length - 1);
    const ordinal = this.#byMastodonId.get(mastodonId);
    return ordinal === undefined ? undefined : this.#users[ordinal]!.id;
  }

  /**
   * Ground truth: epoch ms of the most recent time `followerId` followed the owner (kept after an
   * unfollow, a deletion or a suspension), or undefined if they never did.
   */
  followedAt(ownerId: string, followerId: string): number | undefined {
    this.#sync();
    const ordinal = this.#byId.get(followerId);
    return ordinal === undefined ? undefined : this.#owner(ownerId).lastFollowedAt.get(ordinal);
  }

  /** Every follow call the owner made through a platform API, in order. */
  followCalls(ownerId: string): readonly FollowCall[] {
    this.#sync();
    return [...this.#owner(ownerId).followCalls];
  }

  /** Every unfollow call the owner made through a platform API, in order. */
  unfollowCalls(ownerId: string): readonly UnfollowCall[] {
    this.#sync();
    return [...this.#owner(ownerId).unfollowCalls];
  }

  /** What happened since the owner was added (initial graphs are not events), in time order. */
  events(filter: { ownerId?: string; since?: number; kinds?: readonly WorldEventKind[] } = {}): WorldEvent[] {
    this.#sync();
    return this.#events.filter(
      (event) =>
        (filter.ownerId === undefined || event.ownerId === filter.ownerId) &&
        (filter.since === undefined || event.at >= filter.since) &&
        (filter.kinds === undefined || filter.kinds.includes(event.kind)),
    );
  }

  // ---- writing: the owner's own actions ----------------------------------------------------

  /** A follow made through a platform API: recorded in followCalls and the stats. */
  follow(ownerId: string, targetId: string, options: FollowOptions = {}): FollowOutcome {
    this.#sync();
    const requests = options.requests ?? true;
    this.#journal.push({
      at: this.#now,
      op: 'follow',
      ownerId,
      userId: targetId,
      ...(requests ? {} : { direct: true as const }),
    });
    const owner = this.#owner(ownerId);
    const outcome = this.#follow(owner, targetId, requests);
    owner.followCalls.push({ at: this.#now, targetId, outcome });
    this.stats.recordFollowCall(outcome === 'already_following' || outcome === 'already_pending');
    return outcome;
  }

  /** An unfollow made through a platform API: recorded in unfollowCalls. */
  unfollow(ownerId: string, targetId: string): UnfollowOutcome {
    this.#sync();
    this.#journal.push({ at: this.#now, op: 'unfollow', ownerId, userId: targetId });
    const owner = this.#owner(ownerId);
    const outcome = this.#unfollow(owner, targetId);
    owner.unfollowCalls.push({ at: this.#now, targetId, outcome });
    return outcome;
  }

  /** The owner follows someone by hand (in the app, not through followback). */
  ownerFollows(ownerId: string, userId: string): FollowOutcome {
    this.#sync();
    this.#journal.push({ at: this.#now, op: 'ownerFollows', ownerId, userId });
    return this.#follow(this.#owner(ownerId), userId);
  }

  /** The owner unfollows someone by hand. */
  ownerUnfollows(ownerId: string, userId: string): UnfollowOutcome {
    this.#sync();
    this.#journal.push({ at: this.#now, op: 'ownerUnfollows', ownerId, userId });
    return this.#unfollow(this.#owner(ownerId), userId);
  }

  // ---- writing: scripted changes for tests ---------------------------------------------------

  /** A new user, outside any owner's graph. */
  createUser(options: CreateUserOptions = {}): WorldUser {
    this.#sync();
    this.#journal.push({ at: this.#now, op: 'createUser', options: { ...options } });
    const spam = options.spam ?? false;
    const createdAt = options.createdAt ?? this.#now - logUniform(this.#userRng, 30, 3000) * DAY_MS;
    const record = this.#newRecord({
      rng: this.#userRng,
      createdAt,
      id: options.id,
      spam,
      protected: options.protected ?? false,
    });
    if (options.bot !== undefined) record.bot = options.bot;
    if (options.noBot !== undefined) record.noBot = options.noBot;
    if (options.profile !== undefined) record.profileOverride = { ...options.profile };
    if (options.noProfile) record.noProfile = true;
    return this.#view(record);
  }

  /** `userId` follows the owner now. False when already following or gone. */
  userFollows(userId: string, ownerId: string): boolean {
    this.#sync();
    this.#journal.push({ at: this.#now, op: 'userFollows', ownerId, userId });
    const owner = this.#owner(ownerId);
    const record = this.#record(userId);
    if (!record || record.deleted || record.suspended || owner.followers.has(record.ordinal)) return false;
    // An owner follows through follow() or ownerFollows(), which keep both lists in step.
    if (record.owner) return false;
    this.#gainFollower(owner, record, this.#now, false);
    return true;
  }

  /** `userId` unfollows the owner now. False when not following. */
  userUnfollows(userId: string, ownerId: string): boolean {
    this.#sync();
    this.#journal.push({ at: this.#now, op: 'userUnfollows', ownerId, userId });
    const owner = this.#owner(ownerId);
    const record = this.#record(userId);
    if (!record || record.owner || !owner.followers.has(record.ordinal)) return false;
    this.#loseFollower(owner, record, this.#now);
    return true;
  }

  /** The protected account accepts the owner's pending request now. */
  acceptFollowRequest(ownerId: string, userId: string): boolean {
    this.#sync();
    this.#journal.push({ at: this.#now, op: 'acceptFollowRequest', ownerId, userId });
    const owner = this.#owner(ownerId);
    const record = this.#record(userId);
    if (!record || !owner.pending.has(record.ordinal)) return false;
    return this.#accept(owner, record.ordinal, this.#now);
  }

  deleteUser(userId: string): boolean {
    this.#sync();
    this.#journal.push({ at: this.#now, op: 'deleteUser', userId });
    const record = this.#record(userId);
    if (!record || record.deleted || record.owner) return false;
    this.#disappear(record, 'deleted', this.#now, undefined);
    return true;
  }

  /** The user blocks the owner: follows from the owner are refused from now on. */
  blockOwner(userId: string, ownerId: string): boolean {
    this.#sync();
    this.#journal.push({ at: this.#now, op: 'blockOwner', ownerId, userId });
    const owner = this.#owner(ownerId);
    const record = this.#record(userId);
    if (!record || record.owner) return false;
    record.blocks ??= new Set();
    record.blocks.add(owner.record.ordinal);
    return true;
  }

  suspendUser(userId: string): boolean {
    this.#sync();
    this.#journal.push({ at: this.#now, op: 'suspendUser', userId });
    const record = this.#record(userId);
    if (!record || record.deleted || record.suspended || record.owner) return false;
    this.#disappear(record, 'suspended', this.#now, undefined);
    return true;
  }

  // ---- persistence -------------------------------------------------------------------------

  /** The changes made from outside, in order (see JournalEntry). */
  journal(): readonly JournalEntry[] {
    return [...this.#journal];
  }

  /**
   * Rebuilds a world from its seed and journal: each change is made again at its time, so the
   * world's own random processes run exactly as they did. `clock` must be a clock the replay may set.
   */
  static replay(
    options: Omit<WorldOptions, 'clock'> & { clock: Clock & { set(at: number): void } },
    start: number,
    journal: readonly JournalEntry[],
  ): World {
    options.clock.set(start);
    const world = new World(options);
    for (const entry of journal) {
      options.clock.set(Math.max(entry.at, options.clock.now()));
      switch (entry.op) {
        case 'addOwner':
          world.addOwner(entry.options);
          break;
        case 'follow':
          world.follow(entry.ownerId, entry.userId, entry.direct ? { requests: false } : {});
          break;
        case 'unfollow':
        case 'ownerFollows':
        case 'ownerUnfollows':
          world[entry.op](entry.ownerId, entry.userId);
          break;
        case 'createUser':
          world.createUser(entry.options);
          break;
        case 'userFollows':
        case 'userUnfollows':
          world[entry.op](entry.userId, entry.ownerId);
          break;
        case 'acceptFollowRequest':
          world.acceptFollowRequest(entry.ownerId, entry.userId);
          break;
        case 'deleteUser':
        case 'suspendUser':
          world[entry.op](entry.userId);
          break;
        case 'blockOwner':
          world.blockOwner(entry.userId, entry.ownerId);
          break;
        case 'issueToken':
          world.issueToken(entry.ownerId);
          break;
      }
    }
    return world;
  }

  // ---- internals ---------------------------------------------------------------------------

  #sync(): void {
    this.advanceTo(this.clock.now());
  }

  /**
   * Gives users up to `upto` (by ordinal, in creation order) their DID and Mastodon id. In order,
   * so a Mastodon id collision (two accounts created in the same second with the same 16 hash
   * bits) is settled the same way in every run.
   */
  #indexPlatformIds(upto: number): void {
    for (; this.#platformIndexed <= upto; this.#platformIndexed++) {
      const record = this.#users[this.#platformIndexed]!;
      let did = didFor(record.id);
      while (this.#byDid.has(did)) did = didFor(`${did}|again`);
      record.did = did;
      this.#byDid.set(did, record.ordinal);
      let mastodonId = (BigInt(record.createdAt) << 16n) | BigInt(hash32(`mastodon|${record.id}`) & 0xffff);
      while (this.#byMastodonId.has(mastodonId.toString())) mastodonId += 1n;
      record.mastodonId = mastodonId.toString();
      this.#byMastodonId.set(record.mastodonId, record.ordinal);
    }
  }

  #owner(ownerId: string): OwnerState {
    const ordinal = this.#byId.get(ownerId);
    const owner = ordinal === undefined ? undefined : this.#users[ordinal]!.owner;
    if (!owner) throw new ValidationError(`ownerId ${JSON.stringify(ownerId)} is not an owner of this world`);
    return owner;
  }

  #record(userId: string): UserRecord | undefined {
    const ordinal = this.#byId.get(userId);
    return ordinal === undefined ? undefined : this.#users[ordinal];
  }

  #resolveOwnerOptions(
    options: OwnerOptions,
    now: number,
  ): ResolvedOwnerOptions & { id: string | undefined } {
    const handle = options.handle;
    if (!/^[A-Za-z0-9_]{1,15}$/.test(handle ?? '')) {
      throw new ValidationError(
        `handle must be 1-15 letters, digits or underscores, got ${JSON.stringify(handle)}`,
      );
    }
    if (this.#handles.has(handle.toLowerCase())) {
      throw new ValidationError(`handle ${JSON.stringify(handle)} is already taken in this world`);
    }
    if (options.id !== undefined && (!/^[0-9]{1,19}$/.test(options.id) || this.#byId.has(options.id))) {
      throw new ValidationError(`id must be 1-19 digits and unused, got ${JSON.stringify(options.id)}`);
    }
    const count = (value: number | undefined, fallback: number, field: string) => {
      const n = nonNegative(value ?? fallback, field);
      if (!Number.isInteger(n)) throw new ValidationError(`${field} must be an integer, got ${n}`);
      return n;
    };
    return {
      handle,
      name: options.name ?? handle.charAt(0).toUpperCase() + handle.slice(1),
      description: options.description ?? 'Late follow backs!',
      id: options.id,
      createdAt: Math.min(options.createdAt ?? now - 5 * YEAR_MS, now),
      protected: options.protected ?? false,
      initialFollowers: count(options.initialFollowers, 1000, 'initialFollowers'),
      initialFollowing: count(options.initialFollowing, 300, 'initialFollowing'),
      initialMutualShare: share(options.initialMutualShare ?? 0.5, 'initialMutualShare'),
      followersPerDay: nonNegative(options.followersPerDay ?? 20, 'followersPerDay'),
      unfollowsPerDay: nonNegative(options.unfollowsPerDay ?? 2, 'unfollowsPerDay'),
      recentUnfollowShare: share(options.recentUnfollowShare ?? 0.5, 'recentUnfollowShare'),
      recentWindow: count(options.recentWindow, 200, 'recentWindow'),
      deletionsPerDay: nonNegative(options.deletionsPerDay ?? 0.5, 'deletionsPerDay'),
      suspendedShare: share(options.suspendedShare ?? 0.4, 'suspendedShare'),
      spamShare: share(options.spamShare ?? 0.15, 'spamShare'),
      protectedShare: share(options.protectedShare ?? 0.05, 'protectedShare'),
      refollowShare: share(options.refollowShare ?? 0.03, 'refollowShare'),
      pendingAcceptShare: share(options.pendingAcceptShare ?? 0.5, 'pendingAcceptShare'),
      pendingAcceptMeanHours: nonNegative(options.pendingAcceptMeanHours ?? 24, 'pendingAcceptMeanHours'),
      orderNoise: share(options.orderNoise ?? this.orderNoise, 'orderNoise'),
      orderDisplacement: count(options.orderDisplacement, 0, 'orderDisplacement'),
    };
  }

  /** A new user record; spam users get at least two spam signals, others rarely one. */
  #newRecord(spec: {
    rng: RandomGenerator;
    createdAt: number;
    id: string | undefined;
    spam: boolean;
    protected: boolean;
    newAccount?: boolean;
  }): UserRecord {
    const { rng, spam } = spec;
    const createdAt = Math.floor(Math.max(FIRST_ACCOUNT_AT, spec.createdAt) / 1000) * 1000;
    let id = spec.id;
    if (id !== undefined) {
      if (!/^[0-9]{1,19}$/.test(id) || this.#byId.has(id)) {
        throw new ValidationError(`id must be 1-19 digits and unused, got ${JSON.stringify(id)}`);
      }
    } else {
      do id = xUserId(createdAt, rng).toString();
      while (this.#byId.has(id));
    }
    const ordinal = this.#users.length;
    let emptyBio: boolean;
    let defaultAvatar: boolean;
    let spamKeywords: boolean;
    let absurdRatio: boolean;
    if (spam) {
      do {
        emptyBio = chance(rng, 0.5);
        defaultAvatar = chance(rng, 0.6);
        spamKeywords = !emptyBio && chance(rng, 0.6);
        absurdRatio = chance(rng, 0.6);
      } while (
        Number(emptyBio) +
          Number(defaultAvatar) +
          Number(spamKeywords) +
          Number(absurdRatio) +
          Number(spec.newAccount ?? false) <
        2
      );
    } else {
      emptyBio = chance(rng, 0.08);
      defaultAvatar = chance(rng, 0.03);
      spamKeywords = false;
      absurdRatio = false;
    }
    const followers = absurdRatio ? intBetween(rng, 0, 40) : logUniform(rng, 5, spam ? 500 : 20_000);
    const following = absurdRatio ? intBetween(rng, 2500, 7500) : logUniform(rng, 20, 2000);
    const posts = spam ? intBetween(rng, 0, 30) : logUniform(rng, 10, 30_000);
    const record: UserRecord = {
      ordinal,
      id,
      createdAt,
      profileSeed: intBetween(rng, -0x80000000, 0x7fffffff),
      protected: spec.protected,
      spam,
      emptyBio,
      defaultAvatar,
      spamKeywords,
      absurdRatio,
      newAccount: spec.newAccount ?? false,
      deleted: false,
      suspended: false,
      followers,
      following,
      posts,
      listed: spam ? 0 : Math.floor(followers / 200),
      owner: undefined,
      bot: unitHash(this.seed, 'bot', id) < this.botShare,
      noBot: unitHash(this.seed, 'nobot', id) < this.noBotShare,
    };
    this.#users.push(record);
    this.#byId.set(id, ordinal);
    return record;
  }

  /** Someone new (or old) who starts following `owner` at `at`. */
  #newFollowerRecord(owner: OwnerState, rng: RandomGenerator, at: number): UserRecord {
    const spam = chance(rng, owner.options.spamShare);
    const brandNew = spam && chance(rng, 0.7);
    const ageMs = brandNew
      ? uniform(rng) * 14 * DAY_MS
      : DAY_MS + uniform(rng) * (at - DAY_MS - FIRST_ACCOUNT_AT);
    return this.#newRecord({
      rng,
      createdAt: at - Math.max(0, ageMs),
      id: undefined,
      spam,
      protected: !spam && chance(rng, owner.options.protectedShare),
      newAccount: brandNew,
    });
  }

  #seedGraph(owner: OwnerState, rng: RandomGenerator, now: number): void {
    const { initialFollowers, initialFollowing, initialMutualShare, orderNoise } = owner.options;
    const since = Math.min(owner.record.createdAt, now);
    const span = now - since;
    // Follow times lean recent: an account gains followers faster as it grows.
    const times: number[] = [];
    for (let i = 0; i < initialFollowers; i++) times.push(Math.floor(since + span * (1 - uniform(rng) ** 2)));
    times.sort((a, b) => a - b);
    for (const at of times) {
      const record = this.#newFollowerRecord(owner, rng, at);
      owner.followers.push(record.ordinal, at, chance(rng, orderNoise));
      owner.lastFollowedAt.set(record.ordinal, at);
      record.following++;
    }
    // Followings: some are followers followed back, later than they followed; the rest anyone.
    const mutuals = Math.min(Math.round(initialFollowing * initialMutualShare), owner.followers.size);
    const followings: { ordinal: number; at: number }[] = [];
    const chosen = new Set<number>();
    for (let guard = 0; chosen.size < mutuals && guard < mutuals * 20; guard++) {
      const ordinal = owner.followers.sample((n) => intBetween(rng, 0, n - 1));
      if (ordinal === undefined || chosen.has(ordinal)) continue;
      chosen.add(ordinal);
      const followedAt = owner.lastFollowedAt.get(ordinal)!;
      followings.push({ ordinal, at: Math.min(now, Math.floor(followedAt + uniform(rng) * 7 * DAY_MS)) });
    }
    while (followings.length < initialFollowing) {
      const at = Math.floor(since + uniform(rng) * span);
      const record = this.#newRecord({
        rng,
        createdAt: at - DAY_MS - uniform(rng) * (at - DAY_MS - FIRST_ACCOUNT_AT),
        id: undefined,
        spam: false,
        protected: false,
      });
      followings.push({ ordinal: record.ordinal, at });
    }
    followings.sort((a, b) => a.at - b.at || a.ordinal - b.ordinal);
    for (const { ordinal, at } of followings) {
      owner.following.push(ordinal, at);
      this.#users[ordinal]!.followers++;
    }
  }

  #process(item: AgendaItem): void {
    if (item.kind === 'accept') {
      const target = this.#users[item.target]!;
      if (item.owner.pending.get(item.target) === item.requestedAt && !target.deleted && !target.suspended) {
        this.#accept(item.owner, item.target, Math.floor(item.at));
      }
      return;
    }
    const at = Math.floor(item.at);
    const owner = item.owner;
    switch (item.kind) {
      case 'gain':
        this.#streamGain(owner, at);
        break;
      case 'unfollow': {
        const { recentUnfollowShare, recentWindow } = owner.options;
        const draw = (n: number) => intBetween(owner.choice, 0, n - 1);
        const ordinal = chance(owner.choice, recentUnfollowShare)
          ? owner.followers.sample(draw, Math.max(1, recentWindow))
          : owner.followers.sample(draw);
        // Owners act only through the API or by hand, never on their own.
        const record = ordinal === undefined ? undefined : this.#users[ordinal]!;
        if (record && !record.owner) this.#loseFollower(owner, record, at);
        break;
      }
      case 'gone': {
        const ordinal = owner.followers.sample((n) => intBetween(owner.choice, 0, n - 1));
        const record = ordinal === undefined ? undefined : this.#users[ordinal]!;
        if (record && !record.owner) {
          const kind = chance(owner.choice, owner.options.suspendedShare) ? 'suspended' : 'deleted';
          this.#disappear(record, kind, at, owner);
        }
        break;
      }
    }
    item.at += exponential(item.timing, item.ratePerMs);
    item.seq = this.#seq++;
    this.#agenda.push(item);
  }

  #streamGain(owner: OwnerState, at: number): void {
    const rng = owner.choice;
    let record: UserRecord | undefined;
    if (owner.unfollowers.length > 0 && chance(rng, owner.options.refollowShare)) {
      const index = intBetween(rng, 0, owner.unfollowers.length - 1);
      const candidate = this.#users[owner.unfollowers[index]!]!;
      if (!candidate.deleted && !candidate.suspended && !owner.followers.has(candidate.ordinal)) {
        record = candidate;
        owner.unfollowers[index] = owner.unfollowers[owner.unfollowers.length - 1]!;
        owner.unfollowers.pop();
      }
    }
    record ??= this.#newFollowerRecord(owner, rng, at);
    const displaced = chance(rng, owner.options.orderNoise);
    const places = owner.options.orderDisplacement;
    if (displaced && places > 0) {
      owner.followers.insertBelowTop(record.ordinal, at, intBetween(rng, 1, places));
      this.#recordGain(owner, record, at);
    } else this.#gainFollower(owner, record, at, displaced);
  }

  #gainFollower(owner: OwnerState, record: UserRecord, at: number, swapWithTop: boolean): void {
    owner.followers.push(record.ordinal, at, swapWithTop);
    this.#recordGain(owner, record, at);
  }

  #recordGain(owner: OwnerState, record: UserRecord, at: number): void {
    owner.lastFollowedAt.set(record.ordinal, at);
    record.following++;
    this.#events.push({ at, kind: 'followed', ownerId: owner.record.id, userId: record.id });
  }

  #loseFollower(owner: OwnerState, record: UserRecord, at: number): void {
    owner.followers.remove(record.ordinal);
    if (!record.owner) owner.unfollowers.push(record.ordinal);
    record.following = Math.max(0, record.following - 1);
    this.#events.push({ at, kind: 'unfollowed', ownerId: owner.record.id, userId: record.id });
  }

  /** A deleted or suspended account vanishes from every list and request. */
  #disappear(
    record: UserRecord,
    kind: 'deleted' | 'suspended',
    at: number,
    streamOwner: OwnerState | undefined,
  ): void {
    if (kind === 'deleted') record.deleted = true;
    else record.suspended = true;
    let logged = false;
    for (const owner of this.#owners) {
      const wasFollower = owner.followers.remove(record.ordinal);
      owner.following.remove(record.ordinal);
      owner.pending.delete(record.ordinal);
      if (wasFollower || owner === streamOwner) {
        this.#events.push({ at, kind, ownerId: owner.record.id, userId: record.id });
        logged = true;
      }
    }
    if (!logged) this.#events.push({ at, kind, ownerId: '', userId: record.id });
  }

  #follow(owner: OwnerState, targetId: string, requests = true): FollowOutcome {
    const target = this.#record(targetId);
    if (!target || target.deleted) return 'not_found';
    if (target.suspended) return 'suspended';
    if (target === owner.record) return 'self';
    if (target.blocks?.has(owner.record.ordinal)) return 'blocked';
    if (owner.following.has(target.ordinal)) return 'already_following';
    if (owner.pending.has(target.ordinal)) return 'already_pending';
    if (target.protected && requests) {
      owner.pending.set(target.ordinal, this.#now);
      if (chance(owner.requests, owner.options.pendingAcceptShare)) {
        const meanMs = owner.options.pendingAcceptMeanHours * 3_600_000;
        const at = this.#now + (meanMs > 0 ? exponential(owner.requests, 1 / meanMs) : 0);
        this.#agenda.push({
          at,
          seq: this.#seq++,
          kind: 'accept',
          owner,
          target: target.ordinal,
          requestedAt: this.#now,
        });
      }
      return 'pending';
    }
    this.#addFollowing(owner, target, this.#now);
    return 'followed';
  }

  #unfollow(owner: OwnerState, targetId: string): UnfollowOutcome {
    const target = this.#record(targetId);
    if (!target || target.deleted || target.suspended) return 'not_found';
    if (owner.pending.delete(target.ordinal)) return 'cancelled';
    if (!owner.following.remove(target.ordinal)) return 'not_following';
    target.followers = Math.max(0, target.followers - 1);
    const other = target.owner;
    if (other?.followers.has(owner.record.ordinal)) this.#loseFollower(other, owner.record, this.#now);
    return 'unfollowed';
  }

  #accept(owner: OwnerState, ordinal: number, at: number): boolean {
    owner.pending.delete(ordinal);
    const target = this.#users[ordinal]!;
    if (owner.following.has(ordinal)) return false;
    this.#addFollowing(owner, target, at);
    this.#events.push({ at, kind: 'accepted', ownerId: owner.record.id, userId: target.id });
    return true;
  }

  #addFollowing(owner: OwnerState, target: UserRecord, at: number): void {
    owner.following.push(target.ordinal, at);
    target.followers++;
    // Two owners of the same world: the follow shows in the other's follower list too.
    const other = target.owner;
    if (other && !other.followers.has(owner.record.ordinal)) {
      this.#gainFollower(other, owner.record, at, false);
    }
  }

  #pageOf(userId: string, side: 'followers' | 'following', query: PageQuery): WorldPage {
    this.#sync();
    const record = this.#record(userId);
    const owner = record?.owner;
    if (!owner) return { entries: [], moreBelow: false, moreAbove: false };
    const page = owner[side].page(query);
    return {
      entries: page.entries.map((entry) => ({
        user: this.#view(this.#users[entry.ordinal]!),
        followedAt: entry.at,
        key: entry.key,
      })),
      moreBelow: page.moreBelow,
      moreAbove: page.moreAbove,
    };
  }

  #view(record: UserRecord): WorldUser {
    const owner = record.owner;
    const signals: SpamSignal[] = [];
    if (record.emptyBio) signals.push('empty_bio');
    if (record.defaultAvatar) signals.push('default_avatar');
    if (record.newAccount) signals.push('new_account');
    if (record.absurdRatio) signals.push('absurd_ratio');
    if (record.spamKeywords) signals.push('spam_keywords');
    const text = owner
      ? {
          username: owner.handle,
          name: owner.name,
          description: owner.description,
          profileImageUrl: `https://pbs.twimg.com/profile_images/${(hash32(owner.handle) >>> 0) + 1_000_000}/${owner.handle.toLowerCase()}_normal.jpg`,
        }
      : {
          ...profileText(record.profileSeed, {
            ordinal: record.ordinal,
            spam: record.spam,
            emptyBio: record.emptyBio,
            spamKeywords: record.spamKeywords,
            defaultAvatar: record.defaultAvatar,
          }),
          ...record.profileOverride,
        };
    return {
      id: record.id,
      username: text.username,
      name: text.name,
      description: text.description,
      createdAt: record.createdAt,
      protected: record.protected,
      defaultAvatar: record.defaultAvatar,
      profileImageUrl: text.profileImageUrl,
      followersCount: owner ? owner.followers.size : record.followers,
      followingCount: owner ? owner.following.size : record.following,
      postCount: record.posts,
      listedCount: record.listed,
      owner: owner !== undefined,
      spam: record.spam,
      spamSignals: signals,
      deleted: record.deleted,
      suspended: record.suspended,
      bot: owner ? false : record.bot,
      noBot: owner ? false : record.noBot,
      noProfile: owner ? false : (record.noProfile ?? false),
    };
  }
}

/** A seeded world on the given clock. */
export function createWorld(options: WorldOptions): World {
  return new World(options);
}
