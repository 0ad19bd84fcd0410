import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accountLimiterConfig,
  bucketAvailableAt,
  DAY_MS,
  drain,
  drainLimiter,
  emptyWindow,
  fullBucket,
  type LimiterConfig,
  type LimiterState,
  limiterAvailableAt,
  limiterUsage,
  MINUTE_MS,
  newLimiter,
  refill,
  refundLimiter,
  type TokenBucketConfig,
  tryTake,
  tryTakeLimiter,
  tryTakeWindow,
  type WindowLimit,
  windowCount,
} from '../../shared/domain/engine/index.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

/** Most takes found in any closed interval [t, t + length] (times sorted ascending). */
function maxInAnyWindow(times: readonly number[], length: number): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (j < times.length && times[j]! <= times[i]! + length) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

/** Largest excess of takes in any [a, b] over capacity + rate * (b - a). */
function bucketExcess(times: readonly number[], config: TokenBucketConfig): number {
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < times.length; i++) {
    for (let j = i; j < times.length; j++) {
      const allowed = config.capacity + config.refillPerMs * (times[j]! - times[i]!);
      worst = Math.max(worst, j - i + 1 - allowed);
    }
  }
  return worst;
}

/** Gaps between requests: bursts, minutes, hours and the odd day. */
const gapArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 2_000 }) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 5 * MINUTE_MS }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 * 3_600_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 * DAY_MS }) },
);

type Step = { gap: number; n: number } | { gap: number; drainFor: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ gap: gapArb, n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ gap: gapArb, drainFor: fc.integer({ min: 0, max: 30 * MINUTE_MS }) }) },
);

/** A limiter shaped like an account's (15-minute window, 24-hour window, pace), with small numbers. */
const limiterConfigArb: fc.Arbitrary<LimiterConfig> = fc
  .record({
    per15: fc.integer({ min: 1, max: 12 }),
    perDay: fc.integer({ min: 1, max: 40 }),
    burst: fc.integer({ min: 1, max: 6 }),
    perHour: fc.integer({ min: 1, max: 60 }),
  })
  .map(({ per15, perDay, burst, perHour }) => ({
    windows: [
      { limit: per15, windowMs: 15 * MINUTE_MS, slotMs: MINUTE_MS },
      { limit: perDay, windowMs: DAY_MS, slotMs: 15 * MINUTE_MS },
    ],
    pace: { capacity: burst, refillPerMs: perHour / 3_600_000 },
  }));

interface Run {
  takes: number[];
  /** Step index of each take, to tell a take made before a 429 at the same millisecond. */
  takeSteps: number[];
  blocks: Array<{ from: number; until: number; step: number }>;
  states: LimiterState[];
}

/** Plays the steps against the pure limiter; every state goes through JSON, as it would through DynamoDB. */
function play(config: LimiterConfig, steps: readonly Step[]): Run {
  let state = newLimiter(config);
  let now = T0;
  const takes: number[] = [];
  const takeSteps: number[] = [];
  const blocks: Array<{ from: number; until: number; step: number }> = [];
  const states: LimiterState[] = [];
  for (const [index, step] of steps.entries()) {
    now += step.gap;
    if ('drainFor' in step) {
      state = drainLimiter(state, now + step.drainFor);
      blocks.push({ from: now, until: now + step.drainFor, step: index });
    } else {
      const result = tryTakeLimiter(state, config, now, step.n);
      if (result.ok) {
        for (let i = 0; i < step.n; i++) {
          takes.push(result.takenAt);
          takeSteps.push(index);
        }
      }
      state = result.state;
    }
    state = JSON.parse(JSON.stringify(state)) as LimiterState;
    states.push(state);
  }
  return { takes, takeSteps, blocks, states };
}

