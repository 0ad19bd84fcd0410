import { defined } from '../invariant.ts';
import type { PromiseWindow } from './policy.ts';
import type { QuietCalendar } from './quiet-hours.ts';
import type { TaskPlan } from './task.ts';

/**
 * Planning follow-back tasks (`planTask`, `planBatch`).
 *
 * A task's window is [windowStart, deadline] with windowStart = promise start + notBefore and
 * deadline = promise start + within. Its due time is
 * drawn inside the first `spread` (default half) of what is left of the window, over ACTIVE time
 * only (quiet hours are skipped), so follow-backs land at human hours and the second half of the
 * window stays as slack for caps, quiet hours and outages. A batch detected together is stratified
 * (one draw per equal share of the spread), so 200 followers from one tick are spread evenly rather
 * than bunched. Randomness is injected (`random: () => number`); `seededRandom(key)` gives a
 * deterministic stream, e.g. keyed by account and target so a retried reconcile plans the same.
 */

export interface PlanOptions {
  /** The planning time: nothing is planned before it. */
  now: number;
  random: () => number;
  /** Share of the remaining window due times are drawn in (0 < spread <= 1). Default 0.5. */
  spread?: number | undefined;
  /** Quiet hours to plan around (due times fall in active time whenever the window has some). */
  quiet?: QuietCalendar | undefined;
}

export const DEFAULT_SPREAD = 0.5;

/** The window of a promise starting at `promiseStart`. */
export function windowOf(
  promiseStart: number,
  window: PromiseWindow,
): { windowStart: number; deadline: number } {
  return { windowStart: promiseStart + window.notBeforeMs, deadline: promiseStart + window.withinMs };
}

/** The instant at fraction `u` of the active time in [start, end]; `start` when there is none. */
function atActiveFraction(start: number, end: number, u: number, quiet: QuietCalendar | undefined): number {
  if (!quiet || end <= start) return start + Math.floor(u * (end - start));
  const intervals = quiet.activeIntervals(start, end);
  const total = intervals.reduce((sum, i) => sum + (i.end - i.start), 0);
  if (total <= 0) return start;
  let target = Math.floor(u * total);
  for (const interval of intervals) {
    const length = interval.end - interval.start;
    if (target < length) return interval.start + target;
    target -= length;
  }
  // Not reached while u < 1: the draw falls inside some interval.
  return defined(intervals.at(-1), 'an active interval (their total is positive)').end - 1;
}

function planAt(promiseStart: number, window: PromiseWindow, options: PlanOptions, u: number): TaskPlan {
  const { windowStart, deadline } = windowOf(promiseStart, window);
  const from = Math.max(windowStart, options.now);
  if (from > deadline) return { windowStart, deadline, dueAt: options.now }; // born late
  const spread = Math.min(1, Math.max(0, options.spread ?? DEFAULT_SPREAD));
  const to = from + Math.floor(spread * (deadline - from));
  let dueAt = atActiveFraction(from, to, Math.min(Math.max(u, 0), 1 - Number.EPSILON), options.quiet);
  if (options.quiet?.isQuiet(dueAt)) {
    // The spread part is all quiet: the first active moment of the window, if there is one.
    const active = options.quiet.nextActive(dueAt);
    dueAt = active <= deadline ? active : from;
  }
  return { windowStart, deadline, dueAt: Math.min(Math.max(dueAt, from), deadline) };
}

/** Plans one task: window from the promise start, due time drawn in the window's active spread. */
export function planTask(promiseStart: number, window: PromiseWindow, options: PlanOptions): TaskPlan {
  return planAt(promiseStart, window, options, options.random());
}

/**
 * Plans tasks detected together: the i-th of n gets a draw in its own 1/n share of the spread
 * (shares shuffled), so a burst of followers is paced evenly instead of bunched.
 */
export function planBatch(
  promiseStarts: readonly number[],
  window: PromiseWindow,
  options: PlanOptions,
): TaskPlan[] {
  const n = promiseStarts.length;
  const order = promiseStarts.map((_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(options.random() * (i + 1));
    const share = defined(order[i], 'a share of the spread');
    order[i] = defined(order[j], 'a share of the spread');
    order[j] = share;
  }
  return promiseStarts.map((start, i) =>
    planAt(start, window, options, (defined(order[i], 'the share of this task') + options.random()) / n),
  );
}
