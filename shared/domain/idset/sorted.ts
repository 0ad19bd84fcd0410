/**
 * Sorted, duplicate-free id sets as BigUint64Array: the algebra snapshots are built on.
 * Merges walk both inputs once (O(n + m)) on 32-bit word views, never reading a BigInt per step.
 */
import { ValidationError } from '../errors.ts';
import { defined } from '../invariant.ts';
import { compareAt, copyId, firstOutOfOrder, wordsOf } from './words.ts';

/** Result of diffing two snapshots: ids only in `next` (added) and only in `prev` (removed), both sorted. */
export interface IdDelta {
  added: BigUint64Array;
  removed: BigUint64Array;
}

/** Throws ValidationError unless `ids` is strictly increasing; `name` says which argument it was. */
export function assertSortedUnique(ids: BigUint64Array, name = 'ids'): void {
  const at = firstOutOfOrder(ids);
  if (at !== -1) {
    throw new ValidationError(
      `${name} is not sorted and duplicate-free: ${name}[${at}] = ${ids[at]} follows ${ids[at - 1]}`,
      { details: { name, index: at } },
    );
  }
}

/** True when `ids` is strictly increasing. */
export function isSortedUnique(ids: BigUint64Array): boolean {
  return firstOutOfOrder(ids) === -1;
}

/** A sorted copy of `ids` without duplicates (native typed-array sort, then an in-place dedupe). */
export function sortUnique(ids: BigUint64Array): BigUint64Array {
  const out = ids.slice().sort();
  const w = wordsOf(out);
  // Each run of distinct ids between two duplicates moves down in one copy (none when there are none).
  let kept = 0;
  let runStart = 0;
  for (let i = 1; i < out.length; i++) {
    if (compareAt(w, i, w, i - 1) === 0) {
      if (kept !== runStart) out.copyWithin(kept, runStart, i);
      kept += i - runStart;
      runStart = i + 1;
    }
  }
  if (runStart === 0) return out;
  out.copyWithin(kept, runStart);
  kept += out.length - runStart;
  // Copy only when duplicates were dropped, so the result does not pin a larger buffer.
  return out.slice(0, kept);
}

/**
 * Ids added in `next` and removed since `prev`, by one streaming merge of the two sorted sets.
 * Throws ValidationError if either input is not sorted and duplicate-free.
 */
export function diffSorted(prev: BigUint64Array, next: BigUint64Array): IdDelta {
  assertSortedUnique(prev, 'prev');
  assertSortedUnique(next, 'next');
  const p = wordsOf(prev);
  const q = wordsOf(next);
  const removed = new BigUint64Array(prev.length);
  const added = new BigUint64Array(next.length);
  const rw = wordsOf(removed);
  const aw = wordsOf(added);
  let i = 0;
  let j = 0;
  let r = 0;
  let a = 0;
  while (i < prev.length && j < next.length) {
    const c = compareAt(p, i, q, j);
    if (c === 0) {
      i++;
      j++;
    } else if (c < 0) {
      copyId(rw, r++, p, i++);
    } else {
      copyId(aw, a++, q, j++);
    }
  }
  if (i < prev.length) removed.set(prev.subarray(i), r);
  if (j < next.length) added.set(next.subarray(j), a);
  r += prev.length - i;
  a += next.length - j;
  return { added: added.slice(0, a), removed: removed.slice(0, r) };
}

/**
 * `base` with `removed` taken out and `added` put in, as a new sorted set (one merge).
 *
 * Strict, not tolerant: every removed id must be in `base` and no added id may be, otherwise the
 * delta was not computed against this base (a lost or replayed changeset) and ValidationError is
 * thrown naming the id, rather than returning a set that silently drifted.
 */
export function applyDelta(
  base: BigUint64Array,
  added: BigUint64Array,
  removed: BigUint64Array,
): BigUint64Array {
  assertSortedUnique(base, 'base');
  assertSortedUnique(added, 'added');
  assertSortedUnique(removed, 'removed');
  const bw = wordsOf(base);
  const aw = wordsOf(added);
  const rw = wordsOf(removed);
  const out = new BigUint64Array(base.length + added.length - removed.length);
  const ow = wordsOf(out);
  let a = 0;
  let r = 0;
  let o = 0;
  // base[kept, i) stays and is not copied yet: the kept runs between changes move in one copy each.
  let kept = 0;
  for (let i = 0; i < base.length; i++) {
    while (a < added.length) {
      const c = compareAt(aw, a, bw, i);
      if (c > 0) break;
      if (c === 0) throw deltaMismatch('added', added[a], 'is already in the base');
      out.set(base.subarray(kept, i), o);
      o += i - kept;
      kept = i;
      copyId(ow, o++, aw, a++);
    }
    if (r < removed.length) {
      const c = compareAt(rw, r, bw, i);
      if (c < 0) throw deltaMismatch('removed', removed[r], 'is not in the base');
      if (c === 0) {
        out.set(base.subarray(kept, i), o);
        o += i - kept;
        kept = i + 1;
        r++;
      }
    }
  }
  if (r < removed.length) throw deltaMismatch('removed', removed[r], 'is not in the base');
  out.set(base.subarray(kept), o);
  o += base.length - kept;
  if (a < added.length) out.set(added.subarray(a), o);
  return out;
}

function deltaMismatch(list: 'added' | 'removed', id: bigint | undefined, problem: string): ValidationError {
  return new ValidationError(`delta does not fit its base: ${list} id ${id} ${problem}`, {
    details: { id: String(id) },
  });
}

/** Index of `id` in the sorted set, or -1 (binary search). */
export function indexOf(sorted: BigUint64Array, id: bigint): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = defined(sorted[mid], 'the middle of the search range');
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** True when the sorted set holds `id` (binary search, O(log n)). */
export function has(sorted: BigUint64Array, id: bigint): boolean {
  return indexOf(sorted, id) !== -1;
}
