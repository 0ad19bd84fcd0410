import { describe, expect, it } from 'vitest';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import { emptyObserveState } from '../../shared/domain/account-state.ts';
import {
  headNextPageSize,
  headScanInterval,
  MAX_HEAD_OVERLAP,
  nextHeadOverlap,
  readToday,
  recordSpend,
  rollSpend,
} from '../../shared/domain/observe-plan.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOON = Date.UTC(2026, 0, 5, 12);
const x = resolveObserveSettings('x');

describe('read spend', () => {
  it('charges the month for billed users only, counting returned users apart', () => {
    // Prepare
    const spend = rollSpend(emptyObserveState().spend, NOON);

    // Act
    const after = recordSpend(recordSpend(spend, 100, x, 30), 5, x);

    // Assess
    expect(after).toMatchObject({ dayRequests: 2, dayUsers: 105, dayBilled: 35, monthBilled: 35 });
    expect(after.monthUsd).toBeCloseTo(35 * 0.01, 9);
  });

  it('starts the day over at UTC midnight and the month over on the first', () => {
    // Prepare
    const spend = recordSpend(rollSpend(emptyObserveState().spend, NOON), 10, x, 10);

    // Act
    const nextDay = rollSpend(spend, NOON + DAY);
    const nextMonth = rollSpend(spend, Date.UTC(2026, 1, 1));

    // Assess
    expect(nextDay).toMatchObject({ dayRequests: 0, dayUsers: 0, dayBilled: 0, monthBilled: 10 });
    expect(nextMonth).toMatchObject({ monthUsd: 0, monthBilled: 0, totalBilled: 10 });
  });
});

describe('users read today', () => {
  it('are the anchor members a head scan read today, and nobody on the next day', () => {
    // Prepare
    const observe = {
      ...emptyObserveState(),
      headAnchor: ['5', '4', '3', '2'],
      anchorRead: { day: '2026-01-05', count: 3 },
    };

    // Act
    const today = readToday(observe, NOON);
    const tomorrow = readToday(observe, NOON + DAY);

    // Assess
    expect([...today]).toEqual(['5', '4', '3']);
    expect(tomorrow.size).toBe(0);
  });
});

describe('head scan overlap', () => {
  it('reads twice as deep as the deepest a new follower was listed below known ones', () => {
    expect(nextHeadOverlap(0, 10, HOUR, 3)).toBe(18);
    expect(nextHeadOverlap(0, 60, HOUR, 3)).toBe(MAX_HEAD_OVERLAP);
  });

  it('adds nothing for a follower listed just below one known follower: the run covers it', () => {
    expect(nextHeadOverlap(0, 1, HOUR, 3)).toBe(0);
  });

  it('keeps its depth while the list keeps showing disorder, however shallow this time', () => {
    // A deep displacement is met only inside the overlap: shrinking it on shallow evidence would stop
    // the scans from meeting (and learning) the deep ones.
    expect(nextHeadOverlap(40, 3, DAY, 3)).toBe(40);
    expect(nextHeadOverlap(4, 10, DAY, 3)).toBe(18);
    // Once the list was seen out of order, quiet scans do not shrink it either.
    expect(nextHeadOverlap(40, 0, DAY, 3, true)).toBe(40);
  });

  it('halves every twelve hours without evidence, down to none', () => {
    expect(nextHeadOverlap(10, 0, DAY / 2, 3)).toBe(5);
    expect(nextHeadOverlap(10, 0, DAY, 3)).toBe(2.5);
    expect(nextHeadOverlap(0.6, 0, DAY / 2, 3)).toBe(0);
  });
});

describe('head scan cadence', () => {
  it('leaves a tick of room under the detection delay the owner accepts', () => {
    expect(headScanInterval(0, x)).toBe(x.detectionDelayHours * HOUR - 15 * 60_000);
    expect(headScanInterval(1_000, x)).toBe(15 * 60_000);
  });
});

describe('head scan pages', () => {
  it('asks only for the run still missing when a few more than expected came: known users past it are billed', () => {
    // Two expected, a page of three all new: the next page is the run of three, not twice the page
    const size = headNextPageSize(
      { found: 3, expected: 2, run: 0, lastPage: { size: 3, fresh: 3 }, overlap: 0 },
      x,
      1_000,
    );
    expect(size).toBe(x.headScanKnownRun);
  });

  it('grows the pages while far more than expected keeps coming (a burst)', () => {
    const size = headNextPageSize(
      { found: 40, expected: 2, run: 0, lastPage: { size: 20, fresh: 20 }, overlap: 0 },
      x,
      1_000,
    );
    expect(size).toBe(40);
  });
});
