/**
 * The one place the use cases get their id handling from: a codec per kind of id, chosen by network.
 *
 *   x         numeric: decimal strings at the edges, BigUint64Array inside (numeric-*.ts), unchanged.
 *   bluesky   string: DIDs. `did:plc:` + 24 base32 characters is 120 bits, more than any integer
 *             type holds, so they stay strings (sorted `readonly string[]`, string-ids.ts) and are
 *             front-coded on disk (string-codec.ts, kinds 3 and 4).
 *   mastodon  string: Mastodon's own ids are decimal 64-bit snowflakes, but servers that speak its
 *             API use ULIDs (GoToSocial) or base62 flakes (Akkoma); the id kind of an instance is
 *             not something to bet an account's snapshots on. The string codec stores an
 *             all-decimal list in its decimal form, which costs what the numeric codec costs.
 *
 * Why a codec per kind and not a per-account dictionary of string ids to numeric surrogates: the
 * dictionary would be state of its own (durable, append-only, written before any changeset that
 * uses a new surrogate, fenced against a stale worker) read on every tick, and it would still have
 * to hold every DID once; the string codec is stateless, and its figures (bench/string-ids.ts)
 * are close to the entropy of the ids.
 *
 * Mixing kinds is an error, never a conversion: a numeric codec handed a string list (or a blob of
 * the other kind) throws, so an account's snapshots cannot silently change kind.
 */

import { ValidationError } from '../errors.ts';
import type { Network } from '../network.ts';
import { decodeIds, type EncodeOptions, encodeIds } from './numeric-codec.ts';
import { formatIds, parseId, parseIds } from './numeric-ids.ts';
import { applyDelta, diffSorted, indexOf, sortUnique } from './sorted.ts';
import { decodeStringIds, encodeStringIds } from './string-codec.ts';
import {
  applyStringDelta,
  assertStringIds,
  diffStrings,
  indexOfString,
  type StringIdList,
  sortUniqueStrings,
} from './string-ids.ts';

export type IdKind = 'numeric' | 'string';

/** A sorted, duplicate-free list of ids of one kind. */
export type IdList = BigUint64Array | StringIdList;

export interface IdCodec<L extends IdList = IdList> {
  readonly kind: IdKind;
  /** Encoded bytes per id in a large snapshot, roughly (for storage estimates). */
  readonly bytesPerIdEstimate: number;
  empty(): L;
  /** Platform ids in any order, duplicates allowed, as a sorted list; ValidationError on a bad id. */
  fromStrings(ids: readonly string[]): L;
  /** The platform ids of a list, in its order. */
  toStrings(list: L): string[];
  /** Whether the platform id is in the sorted list; ValidationError when the id is malformed. */
  has(sorted: L, id: string): boolean;
  /** The lists joined into one sorted, duplicate-free list. */
  union(parts: readonly L[]): L;
  /** Ids only in `next` (added) and only in `prev` (removed). */
  diff(prev: L, next: L): { added: L; removed: L };
  /** `base` with `removed` taken out and `added` put in (strict: the delta must fit the base). */
  apply(base: L, added: L, removed: L): L;
  encode(sorted: L, options?: EncodeOptions): Uint8Array;
  /** Throws CorruptEncodingError on a blob of another kind or a damaged one. */
  decode(bytes: Uint8Array): L;
}

function numeric(list: IdList, name = 'ids'): BigUint64Array {
  if (list instanceof BigUint64Array) return list;
  throw new ValidationError(`${name} is a string id list where numeric ids are expected`, {
    details: { name },
  });
}

function strings(list: IdList, name = 'ids'): StringIdList {
  if (Array.isArray(list)) return list as StringIdList;
  throw new ValidationError(`${name} is a numeric id list where string ids are expected`, {
    details: { name },
  });
}

/** X: unsigned 64-bit ids, the functions of numeric-ids.ts, sorted.ts and numeric-codec.ts. */
export const numericIdCodec: IdCodec<BigUint64Array> = {
  kind: 'numeric',
  bytesPerIdEstimate: 5,
  empty: () => new BigUint64Array(0),
  fromStrings: (ids) => sortUnique(parseIds(ids)),
  toStrings: (list) => formatIds(numeric(list)),
  has: (sorted, id) => indexOf(numeric(sorted), parseId(id)) !== -1,
  union(parts) {
    const lists = parts.map((part) => numeric(part));
    const out = new BigUint64Array(lists.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of lists) {
      out.set(part, offset);
      offset += part.length;
    }
    return sortUnique(out);
  },
  diff: (prev, next) => diffSorted(numeric(prev, 'prev'), numeric(next, 'next')),
  apply: (base, added, removed) =>
    applyDelta(numeric(base, 'base'), numeric(added, 'added'), numeric(removed, 'removed')),
  encode: (sorted, options) => encodeIds(numeric(sorted), options),
  decode: (bytes) => decodeIds(bytes),
};

/** Bluesky DIDs and Mastodon ids: sorted string lists (string-ids.ts, string-codec.ts). */
export const stringIdCodec: IdCodec<StringIdList> = {
  kind: 'string',
  bytesPerIdEstimate: 14,
  empty: () => [],
  fromStrings: (ids) => sortUniqueStrings(ids),
  toStrings: (list) => [...strings(list)],
  has(sorted, id) {
    assertStringIds([id]);
    return indexOfString(strings(sorted), id) !== -1;
  },
  union: (parts) => sortUniqueStrings(parts.flatMap((part) => strings(part))),
  diff: (prev, next) => diffStrings(strings(prev, 'prev'), strings(next, 'next')),
  apply: (base, added, removed) =>
    applyStringDelta(strings(base, 'base'), strings(added, 'added'), strings(removed, 'removed')),
  encode: (sorted, options) => encodeStringIds(strings(sorted), options),
  decode: (bytes) => decodeStringIds(bytes),
};

/** The id codec of a network's accounts (see the module comment for why each). */
export function idCodecFor(network: Network): IdCodec {
  switch (network) {
    case 'x':
      return numericIdCodec as IdCodec;
    case 'bluesky':
    case 'mastodon':
      return stringIdCodec as IdCodec;
  }
}
