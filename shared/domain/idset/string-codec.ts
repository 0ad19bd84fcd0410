/**
 * Binary codec for sorted string id sets and deltas (kinds 3 and 4 of the id format), in the same
 * frame as the numeric codec: version, kind, compression, varint counts, raw payload length, the
 * (compressed) payload, CRC-32. The payload opens with a form byte:
 *
 *   0  text     per id: varint length of the prefix shared with the previous id of its list,
 *               varint length of the rest, the rest's ASCII bytes (front coding). Sorted DIDs share
 *               `did:plc:` and a few more characters, and brotli then packs the base32 rest.
 *   1  decimal  every id is a canonical decimal below 2^64 (Mastodon's own ids): the numeric
 *               codec's delta varints, so a Mastodon list costs what an X list costs. Shortlex order
 *               is numeric order for canonical decimals, so the sorted list encodes as it is.
 *   2  did:plc  every id is `did:plc:` and 24 base32 characters (almost every Bluesky account):
 *               the 120 bits of each read as a number (an order-keeping mapping, so sorted ids
 *               stay sorted), and the gaps between consecutive ids stored: the high 24 bits of
 *               each gap as varints, together, then the low 96 bits of each as 12 plain bytes.
 *
 * A delta holds its added list, then its removed list, each front-coded from an empty previous id.
 * The decoder checks every structural fact (form, lengths, characters, strict order, counts, no
 * trailing bytes) and throws CorruptEncodingError rather than return a plausible wrong set.
 *
 * What each form costs per id is measured by `npm run bench -- string-ids` (README, "Tests and
 * benchmarks"); the entropy of 100,000 sorted random 120-bit ids, the floor for did:plc, is about
 * 13.1 bytes per id.
 */
import { ValidationError } from '../errors.ts';
import { defined } from '../invariant.ts';
import { CorruptEncodingError } from './errors.ts';
import {
  type EncodeOptions,
  frame,
  IdEncodingKind,
  readVarints,
  unframe,
  writeVarints,
} from './numeric-codec.ts';
import { formatIds, parseIds } from './numeric-ids.ts';
import {
  assertStringIds,
  compareStringIds,
  firstStringOutOfOrder,
  MAX_STRING_ID_LENGTH,
  type StringIdList,
} from './string-ids.ts';
import { wordsOf } from './words.ts';

const FORM_TEXT = 0;
const FORM_DECIMAL = 1;
const FORM_DID_PLC = 2;
const DID_PLC_PREFIX = 'did:plc:';
const DID_PLC_LENGTH = 32;
const PACKED_BYTES = 15;
/** Bytes of each gap stored as they are; the 3 above them are a varint. */
const LOW_BYTES = 12;
/** base32 (RFC 4648, lower case) in character-code order, so packing keeps the order of ids. */
const PLC_ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';
const PLC_VALUE = new Int8Array(128).fill(-1);
for (let v = 0; v < 32; v++) PLC_VALUE[PLC_ALPHABET.charCodeAt(v)] = v;
const PLC_CODES = Array.from(PLC_ALPHABET, (char) => char.charCodeAt(0));
/** Two varints of at most 2 bytes each (lengths <= 2048) and the characters. */
const MAX_TEXT_BYTES_PER_ID = 4 + MAX_STRING_ID_LENGTH;
const MAX_U64_DECIMAL = '18446744073709551615';

export interface StringIdDelta {
  added: StringIdList;
  removed: StringIdList;
}

/** Encodes a sorted (shortlex), duplicate-free list of valid string ids. */
export function encodeStringIds(sorted: StringIdList, options: EncodeOptions = {}): Uint8Array {
  assertEncodable(sorted, 'ids');
  return frame(IdEncodingKind.stringSet, [sorted.length], payloadOf([sorted]), options);
}

/** Decodes a blob made by encodeStringIds; throws CorruptEncodingError on anything else. */
export function decodeStringIds(bytes: Uint8Array): StringIdList {
  const { counts, payload } = unframe(bytes, IdEncodingKind.stringSet, 1, maxRawBytes);
  return defined(readPayload(payload, counts)[0], 'the decoded list');
}

/** Encodes a changeset (sorted, duplicate-free, disjoint `added` and `removed`). */
export function encodeStringDelta(delta: StringIdDelta, options: EncodeOptions = {}): Uint8Array {
  assertEncodable(delta.added, 'added');
  assertEncodable(delta.removed, 'removed');
  assertDisjoint(delta.added, delta.removed);
  return frame(
    IdEncodingKind.stringDelta,
    [delta.added.length, delta.removed.length],
    payloadOf([delta.added, delta.removed]),
    options,
  );
}

/** Decodes a blob made by encodeStringDelta; throws CorruptEncodingError on anything else. */
export function decodeStringDelta(bytes: Uint8Array): StringIdDelta {
  const { counts, payload } = unframe(bytes, IdEncodingKind.stringDelta, 2, maxRawBytes);
  const [added, removed] = readPayload(payload, counts);
  return {
    added: defined(added, 'the decoded added list'),
    removed: defined(removed, 'the decoded removed list'),
  };
}

