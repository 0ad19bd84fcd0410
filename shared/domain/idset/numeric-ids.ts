/**
 * Numeric platform ids (X: old 32-bit ids and 64-bit snowflakes): decimal strings at the edges,
 * unsigned 64-bit integers (bigint, BigUint64Array) inside. Never JS numbers: snowflakes exceed 2^53.
 */
import { ValidationError } from '../errors.ts';
import { defined } from '../invariant.ts';
import { HI, LO, TWO_POW_32, wordsOf } from './words.ts';

/** The largest id that fits: 2^64 - 1. */
export const MAX_NUMERIC_ID = 0xffff_ffff_ffff_ffffn;
const MAX_ID_STRING = '18446744073709551615';
/** 10^10 = 2 * 2^32 + 1_410_065_408, used to combine two 10-digit halves without BigInt. */
const TEN_POW_10_LOW = 1_410_065_408;

function invalidId(value: unknown, index: number, why: string): ValidationError {
  const shown =
    typeof value === 'string'
      ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
      : String(value);
  return new ValidationError(`ids[${index}] ${why}: ${shown}`, { details: { index, value } });
}

/**
 * Parses decimal id strings into a BigUint64Array (same order, duplicates kept). Accepts only
 * canonical decimal: digits, no sign, no spaces, no leading zero (so two strings name the same id
 * exactly when they are equal), below 2^64. Throws ValidationError naming the index and the value.
 *
 * Speed: one pass of charCodeAt per id and plain double arithmetic on two 10-digit halves, so a
 * million snowflakes parse without a regex or a BigInt per id.
 */
export function parseIds(strings: readonly string[]): BigUint64Array {
  const n = strings.length;
  const out = new BigUint64Array(n);
  const w = wordsOf(out);
  for (let i = 0; i < n; i++) {
    const s = strings[i] as unknown;
    if (typeof s !== 'string') throw invalidId(s, i, 'is not a string');
    const len = s.length;
    if (len === 0) throw invalidId(s, i, 'is empty');
    if (len > 20) throw invalidId(s, i, 'is not a decimal id below 2^64');
    if (len > 1 && s.charCodeAt(0) === 48) throw invalidId(s, i, 'has a leading zero');
    let lo: number;
    let hi: number;
    if (len <= 15) {
      // Below 10^15 < 2^53: exact as a double.
      let v = 0;
      for (let j = 0; j < len; j++) {
        const d = s.charCodeAt(j) - 48;
        if (d < 0 || d > 9) throw invalidId(s, i, 'is not a decimal id');
        v = v * 10 + d;
      }
      lo = v >>> 0;
      hi = (v - lo) / TWO_POW_32;
    } else {
      // value = a * 10^10 + b, a < 1_844_674_408 (< 2^31), b < 10^10.
      const split = len - 10;
      let a = 0;
      for (let j = 0; j < split; j++) {
        const d = s.charCodeAt(j) - 48;
        if (d < 0 || d > 9) throw invalidId(s, i, 'is not a decimal id');
        a = a * 10 + d;
      }
      let b = 0;
      for (let j = split; j < len; j++) {
        const d = s.charCodeAt(j) - 48;
        if (d < 0 || d > 9) throw invalidId(s, i, 'is not a decimal id');
        b = b * 10 + d;
      }
      if (len === 20 && s > MAX_ID_STRING) throw invalidId(s, i, 'is not below 2^64');
      // a * 10^10 = 2a * 2^32 + aH * TEN_POW_10_LOW * 2^16 + aL * TEN_POW_10_LOW, every product < 2^53.
      const aH = a >>> 16;
      const aL = a & 0xffff;
      const mid = aH * TEN_POW_10_LOW;
      const low = aL * TEN_POW_10_LOW + b + (mid % 65536) * 65536;
      lo = low >>> 0;
      hi = 2 * a + Math.floor(mid / 65536) + (low - lo) / TWO_POW_32;
    }
    w[2 * i + LO] = lo;
    w[2 * i + HI] = hi;
  }
  return out;
}

/** Parses one decimal id string (same rules as parseIds). */
export function parseId(value: string): bigint {
  return defined(parseIds([value])[0], 'the one parsed id');
}

/** The canonical decimal string of an id; throws ValidationError outside [0, 2^64). */
export function formatId(id: bigint): string {
  if (typeof id !== 'bigint' || id < 0n || id > MAX_NUMERIC_ID) {
    throw new ValidationError(`id is not an unsigned 64-bit integer: ${String(id)}`, {
      details: { value: id },
    });
  }
  return id.toString();
}

/** Decimal strings of the ids, in order. Ids below 2^53 skip the BigInt entirely. */
export function formatIds(ids: BigUint64Array): string[] {
  const w = wordsOf(ids);
  const out = new Array<string>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const hi = defined(w[2 * i + HI], 'an id inside the word view');
    out[i] =
      hi < 0x200000
        ? String(hi * TWO_POW_32 + defined(w[2 * i + LO], 'an id inside the word view'))
        : String(ids[i]);
  }
  return out;
}
