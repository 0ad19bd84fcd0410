/**
 * Pagination tokens: 16 base32hex characters (the spec asks for at least 16) carrying the list
 * position key, the direction and a check bound to the list, so a token from another list or a
 * made-up one is refused with a 400, as X does.
 */
import { hash32 } from '../rng.ts';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUV';
const KEY_BITS = 40n;

export type Direction = 'next' | 'previous';

export interface Cursor {
  direction: Direction;
  /** Position key: `next` continues below it, `previous` above it. */
  key: number;
}

function check(listId: string, direction: Direction, key: number): bigint {
  return BigInt(hash32(`${listId}|${direction}|${key}`) >>> 0);
}

export function encodeToken(listId: string, cursor: Cursor): string {
  const key = BigInt(cursor.key);
  if (key < 0n || key >= 1n << KEY_BITS) throw new RangeError(`key out of range: ${cursor.key}`);
  const flag = cursor.direction === 'next' ? 0x5an : 0xa5n;
  let value = (flag << 72n) | (key << 32n) | check(listId, cursor.direction, cursor.key);
  let out = '';
  for (let i = 0; i < 16; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

/** The cursor in a token, or undefined when the token is not one of this list's. */
export function decodeToken(listId: string, token: string): Cursor | undefined {
  if (!/^[0-9A-V]{16}$/.test(token)) return undefined;
  let value = 0n;
  for (const char of token) value = (value << 5n) | BigInt(ALPHABET.indexOf(char));
  const flag = value >> 72n;
  const direction: Direction | undefined = flag === 0x5an ? 'next' : flag === 0xa5n ? 'previous' : undefined;
  if (!direction) return undefined;
  const key = Number((value >> 32n) & ((1n << KEY_BITS) - 1n));
  if ((value & 0xffffffffn) !== check(listId, direction, key)) return undefined;
  return { direction, key };
}
