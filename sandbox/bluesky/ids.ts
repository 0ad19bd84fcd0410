/**
 * The identifiers of the AT Protocol as the sandbox mints them: TIDs (record keys, revisions), CIDs
 * (content ids), AT URIs and handles. Deterministic: the same inputs give the same strings.
 */
import { createHash } from 'node:crypto';
import { hash32 } from '../rng.ts';

const S32 = '234567abcdefghijklmnopqrstuvwxyz';
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A TID: 53 bits of microseconds and 10 bits of clock id, as 13 base32-sortable characters. */
export function tid(micros: number, clockId: number): string {
  let value = (BigInt(Math.max(0, Math.floor(micros))) << 10n) | BigInt(clockId & 1023);
  value &= (1n << 63n) - 1n;
  let out = '';
  for (let i = 0; i < 13; i++) {
    out = S32[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

export const TID_PATTERN = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;

/** A CIDv1 (dag-cbor, sha2-256) of the text, in base32 (`bafyrei…`). */
export function cidOf(text: string): string {
  const hash = createHash('sha256').update(text).digest();
  const bytes = Buffer.concat([Buffer.from([0x01, 0x71, 0x12, 0x20]), hash]);
  let out = 'b';
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31];
  return out;
}

export const FOLLOW_COLLECTION = 'app.bsky.graph.follow';

export function followUri(repoDid: string, rkey: string): string {
  return `at://${repoDid}/${FOLLOW_COLLECTION}/${rkey}`;
}

/** The record key of a follow made at `at` (ms) of `subjectDid`, when the sandbox did not mint it. */
export function derivedFollowKey(at: number, subjectDid: string): string {
  return tid(at * 1000, hash32(subjectDid));
}

/** A valid handle for a username: lower case, `_` as `-`, under bsky.social. */
export function handleFor(username: string): string {
  const label =
    username
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63) || 'user';
  return `${label}.bsky.social`;
}
