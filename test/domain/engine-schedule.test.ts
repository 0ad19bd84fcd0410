import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../shared/config/policy.ts';
import {
  accountLimiterConfig,
  type CapacityModel,
  DAY_MS,
  HOUR_MS,
  isQuietAt,
  type LimiterConfig,
  MINUTE_MS,
  newLimiter,
  nextActiveAt,
  type PromiseWindow,
  pickNext,
  planBatch,
  planTask,
  promiseWindowOf,
  QuietCalendar,
  type QuietHours,
  quietCalendarOf,
  type SchedulableTask,
  seededRandom,
  slotTimes,
  suggestedReserve,
  tryTakeLimiter,
} from '../../shared/domain/engine/index.ts';
import { maxInAnyWindow, type SimTask, simulate } from './engine-sim.ts';

const T0 = Date.UTC(2026, 0, 5, 8, 0); // a Monday, 08:00 UTC
const WINDOW: PromiseWindow = { notBeforeMs: 2 * HOUR_MS, withinMs: 72 * HOUR_MS };

function capacityOf(config: LimiterConfig, quiet?: QuietCalendar): CapacityModel {
  return { limiters: [{ config, state: newLimiter(config) }], quiet };
}

function task(
  id: string,
  dueAt: number,
  deadline: number,
  extra: Partial<SchedulableTask> = {},
): SchedulableTask {
  return { targetId: id, state: 'scheduled', dueAt, deadline, ...extra };
}

/** One follow per hour, no burst: easy to reason about. */
const ONE_PER_HOUR: LimiterConfig = {
  windows: [{ limit: 1, windowMs: HOUR_MS, slotMs: MINUTE_MS }],
};

