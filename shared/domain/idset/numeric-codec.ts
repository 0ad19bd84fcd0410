/**
 * Binary codec for sorted numeric id sets and deltas, as stored in snapshot and changeset items.
 *
 * Layout (all integers unsigned LEB128 varints unless said otherwise):
 *
 *   byte 0        format version (1)
 *   byte 1        kind: 1 = numeric set, 2 = numeric delta (3, 4: string ids, see string-codec.ts)
 *   byte 2        compression of the payload: 0 none, 1 deflate-raw, 2 brotli
 *   varint        set: count | delta: added count, removed count
 *   varint        raw (uncompressed) payload length in bytes
 *   ...           payload: per list, each id minus the previous one (the first minus 0) as a varint
 *   4 bytes       CRC-32 (little-endian) of every byte before it
 *
 * Deltas between sorted ids are small, so an old 32-bit id costs 2-3 bytes and a snowflake 5-6.
 * The CRC makes any flipped or lost byte fail loudly; the decoder also checks every structural
 * fact (counts, lengths, canonical varints, strictly increasing ids, the 2^64 ceiling) and throws
 * CorruptEncodingError instead of returning a plausible wrong set.
 *
 * Compression: brotli at quality 1 by default: on the realistic id mix of `npm run bench -- snapshot`
 * it is smaller than deflate-raw at any level (the varint low bytes are close to random, only the
 * high bytes and the continuation bits compress), several times faster, and higher qualities gain
 * nothing (the figures: README, "Tests and benchmarks"). Decoders read all three methods, so the
 * default can change without a new version.
 */
import * as zlib from 'node:zlib';
import { ValidationError } from '../errors.ts';
import { defined } from '../invariant.ts';
import { crc32 } from './crc32.ts';
import { CorruptEncodingError } from './errors.ts';
import type { IdDelta } from './sorted.ts';
import { compareAt, firstOutOfOrder, HI, LO, TWO_POW_32, wordsOf } from './words.ts';

export const ID_FORMAT_VERSION = 1;

/** What an encoded blob holds; the second byte of every blob. */
export const IdEncodingKind = {
  numericSet: 1,
  numericDelta: 2,
  /** String ids (Bluesky DIDs, Mastodon ids): string-codec.ts. */
  stringSet: 3,
  stringDelta: 4,
} as const;
export type IdEncodingKind = (typeof IdEncodingKind)[keyof typeof IdEncodingKind];

export type IdCompression = 'none' | 'deflate-raw' | 'brotli';
const COMPRESSION_CODE: Record<IdCompression, number> = { none: 0, 'deflate-raw': 1, brotli: 2 };

export interface EncodeOptions {
  /** Default 'brotli'. Falls back to 'none' when compressing would not make the payload smaller. */
  compression?: IdCompression;
  /** brotli quality 0-11 (default 1) or deflate level 1-9 (default 1). */
  level?: number;
}

const MAX_HEADER_COUNT = 0x7fffffff;
const CRC_BYTES = 4;
const FIXED_HEADER_BYTES = 3;
/** Longest unsigned LEB128 encoding of a 64-bit value. */
const MAX_VARINT_BYTES = 10;

/** Encodes a sorted, duplicate-free set (ValidationError otherwise). */
export function encodeIds(sorted: BigUint64Array, options: EncodeOptions = {}): Uint8Array {
  assertEncodable(sorted, 'ids');
  const raw = new Uint8Array(sorted.length * MAX_VARINT_BYTES);
  const end = writeVarints(wordsOf(sorted), sorted.length, raw, 0);
  return frame(IdEncodingKind.numericSet, [sorted.length], raw.subarray(0, end), options);
}

/** Decodes a blob made by encodeIds; throws CorruptEncodingError on anything else. */
export function decodeIds(bytes: Uint8Array): BigUint64Array {
  const { counts, payload } = unframe(bytes, IdEncodingKind.numericSet, 1);
  const [count] = counts;
  const out = new BigUint64Array(count);
  const pos = readVarints(payload, 0, count, wordsOf(out), 'ids');
  if (pos !== payload.length)
    throw new CorruptEncodingError('length', `${payload.length - pos} bytes after the last id`);
  return out;
}

/** Encodes a changeset (sorted, duplicate-free, disjoint `added` and `removed`) as one blob. */
export function encodeDelta(delta: IdDelta, options: EncodeOptions = {}): Uint8Array {
  const { added, removed } = delta;
  assertEncodable(added, 'added');
  assertEncodable(removed, 'removed');
  assertDisjoint(added, removed);
  const raw = new Uint8Array((added.length + removed.length) * MAX_VARINT_BYTES);
  let end = writeVarints(wordsOf(added), added.length, raw, 0);
  end = writeVarints(wordsOf(removed), removed.length, raw, end);
  return frame(IdEncodingKind.numericDelta, [added.length, removed.length], raw.subarray(0, end), options);
}

