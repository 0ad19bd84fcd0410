import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../shared/config/policy.ts';
import {
  accountLimiterConfig,
  appShareLimiterConfig,
  type CapacityModel,
  DAY_MS,
  drainLimiter,
  forecast,
  HOUR_MS,
  type LimiterConfig,
  MINUTE_MS,
  newLimiter,
  planBatch,
  promiseWindowOf,
  QuietCalendar,
  quietCalendarOf,
  type SchedulableTask,
  seededRandom,
} from '../../shared/domain/engine/index.ts';
import { type SimTask, simulate } from './engine-sim.ts';

const T0 = Date.UTC(2026, 0, 5, 8, 0);
const X = resolvePolicy('x', { timeZone: 'Europe/Paris' });
const X_LIMITER = accountLimiterConfig(X);

function capacity(
  config: LimiterConfig = X_LIMITER,
  quiet: QuietCalendar | undefined = quietCalendarOf(X),
): CapacityModel {
  return { limiters: [{ config, state: newLimiter(config) }], quiet };
}

/** `count` followers detected at once, planned as reconcile would. */
function burst(count: number, at = T0): SchedulableTask[] {
  const plans = planBatch(Array(count).fill(at), promiseWindowOf(X), {
    now: at,
    random: seededRandom(11),
    quiet: quietCalendarOf(X),
  });
  return plans.map((plan, i) => ({ targetId: `f${i}`, state: 'scheduled', ...plan }));
}

