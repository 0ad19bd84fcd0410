import { defined } from '../invariant.ts';
import { DAY_MS } from './policy.ts';
import {
  type CapacityModel,
  Dispatcher,
  type DispatchOptions,
  isClaimable,
  type Lane,
  type SchedulableTask,
} from './schedule.ts';

/**
 * Forecast: replays the serving rules of pickNext (schedule.ts) forward over the open tasks under
 * the caps, pace, quiet hours and app-wide share, and says which promises will be broken and by how
 * much, instead of hiding it. Assumes no new follower arrives and every follow succeeds; with a
 * backlog, that is the best case, so a promise it calls at risk is at risk.
 *
 * It replays exactly what the act step does tick by tick with pickNext (property-tested against that
 * simulation). Cost: O(n log n) plus the slots simulated, and O(prefix) per follow for the guard on
 * tighter tasks not released yet; 10,000 tasks (a burst, a 5,000 late backlog with 5,000 new, or
 * 10,000 backfill) take 10–60 ms warm on a loaded 2-core machine (test/domain/engine-forecast.test.ts).
 */

export interface ForecastOptions extends DispatchOptions {
  now: number;
  capacity: CapacityModel;
  /** Simulate at most this far (default 90 days); tasks not served by then are reported late. */
  horizonMs?: number | undefined;
}

export interface ForecastServed {
  targetId: string;
  lane: Lane | 'in_progress';
  /** Expected follow time. */
  at: number;
  deadline: number;
  backfill: boolean;
}

export interface LatePromise {
  targetId: string;
  deadline: number;
  /** Expected follow time; undefined when not within the horizon (or never: capacity is zero). */
  expectedAt: number | undefined;
  /** How late; for a task beyond the horizon, a lower bound (horizon end - deadline). */
  latenessMs: number;
}

export interface ForecastSummary {
  /** Tasks not final, of every state. */
  open: number;
  awaitingApproval: number;
  /** Promised tasks expected on time. */
  onTime: number;
  /** Promised tasks expected late, including those already late. */
  atRisk: number;
  /** Promised tasks whose deadline has already passed. */
  alreadyLate: number;
  maxLatenessMs: number;
  /** Backfill tasks (no promise). */
  backfill: number;
  /** Tasks (promised or backfill) not served within the horizon. */
  beyondHorizon: number;
}

export interface Forecast {
  now: number;
  horizonEnd: number;
  /** Promises expected to be broken, latest first. */
  late: LatePromise[];
  /** Every task served within the horizon, in serving order. */
  served: ForecastServed[];
  /** When the last promised task is expected to be followed (undefined: beyond the horizon; now: none). */
  promisedCompletionAt: number | undefined;
  /** When all scheduled work, backfill included, is expected done. */
  completionAt: number | undefined;
  summary: ForecastSummary;
}

const FINAL = new Set(['done', 'requested', 'gone', 'skipped', 'failed']);

export function forecast<T extends SchedulableTask>(tasks: readonly T[], options: ForecastOptions): Forecast {
  const { now } = options;
  const horizonEnd = now + (options.horizonMs ?? 90 * DAY_MS);
  const served: ForecastServed[] = [];
  const late: LatePromise[] = [];
  let open = 0;
  let awaitingApproval = 0;
  let promised = 0;
  let backfill = 0;
  let alreadyLate = 0;
  /** Tasks the dispatcher may serve, with their deadlines. */
  const waiting = new Map<T, number>();

  for (const task of tasks) {
    if (FINAL.has(task.state)) continue;
    open++;
    if (task.state === 'pending_approval') {
      awaitingApproval++;
      continue;
    }
    if (task.deadline === undefined) continue;
    if (task.backfill) backfill++;
    else {
      promised++;
      if (task.deadline < now) alreadyLate++;
    }
    if (task.state === 'in_progress' && !isClaimable(task, now)) {
      // A worker holds it right now; its token is already taken.
      served.push({
        targetId: task.targetId,
        lane: 'in_progress',
        at: now,
        deadline: task.deadline,
        backfill: Boolean(task.backfill),
      });
      continue;
    }
    waiting.set(task, task.deadline);
  }

  const dispatcher = new Dispatcher(tasks, now, options.capacity, options);
  for (;;) {
    const decision = dispatcher.next(horizonEnd);
    if (!decision) break;
    const task = decision.task;
    const deadline = defined(waiting.get(task), 'the deadline of a task the dispatcher served');
    waiting.delete(task);
    served.push({
      targetId: task.targetId,
      lane: decision.lane,
      at: decision.at,
      deadline,
      backfill: Boolean(task.backfill),
    });
  }

  let maxLatenessMs = 0;
  let promisedCompletionAt: number | undefined = now;
  let completionAt: number | undefined = now;
  for (const s of served) {
    completionAt = Math.max(completionAt ?? now, s.at);
    if (s.backfill) continue;
    promisedCompletionAt = Math.max(promisedCompletionAt ?? now, s.at);
    if (s.at > s.deadline) {
      late.push({
        targetId: s.targetId,
        deadline: s.deadline,
        expectedAt: s.at,
        latenessMs: s.at - s.deadline,
      });
    }
  }
  for (const [task, deadline] of waiting) {
    completionAt = undefined;
    if (task.backfill) continue;
    promisedCompletionAt = undefined;
    late.push({
      targetId: task.targetId,
      deadline,
      expectedAt: undefined,
      latenessMs: Math.max(0, horizonEnd - deadline),
    });
  }
  for (const l of late) maxLatenessMs = Math.max(maxLatenessMs, l.latenessMs);
  late.sort((a, b) => b.latenessMs - a.latenessMs || a.deadline - b.deadline);

  return {
    now,
    horizonEnd,
    late,
    served,
    promisedCompletionAt,
    completionAt,
    summary: {
      open,
      awaitingApproval,
      onTime: promised - late.length,
      atRisk: late.length,
      alreadyLate,
      maxLatenessMs,
      backfill,
      beyondHorizon: waiting.size,
    },
  };
}
