/**
 * Test support for the engine's scheduling properties: plays the act step tick by tick, as the use
 * case will (pickNext on the open tasks, then a take from every real limiter state for each pick),
 * with new followers arriving over time. Pure functions only; everything is checked by the tests.
 */
import {
  type CapacityModel,
  type LimiterConfig,
  type LimiterState,
  newLimiter,
  pickNext,
  type QuietCalendar,
  type SchedulableTask,
  tryTakeLimiter,
} from '../../shared/domain/engine/index.ts';

export interface SimTask extends SchedulableTask {
  /** When reconcile creates the task (it is invisible to pickNext before). */
  createdAt: number;
  /** Set when the simulation follows back. */
  servedAt?: number;
  servedLane?: string;
}

export interface SimResult {
  served: SimTask[];
  /** Recorded times of every take, per limiter. */
  takes: number[];
  states: LimiterState[];
  pickCalls: number;
}

export interface SimOptions {
  start: number;
  end: number;
  tickMs: number;
  limiters: LimiterConfig[];
  quiet?: QuietCalendar | undefined;
  reserve?: number;
}

/**
 * Ticks from `start` to `end`. At each tick, pickNext decides the follows for the whole tick
 * (`until` = end of tick); each pick must be accepted by every limiter's pure tryTake at its time.
 */
export function simulate(tasks: SimTask[], options: SimOptions): SimResult {
  let states = options.limiters.map((config) => newLimiter(config));
  const served: SimTask[] = [];
  const takes: number[] = [];
  const byCreation = [...tasks].sort((a, b) => a.createdAt - b.createdAt);
  const open: SimTask[] = [];
  let next = 0;
  let pickCalls = 0;
  let t = options.start;
  while (t < options.end) {
    while (next < byCreation.length && byCreation[next]!.createdAt <= t) open.push(byCreation[next++]!);
    const capacity: CapacityModel = {
      limiters: options.limiters.map((config, i) => ({ config, state: states[i]! })),
      quiet: options.quiet,
    };
    const pending = open.filter((task) => task.state === 'scheduled');
    pickCalls++;
    const result = pickNext(pending, t, capacity, {
      until: t + options.tickMs - 1,
      reserve: options.reserve,
    });
    for (const pick of result.picks) {
      states = states.map((state, i) => {
        const taken = tryTakeLimiter(state, options.limiters[i]!, pick.at);
        if (!taken.ok)
          throw new Error(`limiter ${i} refused a pick at ${pick.at} (available ${taken.availableAt})`);
        return taken.state;
      });
      const task = pick.task as SimTask;
      task.state = 'done';
      task.servedAt = pick.at;
      task.servedLane = pick.lane;
      served.push(task);
      takes.push(pick.at);
    }
    // Jump idle stretches: to the tick of the next wake-up or the next arrival.
    const nextArrival = byCreation[next]?.createdAt ?? Number.POSITIVE_INFINITY;
    const wake = result.wakeAt ?? Number.POSITIVE_INFINITY;
    const target = Math.min(nextArrival, wake, options.end);
    const ticks = Math.max(1, Math.floor((target - t) / options.tickMs));
    t += ticks * options.tickMs;
  }
  return { served, takes, states, pickCalls };
}

/** Most items found in any closed interval [t, t + length] (times sorted ascending). */
export function maxInAnyWindow(times: readonly number[], length: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! <= sorted[i]! + length) j++;
    best = Math.max(best, j - i);
  }
  return best;
}
