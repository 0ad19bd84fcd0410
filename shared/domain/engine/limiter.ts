/**
 * Rate-limit maths, pure, over small serializable states (one DynamoDB item each).
 *
 * Two primitives and one composite:
 *
 * - Sliding-window counter (`WindowLimit`, `WindowCounterState`): at most `limit` takes in ANY
 *   interval of length `windowMs`, whatever its alignment. Takes are counted per slot of `slotMs`
 *   (a divisor of `windowMs`); a take at time t is allowed only when the takes recorded in the
 *   k + 1 slots that can overlap (t - windowMs, t] (k = windowMs / slotMs), plus this one, stay
 *   within `limit`. Counting whole slots over-counts by at most one slot, never under-counts, so
 *   the guarantee is exact and the cost is at most one slot of throughput per window.
 *   Why not a plain token bucket for the caps: a bucket of capacity C refilling C per window lets
 *   2C through in one window (a full bucket, then the refill). X counts follows in 15-minute windows
 *   and over 24 hours; a sliding-window guarantee holds for every window the platform may use
 *   (fixed or rolling, any alignment), so it is the one to keep.
 *
 * - Token bucket (`TokenBucketConfig`, `TokenBucketState`): smooths the pace (a few at once, then
 *   one every so often) so the activity looks human. Guarantee: takes in any interval of length L
 *   are at most capacity + refillPerMs * L. It is the pacing layer, not the cap.
 *
 * - Limiter (`LimiterConfig`, `LimiterState`): the windows of one (account, action) or of the
 *   app-wide cap, plus an optional pace bucket and a `blockedUntil` set by a 429 (`drainLimiter`).
 *   A take succeeds only when every part allows it.
 *
 * Time is clamped to be monotone per state: a take with a clock behind the state's `at` is recorded
 * at `at`. The guarantee holds on the recorded times; callers pass a clock within seconds of true
 * time, and the margin between the configured caps and the platform's limits absorbs skew, call
 * latency and follows the owner makes by hand.
 *
 * Conditional writes: the use case reads the item, computes the new state with these functions and
 * writes it back on condition that the item did not change (a version attribute it keeps). Over two
 * limiters (account and app-wide) without transactions: take one, then the other; if the second
 * refuses, give the first back with `refundLimiter` (if that fails, the error is on the safe side).
 */
import { defined } from '../invariant.ts';

const EPSILON = 1e-9;

export type TakeResult<S> =
  | { ok: true; state: S /** The recorded (monotone) time of the take, for refunds. */; takenAt: number }
  | {
      ok: false;
      state: S /** Earliest time the take would succeed; Infinity when never. */;
      availableAt: number;
    };

// ---------------------------------------------------------------------------------------------
// Token bucket

export interface TokenBucketConfig {
  /** Most tokens held: the largest burst. */
  capacity: number;
  /** Tokens added per millisecond. */
  refillPerMs: number;
}

export interface TokenBucketState {
  tokens: number;
  /** Epoch ms the token count refers to; may be in the future after a drain. */
  updatedAt: number;
}

/** A full bucket. */
export function fullBucket(config: TokenBucketConfig, now: number): TokenBucketState {
  return { tokens: config.capacity, updatedAt: now };
}

/** The bucket at `now`: tokens added since `updatedAt`, up to capacity. A past `now` changes nothing. */
export function refill(state: TokenBucketState, config: TokenBucketConfig, now: number): TokenBucketState {
  if (now <= state.updatedAt) return state;
  const tokens = Math.min(config.capacity, state.tokens + (now - state.updatedAt) * config.refillPerMs);
  return { tokens, updatedAt: now };
}

/** Earliest time ≥ now at which `n` tokens are there (Infinity when n exceeds the capacity). */
export function bucketAvailableAt(
  state: TokenBucketState,
  config: TokenBucketConfig,
  now: number,
  n = 1,
): number {
  return earliestTokens(state.tokens, state.updatedAt, config, now, n);
}

/** Tokens at `at` (at ≥ updatedAt), computed exactly as `refill` does. */
function tokensAt(tokens: number, updatedAt: number, config: TokenBucketConfig, at: number): number {
  return at <= updatedAt ? tokens : Math.min(config.capacity, tokens + (at - updatedAt) * config.refillPerMs);
}

