/**
 * 32-bit word views of a BigUint64Array, so hot loops compare and add ids as two unsigned
 * 32-bit halves (plain numbers) instead of allocating a BigInt per element read.
 */
import { defined } from '../invariant.ts';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Offset of the low 32-bit half of id `i` in its word view is `2 * i + LO`. */
export const LO = LITTLE_ENDIAN ? 0 : 1;
/** Offset of the high 32-bit half of id `i` in its word view is `2 * i + HI`. */
export const HI = LITTLE_ENDIAN ? 1 : 0;

export const TWO_POW_32 = 4294967296;

/** The ids as 2 * length 32-bit words over the same memory (no copy). */
export function wordsOf(ids: BigUint64Array): Uint32Array {
  return new Uint32Array(ids.buffer, ids.byteOffset, ids.length * 2);
}

/** -1, 0 or 1 as id `i` of `a` is below, equal to or above id `j` of `b` (word views). */
export function compareAt(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  const ah = defined(a[2 * i + HI], 'an id inside the word view');
  const bh = defined(b[2 * j + HI], 'an id inside the word view');
  if (ah !== bh) return ah < bh ? -1 : 1;
  const al = defined(a[2 * i + LO], 'an id inside the word view');
  const bl = defined(b[2 * j + LO], 'an id inside the word view');
  if (al !== bl) return al < bl ? -1 : 1;
  return 0;
}

/** Index of the first id that is not strictly above its predecessor, or -1 if strictly increasing. */
export function firstOutOfOrder(ids: BigUint64Array): number {
  const w = wordsOf(ids);
  for (let i = 1; i < ids.length; i++) {
    if (compareAt(w, i - 1, w, i) >= 0) return i;
  }
  return -1;
}

/** Copies id `from` of word view `src` into slot `to` of word view `dst`. */
export function copyId(dst: Uint32Array, to: number, src: Uint32Array, from: number): void {
  dst[2 * to + LO] = defined(src[2 * from + LO], 'an id inside the word view');
  dst[2 * to + HI] = defined(src[2 * from + HI], 'an id inside the word view');
}
