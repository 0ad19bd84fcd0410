/**
 * One side of a follow graph: the users following someone (or followed by someone), in the order
 * the platform lists them. Entries sit in arrays ordered by an increasing key (oldest first), so a
 * page is a binary search plus a walk: O(log n + page), never O(list). Removals leave tombstones,
 * compacted when they pile up; keys survive compaction, so cursors (keys) stay valid.
 */
import { defined } from '../shared/domain/invariant.ts';

const TOMBSTONE = -1;

export interface ListEntry {
  /** The user's ordinal in the world. */
  ordinal: number;
  /** Epoch ms of the follow. */
  at: number;
  /** Position key: listing order is descending key. */
  key: number;
}

export interface ListPage {
  /** Newest first (descending key). */
  entries: ListEntry[];
  /** A live entry exists below the last entry returned. */
  moreBelow: boolean;
  /** A live entry exists above the first entry returned. */
  moreAbove: boolean;
}

export interface PageQuery {
  limit: number;
  /** Entries with a key strictly below this (the next page). */
  below?: number | undefined;
  /** Entries with a key strictly above this (the previous page). */
  above?: number | undefined;
}

export class FollowList {
  #keys: number[] = [];
  #ordinals: number[] = [];
  #at: number[] = [];
  readonly #keyOf = new Map<number, number>();
  #tombstones = 0;
  #nextKey = 1;
  /** Key of the slot holding an entry moved up by the last swap. */
  #displacedKey = 0;

  get size(): number {
    return this.#keyOf.size;
  }

  has(ordinal: number): boolean {
    return this.#keyOf.has(ordinal);
  }

  /** Epoch ms of the standing follow, if any. */
  followedAt(ordinal: number): number | undefined {
    const key = this.#keyOf.get(ordinal);
    if (key === undefined) return undefined;
    return this.#at[this.#indexOfKey(key)];
  }