/**
 * Earliest whole millisecond ≥ max(now, updatedAt) at which `n` tokens are there, measured from
 * `updatedAt` (not from `now`, so the answer does not depend on when one asks) and nudged to agree
 * exactly with the floating-point test the take itself makes.
 */
function earliestTokens(
  tokens: number,
  updatedAt: number,
  config: TokenBucketConfig,
  now: number,
  n: number,
): number {
  const from = Math.max(now, updatedAt);
  if (tokensAt(tokens, updatedAt, config, from) + EPSILON >= n) return from;
  if (n > config.capacity + EPSILON || config.refillPerMs <= 0) return Number.POSITIVE_INFINITY;
  let at = Math.max(from, updatedAt + Math.ceil((n - tokens - EPSILON) / config.refillPerMs));
  while (tokensAt(tokens, updatedAt, config, at) + EPSILON < n) at++;
  while (at - 1 >= from && tokensAt(tokens, updatedAt, config, at - 1) + EPSILON >= n) at--;
  return at;
}

/** Takes `n` tokens at `now`, or says when they will be there. */
export function tryTake(
  state: TokenBucketState,
  config: TokenBucketConfig,
  now: number,
  n = 1,
): TakeResult<TokenBucketState> {
  const availableAt = bucketAvailableAt(state, config, now, n);
  const at = Math.max(now, state.updatedAt);
  const filled = refill(state, config, at);
  if (availableAt > at) return { ok: false, state: filled, availableAt };
  return { ok: true, state: { tokens: Math.max(0, filled.tokens - n), updatedAt: at }, takenAt: at };
}

/** Empties the bucket until `until` (a 429's reset): no token before then, refilling from then. */
export function drain(state: TokenBucketState, until: number): TokenBucketState {
  return { tokens: 0, updatedAt: Math.max(until, state.updatedAt) };
}

// ---------------------------------------------------------------------------------------------
// Sliding-window counter

export interface WindowLimit {
  /** Most takes in any interval of `windowMs`. */
  limit: number;
  windowMs: number;
  /** Counting granularity; must divide `windowMs`. */
  slotMs: number;
}

export interface WindowCounterState {
  windowMs: number;
  slotMs: number;
  /** Index (epoch ms / slotMs) of the slot counts[0] refers to. */
  slot: number;
  /** Takes per slot, from `slot` to the latest slot with a take. */
  counts: number[];
}

/** Mutable counter with a running sum; the pure functions below wrap it. */
class WindowCounter {
  readonly limit: number;
  readonly windowMs: number;
  readonly slotMs: number;
  private readonly k: number;
  /** Slot indices with takes, ascending, and their counts; `head` is the first live entry. */
  private slots: number[] = [];
  private values: number[] = [];
  private head = 0;
  private sum = 0;

  constructor(limit: WindowLimit) {
    if (!(limit.slotMs > 0) || limit.windowMs % limit.slotMs !== 0) {
      throw new RangeError(`slotMs ${limit.slotMs} must divide windowMs ${limit.windowMs}`);
    }
    this.limit = limit.limit;
    this.windowMs = limit.windowMs;
    this.slotMs = limit.slotMs;
    this.k = limit.windowMs / limit.slotMs;
  }

  static fromState(limit: WindowLimit, states: readonly WindowCounterState[]): WindowCounter {
    const counter = new WindowCounter(limit);
    const same = states.find((s) => s.windowMs === limit.windowMs && s.slotMs === limit.slotMs);
    if (same) {
      same.counts.forEach((count, i) => {
        if (count > 0) counter.add(same.slot + i, count);
      });
      return counter;
    }
    // The structure of the limit changed: seed conservatively with the largest count known over a
    // window at least as long, or as full when nothing covers it. Over-counting is the safe error.
    let latest = Number.NEGATIVE_INFINITY;
    let covered = -1;
    for (const state of states) {
      const total = state.counts.reduce((a, b) => a + b, 0);
      const lastAt = (state.slot + state.counts.length) * state.slotMs - 1;
      if (state.counts.length) latest = Math.max(latest, lastAt);
      if (state.windowMs >= limit.windowMs) covered = Math.max(covered, total);
    }
    if (Number.isFinite(latest)) {
      const seed = covered >= 0 ? covered : limit.limit;
      if (seed > 0) counter.add(Math.floor(latest / limit.slotMs), seed);
    }
    return counter;
  }