describe('planning a task', () => {
  it('draws the due time in the first half of the window, deterministically from the seed', () => {
    // Prepare
    const options = { now: T0, random: seededRandom('acct-1/1790000000000000001') };

    // Act
    const plan = planTask(T0, WINDOW, options);
    const again = planTask(T0, WINDOW, { now: T0, random: seededRandom('acct-1/1790000000000000001') });

    // Assess
    expect(plan.windowStart).toBe(T0 + 2 * HOUR_MS);
    expect(plan.deadline).toBe(T0 + 72 * HOUR_MS);
    expect(plan.dueAt).toBeGreaterThanOrEqual(plan.windowStart);
    expect(plan.dueAt).toBeLessThanOrEqual(plan.windowStart + 35 * HOUR_MS);
    expect(again).toEqual(plan);
  });

  it('never plans a task outside its window, and avoids quiet hours when the window has active time', () => {
    const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo'];
    fc.assert(
      fc.property(
        fc.integer({ min: T0, max: T0 + 400 * DAY_MS }),
        fc.integer({ min: -100 * HOUR_MS, max: 10 * HOUR_MS }),
        fc.integer({ min: 0, max: 48 }),
        fc.integer({ min: 1, max: 120 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.option(
          fc.tuple(
            fc.integer({ min: 0, max: 23 }),
            fc.integer({ min: 1, max: 14 }),
            fc.constantFrom(...zones),
          ),
          {
            nil: undefined,
          },
        ),
        fc.integer(),
        (now, startOffset, notBeforeHours, extraHours, spread, quietSpec, seed) => {
          // Prepare
          const window = {
            notBeforeMs: notBeforeHours * HOUR_MS,
            withinMs: (notBeforeHours + extraHours) * HOUR_MS,
          };
          const promiseStart = now + startOffset;
          const quiet = quietSpec
            ? new QuietCalendar(
                {
                  start: `${String(quietSpec[0]).padStart(2, '0')}:00`,
                  end: `${String((quietSpec[0] + quietSpec[1]) % 24).padStart(2, '0')}:00`,
                },
                quietSpec[2],
              )
            : undefined;

          // Act
          const plan = planTask(promiseStart, window, { now, random: seededRandom(seed), spread, quiet });

          // Assess
          expect(plan.windowStart).toBe(promiseStart + window.notBeforeMs);
          expect(plan.deadline).toBe(promiseStart + window.withinMs);
          const from = Math.max(plan.windowStart, now);
          if (from > plan.deadline) {
            expect(plan.dueAt).toBe(now); // born late: act as soon as possible
            return;
          }
          expect(plan.dueAt).toBeGreaterThanOrEqual(from);
          expect(plan.dueAt).toBeLessThanOrEqual(plan.deadline);
          if (quiet && quiet.activeMsBetween(from, plan.deadline) > 0)
            expect(quiet.isQuiet(plan.dueAt)).toBe(false);
          if (!quiet) expect(plan.dueAt).toBeLessThanOrEqual(from + spread * (plan.deadline - from));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('spreads a burst of followers evenly instead of bunching them at the window start', () => {
    // Prepare
    const starts = Array.from({ length: 200 }, () => T0);

    // Act
    const plans = planBatch(starts, WINDOW, { now: T0, random: seededRandom(7) });

    // Assess: the k-th earliest due time falls in the k-th two-hundredth of the 35-hour spread.
    const span = 35 * HOUR_MS;
    const due = plans.map((p) => p.dueAt - (T0 + 2 * HOUR_MS)).sort((a, b) => a - b);
    due.forEach((offset, k) => {
      expect(offset).toBeGreaterThanOrEqual(Math.floor((k * span) / 200) - 1);
      expect(offset).toBeLessThanOrEqual(Math.ceil(((k + 1) * span) / 200) + 1);
    });
  });

  it('plans due times inside the active hours of the account', () => {
    // Prepare
    const policy = resolvePolicy('bluesky', { timeZone: 'Europe/Paris' });
    const quiet = quietCalendarOf(policy);
    const starts = Array.from({ length: 300 }, (_, i) => T0 + i * 7 * MINUTE_MS);

    // Act
    const plans = planBatch(starts, promiseWindowOf(policy), { now: T0, random: seededRandom(3), quiet });

    // Assess
    expect(plans.filter((p) => isQuietAt(p.dueAt, policy.quietHours, policy.timeZone))).toEqual([]);
  });
});

describe('pickNext', () => {
  it('serves a new follower before a late backlog (plain EDF would serve the backlog first)', () => {
    // Prepare: 50 tasks long past their deadline, 1 new one due now with its deadline in 3 days.
    const late = Array.from({ length: 50 }, (_, i) =>
      task(`late-${i}`, T0 - 10 * DAY_MS, T0 - 7 * DAY_MS + i),
    );
    const fresh = task('new', T0, T0 + 3 * DAY_MS);

    // Act
    const result = pickNext([...late, fresh], T0, capacityOf(ONE_PER_HOUR));

    // Assess
    expect(result.picks.map((p) => [p.task.targetId, p.lane])).toEqual([['new', 'on_time']]);
    expect(result.queue[1]).toMatchObject({ task: { targetId: 'late-0' }, lane: 'late' });
    expect(result.wakeAt).toBe(T0 + HOUR_MS + MINUTE_MS);
  });

  it('sends the task that cannot make its deadline to the late lane so the ones behind it stay on time', () => {
    // Prepare: one follow per hour; A, B and C due now with deadlines 0:30, 1:30 and 1:30; D at 3:30.
    // EDF serves A now and B in an hour; C could only be served at 2:00, after its deadline.
    const tasks = [
      task('A', T0, T0 + 30 * MINUTE_MS),
      task('B', T0, T0 + 90 * MINUTE_MS),
      task('C', T0, T0 + 90 * MINUTE_MS),
      task('D', T0, T0 + 210 * MINUTE_MS),
    ];

    // Act
    const result = pickNext(tasks, T0, capacityOf(ONE_PER_HOUR));

    // Assess
    expect(result.queue.map((q) => `${q.task.targetId}:${q.lane}`)).toEqual([
      'A:on_time',
      'B:on_time',
      'D:on_time',
      'C:late',
    ]);
  });

  it('holds late work back when the on-time tasks due later today need every remaining follow', () => {
    // Prepare: 3 follows a day; 3 new followers due this afternoon with deadlines tonight; 1 late task.
    const config: LimiterConfig = { windows: [{ limit: 3, windowMs: DAY_MS, slotMs: 15 * MINUTE_MS }] };
    const tasks = [
      task('late', T0 - 5 * DAY_MS, T0 - 2 * DAY_MS),
      task('n1', T0 + 4 * HOUR_MS, T0 + 12 * HOUR_MS),
      task('n2', T0 + 5 * HOUR_MS, T0 + 12 * HOUR_MS),
      task('n3', T0 + 6 * HOUR_MS, T0 + 12 * HOUR_MS),
    ];

    // Act
    const held = pickNext(tasks, T0, capacityOf(config));
    const free = pickNext(tasks.slice(0, 3), T0, capacityOf(config));

    // Assess
    expect(held.picks).toEqual([]);
    expect(held.lateAllowance).toBe(0);
    expect(held.wakeAt).toBe(T0 + 4 * HOUR_MS);
    expect(free.picks.map((p) => p.task.targetId)).toEqual(['late']);
    expect(free.lateAllowance).toBe(1);
  });

  it('leaves out leased, not yet due, backing off and unapproved tasks, and picks up expired leases', () => {
    // Prepare
    const tasks: SchedulableTask[] = [
      task('leased', T0, T0 + DAY_MS, {
        state: 'in_progress',
        lease: { holder: 'w', until: T0 + MINUTE_MS },
      }),
      task('crashed', T0, T0 + DAY_MS, {
        state: 'in_progress',
        lease: { holder: 'w', until: T0 - MINUTE_MS },
      }),
      task('later', T0 + HOUR_MS, T0 + DAY_MS),
      task('backoff', T0 - HOUR_MS, T0 + DAY_MS, { retryAt: T0 + 10 * MINUTE_MS }),
      { targetId: 'unapproved', state: 'pending_approval' },
      task('done', T0, T0 + DAY_MS, { state: 'done' }),
    ];
    const config: LimiterConfig = { windows: [{ limit: 10, windowMs: HOUR_MS, slotMs: MINUTE_MS }] };

    // Act
    const result = pickNext(tasks, T0, capacityOf(config));

    // Assess
    expect(result.picks.map((p) => p.task.targetId)).toEqual(['crashed']);
    expect(result.wakeAt).toBe(T0 + 10 * MINUTE_MS);
  });

  it('never picks more than the limiter lets through, and every pick is accepted by it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(
          fc.tuple(
            fc.integer({ min: -3 * DAY_MS, max: HOUR_MS }),
            fc.integer({ min: -DAY_MS, max: 3 * DAY_MS }),
          ),
          {
            maxLength: 40,
          },
        ),
        (per15, perDay, specs) => {
          // Prepare
          const config = accountLimiterConfig({
            caps: { per15Minutes: per15, perDay, pacePerHour: 12, paceBurst: 1 + (per15 >> 1) },
          });
          const tasks = specs.map(([due, deadline], i) => task(`t${i}`, T0 + due, T0 + due + deadline));
          let state = newLimiter(config);

          // Act
          const result = pickNext(tasks, T0, { limiters: [{ config, state }] }, { until: T0 + HOUR_MS });

          // Assess
          const times: number[] = [];
          for (const pick of result.picks) {
            const taken = tryTakeLimiter(state, config, pick.at);
            expect(taken.ok).toBe(true);
            if (taken.ok) state = taken.state;
            times.push(pick.at);
            expect(pick.at).toBeGreaterThanOrEqual(pick.task.dueAt!);
          }
          expect(maxInAnyWindow(times, 15 * MINUTE_MS)).toBeLessThanOrEqual(per15);
          expect(new Set(result.picks.map((p) => p.task.targetId)).size).toBe(result.picks.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives the slot sequence of the capacity, skipping quiet hours', () => {
    // Prepare: 2 per hour, quiet 10:00-12:00 UTC.
    const config: LimiterConfig = { windows: [{ limit: 2, windowMs: HOUR_MS, slotMs: MINUTE_MS }] };
    const quiet = new QuietCalendar({ start: '10:00', end: '12:00' }, 'UTC');

    // Act
    const slots = slotTimes(capacityOf(config, quiet), T0 + HOUR_MS, 5);

    // Assess: 09:00, 09:00, then the next window would open at 10:01 but that is quiet: 12:00.
    expect(slots.map((s) => new Date(s).toISOString().slice(11, 16))).toEqual([
      '09:00',
      '09:00',
      '12:00',
      '12:00',
      '13:01',
    ]);
  });
});

describe('serving over time (pickNext + limiters, tick by tick)', () => {
  /** A witness schedule that respects the limiter and quiet hours, built with the pure functions only. */
  function witness(config: LimiterConfig, quiet: QuietHours | null, gaps: readonly number[]): number[] {
    let state = newLimiter(config);
    let t = T0;
    const slots: number[] = [];
    for (const gap of gaps) {
      t += gap;
      for (;;) {
        t = nextActiveAt(t, quiet, 'UTC');
        const taken = tryTakeLimiter(state, config, t);
        if (taken.ok) {
          state = taken.state;
          slots.push(taken.takenAt);
          break;
        }
        t = taken.availableAt;
      }
    }
    return slots;
  }

  it('serves every task inside its window when the demand fits the capacity, never exceeding a cap', () => {
    const quietArb = fc.option(
      fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 1, max: 10 })).map(
        ([start, length]): QuietHours => ({
          start: `${String(start).padStart(2, '0')}:00`,
          end: `${String((start + length) % 24).padStart(2, '0')}:00`,
        }),
      ),
      { nil: null },
    );
    fc.assert(
      fc.property(
        fc.record({
          per15: fc.integer({ min: 1, max: 5 }),
          perDay: fc.integer({ min: 3, max: 30 }),
          perHour: fc.integer({ min: 2, max: 20 }),
          burst: fc.integer({ min: 1, max: 3 }),
        }),
        quietArb,
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 3 * HOUR_MS }),
            early: fc.integer({ min: 0, max: 8 * HOUR_MS }),
            slack: fc.integer({ min: 0, max: 12 * HOUR_MS }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (caps, quietHours, specs) => {
          // Prepare: a feasible instance: each task's window contains its slot of a witness schedule.
          const config = accountLimiterConfig({
            caps: {
              per15Minutes: caps.per15,
              perDay: caps.perDay,
              pacePerHour: caps.perHour,
              paceBurst: Math.min(caps.burst, caps.per15),
            },
          });
          const slots = witness(
            config,
            quietHours,
            specs.map((s) => s.gap),
          );
          const tasks: SimTask[] = slots.map((slot, i) => ({
            targetId: `t${i}`,
            state: 'scheduled',
            createdAt: T0,
            dueAt: Math.max(T0, slot - specs[i]!.early),
            deadline: slot + specs[i]!.slack,
          }));
          const quiet = new QuietCalendar(quietHours, 'UTC');

          // Act
          const result = simulate(tasks, {
            start: T0,
            end: Math.max(...tasks.map((t) => t.deadline!)) + 2 * DAY_MS,
            tickMs: 15 * MINUTE_MS,
            limiters: [config],
            quiet,
          });

          // Assess
          for (const t of tasks) {
            expect(t.servedAt, `${t.targetId} served`).toBeDefined();
            expect(t.servedAt!).toBeGreaterThanOrEqual(t.dueAt!);
            expect(t.servedAt!, `${t.targetId} on time`).toBeLessThanOrEqual(t.deadline!);
            expect(quiet.isQuiet(t.servedAt!)).toBe(false);
          }
          expect(maxInAnyWindow(result.takes, 15 * MINUTE_MS)).toBeLessThanOrEqual(caps.per15);
          expect(maxInAnyWindow(result.takes, DAY_MS)).toBeLessThanOrEqual(caps.perDay);
        },
      ),
      { numRuns: 150 },
    );
  });

  /** New followers arriving at `perDay` a day over `days`, planned as reconcile would. */
  function arrivals(
    perDay: number,
    days: number,
    seed: number,
    quiet: QuietCalendar,
    window = WINDOW,
  ): SimTask[] {
    const random = seededRandom(seed);
    const out: SimTask[] = [];
    const count = Math.round(perDay * days);
    for (let i = 0; i < count; i++) {
      const detectedAt = T0 + Math.floor(random() * days * DAY_MS);
      const plan = planTask(detectedAt, window, { now: detectedAt, random, quiet });
      out.push({
        targetId: `new-${i}`,
        state: 'scheduled',
        createdAt: detectedAt,
        dueAt: plan.dueAt,
        deadline: plan.deadline,
      });
    }
    return out;
  }

  function backlog(size: number): SimTask[] {
    return Array.from({ length: size }, (_, i) => ({
      targetId: `old-${i}`,
      state: 'scheduled' as const,
      createdAt: T0,
      dueAt: T0 - 20 * DAY_MS,
      deadline: T0 - 17 * DAY_MS + i * MINUTE_MS,
    }));
  }

  it('keeps 100 new followers a day on time under 400/day while a late backlog of 5,000 drains with the rest', () => {
    // Prepare
    const policy = resolvePolicy('x', { caps: { per15Minutes: 40, perDay: 400 } });
    const config = accountLimiterConfig(policy);
    const quiet = quietCalendarOf(policy);
    const fresh = arrivals(100, 14, 42, quiet);
    const old = backlog(5_000);

    // Act
    const result = simulate([...old, ...fresh], {
      start: T0,
      end: T0 + 14 * DAY_MS,
      tickMs: HOUR_MS,
      limiters: [config],
      quiet,
    });

    // Assess
    const freshServed = fresh.filter((t) => t.servedAt !== undefined && t.servedAt <= t.deadline!);
    const dueInRun = fresh.filter((t) => t.deadline! <= T0 + 14 * DAY_MS);
    expect(dueInRun.filter((t) => !(t.servedAt! <= t.deadline!))).toEqual([]);
    expect(freshServed.length).toBeGreaterThanOrEqual(dueInRun.length);
    const oldServed = old.filter((t) => t.servedAt !== undefined).length;
    // 400/day minus 100 new: about 300 a day of backlog (a little less on the first day's quiet hours).
    expect(oldServed).toBeGreaterThan(14 * 280);
    expect(maxInAnyWindow(result.takes, DAY_MS)).toBeLessThanOrEqual(400);
    expect(maxInAnyWindow(result.takes, 15 * MINUTE_MS)).toBeLessThanOrEqual(40);
  });

  it('keeps new followers on time whatever the backlog, the arrival rate and the cap, as long as new demand fits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_500 }),
        fc.integer({ min: 150, max: 400 }),
        fc.double({ min: 0.05, max: 0.6, noNaN: true }),
        fc.integer(),
        (backlogSize, perDay, share, seed) => {
          // Prepare: new followers use at most 60 % of the daily cap.
          const policy = resolvePolicy('x', { caps: { per15Minutes: 40, perDay } });
          const config = accountLimiterConfig(policy);
          const quiet = quietCalendarOf(policy);
          const fresh = arrivals(perDay * share, 6, seed, quiet);
          const old = backlog(backlogSize);

          // Act
          const result = simulate([...old, ...fresh], {
            start: T0,
            end: T0 + 6 * DAY_MS,
            tickMs: HOUR_MS,
            limiters: [config],
            quiet,
          });

          // Assess
          const dueInRun = fresh.filter((t) => t.deadline! <= T0 + 6 * DAY_MS);
          expect(dueInRun.filter((t) => !(t.servedAt! <= t.deadline!)).map((t) => t.targetId)).toEqual([]);
          expect(maxInAnyWindow(result.takes, DAY_MS)).toBeLessThanOrEqual(perDay);
          if (backlogSize > 0) expect(old.some((t) => t.servedAt !== undefined)).toBe(true);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('keeps no reserve when the promise outlasts the day window, which gives a late slot back first', () => {
    // Prepare
    const day = resolvePolicy('mastodon', { promise: { notBeforeHours: 1, withinHours: 24 } });
    const threeDays = resolvePolicy('mastodon', { promise: { notBeforeHours: 2, withinHours: 72 } });
    const halfDay = resolvePolicy('mastodon', { promise: { notBeforeHours: 1, withinHours: 12 } });
    // Act / Assess: only followers whose promise ends before a slot taken now frees need one kept.
    expect(suggestedReserve(1.4, day)).toBe(0);
    expect(suggestedReserve(50, threeDays)).toBe(0);
    expect(suggestedReserve(150 / 24, halfDay)).toBe(75);
  });

  it('drains a late backlog at the full cap when the promise is a day or longer, new followers still on time', () => {
    // Prepare: the simulation's account, 40 new followers a day under 60/day, a 1-24 h promise. A late
    // follow's slot of the day window comes back before any later follower's promise ends.
    const policy = resolvePolicy('mastodon', {
      caps: { per15Minutes: 6, perDay: 60, pacePerHour: 24, paceBurst: 6 },
      promise: { notBeforeHours: 1, withinHours: 24 },
    });
    const config = accountLimiterConfig(policy);
    const quiet = quietCalendarOf(policy);
    const fresh = arrivals(40, 4, 11, quiet, promiseWindowOf(policy));
    const old = backlog(200);
    const reserve = suggestedReserve(40 / 24, policy);

    // Act
    const result = simulate([...old, ...fresh], {
      start: T0,
      end: T0 + 4 * DAY_MS,
      tickMs: 15 * MINUTE_MS,
      limiters: [config],
      quiet,
      reserve,
    });

    // Assess
    const dueInRun = fresh.filter((t) => t.deadline! <= T0 + 4 * DAY_MS);
    expect(dueInRun.filter((t) => !(t.servedAt! <= t.deadline!)).map((t) => t.targetId)).toEqual([]);
    // Every slot of the cap is used while the backlog lasts: 60 a day minus the ~40 new.
    expect(result.takes.length).toBeGreaterThanOrEqual(4 * 60 - 6);
    expect(maxInAnyWindow(result.takes, DAY_MS)).toBeLessThanOrEqual(60);
  });

  it('keeps a 12-hour promise with a late backlog when a reserve is kept for followers not seen yet', () => {
    // Prepare: 150 new followers a day, a 1-12 h promise, 2,000 late tasks, 400/day.
    const policy = resolvePolicy('x', {
      caps: { per15Minutes: 40, perDay: 400 },
      promise: { notBeforeHours: 1, withinHours: 12 },
    });
    const config = accountLimiterConfig(policy);
    const quiet = quietCalendarOf(policy);
    const fresh = arrivals(150, 4, 5, quiet, promiseWindowOf(policy));
    const old = backlog(2_000);
    const reserve = suggestedReserve(150 / 24, policy);

    // Act
    simulate([...old, ...fresh], {
      start: T0,
      end: T0 + 4 * DAY_MS,
      tickMs: 30 * MINUTE_MS,
      limiters: [config],
      quiet,
      reserve,
    });

    // Assess
    const dueInRun = fresh.filter((t) => t.deadline! <= T0 + 4 * DAY_MS);
    expect(reserve).toBe(75);
    expect(dueInRun.filter((t) => !(t.servedAt! <= t.deadline!)).map((t) => t.targetId)).toEqual([]);
    expect(old.filter((t) => t.servedAt !== undefined).length).toBeGreaterThan(4 * 150);
  });
});