/** Decodes a blob made by encodeDelta; throws CorruptEncodingError on anything else. */
export function decodeDelta(bytes: Uint8Array): IdDelta {
  const { counts, payload } = unframe(bytes, IdEncodingKind.numericDelta, 2);
  const [addedCount, removedCount] = counts;
  const added = new BigUint64Array(addedCount);
  const removed = new BigUint64Array(removedCount);
  let pos = readVarints(payload, 0, added.length, wordsOf(added), 'added');
  pos = readVarints(payload, pos, removed.length, wordsOf(removed), 'removed');
  if (pos !== payload.length)
    throw new CorruptEncodingError('length', `${payload.length - pos} bytes after the last id`);
  return { added, removed };
}

/** Version and kind of a blob, without decoding it (for a store that holds several kinds). */
export function peekEncoding(bytes: Uint8Array): { version: number; kind: number } {
  if (bytes.length < FIXED_HEADER_BYTES + CRC_BYTES) {
    throw new CorruptEncodingError('truncated', `${bytes.length} bytes is shorter than any header`);
  }
  return { version: defined(bytes[0], 'the version byte'), kind: defined(bytes[1], 'the kind byte') };
}

function assertEncodable(ids: BigUint64Array, name: string): void {
  const at = firstOutOfOrder(ids);
  if (at !== -1) {
    throw new ValidationError(`${name} to encode is not sorted and duplicate-free at index ${at}`, {
      details: { name, index: at },
    });
  }
}

function assertDisjoint(a: BigUint64Array, b: BigUint64Array): void {
  const aw = wordsOf(a);
  const bw = wordsOf(b);
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const c = compareAt(aw, i, bw, j);
    if (c === 0) {
      throw new ValidationError(`id ${a[i]} is both added and removed`, {
        details: { id: String(a[i]) },
      });
    }
    if (c < 0) i++;
    else j++;
  }
}

/** Appends each id minus its predecessor (the first minus 0) as an unsigned LEB128 varint. */
export function writeVarints(w: Uint32Array, count: number, out: Uint8Array, start: number): number {
  let pos = start;
  let prevLo = 0;
  let prevHi = 0;
  for (let i = 0; i < count; i++) {
    const curLo = defined(w[2 * i + LO], 'an id inside the word view');
    const curHi = defined(w[2 * i + HI], 'an id inside the word view');
    let lo = curLo - prevLo;
    let hi = curHi - prevHi;
    if (lo < 0) {
      lo += TWO_POW_32;
      hi -= 1;
    }
    prevLo = curLo;
    prevHi = curHi;
    while (hi !== 0 || lo > 0x7f) {
      out[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi >>>= 7;
    }
    out[pos++] = lo;
  }
  return pos;
}

/** Reads `count` delta varints into `w` (word view), checking canonical form, order and range. */
export function readVarints(
  raw: Uint8Array,
  start: number,
  count: number,
  w: Uint32Array,
  what: string,
): number {
  let pos = start;
  let prevLo = 0;
  let prevHi = 0;
  for (let i = 0; i < count; i++) {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let b: number;
    for (;;) {
      const next = raw[pos++];
      if (next === undefined) throw new CorruptEncodingError('varint', `${what}[${i}]: varint is truncated`);
      b = next;
      const bits = b & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= bits << 28;
        hi = bits >>> 4;
      } else if (shift < 63) hi |= bits << (shift - 32);
      else {
        if (bits > 1) throw new CorruptEncodingError('overflow', `${what}[${i}]: varint exceeds 64 bits`);
        hi |= bits << 31;
      }
      if (b < 0x80) break;
      shift += 7;
      if (shift > 63) throw new CorruptEncodingError('overflow', `${what}[${i}]: varint exceeds 10 bytes`);
    }
    if (b === 0 && shift > 0)
      throw new CorruptEncodingError('varint', `${what}[${i}]: varint is not canonical`);
    lo >>>= 0;
    hi >>>= 0;
    if (i > 0 && lo === 0 && hi === 0)
      throw new CorruptEncodingError('order', `${what}[${i}]: ids do not increase`);
    let nextLo = prevLo + lo;
    let nextHi = prevHi + hi;
    if (nextLo >= TWO_POW_32) {
      nextLo -= TWO_POW_32;
      nextHi += 1;
    }
    if (nextHi >= TWO_POW_32)
      throw new CorruptEncodingError('overflow', `${what}[${i}]: id exceeds 2^64 - 1`);
    w[2 * i + LO] = nextLo;
    w[2 * i + HI] = nextHi;
    prevLo = nextLo;
    prevHi = nextHi;
  }
  return pos;
}