  clone(): WindowCounter {
    const copy = new WindowCounter(this);
    copy.slots = this.slots.slice(this.head);
    copy.values = this.values.slice(this.head);
    copy.sum = this.sum;
    return copy;
  }

  /** Latest slot with a take, or -Infinity. */
  lastSlot(): number {
    return this.slots.length > this.head
      ? defined(this.slots[this.slots.length - 1], 'a live slot')
      : Number.NEGATIVE_INFINITY;
  }

  /** Forgets slots that can no longer overlap a window ending in slot `current`. */
  prune(current: number): void {
    const min = current - this.k;
    while (this.head < this.slots.length && defined(this.slots[this.head], 'a live slot') < min) {
      this.sum -= defined(this.values[this.head], 'the count of a live slot');
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
  }

  /** Index of the first live entry that can overlap a window ending in slot `current`. */
  private firstLive(current: number): number {
    const min = current - this.k;
    let i = this.head;
    while (i < this.slots.length && defined(this.slots[i], 'a live slot') < min) i++;
    return i;
  }

  /** Takes counted against a take at time `at`: every recorded slot that can overlap its window. */
  count(at: number): number {
    const first = this.firstLive(Math.floor(at / this.slotMs));
    let stale = 0;
    for (let i = this.head; i < first; i++) stale += defined(this.values[i], 'the count of a live slot');
    return this.sum - stale;
  }

  /** Earliest time ≥ at when `n` more takes fit (queries never change the counter). */
  availableAt(at: number, n: number): number {
    if (n > this.limit) return Number.POSITIVE_INFINITY;
    const first = this.firstLive(Math.floor(at / this.slotMs));
    let live = this.sum;
    for (let i = this.head; i < first; i++) live -= defined(this.values[i], 'the count of a live slot');
    let excess = live + n - this.limit;
    if (excess <= 0) return at;
    for (let i = first; i < this.slots.length; i++) {
      excess -= defined(this.values[i], 'the count of a live slot');
      if (excess <= 0)
        return Math.max(at, (defined(this.slots[i], 'a live slot') + this.k + 1) * this.slotMs);
    }
    return Number.POSITIVE_INFINITY; // unreachable: dropping every slot frees the whole limit
  }

  /** Records `n` takes in `slot` (takes come in time order; older slots are forgotten). */
  add(slot: number, n: number): void {
    this.prune(slot);
    const last = this.slots.length - 1;
    if (last >= this.head && this.slots[last] === slot) {
      this.values[last] = defined(this.values[last], 'the count of a live slot') + n;
    } else if (last >= this.head && defined(this.slots[last], 'a live slot') > slot) {
      // Out of order (only from refunds or reseeding): insert in place.
      let i = last;
      while (i >= this.head && defined(this.slots[i], 'a live slot') > slot) i--;
      if (i >= this.head && this.slots[i] === slot)
        this.values[i] = defined(this.values[i], 'the count of a live slot') + n;
      else {
        this.slots.splice(i + 1, 0, slot);
        this.values.splice(i + 1, 0, n);
      }
    } else {
      this.slots.push(slot);
      this.values.push(n);
    }
    this.sum += n;
  }

  /** Gives back up to `n` takes recorded in `slot`; never goes below zero. */
  remove(slot: number, n: number): void {
    for (let i = this.head; i < this.slots.length; i++) {
      if (this.slots[i] === slot) {
        const taken = Math.min(n, defined(this.values[i], 'the count of a live slot'));
        this.values[i] = defined(this.values[i], 'the count of a live slot') - taken;
        this.sum -= taken;
        return;
      }
    }
  }

  toState(): WindowCounterState {
    if (this.head >= this.slots.length) {
      return { windowMs: this.windowMs, slotMs: this.slotMs, slot: 0, counts: [] };
    }
    let first = this.head;
    while (first < this.slots.length && this.values[first] === 0) first++;
    if (first >= this.slots.length) {
      return { windowMs: this.windowMs, slotMs: this.slotMs, slot: 0, counts: [] };
    }
    const base = defined(this.slots[first], 'a live slot');
    const counts = new Array<number>(
      defined(this.slots[this.slots.length - 1], 'a live slot') - base + 1,
    ).fill(0);
    for (let i = first; i < this.slots.length; i++)
      counts[defined(this.slots[i], 'a live slot') - base] = defined(
        this.values[i],
        'the count of a live slot',
      );
    return { windowMs: this.windowMs, slotMs: this.slotMs, slot: base, counts };
  }
}

function windowOf(state: WindowCounterState | undefined, limit: WindowLimit): WindowCounter {
  return WindowCounter.fromState(limit, state ? [state] : []);
}

/** An empty counter for `limit`. */
export function emptyWindow(limit: WindowLimit): WindowCounterState {
  return { windowMs: limit.windowMs, slotMs: limit.slotMs, slot: 0, counts: [] };
}

/** Takes counted against a take at `now` (the conservative count the limit is checked on). */
export function windowCount(state: WindowCounterState, limit: WindowLimit, now: number): number {
  const counter = windowOf(state, limit);
  return counter.count(Math.max(now, counter.lastSlot() * limit.slotMs));
}

/** Earliest time ≥ now at which `n` more takes fit the window (Infinity when n > limit). */
export function windowAvailableAt(state: WindowCounterState, limit: WindowLimit, now: number, n = 1): number {
  const counter = windowOf(state, limit);
  return counter.availableAt(Math.max(now, counter.lastSlot() * limit.slotMs), n);
}

/** Records `n` takes at `now` if they fit every window of length `windowMs`, or says when they will. */
export function tryTakeWindow(
  state: WindowCounterState,
  limit: WindowLimit,
  now: number,
  n = 1,
): TakeResult<WindowCounterState> {
  const counter = windowOf(state, limit);
  const at = Math.max(now, counter.lastSlot() * limit.slotMs);
  const availableAt = counter.availableAt(at, n);
  if (availableAt > at) return { ok: false, state: counter.toState(), availableAt };
  counter.add(Math.floor(at / limit.slotMs), n);
  return { ok: true, state: counter.toState(), takenAt: at };
}

// ---------------------------------------------------------------------------------------------
// Limiter: windows + pace + 429 block

export interface LimiterConfig {
  windows: readonly WindowLimit[];
  pace?: TokenBucketConfig | undefined;
}

export interface LimiterState {
  /** Latest recorded take (epoch ms); takes are recorded at max(now, at). */
  at: number;
  /** No take before this (a 429 until the platform's reset). */
  blockedUntil: number;
  windows: WindowCounterState[];
  pace?: TokenBucketState | undefined;
}

/**
 * Mutable twin of the pure limiter functions, for simulations (slot sequences, forecasts) that
 * step thousands of takes. Same maths; `toState()` gives the plain state back.
 */
export class LimiterSimulator {
  private at: number;
  private blockedUntil: number;
  private readonly windows: WindowCounter[];
  private pace: TokenBucketState | undefined;
  private readonly paceConfig: TokenBucketConfig | undefined;

