/**
 * The world's ids on the open networks: from a user's internal id (X style), a Bluesky DID and a
 * Mastodon account id, derived deterministically, with the reverse lookups, so the X, Bluesky and
 * Mastodon sandboxes serve the same people.
 */
import { createHash } from 'node:crypto';
import { hash32 } from './rng.ts';
import type { UserRegistry } from './user-registry.ts';

export class NetworkIds {
  readonly #users: UserRegistry;
  /** Users up to this ordinal have a DID and a Mastodon id. */
  #platformIndexed = 0;
  readonly #byDid = new Map<string, number>();
  readonly #byMastodonId = new Map<string, number>();

  constructor(users: UserRegistry) {
    this.#users = users;
  }

  /** The user's Bluesky DID (did:plc), or undefined for an unknown id. */
  didOf(userId: string): string | undefined {
    const ordinal = this.#users.ordinalOf(userId);
    if (ordinal === undefined) return undefined;
    this.#index(ordinal);
    return this.#users.atOrdinal(ordinal).did;
  }

  /** The internal id of the user with this DID, or undefined. */
  userIdForDid(did: string): string | undefined {
    this.#index(this.#users.size - 1);
    const ordinal = this.#byDid.get(did);
    return ordinal === undefined ? undefined : this.#users.atOrdinal(ordinal).id;
  }

  /**
   * The user's Mastodon account id: a Mastodon-style snowflake (creation time in ms, shifted 16
   * bits, and 16 bits of a hash), unique in the world; undefined for an unknown id.
   */
  mastodonIdOf(userId: string): string | undefined {
    const ordinal = this.#users.ordinalOf(userId);
    if (ordinal === undefined) return undefined;
    this.#index(ordinal);
    return this.#users.atOrdinal(ordinal).mastodonId;
  }

  /** The internal id of the user with this Mastodon id, or undefined. */
  userIdForMastodonId(mastodonId: string): string | undefined {
    this.#index(this.#users.size - 1);
    const ordinal = this.#byMastodonId.get(mastodonId);
    return ordinal === undefined ? undefined : this.#users.atOrdinal(ordinal).id;
  }

  /**
   * Gives users up to `upto` (by ordinal, in creation order) their DID and Mastodon id. In order,
   * so a Mastodon id collision (two accounts created in the same second with the same 16 hash
   * bits) is settled the same way in every run.
   */
  #index(upto: number): void {
    for (; this.#platformIndexed <= upto; this.#platformIndexed++) {
      const record = this.#users.atOrdinal(this.#platformIndexed);
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
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `did:plc:` and 24 base32 characters of a hash of the user's internal id, as PLC mints them. */
function didFor(userId: string): string {
  const hash = createHash('sha256').update(`did:plc|${userId}`).digest();
  let out = 'did:plc:';
  for (const byte of hash.subarray(0, 24)) out += BASE32.charAt(byte & 31);
  return out;
}
