/** The adapters' one retry loop: its waits follow the policy, and it stops where the policy says. */
import { describe, expect, it } from 'vitest';
import { backoffMs, type RetryPolicy, retryUntil, sleep } from '../../shared/adapters/retry.ts';

/** A loop environment on a virtual clock: sleeping advances it and records the wait. */
function virtualTime(random: () => number = () => 0.5) {
  let now = 1_000;
  const waits: number[] = [];
  return {
    waits,
    env: {
      sleep: async (ms: number) => {
        waits.push(ms);
        now += ms;
      },
      random,
      now: () => now,
    },
  };
}

/** Answers from a script, one per attempt, the last one repeated. */
function scripted<T>(answers: T[]) {
  const calls: number[] = [];
  return {
    calls,
    attempt: async (n: number) => {
      calls.push(n);
      return answers[Math.min(n, answers.length) - 1] as T;
    },
  };
}

describe('backoffMs', () => {
  it('doubles from the base up to the cap', () => {
    // Prepare
    const policy: RetryPolicy = { attempts: 10, baseMs: 25, capMs: 150 };

    // Act
    const waits = [1, 2, 3, 4, 5].map((attempt) => backoffMs(attempt, policy));

    // Assess
    expect(waits).toEqual([25, 50, 100, 150, 150]);
  });

  it('keeps at least half the wait with equal jitter, and any share with full jitter', () => {
    // Prepare
    const equal: RetryPolicy = { attempts: 5, baseMs: 100, capMs: 1_000, jitter: 'equal' };
    const full: RetryPolicy = { ...equal, jitter: 'full' };

    // Act, Assess
    expect(backoffMs(2, equal, () => 0)).toBe(100);
    expect(backoffMs(2, equal, () => 0.5)).toBe(150);
    expect(backoffMs(2, equal, () => 0.999)).toBeCloseTo(199.9);
    expect(backoffMs(2, full, () => 0)).toBe(0);
    expect(backoffMs(2, full, () => 0.25)).toBe(50);
  });

  it('polls at a steady pace with factor 1', () => {
    // Prepare
    const policy: RetryPolicy = { attempts: 5, baseMs: 50, capMs: 50, factor: 1 };

    // Act, Assess
    expect([1, 2, 7].map((attempt) => backoffMs(attempt, policy))).toEqual([50, 50, 50]);
  });
});

describe('retryUntil', () => {
  it('returns the first settled value without waiting after it', async () => {
    // Prepare
    const time = virtualTime();
    const script = scripted([3, 2, 0, 7]);

    // Act
    const outcome = await retryUntil(
      script.attempt,
      (left) => left === 0,
      { attempts: 8, baseMs: 10, capMs: 1_000 },
      time.env,
    );

    // Assess
    expect(outcome).toEqual({ settled: true, value: 0, attempts: 3 });
    expect(script.calls).toEqual([1, 2, 3]);
    expect(time.waits).toEqual([10, 20]);
  });

  it('gives up unsettled after the last attempt, with the last value and no wait after it', async () => {
    // Prepare
    const time = virtualTime();
    const script = scripted(['busy']);

    // Act
    const outcome = await retryUntil(
      script.attempt,
      (status) => status === 'done',
      { attempts: 3, baseMs: 10, capMs: 1_000 },
      time.env,
    );

    // Assess
    expect(outcome).toEqual({ settled: false, value: 'busy', attempts: 3 });
    expect(time.waits).toEqual([10, 20]);
  });

  it('gives up once the deadline has passed, however many attempts are allowed', async () => {
    // Prepare: waits of 10, 20, 40, 80, 100, 100, … ms; the deadline is 250 ms after the start
    const time = virtualTime();
    const script = scripted(['CREATING']);

    // Act
    const outcome = await retryUntil(
      script.attempt,
      (status) => status === 'ACTIVE',
      { attempts: Number.POSITIVE_INFINITY, baseMs: 10, capMs: 100, deadlineMs: 250 },
      time.env,
    );

    // Assess: after 10+20+40+80+100 = 250 ms the sixth check is the last
    expect(outcome).toEqual({ settled: false, value: 'CREATING', attempts: 6 });
    expect(time.waits).toEqual([10, 20, 40, 80, 100]);
  });

  it('waits the jittered amounts its random source gives, the same every run', async () => {
    // Prepare
    const draws = [0, 0.75, 0.5];
    const policy: RetryPolicy = { attempts: 4, baseMs: 100, capMs: 2_000, jitter: 'equal' };
    const run = async () => {
      let i = 0;
      const time = virtualTime(() => draws[i++ % draws.length] as number);
      await retryUntil(scripted([1]).attempt, (left) => left === 0, policy, time.env);
      return time.waits;
    };

    // Act
    const first = await run();
    const second = await run();

    // Assess: 100 → [50, 100), 200 → [100, 200), 400 → [200, 400)
    expect(first).toEqual([50, 175, 300]);
    expect(second).toEqual(first);
  });

  it('ends with the error an attempt throws, without trying again', async () => {
    // Prepare
    const time = virtualTime();
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new Error('refused');
    };

    // Act, Assess
    await expect(
      retryUntil(failing, () => true, { attempts: 5, baseMs: 10, capMs: 100 }, time.env),
    ).rejects.toThrow('refused');
    expect(calls).toBe(1);
    expect(time.waits).toEqual([]);
  });
});

describe('sleep', () => {
  it('resolves as soon as its signal aborts', async () => {
    // Prepare
    const controller = new AbortController();
    const started = Date.now();

    // Act
    const slept = sleep(60_000, controller.signal);
    controller.abort();
    await slept;

    // Assess
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