  private constructor(
    at: number,
    blockedUntil: number,
    windows: WindowCounter[],
    pace: TokenBucketState | undefined,
    paceConfig: TokenBucketConfig | undefined,
  ) {
    this.at = at;
    this.blockedUntil = blockedUntil;
    this.windows = windows;
    this.pace = pace;
    this.paceConfig = paceConfig;
  }

  static from(state: LimiterState, config: LimiterConfig): LimiterSimulator {
    const windows = config.windows.map((limit) => WindowCounter.fromState(limit, state.windows));
    const pace = config.pace ? { ...(state.pace ?? fullBucket(config.pace, 0)) } : undefined;
    return new LimiterSimulator(state.at, state.blockedUntil, windows, pace, config.pace);
  }

  clone(): LimiterSimulator {
    return new LimiterSimulator(
      this.at,
      this.blockedUntil,
      this.windows.map((w) => w.clone()),
      this.pace ? { ...this.pace } : undefined,
      this.paceConfig,
    );
  }

  /** The time a take at `now` is recorded at. */
  recordTime(now: number): number {
    return Math.max(now, this.at);
  }

  availableAt(now: number, n = 1): number {
    const from = Math.max(now, this.at, this.blockedUntil);
    let at = from;
    for (const window of this.windows) at = Math.max(at, window.availableAt(from, n));
    const pace = this.pace;
    const config = this.paceConfig;
    if (pace && config) {
      at = Math.max(at, earliestTokens(pace.tokens, pace.updatedAt, config, from, n));
    }
    return at;
  }