export function frame(
  kind: IdEncodingKind,
  counts: number[],
  raw: Uint8Array,
  options: EncodeOptions,
): Uint8Array {
  let method = options.compression ?? 'brotli';
  let payload: Uint8Array = raw;
  if (method !== 'none' && raw.length > 0) {
    const compressed = compress(raw, method, options.level);
    if (compressed.length < raw.length) payload = compressed;
    else method = 'none';
  } else method = 'none';
  const header = [ID_FORMAT_VERSION, kind, COMPRESSION_CODE[method]];
  for (const c of counts) pushVarint(header, c);
  pushVarint(header, raw.length);
  const out = new Uint8Array(header.length + payload.length + CRC_BYTES);
  out.set(header, 0);
  out.set(payload, header.length);
  const crc = crc32(out.subarray(0, out.length - CRC_BYTES));
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(out.length - CRC_BYTES, crc, true);
  return out;
}

function compress(raw: Uint8Array, method: 'deflate-raw' | 'brotli', level: number | undefined): Uint8Array {
  if (method === 'deflate-raw') return zlib.deflateRawSync(raw, { level: level ?? 1 });
  return zlib.brotliCompressSync(raw, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: level ?? 1,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
}

function pushVarint(out: number[], value: number): void {
  let v = value;
  while (v > 0x7f) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/**
 * Checks a blob's frame (version, CRC, kind, header, compression) and returns its counts and raw
 * payload. `maxRawBytes` bounds the raw length a header may claim for its ids (default: the longest
 * varint per id), so a forged length cannot make the decoder inflate more than the ids can need.
 */
export function unframe(
  bytes: Uint8Array,
  expectedKind: IdEncodingKind,
  countFields: 1,
  maxRawBytes?: (ids: number) => number,
): { counts: [number]; payload: Uint8Array };
export function unframe(
  bytes: Uint8Array,
  expectedKind: IdEncodingKind,
  countFields: 2,
  maxRawBytes?: (ids: number) => number,
): { counts: [number, number]; payload: Uint8Array };
export function unframe(
  bytes: Uint8Array,
  expectedKind: IdEncodingKind,
  countFields: 1 | 2,
  maxRawBytes: (ids: number) => number = (ids) => ids * MAX_VARINT_BYTES,
): { counts: number[]; payload: Uint8Array } {
  if (!(bytes instanceof Uint8Array))
    throw new CorruptEncodingError('truncated', 'encoded ids are not bytes');
  const { version, kind } = peekEncoding(bytes);
  if (version !== ID_FORMAT_VERSION) {
    throw new CorruptEncodingError('version', `format version ${version} is not ${ID_FORMAT_VERSION}`);
  }
  const bodyEnd = bytes.length - CRC_BYTES;
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(bodyEnd, true);
  const actual = crc32(bytes.subarray(0, bodyEnd));
  if (stored !== actual) throw new CorruptEncodingError('checksum', 'CRC-32 does not match');
  if (kind !== expectedKind) throw new CorruptEncodingError('kind', `kind ${kind} is not ${expectedKind}`);
  const method = defined(bytes[2], 'the compression byte');
  let pos = FIXED_HEADER_BYTES;
  const readCount = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[pos++];
      if (b === undefined || pos > bodyEnd) throw new CorruptEncodingError('truncated', 'header ends early');
      value += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
      if (value > MAX_HEADER_COUNT || scale > 2 ** 35)
        throw new CorruptEncodingError('header', 'header count is too large');
    }
    if (value > MAX_HEADER_COUNT) throw new CorruptEncodingError('header', 'header count is too large');
    return value;
  };
  const fields = Array.from({ length: countFields }, readCount);
  const rawLength = readCount();
  const total = fields.reduce((s, c) => s + c, 0);
  if (rawLength < total || rawLength > maxRawBytes(total)) {
    throw new CorruptEncodingError('header', `raw length ${rawLength} cannot hold ${total} ids`);
  }
  const body = bytes.subarray(pos, bodyEnd);
  let payload: Uint8Array;
  if (method === 0) payload = body;
  else if (method === 1 || method === 2) {
    if (rawLength === 0)
      throw new CorruptEncodingError('compression', 'an empty payload is never compressed');
    try {
      payload =
        method === 1
          ? zlib.inflateRawSync(body, { maxOutputLength: rawLength })
          : zlib.brotliDecompressSync(body, { maxOutputLength: rawLength });
    } catch (cause) {
      throw new CorruptEncodingError('compression', 'payload does not decompress', { cause });
    }
  } else throw new CorruptEncodingError('compression', `unknown compression method ${method}`);
  if (payload.length !== rawLength) {
    throw new CorruptEncodingError('length', `payload is ${payload.length} bytes, header says ${rawLength}`);
  }
  return { counts: fields, payload };
}