describe('sliding-window counter', () => {
  it('lets 40 follows through in 15 minutes, then refuses until the window slides', () => {
    // Prepare
    const limit: WindowLimit = { limit: 40, windowMs: 15 * MINUTE_MS, slotMs: MINUTE_MS };
    let state = emptyWindow(limit);
    for (let i = 0; i < 40; i++) {
      const result = tryTakeWindow(state, limit, T0 + i * 1_000);
      if (!result.ok) throw new Error(`take ${i} refused`);
      state = result.state;
    }

    // Act
    const refused = tryTakeWindow(state, limit, T0 + 60_000);

    // Assess
    expect(refused.ok).toBe(false);
    // Takes sat in the minute slot starting at T0: counted until 16 slots later.
    expect(refused.ok ? 0 : refused.availableAt).toBe(T0 + 16 * MINUTE_MS);
    expect(windowCount(state, limit, T0 + 16 * MINUTE_MS)).toBe(0);
    expect(tryTakeWindow(state, limit, T0 + 16 * MINUTE_MS).ok).toBe(true);
  });

  it('never lets more than the limit through in any interval of the window length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 120_000 }),
        fc.array(fc.record({ gap: gapArb, n: fc.integer({ min: 1, max: 3 }) }), { maxLength: 150 }),
        (limitValue, slots, slotMs, steps) => {
          // Prepare
          const limit: WindowLimit = { limit: limitValue, windowMs: slots * slotMs, slotMs };
          let state = emptyWindow(limit);
          const takes: number[] = [];
          let now = T0;

          // Act
          for (const step of steps) {
            now += step.gap % (3 * limit.windowMs);
            const result = tryTakeWindow(state, limit, now, step.n);
            if (result.ok) for (let i = 0; i < step.n; i++) takes.push(result.takenAt);
            state = result.state;
          }

          // Assess
          expect(maxInAnyWindow(takes, limit.windowMs)).toBeLessThanOrEqual(limit.limit);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('token bucket', () => {
  it('refuses when empty and says when the next token comes', () => {
    // Prepare
    const config: TokenBucketConfig = { capacity: 2, refillPerMs: 1 / 60_000 };
    const first = tryTake(fullBucket(config, T0), config, T0, 2);
    if (!first.ok) throw new Error('a full bucket refused');

    // Act
    const refused = tryTake(first.state, config, T0 + 1_000);

    // Assess
    expect(refused.ok).toBe(false);
    expect(refused.ok ? 0 : refused.availableAt).toBe(T0 + 60_000);
    expect(tryTake(first.state, config, T0 + 60_000).ok).toBe(true);
  });

  it('keeps takes within capacity + rate x length over any interval', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 120 }),
        fc.array(
          fc.record({ gap: fc.integer({ min: 0, max: 10 * MINUTE_MS }), n: fc.integer({ min: 1, max: 2 }) }),
          {
            maxLength: 80,
          },
        ),
        (capacity, perHour, steps) => {
          // Prepare
          const config: TokenBucketConfig = { capacity, refillPerMs: perHour / 3_600_000 };
          let state = fullBucket(config, T0);
          const takes: number[] = [];
          let now = T0;

          // Act
          for (const step of steps) {
            now += step.gap;
            const result = tryTake(state, config, now, step.n);
            if (result.ok) for (let i = 0; i < step.n; i++) takes.push(result.takenAt);
            state = result.state;
          }

          // Assess
          expect(bucketExcess(takes, config)).toBeLessThanOrEqual(1e-6);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives nothing before the reset after a drain, then refills from empty', () => {
    // Prepare
    const config: TokenBucketConfig = { capacity: 5, refillPerMs: 1 / 1_000 };
    const drained = drain(fullBucket(config, T0), T0 + 60_000);

    // Act
    const before = tryTake(drained, config, T0 + 59_999);
    const atReset = bucketAvailableAt(drained, config, T0);

    // Assess
    expect(before.ok).toBe(false);
    expect(atReset).toBe(T0 + 61_000);
    expect(refill(drained, config, T0 + 63_000).tokens).toBeCloseTo(3);
  });
});

describe('limiter (windows + pace + 429 block)', () => {
  it('never exceeds any window or the pace, and takes nothing while blocked, under arbitrary requests', () => {
    fc.assert(
      fc.property(limiterConfigArb, fc.array(stepArb, { maxLength: 250 }), (config, steps) => {
        // Act
        const { takes, takeSteps, blocks } = play(config, steps);

        // Assess
        for (const window of config.windows) {
          expect(maxInAnyWindow(takes, window.windowMs)).toBeLessThanOrEqual(window.limit);
        }
        expect(bucketExcess(takes, config.pace!)).toBeLessThanOrEqual(1e-6);
        for (const block of blocks) {
          const during = takes.filter(
            (t, i) => takeSteps[i]! > block.step && t >= block.from && t < block.until,
          );
          expect(during).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never lets the X defaults exceed 50 per 15 minutes or 400 per day, even with bursts', () => {
    // Prepare: X caps (40 / 15 min, 350 / day) hammered with requests every few seconds for 3 days.
    const config = accountLimiterConfig({
      caps: { per15Minutes: 40, perDay: 350, pacePerHour: 160, paceBurst: 40 },
    });
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 2_000, maxLength: 4_000 }),
        (gaps) => {
          let state = newLimiter(config);
          let now = T0;
          const takes: number[] = [];

          // Act
          for (const gap of gaps) {
            now += gap * 3;
            const result = tryTakeLimiter(state, config, now);
            if (result.ok) takes.push(result.takenAt);
            state = result.state;
          }

          // Assess
          expect(maxInAnyWindow(takes, 15 * MINUTE_MS)).toBeLessThanOrEqual(40);
          expect(maxInAnyWindow(takes, DAY_MS)).toBeLessThanOrEqual(350);
          expect(takes.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 10 },
    );
  });

  it('says exactly when a refused take becomes possible', () => {
    fc.assert(
      fc.property(
        limiterConfigArb,
        fc.array(stepArb, { maxLength: 120 }),
        fc.integer({ min: 1, max: 3 }),
        (config, steps, n) => {
          // Prepare
          const { states } = play(config, steps);
          const state = states[states.length - 1] ?? newLimiter(config);
          const now = Math.max(state.at, T0) + 1;

          // Act
          const availableAt = limiterAvailableAt(state, config, now, n);

          // Assess
          if (!Number.isFinite(availableAt)) {
            expect(n > config.pace!.capacity || config.windows.some((w) => n > w.limit)).toBe(true);
            return;
          }
          expect(tryTakeLimiter(state, config, availableAt, n).ok).toBe(true);
          if (availableAt > now) expect(tryTakeLimiter(state, config, availableAt - 1, n).ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is back where it was after a take is refunded', () => {
    fc.assert(
      fc.property(limiterConfigArb, fc.array(stepArb, { maxLength: 80 }), (config, steps) => {
        // Prepare
        const { states } = play(config, steps);
        const state = states[states.length - 1] ?? newLimiter(config);
        const now = Math.max(state.at, T0) + 1;
        const before = limiterAvailableAt(state, config, now);
        const taken = tryTakeLimiter(state, config, before);
        if (!taken.ok) throw new Error('availableAt was not available');

        // Act
        const refunded = refundLimiter(taken.state, config, taken.takenAt);

        // Assess
        expect(limiterAvailableAt(refunded, config, before)).toBe(before);
      }),
      { numRuns: 200 },
    );
  });

  it('records a take from a clock running behind at the latest time it has seen', () => {
    // Prepare
    const config = accountLimiterConfig({
      caps: { per15Minutes: 40, perDay: 350, pacePerHour: 28, paceBurst: 7 },
    });
    const first = tryTakeLimiter(newLimiter(config), config, T0 + 10_000);
    if (!first.ok) throw new Error('refused');

    // Act
    const second = tryTakeLimiter(first.state, config, T0);

    // Assess
    expect(second.ok && second.takenAt).toBe(T0 + 10_000);
  });

  it('reports how full each window is', () => {
    // Prepare
    const config = accountLimiterConfig({
      caps: { per15Minutes: 40, perDay: 350, pacePerHour: 28, paceBurst: 7 },
    });
    let state = newLimiter(config);
    for (let i = 0; i < 5; i++) {
      const result = tryTakeLimiter(state, config, T0 + i);
      if (!result.ok) throw new Error('refused');
      state = result.state;
    }

    // Act
    const usage = limiterUsage(state, config, T0 + 20 * MINUTE_MS);

    // Assess
    expect(usage).toEqual([
      { windowMs: 15 * MINUTE_MS, limit: 40, used: 0 },
      { windowMs: DAY_MS, limit: 350, used: 5 },
    ]);
  });

  it('counts conservatively when the window structure of the config changes', () => {
    // Prepare: 10 takes under a 24-hour window counted per hour, then the config counts per 15 minutes.
    const hourly: LimiterConfig = { windows: [{ limit: 10, windowMs: DAY_MS, slotMs: 3_600_000 }] };
    let state = newLimiter(hourly);
    for (let i = 0; i < 10; i++) {
      const result = tryTakeLimiter(state, hourly, T0 + i * MINUTE_MS);
      if (!result.ok) throw new Error('refused');
      state = result.state;
    }
    const quarterly: LimiterConfig = { windows: [{ limit: 10, windowMs: DAY_MS, slotMs: 15 * MINUTE_MS }] };

    // Act
    const result = tryTakeLimiter(state, quarterly, T0 + 3_600_000);

    // Assess
    expect(result.ok).toBe(false);
  });
});
