/**
 * String platform ids (Bluesky DIDs such as `did:plc:ewvi7nxzyoun6zhxrhs64oiz`, Mastodon account ids,
 * which are decimal on Mastodon itself but ULIDs or base62 flakes on other servers that speak its
 * API): sorted, duplicate-free `readonly string[]` in memory, the algebra of sorted.ts over them.
 *
 * Order: shortlex (shorter first, then by character code). For ASCII, which every id here is, that
 * is byte order within one length; for canonical decimal strings it is numeric order, which lets
 * string-codec.ts store an all-decimal list exactly like the numeric codec does.
 *
 * An id is 1 to 2048 printable ASCII characters (0x21-0x7E): a DID is at most 2 KB and ASCII by its
 * syntax, and fediverse ids are alphanumeric. Anything else is refused with a ValidationError, so
 * two strings name the same id exactly when they are equal.
 */
import { ValidationError } from '../errors.ts';
import { defined } from '../invariant.ts';

/** Longest id accepted (a DID may be up to 2 KB). */
export const MAX_STRING_ID_LENGTH = 2048;

export type StringIdList = readonly string[];

/** -1, 0 or 1 as `a` sorts before, with or after `b` (shortlex). */
export function compareStringIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function invalidStringId(value: unknown, index: number, why: string): ValidationError {
  const shown =
    typeof value === 'string'
      ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
      : String(value);
  return new ValidationError(`ids[${index}] ${why}: ${shown}`, { details: { index, value } });
}

/** Throws ValidationError naming the index unless every id is 1-2048 printable ASCII characters. */
export function assertStringIds(ids: readonly string[]): void {
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i] as unknown;
    if (typeof s !== 'string') throw invalidStringId(s, i, 'is not a string');
    const n = s.length;
    if (n === 0) throw invalidStringId(s, i, 'is empty');
    if (n > MAX_STRING_ID_LENGTH)
      throw invalidStringId(s, i, `is longer than ${MAX_STRING_ID_LENGTH} characters`);
    for (let j = 0; j < n; j++) {
      const c = s.charCodeAt(j);
      if (c < 0x21 || c > 0x7e) throw invalidStringId(s, i, 'is not printable ASCII');
    }
  }
}

/** Index of the first id not strictly after its predecessor, or -1 when strictly increasing. */
export function firstStringOutOfOrder(ids: StringIdList): number {
  let prev: string | undefined;
  let i = 0;
  for (const id of ids) {
    if (prev !== undefined && compareStringIds(prev, id) >= 0) return i;
    prev = id;
    i++;
  }
  return -1;
}

/** Throws ValidationError unless `ids` is strictly increasing (shortlex). */
export function assertStringsSortedUnique(ids: StringIdList, name = 'ids'): void {
  const at = firstStringOutOfOrder(ids);
  if (at !== -1) {
    throw new ValidationError(
      `${name} is not sorted and duplicate-free: ${name}[${at}] = ${JSON.stringify(ids[at])} follows ${JSON.stringify(ids[at - 1])}`,
      { details: { name, index: at } },
    );
  }
}

/**
 * Valid ids in any order, duplicates allowed, as a sorted, duplicate-free list. Ids of one length
 * (every did:plc) sort with the engine's native string sort; mixed lengths are bucketed by length.
 */
export function sortUniqueStrings(ids: readonly string[]): string[] {
  assertStringIds(ids);
  const first = ids[0];
  if (first === undefined) return [];
  let sorted: string[];
  if (ids.every((id) => id.length === first.length)) sorted = ids.slice().sort();
  else {
    const byLength = new Map<number, string[]>();
    for (const id of ids) {
      const bucket = byLength.get(id.length);
      if (bucket) bucket.push(id);
      else byLength.set(id.length, [id]);
    }
    sorted = [];
    for (const [, bucket] of [...byLength.entries()].sort(([a], [b]) => a - b)) {
      for (const id of bucket.sort()) sorted.push(id);
    }
  }
  let kept = 0;
  for (const id of sorted) {
    if (kept === 0 || id !== sorted[kept - 1]) sorted[kept++] = id;
  }
  sorted.length = kept;
  return sorted;
}

/** Index of `id` in the sorted list, or -1 (binary search). */
export function indexOfString(sorted: StringIdList, id: string): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareStringIds(defined(sorted[mid], 'the middle of the search range'), id);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Ids only in `next` (added) and only in `prev` (removed), by one merge. */
export function diffStrings(
  prev: StringIdList,
  next: StringIdList,
): { added: StringIdList; removed: StringIdList } {
  assertStringsSortedUnique(prev, 'prev');
  assertStringsSortedUnique(next, 'next');
  const added: string[] = [];
  const removed: string[] = [];
  let i = 0;
  let j = 0;
  while (i < prev.length && j < next.length) {
    const p = defined(prev[i], 'an id of prev before its end');
    const n = defined(next[j], 'an id of next before its end');
    const c = compareStringIds(p, n);
    if (c === 0) {
      i++;
      j++;
    } else if (c < 0) {
      removed.push(p);
      i++;
    } else {
      added.push(n);
      j++;
    }
  }
  return { added: added.concat(next.slice(j)), removed: removed.concat(prev.slice(i)) };
}

/**
 * `base` with `removed` taken out and `added` put in. Strict, as applyDelta: a removed id missing
 * from the base or an added id already in it means the delta was not made against this base.
 */
export function applyStringDelta(
  base: StringIdList,
  added: StringIdList,
  removed: StringIdList,
): StringIdList {
  assertStringsSortedUnique(base, 'base');
  assertStringsSortedUnique(added, 'added');
  assertStringsSortedUnique(removed, 'removed');
  const out: string[] = [];
  let a = 0;
  let r = 0;
  for (const id of base) {
    while (a < added.length) {
      const toAdd = defined(added[a], 'an added id before its end');
      const c = compareStringIds(toAdd, id);
      if (c > 0) break;
      if (c === 0) throw deltaMismatch(`added id ${JSON.stringify(id)} is already in the base`, id);
      out.push(toAdd);
      a++;
    }
    if (r < removed.length) {
      const toRemove = defined(removed[r], 'a removed id before its end');
      const c = compareStringIds(toRemove, id);
      if (c < 0) throw deltaMismatch(`removed id ${JSON.stringify(toRemove)} is not in the base`, toRemove);
      if (c === 0) {
        r++;
        continue;
      }
    }
    out.push(id);
  }
  const missing = removed[r];
  if (missing !== undefined) {
    throw deltaMismatch(`removed id ${JSON.stringify(missing)} is not in the base`, missing);
  }
  return a < added.length ? out.concat(added.slice(a)) : out;
}

function deltaMismatch(message: string, id: string): ValidationError {
  return new ValidationError(`delta does not fit its base: ${message}`, { details: { id } });
}
