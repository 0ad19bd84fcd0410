/**
 * The world's registry of users: every record in creation order (its ordinal), the lookup by
 * internal id, the owners' handles, the making of new records (their spam signals and counts drawn
 * from the stream the caller passes) and the view of a record as a WorldUser.
 */
import { ValidationError } from '../shared/domain/errors.ts';
import { defined } from '../shared/domain/invariant.ts';
import { FIRST_ACCOUNT_AT, xUserId } from './ids.ts';
import { profileText } from './profiles.ts';
import { chance, hash32, intBetween, type RandomGenerator, uniform } from './rng.ts';
import type { OwnerState, SpamSignal, UserRecord, WorldUser } from './world-types.ts';

export class UserRegistry {
  readonly #seed: number;
  readonly #botShare: number;
  readonly #noBotShare: number;
  readonly #users: UserRecord[] = [];
  readonly #byId = new Map<string, number>();
  readonly #handles = new Set<string>();

  constructor(options: { seed: number; botShare: number; noBotShare: number }) {
    this.#seed = options.seed;
    this.#botShare = options.botShare;
    this.#noBotShare = options.noBotShare;
  }

  /** Number of users (owners, followers, followings, ever). */
  get size(): number {
    return this.#users.length;
  }

  /** The record of an ordinal, or undefined past the end. */
  at(ordinal: number): UserRecord | undefined {
    return this.#users[ordinal];
  }

  /** The record of an ordinal the world handed out (it always exists). */
  atOrdinal(ordinal: number): UserRecord {
    return defined(this.#users[ordinal], `user ordinal ${ordinal}, handed out by the world`);
  }

  ordinalOf(userId: string): number | undefined {
    return this.#byId.get(userId);
  }

  has(userId: string): boolean {
    return this.#byId.has(userId);
  }

  record(userId: string): UserRecord | undefined {
    const ordinal = this.#byId.get(userId);
    return ordinal === undefined ? undefined : this.#users[ordinal];
  }

  /** The owner with this id; a ValidationError when it is not one. */
  owner(ownerId: string): OwnerState {
    const ordinal = this.#byId.get(ownerId);
    const owner = ordinal === undefined ? undefined : this.#users[ordinal]?.owner;
    if (!owner) throw new ValidationError(`ownerId ${JSON.stringify(ownerId)} is not an owner of this world`);
    return owner;
  }

  /** Whether an owner already has this handle (case-insensitive). */
  handleTaken(handle: string): boolean {
    return this.#handles.has(handle.toLowerCase());
  }

  takeHandle(handle: string): void {
    this.#handles.add(handle.toLowerCase());
  }

  /** A new user record; spam users get at least two spam signals, others rarely one. */
  newRecord(spec: {
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
      bot: unitHash(this.#seed, 'bot', id) < this.#botShare,
      noBot: unitHash(this.#seed, 'nobot', id) < this.#noBotShare,
    };
    this.#users.push(record);
    this.#byId.set(id, ordinal);
    return record;
  }

  /** The user as the world shows it (WorldUser) from its record. */
  view(record: UserRecord): WorldUser {
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

export function logUniform(rng: RandomGenerator, low: number, high: number): number {
  return Math.round(Math.exp(Math.log(low) + uniform(rng) * (Math.log(high) - Math.log(low))));
}

/** A number in [0, 1) from a hash of the labels (no random stream is drawn from). */
function unitHash(...labels: (string | number)[]): number {
  return (hash32(labels.join('|')) >>> 0) / 4_294_967_296;
}
