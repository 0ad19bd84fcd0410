/**
 * Seeded randomness for the sandbox, on pure-rand's xoroshiro128+. Every random stream of the world
 * is derived from the world seed and a label, so streams are independent of each other: what one
 * stream draws never shifts what another draws.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

export type { RandomGenerator };

/** FNV-1a over the text, then a murmur3 finaliser: a well-mixed 32-bit hash, stable across runs. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** An independent generator for one labelled stream of one seeded world. */
export function streamRng(seed: number, ...labels: (string | number)[]): RandomGenerator {
  return xoroshiro128plus(hash32(`${seed}|${labels.join('|')}`));
}

/** Uniform in [0, 1). */
export function uniform(rng: RandomGenerator): number {
  return uniformFloat64(rng);
}

/** Uniform integer in [from, to], both included. */
export function intBetween(rng: RandomGenerator, from: number, to: number): number {
  return uniformInt(rng, from, to);
}

export function chance(rng: RandomGenerator, probability: number): boolean {
  return probability > 0 && uniformFloat64(rng) < probability;
}

/** An exponential inter-arrival time for a Poisson process of `ratePerMs` events per ms. */
export function exponential(rng: RandomGenerator, ratePerMs: number): number {
  if (ratePerMs <= 0) return Number.POSITIVE_INFINITY;
  return -Math.log(1 - uniformFloat64(rng)) / ratePerMs;
}

export function pick<T>(rng: RandomGenerator, items: readonly T[]): T {
  const item = items[uniformInt(rng, 0, items.length - 1)];
  if (item === undefined) throw new RangeError('pick from an empty list');
  return item;
}
