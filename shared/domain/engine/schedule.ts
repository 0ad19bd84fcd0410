/**
 * Planning and serving follow-back tasks, one job per file:
 *
 * - random.ts: seeded randomness (`seededRandom`);
 * - plan.ts: planning a task's window and due time (`planTask`, `planBatch`);
 * - capacity.ts: limiters and quiet hours as a sequence of slots (`CapacityCursor`, `slotTimes`);
 * - entry-heap.ts: the dispatcher's entries and the min-heap of its late and backfill lanes;
 * - dispatcher.ts: the serving rules (lanes, slack, reserve) as a step machine (`Dispatcher`);
 * - here: `pickNext`, which tasks to act on now, and the exports of all of them.
 */
import type { CapacityModel } from './capacity.ts';
import {
  Dispatcher,
  type DispatchOptions,
  type Lane,
  type SchedulableTask,
  type ServiceDecision,
} from './dispatcher.ts';

export { CapacityCursor, type CapacityModel, slotTimes } from './capacity.ts';
export {
  Dispatcher,
  type DispatchOptions,
  isClaimable,
  type Lane,
  releaseOf,
  type SchedulableTask,
  type ServiceDecision,
} from './dispatcher.ts';
export { DEFAULT_SPREAD, type PlanOptions, planBatch, planTask, windowOf } from './plan.ts';
export { seededRandom } from './random.ts';

export interface PickOptions extends DispatchOptions {
  /** Decide the follows for every slot up to this time (default: `now`, the slots open right now). */
  until?: number | undefined;
  /** At most this many decisions. */
  max?: number | undefined;
}

export interface PickResult<T> {
  /** What to act on, in order, with the planned slot of each (all ≤ `until`). */
  picks: Array<ServiceDecision<T>>;
  /** Every released, claimable task in serving order with its lane (the picks come first). */
  queue: Array<{ task: T; lane: Lane }>;
  /** Late or backfill follows the capacity could take now without risking an on-time task. */
  lateAllowance: number;
  /** When to look again: the next slot if work is waiting, else the next due time (undefined: never). */
  wakeAt: number | undefined;
}

/**
 * Which tasks to act on now, in order. Lanes and order as dispatcher.ts describes them; the
 * use case claims each pick, takes a token from the real limiters (conditional write) and stops at
 * the first refusal (another worker may have used the capacity). Pure: reads tasks and limiter
 * states, changes nothing.
 */
export function pickNext<T extends SchedulableTask>(
  tasks: readonly T[],
  now: number,
  capacity: CapacityModel,
  options: PickOptions = {},
): PickResult<T> {
  const dispatcher = new Dispatcher(tasks, now, capacity, options);
  const queue = dispatcher.queue();
  const lateAllowance = dispatcher.lateAllowance();
  const until = options.until ?? now;
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const picks: Array<ServiceDecision<T>> = [];
  while (picks.length < max) {
    const decision = dispatcher.next(until);
    if (!decision) break;
    picks.push(decision);
  }
  let wakeAt: number | undefined;
  const after = dispatcher.next();
  if (after) wakeAt = after.at;
  return { picks, queue, lateAllowance, wakeAt };
}