describe('forecast', () => {
  it('says nothing is at risk when the backlog fits the promise', () => {
    // Prepare
    const tasks = burst(300);

    // Act
    const result = forecast(tasks, { now: T0, capacity: capacity() });

    // Assess
    expect(result.summary).toMatchObject({
      open: 300,
      onTime: 300,
      atRisk: 0,
      maxLatenessMs: 0,
      beyondHorizon: 0,
    });
    expect(result.late).toEqual([]);
    expect(result.promisedCompletionAt).toBeLessThanOrEqual(T0 + 72 * HOUR_MS);
  });

  it('names the tasks a burst of 2,000 followers will make late, and by how much', () => {
    // Prepare: 350 a day for a 70-hour window: about 1,000 can be kept.
    const tasks = burst(2_000);

    // Act
    const result = forecast(tasks, { now: T0, capacity: capacity() });

    // Assess
    const { atRisk, onTime, maxLatenessMs } = result.summary;
    expect(atRisk + onTime).toBe(2_000);
    expect(onTime).toBeGreaterThan(900);
    expect(onTime).toBeLessThan(1_100);
    expect(result.late).toHaveLength(atRisk);
    for (const late of result.late) {
      expect(late.expectedAt! - late.deadline).toBe(late.latenessMs);
      expect(late.latenessMs).toBeGreaterThan(0);
    }
    expect(maxLatenessMs).toBe(result.late[0]!.latenessMs);
    // The last of 2,000 at ~350 a day: about 5.7 days after the burst, so about 2.8 days late.
    expect(maxLatenessMs).toBeGreaterThan(2 * DAY_MS);
    expect(maxLatenessMs).toBeLessThan(4 * DAY_MS);
    expect(result.completionAt).toBe(Math.max(...result.served.map((s) => s.at)));
  });

  it('predicts exactly what the act step will do, tick by tick', () => {
    fc.assert(
      fc.property(
        fc.record({
          per15: fc.integer({ min: 1, max: 5 }),
          perDay: fc.integer({ min: 3, max: 30 }),
          perHour: fc.integer({ min: 2, max: 20 }),
          burst: fc.integer({ min: 1, max: 3 }),
        }),
        fc.boolean(),
        fc.array(
          fc.record({
            due: fc.integer({ min: -3 * DAY_MS, max: 3 * DAY_MS }),
            length: fc.integer({ min: 0, max: 3 * DAY_MS }),
            backfill: fc.boolean(),
          }),
          { maxLength: 50 },
        ),
        (caps, quietNights, specs) => {
          // Prepare
          const config = accountLimiterConfig({
            caps: {
              per15Minutes: caps.per15,
              perDay: caps.perDay,
              pacePerHour: caps.perHour,
              paceBurst: Math.min(caps.burst, caps.per15),
            },
          });
          const quiet = new QuietCalendar(quietNights ? { start: '22:00', end: '06:00' } : null, 'UTC');
          const make = (): SimTask[] =>
            specs.map((s, i) => ({
              targetId: `t${i}`,
              state: 'scheduled',
              createdAt: T0,
              dueAt: T0 + s.due,
              deadline: T0 + s.due + s.length,
              backfill: s.backfill && i % 3 === 0,
            }));
          const simulated = make();

          // Act
          const predicted = forecast(make(), {
            now: T0,
            capacity: capacity(config, quiet),
            horizonMs: 40 * DAY_MS,
          });
          simulate(simulated, {
            start: T0,
            end: T0 + 40 * DAY_MS,
            tickMs: 15 * MINUTE_MS,
            limiters: [config],
            quiet,
          });

          // Assess
          const expected = new Map(predicted.served.map((s) => [s.targetId, s.at]));
          expect(simulated.map((t) => [t.targetId, t.servedAt])).toEqual(
            simulated.map((t) => [t.targetId, expected.get(t.targetId)]),
          );
          const lateInSimulation = simulated
            .filter((t) => !t.backfill && t.servedAt! > t.deadline!)
            .map((t) => t.targetId);
          expect(predicted.late.map((l) => l.targetId).sort()).toEqual(lateInSimulation.sort());
        },
      ),
      { numRuns: 120 },
    );
  });

  it('counts tasks already past their deadline, approvals waiting, work in progress and backfill apart', () => {
    // Prepare
    const tasks: SchedulableTask[] = [
      { targetId: 'overdue', state: 'scheduled', dueAt: T0 - 5 * DAY_MS, deadline: T0 - 2 * DAY_MS },
      { targetId: 'waiting', state: 'pending_approval' },
      {
        targetId: 'working',
        state: 'in_progress',
        dueAt: T0,
        deadline: T0 + DAY_MS,
        lease: { holder: 'w', until: T0 + 3 * HOUR_MS + MINUTE_MS },
      },
      { targetId: 'old-follower', state: 'scheduled', dueAt: T0, deadline: T0 + HOUR_MS, backfill: true },
      { targetId: 'finished', state: 'done', dueAt: T0, deadline: T0 + DAY_MS },
    ];

    // Act
    const result = forecast(tasks, { now: T0 + 3 * HOUR_MS, capacity: capacity() });

    // Assess
    expect(result.summary).toMatchObject({
      open: 4,
      awaitingApproval: 1,
      alreadyLate: 1,
      atRisk: 1,
      backfill: 1,
    });
    expect(result.late.map((l) => l.targetId)).toEqual(['overdue']);
    expect(result.served.find((s) => s.targetId === 'working')).toMatchObject({
      lane: 'in_progress',
      at: T0 + 3 * HOUR_MS,
    });
    expect(result.served.find((s) => s.targetId === 'old-follower')?.lane).toBe('backfill');
  });

  it('reports work beyond the horizon as late by at least the horizon, when capacity is blocked', () => {
    // Prepare: a 429 that blocks for 30 days, a 7-day horizon.
    const blocked: CapacityModel = {
      limiters: [{ config: X_LIMITER, state: drainLimiter(newLimiter(X_LIMITER), T0 + 30 * DAY_MS) }],
    };
    const tasks = burst(10);

    // Act
    const result = forecast(tasks, { now: T0, capacity: blocked, horizonMs: 7 * DAY_MS });

    // Assess
    expect(result.summary).toMatchObject({ atRisk: 10, beyondHorizon: 10 });
    expect(result.completionAt).toBeUndefined();
    for (const late of result.late) {
      expect(late.expectedAt).toBeUndefined();
      expect(late.latenessMs).toBe(T0 + 7 * DAY_MS - late.deadline);
    }
  });

  it('takes the account share of the app-wide cap into account', () => {
    // Prepare: 900 a day app-wide shared by 9 accounts leaves this one 100 a day.
    const tasks = burst(400);
    const shared: CapacityModel = {
      limiters: [
        { config: X_LIMITER, state: newLimiter(X_LIMITER) },
        { config: appShareLimiterConfig(900, 9), state: newLimiter(appShareLimiterConfig(900, 9)) },
      ],
      quiet: quietCalendarOf(X),
    };

    // Act
    const alone = forecast(tasks, { now: T0, capacity: capacity() });
    const withShare = forecast(tasks, { now: T0, capacity: shared });

    // Assess
    expect(alone.summary.atRisk).toBe(0);
    expect(withShare.summary.onTime).toBeGreaterThanOrEqual(250);
    expect(withShare.summary.onTime).toBeLessThanOrEqual(310);
  });

  it('forecasts 10,000 tasks, naming every promise at risk and by how much', () => {
    // Prepare: a 5,000 late backlog and 5,000 new followers over three and a half days.
    const late: SchedulableTask[] = Array.from({ length: 5_000 }, (_, i) => ({
      targetId: `late-${i}`,
      state: 'scheduled',
      dueAt: T0 - 9 * DAY_MS,
      deadline: T0 - 6 * DAY_MS + i * MINUTE_MS,
    }));
    const plans = planBatch(
      Array.from({ length: 5_000 }, (_, i) => T0 + i * MINUTE_MS),
      promiseWindowOf(X),
      { now: T0, random: seededRandom(5), quiet: quietCalendarOf(X) },
    );
    const tasks = [
      ...late,
      ...plans.map((plan, i): SchedulableTask => ({ targetId: `new-${i}`, state: 'scheduled', ...plan })),
    ];
    // Act (its speed is measured by `npm run bench -- act`, not asserted here)
    const result = forecast(tasks, { now: T0, capacity: capacity() });

    // Assess: every task is either on time or named late, each late one with a positive lateness
    expect(result.summary.alreadyLate).toBe(5_000);
    expect(result.summary.onTime + result.summary.atRisk).toBe(10_000);
    expect(result.late).toHaveLength(result.summary.atRisk);
    expect(result.late.filter((late) => late.targetId.startsWith('late-'))).toHaveLength(5_000);
    expect(result.late.every((late) => late.latenessMs > 0)).toBe(true);
  });
});
