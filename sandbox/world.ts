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
 *
 * Its parts, one job each: the registry of users and their views (user-registry.ts), the ids on the
 * open networks (network-ids.ts), the agenda of future events (agenda.ts), the journal and its
 * replay (journal.ts), owner options and their defaults (owner-options.ts), the types
 * (world-types.ts). What stays here is the world's own behaviour: the graphs of its owners and how
 * they change.
 */
import type { Clock } from '../shared/ports/clock.ts';
import { Agenda, type AgendaItem, type StreamKind } from './agenda.ts';
import { FollowList } from './follow-list.ts';
import { FIRST_ACCOUNT_AT } from './ids.ts';
import { Journal, type JournalEntry, replayJournal } from './journal.ts';
import { NetworkIds } from './network-ids.ts';
import { resolveOwnerOptions, share } from './owner-options.ts';
import { chance, exponential, intBetween, type RandomGenerator, streamRng, uniform } from './rng.ts';
import { SandboxStats } from './stats.ts';
import { TokenRegistry } from './tokens.ts';
import { logUniform, UserRegistry } from './user-registry.ts';
import type {
  CreateUserOptions,
  FollowCall,
  FollowOptions,
  FollowOutcome,
  OwnerOptions,
  OwnerState,
  PageQuery,
  ResolvedOwnerOptions,
  UnfollowCall,
  UnfollowOutcome,
  UserRecord,
  WorldEvent,
  WorldEventKind,
  WorldOptions,
  WorldPage,
  WorldUser,
} from './world-types.ts';

export type { JournalEntry } from './journal.ts';
export type {
  CreateUserOptions,
  FollowCall,
  FollowOptions,
  FollowOutcome,
  OwnerOptions,
  PageQuery,
  ResolvedOwnerOptions,
  SpamSignal,
  UnfollowCall,
  UnfollowOutcome,
  WorldEvent,
  WorldEventKind,
  WorldOptions,
  WorldPage,
  WorldPageEntry,
  WorldUser,
} from './world-types.ts';

import { defined } from '../shared/domain/invariant.ts';

