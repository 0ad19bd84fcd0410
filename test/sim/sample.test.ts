/**
 * A 50-seed sample of `npm run sim` inside `npm test`: the real tick and approvals on the in-process
 * fakes, with faults drawn per seed, checked against the world's ground truth (sim/seed.ts).
 */
import { describe, expect, it } from 'vitest';
import { parseSeeds } from '../../sim/main.ts';
import { FAULT_CLASSES, runSeed, type SeedResult } from '../../sim/seed.ts';

const SAMPLE = parseSeeds('1-50');

describe('the simulation', () => {
  it('keeps every invariant it checks over a 50-seed sample', { timeout: 240_000 }, async () => {
    // Prepare / Act
    const results: SeedResult[] = [];
    for (const seed of SAMPLE) results.push(await runSeed(seed));

    // Assess
    const stories = results.flatMap((result) =>
      result.violations.map((v) => `seed ${v.seed} [${result.variant}] invariant ${v.invariant}: ${v.story}`),
    );
    expect(stories, stories.join('\n')).toEqual([]);
    // …and the sample did meet what it is meant to attack.
    expect(new Set(results.map((result) => result.variant)).size).toBe(4);
    const classes = new Set(results.flatMap((result) => result.faultClasses));
    expect([...FAULT_CLASSES].filter((name) => !classes.has(name))).toEqual([]);
    expect(results.reduce((sum, result) => sum + result.crashes, 0)).toBeGreaterThan(20);
    expect(results.reduce((sum, result) => sum + result.follows, 0)).toBeGreaterThan(500);
  });

  it('replays a seed identically', { timeout: 60_000 }, async () => {
    // Prepare / Act
    const first = await runSeed(7);
    const again = await runSeed(7);

    // Assess
    expect(again).toEqual(first);
  });

  it('reads seeds as numbers, ranges and lists', () => {
    expect(parseSeeds('3')).toEqual([3]);
    expect(parseSeeds('1-3,9')).toEqual([1, 2, 3, 9]);
    expect(() => parseSeeds('5-2')).toThrow(/empty range/);
    expect(() => parseSeeds('x')).toThrow(/not a seed/);
  });
});
