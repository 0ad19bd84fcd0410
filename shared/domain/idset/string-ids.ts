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
  for (let i = 1; i < ids.length; i++) {
    if (compareStringIds(ids[i - 1]!, ids[i]!) >= 0) return i;
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
  if (ids.length === 0) return [];
  const length = ids[0]!.length;
  let oneLength = true;
  for (let i = 1; i < ids.length; i++) {
    if (ids[i]!.length !== length) {
      oneLength = false;
      break;
    }
  }
  let sorted: string[];
  if (oneLength) sorted = ids.slice().sort();
  else {
    const byLength = new Map<number, string[]>();
    for (const id of ids) {
      const bucket = byLength.get(id.length);
      if (bucket) bucket.push(id);
      else byLength.set(id.length, [id]);
    }
    sorted = [];
    for (const n of [...byLength.keys()].sort((a, b) => a - b)) {
      for (const id of byLength.get(n)!.sort()) sorted.push(id);
    }
  }
  let kept = sorted.length > 0 ? 1 : 0;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] !== sorted[kept - 1]) sorted[kept++] = sorted[i]!;
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
    const c = compareStringIds(sorted[mid]!, id);
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
    const c = compareStringIds(prev[i]!, next[j]!);
    if (c === 0) {
      i++;
      j++;
    } else if (c < 0) removed.push(prev[i++]!);
    else added.push(next[j++]!);
  }
  while (i < prev.length) removed.push(prev[i++]!);
  while (j < next.length) added.push(next[j++]!);
  return { added, removed };
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
  for (let i = 0; i < base.length; i++) {
    const id = base[i]!;
    while (a < added.length) {
      const c = compareStringIds(added[a]!, id);
      if (c > 0) break;
      if (c === 0) throw deltaMismatch(`added id ${JSON.stringify(id)} is already in the base`, id);
      out.push(added[a++]!);
    }
    if (r < removed.length) {
      const c = compareStringIds(removed[r]!, id);
      if (c < 0)
        throw deltaMismatch(`removed id ${JSON.stringify(removed[r])} is not in the base`, removed[r]!);
      if (c === 0) {
        r++;
        continue;
      }
    }
    out.push(id);
  }
  if (r < removed.length) {
    throw deltaMismatch(`removed id ${JSON.stringify(removed[r])} is not in the base`, removed[r]!);
  }
  while (a < added.length) out.push(added[a++]!);
  return out;
}

function deltaMismatch(message: string, id: string): ValidationError {
  return new ValidationError(`delta does not fit its base: ${message}`, { details: { id } });
}