function maxRawBytes(ids: number): number {
  return 1 + ids * MAX_TEXT_BYTES_PER_ID;
}

/** A canonical decimal below 2^64: digits, no leading zero. */
export function isCanonicalDecimal(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20 || (n > 1 && s.charCodeAt(0) === 48)) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return n < 20 || s <= MAX_U64_DECIMAL;
}

/** `did:plc:` and 24 characters of the base32 alphabet. */
export function isDidPlc(s: string): boolean {
  if (s.length !== DID_PLC_LENGTH || !s.startsWith(DID_PLC_PREFIX)) return false;
  for (let i = DID_PLC_PREFIX.length; i < DID_PLC_LENGTH; i++) {
    const c = s.charCodeAt(i);
    const value = PLC_VALUE[c];
    if (value === undefined || value < 0) return false;
  }
  return true;
}

/** The 24 base32 characters of a did:plc as 15 bytes, most significant first. */
function packDidPlc(id: string, out: Uint8Array): void {
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = DID_PLC_PREFIX.length; i < DID_PLC_LENGTH; i++) {
    acc = (acc << 5) | defined(PLC_VALUE[id.charCodeAt(i)], 'the value of a checked did:plc character');
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
}

const unpackCodes = new Array<number>(DID_PLC_LENGTH - DID_PLC_PREFIX.length);

function unpackDidPlc(packed: Uint8Array): string {
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const byte of packed) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      unpackCodes[o++] = defined(PLC_CODES[(acc >>> bits) & 31], 'a code of the 32-letter alphabet');
    }
    acc &= (1 << bits) - 1;
  }
  return DID_PLC_PREFIX + String.fromCharCode(...unpackCodes);
}

function payloadOf(lists: readonly StringIdList[]): Uint8Array {
  if (lists.every((list) => list.every(isDidPlc))) {
    const total = lists.reduce((sum, list) => sum + list.length, 0);
    const raw = new Uint8Array(1 + total * (4 + LOW_BYTES));
    raw[0] = FORM_DID_PLC;
    let pos = 1;
    const prev = new Uint8Array(PACKED_BYTES);
    const cur = new Uint8Array(PACKED_BYTES);
    const gap = new Uint8Array(PACKED_BYTES);
    for (const list of lists) {
      // Gaps between consecutive ids: the high 3 bytes of each as varints, then the low 12 bytes
      // of each as they are, so the small, skewed high parts sit together for the compressor.
      const lows = new Uint8Array(list.length * LOW_BYTES);
      prev.fill(0);
      let i = 0;
      for (const id of list) {
        packDidPlc(id, cur);
        let borrow = 0;
        for (let k = PACKED_BYTES - 1; k >= 0; k--) {
          const v = defined(cur[k], 'a packed byte') - defined(prev[k], 'a packed byte') - borrow;
          borrow = v < 0 ? 1 : 0;
          gap[k] = v & 0xff;
        }
        const [g0, g1, g2] = gap;
        pos = putVarint(
          raw,
          pos,
          (defined(g0, 'a gap byte') << 16) | (defined(g1, 'a gap byte') << 8) | defined(g2, 'a gap byte'),
        );
        lows.set(gap.subarray(PACKED_BYTES - LOW_BYTES), i * LOW_BYTES);
        prev.set(cur);
        i++;
      }
      raw.set(lows, pos);
      pos += lows.length;
    }
    return raw.subarray(0, pos);
  }
  if (lists.every((list) => list.every(isCanonicalDecimal))) {
    const parsed = lists.map((list) => parseIds(list));
    const total = parsed.reduce((sum, ids) => sum + ids.length, 0);
    const raw = new Uint8Array(1 + total * 10);
    raw[0] = FORM_DECIMAL;
    let end = 1;
    for (const ids of parsed) end = writeVarints(wordsOf(ids), ids.length, raw, end);
    return raw.subarray(0, end);
  }
  let capacity = 1;
  for (const list of lists) for (const id of list) capacity += 4 + id.length;
  const raw = new Uint8Array(capacity);
  raw[0] = FORM_TEXT;
  let pos = 1;
  for (const list of lists) {
    let prev = '';
    for (const id of list) {
      const max = Math.min(prev.length, id.length);
      let shared = 0;
      while (shared < max && prev.charCodeAt(shared) === id.charCodeAt(shared)) shared++;
      pos = putVarint(raw, pos, shared);
      pos = putVarint(raw, pos, id.length - shared);
      for (let k = shared; k < id.length; k++) raw[pos++] = id.charCodeAt(k);
      prev = id;
    }
  }
  return raw.subarray(0, pos);
}

function putVarint(out: Uint8Array, at: number, value: number): number {
  let pos = at;
  let v = value;
  while (v > 0x7f) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
  return pos;
}

