/**
 * The one retry loop of the adapters: try, and while the result is not yet what the caller waits
 * for (a batch with unprocessed items, a table not yet ACTIVE), wait and try again, with the waits
 * set by an explicit policy. Results, not exceptions, drive it: an attempt that throws ends the
 * loop with that error, since the callers' errors (a refused call, a missing table) are not worth
 * repeating. Randomness, time and sleep are injected, so a test sees the same waits every run.
 */

export interface RetryPolicy {
  /** Attempts at most, the first included (Infinity: until `deadlineMs`). */
  readonly attempts: number;
  /** The wait after the first attempt (ms), before jitter. */
  readonly baseMs: number;
  /** No wait (before jitter) is longer (ms). */
  readonly capMs: number;
  /** Growth of the wait per attempt (default 2; 1 polls at a steady pace). */
  readonly factor?: number | undefined;
  /**
   * `none` (default): the wait as computed. `equal`: half of it plus a random share of the other
   * half, so waits never bunch up at zero. `full`: a random share of all of it.
   */
  readonly jitter?: 'none' | 'equal' | 'full' | undefined;
  /** Give up once this long (ms) has passed since the first attempt began (checked after each attempt). */
  readonly deadlineMs?: number | undefined;
}

export interface RetryEnv {
  /** Default: a timer. */
  sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Numbers in [0, 1) for the jitter. Default: Math.random. */
  random?: (() => number) | undefined;
  /** Epoch ms, for `deadlineMs`. Default: Date.now. */
  now?: (() => number) | undefined;
}

export interface RetryOutcome<T> {
  /** Whether the last attempt's value was what the caller waited for. */
  settled: boolean;
  /** The last attempt's value. */
  value: T;
  /** Attempts made. */
  attempts: number;
}

/** The wait after attempt `attempt` (1 = after the first) under `policy`. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const wait = Math.min(policy.capMs, policy.baseMs * (policy.factor ?? 2) ** Math.max(0, attempt - 1));
  switch (policy.jitter ?? 'none') {
    case 'none':
      return wait;
    case 'equal':
      return wait / 2 + random() * (wait / 2);
    case 'full':
      return random() * wait;
  }
}

/**
 * Calls `attempt` (with its number, from 1) until `settled` holds for its value, waiting
 * `backoffMs` between calls; stops unsettled after `policy.attempts` calls or past `deadlineMs`.
 * The caller decides what an unsettled outcome means (usually a named error with the last value).
 */
export async function retryUntil<T>(
  attempt: (n: number) => Promise<T>,
  settled: (value: T) => boolean,
  policy: RetryPolicy,
  env: RetryEnv = {},
): Promise<RetryOutcome<T>> {
  const pause = env.sleep ?? sleep;
  const random = env.random ?? Math.random;
  const now = env.now ?? Date.now;
  const start = policy.deadlineMs === undefined ? 0 : now();
  for (let n = 1; ; n++) {
    const value = await attempt(n);
    if (settled(value)) return { settled: true, value, attempts: n };
    const outOfTime = policy.deadlineMs !== undefined && now() - start >= policy.deadlineMs;
    if (n >= policy.attempts || outOfTime) return { settled: false, value, attempts: n };
    await pause(backoffMs(n, policy, random));
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
