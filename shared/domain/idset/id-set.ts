import { formatIds, parseId, parseIds } from './numeric-ids.ts';
import { assertSortedUnique, diffSorted, type IdDelta, indexOf, sortUnique } from './sorted.ts';

/**
 * An immutable sorted set of numeric ids, for membership checks (a head scan asking "have we seen
 * this follower?") and diffs. Wraps a BigUint64Array; `ids` must not be mutated by callers.
 */
export class IdSet {
  private constructor(readonly ids: BigUint64Array) {}

  static readonly empty = new IdSet(new BigUint64Array(0));

  /** From decimal strings in any order, duplicates allowed (ValidationError on a bad id). */
  static fromStrings(strings: readonly string[]): IdSet {
    return new IdSet(sortUnique(parseIds(strings)));
  }

  /** From ids in any order, duplicates allowed. */
  static fromIds(ids: BigUint64Array): IdSet {
    return new IdSet(sortUnique(ids));
  }

  /** From an already sorted, duplicate-free array (checked; ValidationError otherwise), without a copy. */
  static fromSorted(sorted: BigUint64Array): IdSet {
    assertSortedUnique(sorted);
    return new IdSet(sorted);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Membership by bigint or decimal string (a malformed string throws ValidationError). */
  has(id: bigint | string): boolean {
    return indexOf(this.ids, typeof id === 'string' ? parseId(id) : id) !== -1;
  }

  /** What changed from `prev` to this set. */
  diffFrom(prev: IdSet): IdDelta {
    return diffSorted(prev.ids, this.ids);
  }

  toStrings(): string[] {
    return formatIds(this.ids);
  }
}