  /** Records a take; returns its recorded time. Throws RangeError when it does not fit at `now`. */
  take(now: number, n = 1): number {
    const at = this.recordTime(now);
    const availableAt = this.availableAt(at, n);
    if (availableAt > at) throw new RangeError(`take of ${n} at ${at} does not fit before ${availableAt}`);
    this.record(at, n);
    return at;
  }

  /** Records a take at `at` without checking it fits: `at` must come from availableAt. */
  record(at: number, n = 1): void {
    for (const window of this.windows) window.add(Math.floor(at / window.slotMs), n);
    const pace = this.pace;
    const config = this.paceConfig;
    if (pace && config && at > pace.updatedAt) {
      pace.tokens = Math.min(config.capacity, pace.tokens + (at - pace.updatedAt) * config.refillPerMs);
      pace.updatedAt = at;
    }
    if (pace) pace.tokens = Math.max(0, pace.tokens - n);
    this.at = Math.max(this.at, at);
  }

  drain(until: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, until);
  }

  refund(takenAt: number, n = 1): void {
    for (const window of this.windows) window.remove(Math.floor(takenAt / window.slotMs), n);
    if (this.pace && this.paceConfig) {
      this.pace = { ...this.pace, tokens: Math.min(this.paceConfig.capacity, this.pace.tokens + n) };
    }
  }

  usage(now: number): LimiterUsage[] {
    const at = Math.max(now, this.at);
    return this.windows.map((w) => ({ windowMs: w.windowMs, limit: w.limit, used: w.count(at) }));
  }

  toState(): LimiterState {
    const state: LimiterState = {
      at: this.at,
      blockedUntil: this.blockedUntil,
      windows: this.windows.map((w) => w.toState()),
    };
    if (this.pace) state.pace = { ...this.pace };
    return state;
  }
}

export interface LimiterUsage {
  windowMs: number;
  limit: number;
  /** Takes counted against a take now (conservative: whole slots). */
  used: number;
}

/** A fresh limiter: empty windows, a full pace bucket, not blocked. */
export function newLimiter(config: LimiterConfig): LimiterState {
  return LimiterSimulator.from({ at: 0, blockedUntil: 0, windows: [] }, config).toState();
}

/** Earliest time ≥ now at which `n` takes fit every part of the limiter (Infinity when never). */
export function limiterAvailableAt(state: LimiterState, config: LimiterConfig, now: number, n = 1): number {
  return LimiterSimulator.from(state, config).availableAt(now, n);
}

/** Records `n` takes at `now` when every part allows them, or says when they will. */
export function tryTakeLimiter(
  state: LimiterState,
  config: LimiterConfig,
  now: number,
  n = 1,
): TakeResult<LimiterState> {
  const sim = LimiterSimulator.from(state, config);
  const at = sim.recordTime(now);
  const availableAt = sim.availableAt(at, n);
  if (availableAt > at) return { ok: false, state, availableAt };
  const takenAt = sim.take(at, n);
  return { ok: true, state: sim.toState(), takenAt };
}

/** A 429: nothing passes before `until` (the platform's reset time). */
export function drainLimiter(state: LimiterState, until: number): LimiterState {
  return { ...state, blockedUntil: Math.max(state.blockedUntil, until) };
}

/** Gives back `n` takes recorded at `takenAt` (when a second limiter refused, or the call was not made). */
export function refundLimiter(
  state: LimiterState,
  config: LimiterConfig,
  takenAt: number,
  n = 1,
): LimiterState {
  const sim = LimiterSimulator.from(state, config);
  sim.refund(takenAt, n);
  return sim.toState();
}

/** How full each window is for a take at `now`, for status pages. */
export function limiterUsage(state: LimiterState, config: LimiterConfig, now: number): LimiterUsage[] {
  return LimiterSimulator.from(state, config).usage(now);
}
