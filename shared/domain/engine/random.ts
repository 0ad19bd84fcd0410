import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** Seeded randomness for planning: the same key gives the same stream, so a retried reconcile plans the same. */

function hash32(text: string): number {
  // FNV-1a, 32-bit.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** A deterministic stream of numbers in [0, 1) from a seed (a number, or a string such as `account/target`). */
export function seededRandom(seed: number | string): () => number {
  const rng = xoroshiro128plus(typeof seed === 'string' ? hash32(seed) : seed | 0);
  return () => uniformFloat64(rng);
}