function readPayload(payload: Uint8Array, counts: readonly number[]): StringIdList[] {
  const form = payload[0];
  if (form === undefined) throw new CorruptEncodingError('truncated', 'payload has no form byte');
  const lists: StringIdList[] = [];
  let pos = 1;
  if (form === FORM_DECIMAL) {
    for (const [index, count] of counts.entries()) {
      const ids = new BigUint64Array(count);
      pos = readVarints(payload, pos, count, wordsOf(ids), index === 0 ? 'ids' : 'removed');
      lists.push(formatIds(ids));
    }
  } else if (form === FORM_DID_PLC) {
    const value = new Uint8Array(PACKED_BYTES);
    for (const count of counts) {
      const highs = new Array<number>(count);
      for (let i = 0; i < count; i++) {
        const [high, next] = getVarint(payload, pos, i, 4);
        if (high >= 1 << 24) throw new CorruptEncodingError('overflow', `ids[${i}]: gap exceeds 120 bits`);
        highs[i] = high;
        pos = next;
      }
      if (pos + count * LOW_BYTES > payload.length)
        throw new CorruptEncodingError('truncated', 'did:plc gaps are cut off');
      const list = new Array<string>(count);
      value.fill(0);
      let i = 0;
      for (const high of highs) {
        let carry = 0;
        let zero = true;
        for (let k = PACKED_BYTES - 1; k >= 0; k--) {
          const g =
            k >= 3 ? defined(payload[pos + k - 3], 'a checked low byte') : (high >>> ((2 - k) * 8)) & 0xff;
          if (g !== 0) zero = false;
          const v = defined(value[k], 'a packed byte') + g + carry;
          carry = v > 0xff ? 1 : 0;
          value[k] = v & 0xff;
        }
        pos += LOW_BYTES;
        if (carry) throw new CorruptEncodingError('overflow', `ids[${i}]: id exceeds 120 bits`);
        if (i > 0 && zero) throw new CorruptEncodingError('order', `ids[${i}]: ids do not increase`);
        list[i] = unpackDidPlc(value);
        i++;
      }
      lists.push(list);
    }
  } else if (form === FORM_TEXT) {
    const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    for (const count of counts) {
      const list = new Array<string>(count);
      let prev = '';
      for (let i = 0; i < count; i++) {
        let shared: number;
        let rest: number;
        [shared, pos] = getVarint(payload, pos, i);
        [rest, pos] = getVarint(payload, pos, i);
        const length = shared + rest;
        if (shared > prev.length) {
          throw new CorruptEncodingError('varint', `ids[${i}]: shares ${shared} characters of a shorter id`);
        }
        if (length === 0 || length > MAX_STRING_ID_LENGTH) {
          throw new CorruptEncodingError('length', `ids[${i}]: length ${length} is out of range`);
        }
        if (pos + rest > payload.length)
          throw new CorruptEncodingError('truncated', `ids[${i}]: characters cut off`);
        for (let k = pos; k < pos + rest; k++) {
          const c = defined(payload[k], 'a checked character byte');
          if (c < 0x21 || c > 0x7e)
            throw new CorruptEncodingError('varint', `ids[${i}]: byte ${c} is not printable ASCII`);
        }
        const id = prev.slice(0, shared) + text.toString('latin1', pos, pos + rest);
        pos += rest;
        if (i > 0 && compareStringIds(prev, id) >= 0)
          throw new CorruptEncodingError('order', `ids[${i}]: ids do not increase`);
        list[i] = id;
        prev = id;
      }
      lists.push(list);
    }
  } else {
    throw new CorruptEncodingError('header', `unknown string form ${form}`);
  }
  if (pos !== payload.length)
    throw new CorruptEncodingError('length', `${payload.length - pos} bytes after the last id`);
  return lists;
}

function getVarint(raw: Uint8Array, at: number, index: number, maxBytes = 2): [number, number] {
  let pos = at;
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = raw[pos++];
    if (b === undefined) throw new CorruptEncodingError('varint', `ids[${index}]: varint is truncated`);
    value |= (b & 0x7f) << shift;
    if (b < 0x80) {
      if (b === 0 && shift > 0)
        throw new CorruptEncodingError('varint', `ids[${index}]: varint is not canonical`);
      return [value, pos];
    }
    shift += 7;
    if (shift >= 7 * maxBytes)
      throw new CorruptEncodingError('overflow', `ids[${index}]: varint is too long`);
  }
}

function assertEncodable(ids: StringIdList, name: string): void {
  // A did:plc is a valid id; only other ids need the general check.
  if (!ids.every(isDidPlc)) assertStringIds(ids);
  const at = firstStringOutOfOrder(ids);
  if (at !== -1) {
    throw new ValidationError(`${name} to encode is not sorted and duplicate-free at index ${at}`, {
      details: { name, index: at },
    });
  }
}

function assertDisjoint(a: StringIdList, b: StringIdList): void {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const c = compareStringIds(defined(a[i], 'an added id'), defined(b[j], 'a removed id'));
    if (c === 0) {
      throw new ValidationError(`id ${JSON.stringify(a[i])} is both added and removed`, {
        details: { id: a[i] },
      });
    }
    if (c < 0) i++;
    else j++;
  }
}