  /**
   * Adds a follow at the top. With `swapWithTop`, the newcomer takes the place just below the
   * current top entry instead: the list is then not strictly newest-first (X does not promise it
   * is). Swaps stay adjacent transpositions: a top entry that was already moved up past a newcomer
   * is not moved again.
   */
  push(ordinal: number, at: number, swapWithTop = false): void {
    if (this.#keyOf.has(ordinal)) throw new RangeError(`ordinal ${ordinal} is already in the list`);
    const key = this.#nextKey++;
    const top = swapWithTop ? this.#topLiveIndex() : -1;
    this.#keys.push(key);
    if (top < 0 || this.#keys[top] === this.#displacedKey) {
      this.#ordinals.push(ordinal);
      this.#at.push(at);
      this.#keyOf.set(ordinal, key);
      return;
    }
    // The previous top moves up into the new slot; the newcomer takes its old slot.
    const previous = defined(this.#ordinals[top], 'the ordinal of a slot in the list');
    this.#ordinals.push(previous);
    this.#at.push(defined(this.#at[top], 'the follow time of a slot in the list'));
    this.#keyOf.set(previous, key);
    this.#displacedKey = key;
    this.#ordinals[top] = ordinal;
    this.#at[top] = at;
    this.#keyOf.set(ordinal, defined(this.#keys[top], 'the key of a slot in the list'));
  }

  /**
   * Adds a follow listed `depth` places below the top instead of first (the `depth` live entries
   * above it keep their places): a list whose order is off by up to that many places.
   */
  insertBelowTop(ordinal: number, at: number, depth: number): void {
    if (this.#keyOf.has(ordinal)) throw new RangeError(`ordinal ${ordinal} is already in the list`);
    const key = this.#nextKey++;
    this.#keys.push(key);
    this.#ordinals.push(TOMBSTONE);
    this.#at.push(at);
    // Slots from the new top down: each of the `depth` newest live entries moves up one live slot.
    let slot = this.#keys.length - 1;
    let moved = 0;
    for (let index = slot - 1; index >= 0 && moved < Math.max(0, Math.floor(depth)); index--) {
      const entry = defined(this.#ordinals[index], 'the ordinal of a slot in the list');
      if (entry === TOMBSTONE) continue;
      this.#ordinals[slot] = entry;
      this.#at[slot] = defined(this.#at[index], 'the follow time of a slot in the list');
      this.#keyOf.set(entry, defined(this.#keys[slot], 'the key of a slot in the list'));
      slot = index;
      moved += 1;
    }
    this.#ordinals[slot] = ordinal;
    this.#at[slot] = at;
    this.#keyOf.set(ordinal, defined(this.#keys[slot], 'the key of a slot in the list'));
  }

  remove(ordinal: number): boolean {
    const key = this.#keyOf.get(ordinal);
    if (key === undefined) return false;
    const index = this.#indexOfKey(key);
    this.#ordinals[index] = TOMBSTONE;
    this.#keyOf.delete(ordinal);
    this.#tombstones++;
    if (this.#tombstones > 64 && this.#tombstones * 4 > this.#keys.length) this.#compact();
    return true;
  }

  /**
   * A uniformly random live entry among the newest `window` slots (all slots when omitted), or
   * undefined when the list is empty. `draw(n)` must return an integer in [0, n).
   */
  sample(draw: (n: number) => number, window?: number): number | undefined {
    if (this.size === 0) return undefined;
    const length = this.#keys.length;
    const span = Math.min(length, window ?? length);
    // Rejection sampling: tombstones are kept below a quarter of the slots by compaction.
    for (let attempt = 0; attempt < 64; attempt++) {
      const ordinal = defined(
        this.#ordinals[length - span + draw(span)],
        'the ordinal of a slot in the list',
      );
      if (ordinal !== TOMBSTONE) return ordinal;
    }
    // Unlucky or a window full of tombstones: fall back to the newest live entry.
    const top = this.#topLiveIndex();
    return top < 0 ? undefined : this.#ordinals[top];
  }

  page(query: PageQuery): ListPage {
    const limit = Math.max(0, Math.floor(query.limit));
    const entries: ListEntry[] = [];
    if (query.above !== undefined) {
      // Walk up from just above the key, then present the page newest first.
      const begin = this.#firstIndexAbove(query.above);
      let lowest = -1;
      let index = begin;
      for (; index < this.#keys.length && entries.length < limit; index++) {
        const ordinal = defined(this.#ordinals[index], 'the ordinal of a slot in the list');
        if (ordinal === TOMBSTONE) continue;
        if (lowest < 0) lowest = index;
        entries.push({
          ordinal,
          at: defined(this.#at[index], 'the follow time of a slot in the list'),
          key: defined(this.#keys[index], 'the key of a slot in the list'),
        });
      }
      entries.reverse();
      return {
        entries,
        moreAbove: this.#liveAtOrAbove(index),
        moreBelow: this.#liveAtOrBelow((lowest < 0 ? begin : lowest) - 1),
      };
    }
    const begin = query.below === undefined ? this.#keys.length - 1 : this.#lastIndexBelow(query.below);
    let highest = -1;
    let index = begin;
    for (; index >= 0 && entries.length < limit; index--) {
      const ordinal = defined(this.#ordinals[index], 'the ordinal of a slot in the list');
      if (ordinal === TOMBSTONE) continue;
      if (highest < 0) highest = index;
      entries.push({
        ordinal,
        at: defined(this.#at[index], 'the follow time of a slot in the list'),
        key: defined(this.#keys[index], 'the key of a slot in the list'),
      });
    }
    return {
      entries,
      moreBelow: this.#liveAtOrBelow(index),
      moreAbove: this.#liveAtOrAbove((highest < 0 ? begin : highest) + 1),
    };
  }

  /** Every live entry, newest first (tests and ground truth; O(list)). */
  all(): ListEntry[] {
    const out: ListEntry[] = [];
    for (let index = this.#keys.length - 1; index >= 0; index--) {
      const ordinal = defined(this.#ordinals[index], 'the ordinal of a slot in the list');
      if (ordinal !== TOMBSTONE)
        out.push({
          ordinal,
          at: defined(this.#at[index], 'the follow time of a slot in the list'),
          key: defined(this.#keys[index], 'the key of a slot in the list'),
        });
    }
    return out;
  }

  #topLiveIndex(): number {
    for (let index = this.#keys.length - 1; index >= 0; index--) {
      if (this.#ordinals[index] !== TOMBSTONE) return index;
    }
    return -1;
  }

  #liveAtOrBelow(index: number): boolean {
    for (let i = Math.min(index, this.#keys.length - 1); i >= 0; i--) {
      if (this.#ordinals[i] !== TOMBSTONE) return true;
    }
    return false;
  }

  #liveAtOrAbove(index: number): boolean {
    for (let i = Math.max(0, index); i < this.#keys.length; i++) {
      if (this.#ordinals[i] !== TOMBSTONE) return true;
    }
    return false;
  }

  /** Index of the first slot whose key is > `key` (keys.length when none). */
  #firstIndexAbove(key: number): number {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (defined(this.#keys[mid], 'the key of a slot in the list') > key) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Index of the last slot whose key is < `key` (-1 when none). */
  #lastIndexBelow(key: number): number {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (defined(this.#keys[mid], 'the key of a slot in the list') < key) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  #indexOfKey(key: number): number {
    const index = this.#lastIndexBelow(key) + 1;
    if (this.#keys[index] !== key) throw new RangeError(`key ${key} is not in the list`);
    return index;
  }

  #compact(): void {
    const keys: number[] = [];
    const ordinals: number[] = [];
    const at: number[] = [];
    for (let index = 0; index < this.#keys.length; index++) {
      const ordinal = defined(this.#ordinals[index], 'the ordinal of a slot in the list');
      if (ordinal === TOMBSTONE) continue;
      keys.push(defined(this.#keys[index], 'the key of a slot in the list'));
      ordinals.push(ordinal);
      at.push(defined(this.#at[index], 'the follow time of a slot in the list'));
    }
    this.#keys = keys;
    this.#ordinals = ordinals;
    this.#at = at;
    this.#tombstones = 0;
  }
}