const DAY_MS = 86_400_000;

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

  readonly #registry: UserRegistry;
  readonly #ids: NetworkIds;
  readonly #owners: OwnerState[] = [];
  readonly #agenda = new Agenda();
  readonly #events: WorldEvent[] = [];
  readonly #userRng: RandomGenerator;
  #now: number;
  readonly #journal = new Journal();

  constructor(options: WorldOptions) {
    this.seed = options.seed;
    this.clock = options.clock;
    this.orderNoise = share(options.orderNoise ?? 0.01, 'orderNoise');
    this.botShare = share(options.botShare ?? 0.02, 'botShare');
    this.noBotShare = share(options.noBotShare ?? 0.02, 'noBotShare');
    this.tokens = new TokenRegistry(options.seed);
    this.#registry = new UserRegistry({
      seed: options.seed,
      botShare: this.botShare,
      noBotShare: this.noBotShare,
    });
    this.#ids = new NetworkIds(this.#registry);
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
    for (let next = this.#agenda.takeDue(at); next !== undefined; next = this.#agenda.takeDue(at)) {
      this.#process(next);
    }
    if (at > this.#now) this.#now = at;
  }

  // ---- owners -------------------------------------------------------------------------------

  /** Adds an account followback manages, with its initial graph; its changes start now. */
  addOwner(options: OwnerOptions): WorldUser {
    this.#sync();
    this.#journal.record({ at: this.#now, op: 'addOwner', options: { ...options } });
    const now = this.#now;
    const resolved = resolveOwnerOptions(options, now, {
      handleTaken: (handle) => this.#registry.handleTaken(handle),
      idTaken: (id) => this.#registry.has(id),
      orderNoise: this.orderNoise,
    });
    const ownerIndex = this.#owners.length;
    const init = streamRng(this.seed, 'owner', ownerIndex, 'init');
    const record = this.#registry.newRecord({
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
    this.#registry.takeHandle(resolved.handle);
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
      if (Number.isFinite(at)) this.#agenda.schedule({ at, kind, owner, timing, ratePerMs });
    }
    return this.#registry.view(record);
  }

  ownerIds(): string[] {
    return this.#owners.map((owner) => owner.record.id);
  }

  isOwner(userId: string): boolean {
    const ordinal = this.#registry.ordinalOf(userId);
    return ordinal !== undefined && this.#registry.atOrdinal(ordinal).owner !== undefined;
  }

  /** The resolved options an owner was created with. */
  ownerOptions(ownerId: string): ResolvedOwnerOptions {
    return { ...this.#registry.owner(ownerId).options };
  }

  issueToken(ownerId: string): string {
    this.#journal.record({ at: this.#now, op: 'issueToken', ownerId });
    this.#registry.owner(ownerId);
    return this.tokens.issue(ownerId);
  }

  // ---- reading --------------------------------------------------------------------------------

  user(userId: string): WorldUser | undefined {
    this.#sync();
    const ordinal = this.#registry.ordinalOf(userId);
    return ordinal === undefined ? undefined : this.#registry.view(this.#registry.atOrdinal(ordinal));
  }

  /** The user of an ordinal (0 to userCount - 1), in the order the world made them. */
  userAt(ordinal: number): WorldUser | undefined {
    this.#sync();
    const record = this.#registry.at(ordinal);
    return record === undefined ? undefined : this.#registry.view(record);
  }

  /** Number of users the world holds (owners, followers, followings, ever). */
  get userCount(): number {
    return this.#registry.size;
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
    return this.#registry
      .owner(ownerId)
      .followers.all()
      .map((entry) => this.#registry.atOrdinal(entry.ordinal).id);
  }

  /** Ground truth: ids the owner follows, newest first (O(list)). */
  followingIds(ownerId: string): string[] {
    this.#sync();
    return this.#registry
      .owner(ownerId)
      .following.all()
      .map((entry) => this.#registry.atOrdinal(entry.ordinal).id);
  }

  /** Ground truth: ids the owner has asked to follow (protected accounts), oldest request first. */
  pendingIds(ownerId: string): string[] {
    this.#sync();
    return [...this.#registry.owner(ownerId).pending.keys()].map(
      (ordinal) => this.#registry.atOrdinal(ordinal).id,
    );
  }

  isFollower(ownerId: string, userId: string): boolean {
    this.#sync();
    const ordinal = this.#registry.ordinalOf(userId);
    return ordinal !== undefined && this.#registry.owner(ownerId).followers.has(ordinal);
  }

  isFollowing(ownerId: string, userId: string): boolean {
    this.#sync();
    const ordinal = this.#registry.ordinalOf(userId);
    return ordinal !== undefined && this.#registry.owner(ownerId).following.has(ordinal);
  }

  isPending(ownerId: string, userId: string): boolean {
    this.#sync();
    const ordinal = this.#registry.ordinalOf(userId);
    return ordinal !== undefined && this.#registry.owner(ownerId).pending.has(ordinal);
  }

  /** Epoch ms since when the owner follows `userId`, or undefined when they do not. */
  followingSince(ownerId: string, userId: string): number | undefined {
    this.#sync();
    const ordinal = this.#registry.ordinalOf(userId);
    return ordinal === undefined ? undefined : this.#registry.owner(ownerId).following.followedAt(ordinal);
  }

  // ---- ids on the open networks ---------------------------------------------------------------

  /** The user's Bluesky DID (did:plc), or undefined for an unknown id. */
  didOf(userId: string): string | undefined {
    return this.#ids.didOf(userId);
  }

  /** The internal id of the user with this DID, or undefined. */
  userIdForDid(did: string): string | undefined {
    return this.#ids.userIdForDid(did);
  }

  /** The user's Mastodon account id (a Mastodon-style snowflake), or undefined for an unknown id. */
  mastodonIdOf(userId: string): string | undefined {
    return this.#ids.mastodonIdOf(userId);
  }

  /** The internal id of the user with this Mastodon id, or undefined. */
  userIdForMastodonId(mastodonId: string): string | undefined {
    return this.#ids.userIdForMastodonId(mastodonId);
  }

  /**
   * Ground truth: epoch ms of the most recent time `followerId` followed the owner (kept after an
   * unfollow, a deletion or a suspension), or undefined if they never did.
   */
  followedAt(ownerId: string, followerId: string): number | undefined {
    this.#sync();
    const ordinal = this.#registry.ordinalOf(followerId);
    return ordinal === undefined ? undefined : this.#registry.owner(ownerId).lastFollowedAt.get(ordinal);
  }

  /** Every follow call the owner made through a platform API, in order. */
  followCalls(ownerId: string): readonly FollowCall[] {
    this.#sync();
    return [...this.#registry.owner(ownerId).followCalls];
  }

  /** Every unfollow call the owner made through a platform API, in order. */
  unfollowCalls(ownerId: string): readonly UnfollowCall[] {
    this.#sync();
    return [...this.#registry.owner(ownerId).unfollowCalls];
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
    this.#journal.record({
      at: this.#now,
      op: 'follow',
      ownerId,
      userId: targetId,
      ...(requests ? {} : { direct: true as const }),
    });
    const owner = this.#registry.owner(ownerId);
    const outcome = this.#follow(owner, targetId, requests);
    owner.followCalls.push({ at: this.#now, targetId, outcome });
    this.stats.recordFollowCall(outcome === 'already_following' || outcome === 'already_pending');
    return outcome;
  }

  /** An unfollow made through a platform API: recorded in unfollowCalls. */
  unfollow(ownerId: string, targetId: string): UnfollowOutcome {
    this.#sync();
    this.#journal.record({ at: this.#now, op: 'unfollow', ownerId, userId: targetId });
    const owner = this.#registry.owner(ownerId);
    const outcome = this.#unfollow(owner, targetId);
    owner.unfollowCalls.push({ at: this.#now, targetId, outcome });
    return outcome;
  }

  /** The owner follows someone by hand (in the app, not through followback). */
  ownerFollows(ownerId: string, userId: string): FollowOutcome {
    this.#sync();
    this.#journal.record({ at: this.#now, op: 'ownerFollows', ownerId, userId });
    return this.#follow(this.#registry.owner(ownerId), userId);
  }

  /** The owner unfollows someone by hand. */
  ownerUnfollows(ownerId: string, userId: string): UnfollowOutcome {
    this.#sync();
    this.#journal.record({ at: this.#now, op: 'ownerUnfollows', ownerId, userId });
    return this.#unfollow(this.#registry.owner(ownerId), userId);
  }

  // ---- writing: scripted changes for tests ---------------------------------------------------

  /** A new user, outside any owner's graph. */
  createUser(options: CreateUserOptions = {}): WorldUser {
    this.#sync();
    this.#journal.record({ at: this.#now, op: 'createUser', options: { ...options } });
    const spam = options.spam ?? false;
    const createdAt = options.createdAt ?? this.#now - logUniform(this.#userRng, 30, 3000) * DAY_MS;
    const record = this.#registry.newRecord({
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
    return this.#registry.view(record);
  }

  /** `userId` follows the owner now. False when already following or gone. */
  userFollows(userId: string, ownerId: string): boolean {
    this.#sync();
    this.#journal.record({ at: this.#now, op: 'userFollows', ownerId, userId });
    const owner = this.#registry.owner(ownerId);
    const record = this.#registry.record(userId);
    if (!record || record.deleted || record.suspended || owner.followers.has(record.ordinal)) return false;
    // An owner follows through follow() or ownerFollows(), which keep both lists in step.
    if (record.owner) return false;
    this.#gainFollower(owner, record, this.#now, false);
    return true;
  }

  /** `userId` unfollows the owner now. False when not following. */
  userUnfollows(userId: string, ownerId: string): boolean {
    this.#sync();
    this.#journal.record({ at: this.#now, op: 'userUnfollows', ownerId, userId });
    const owner = this.#registry.owner(ownerId);
    const record = this.#registry.record(userId);
    if (!record || record.owner || !owner.followers.has(record.ordinal)) return false;
    this.#loseFollower(owner, record, this.#now);
    return true;
  }

  /** The protected account accepts the owner's pending request now. */
  acceptFollowRequest(ownerId: string, userId: string): boolean {
    this.#sync();
    this.#journal.record({ at: this.#now, op: 'acceptFollowRequest', ownerId, userId });
    const owner = this.#registry.owner(ownerId);
    const record = this.#registry.record(userId);
    if (!record || !owner.pending.has(record.ordinal)) return false;
    return this.#accept(owner, record.ordinal, this.#now);
  }

  deleteUser(userId: string): boolean {
    this.#sync();
    this.#journal.record({ at: this.#now, op: 'deleteUser', userId });
    const record = this.#registry.record(userId);
    if (!record || record.deleted || record.owner) return false;
    this.#disappear(record, 'deleted', this.#now, undefined);
    return true;
  }

  /** The user blocks the owner: follows from the owner are refused from now on. */
  blockOwner(userId: string, ownerId: string): boolean {
    this.#sync();
    this.#journal.record({ at: this.#now, op: 'blockOwner', ownerId, userId });
    const owner = this.#registry.owner(ownerId);
    const record = this.#registry.record(userId);
    if (!record || record.owner) return false;
    record.blocks ??= new Set();
    record.blocks.add(owner.record.ordinal);
    return true;
  }

  suspendUser(userId: string): boolean {
    this.#sync();
    this.#journal.record({ at: this.#now, op: 'suspendUser', userId });
    const record = this.#registry.record(userId);
    if (!record || record.deleted || record.suspended || record.owner) return false;
    this.#disappear(record, 'suspended', this.#now, undefined);
    return true;
  }

  // ---- persistence -------------------------------------------------------------------------

  /** The changes made from outside, in order (see JournalEntry). */
  journal(): readonly JournalEntry[] {
    return this.#journal.entries();
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
    replayJournal(world, options.clock, journal);
    return world;
  }

  // ---- internals ---------------------------------------------------------------------------

  #sync(): void {
    this.advanceTo(this.clock.now());
  }

  /** Someone new (or old) who starts following `owner` at `at`. */
  #newFollowerRecord(owner: OwnerState, rng: RandomGenerator, at: number): UserRecord {
    const spam = chance(rng, owner.options.spamShare);
    const brandNew = spam && chance(rng, 0.7);
    const ageMs = brandNew
      ? uniform(rng) * 14 * DAY_MS
      : DAY_MS + uniform(rng) * (at - DAY_MS - FIRST_ACCOUNT_AT);
    return this.#registry.newRecord({
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
      const followedAt = defined(owner.lastFollowedAt.get(ordinal), 'the follow time of a follower');
      followings.push({ ordinal, at: Math.min(now, Math.floor(followedAt + uniform(rng) * 7 * DAY_MS)) });
    }
    while (followings.length < initialFollowing) {
      const at = Math.floor(since + uniform(rng) * span);
      const record = this.#registry.newRecord({
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
      this.#registry.atOrdinal(ordinal).followers++;
    }
  }

  #process(item: AgendaItem): void {
    if (item.kind === 'accept') {
      const target = this.#registry.atOrdinal(item.target);
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
        const record = ordinal === undefined ? undefined : this.#registry.atOrdinal(ordinal);
        if (record && !record.owner) this.#loseFollower(owner, record, at);
        break;
      }
      case 'gone': {
        const ordinal = owner.followers.sample((n) => intBetween(owner.choice, 0, n - 1));
        const record = ordinal === undefined ? undefined : this.#registry.atOrdinal(ordinal);
        if (record && !record.owner) {
          const kind = chance(owner.choice, owner.options.suspendedShare) ? 'suspended' : 'deleted';
          this.#disappear(record, kind, at, owner);
        }
        break;
      }
    }
    item.at += exponential(item.timing, item.ratePerMs);
    this.#agenda.reschedule(item);
  }

  #streamGain(owner: OwnerState, at: number): void {
    const rng = owner.choice;
    let record: UserRecord | undefined;
    if (owner.unfollowers.length > 0 && chance(rng, owner.options.refollowShare)) {
      const index = intBetween(rng, 0, owner.unfollowers.length - 1);
      const candidate = this.#registry.atOrdinal(defined(owner.unfollowers[index], 'a drawn unfollower'));
      if (!candidate.deleted && !candidate.suspended && !owner.followers.has(candidate.ordinal)) {
        record = candidate;
        // Swap-remove: the last unfollower takes the drawn one's place.
        const last = defined(owner.unfollowers.pop(), 'the last unfollower of a non-empty list');
        if (index < owner.unfollowers.length) owner.unfollowers[index] = last;
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
    const target = this.#registry.record(targetId);
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
        this.#agenda.schedule({
          at,
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
    const target = this.#registry.record(targetId);
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
    const target = this.#registry.atOrdinal(ordinal);
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
    const record = this.#registry.record(userId);
    const owner = record?.owner;
    if (!owner) return { entries: [], moreBelow: false, moreAbove: false };
    const page = owner[side].page(query);
    return {
      entries: page.entries.map((entry) => ({
        user: this.#registry.view(this.#registry.atOrdinal(entry.ordinal)),
        followedAt: entry.at,
        key: entry.key,
      })),
      moreBelow: page.moreBelow,
      moreAbove: page.moreAbove,
    };
  }
}

/** A seeded world on the given clock. */
export function createWorld(options: WorldOptions): World {
  return new World(options);
}
