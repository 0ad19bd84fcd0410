import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  digestDue,
  digestScheduleOf,
  isoWeekday,
  latestPeriod,
  latestSendAt,
  localDateOf,
  localToUtc,
  nextSendAt,
} from '../../shared/app/digest/schedule.ts';
import { localParts } from '../../shared/domain/digest/format.ts';
import { ValidationError } from '../../shared/domain/errors.ts';

const HOUR = 3_600_000;
const utc = (y: number, m: number, d: number, h = 0, min = 0) => Date.UTC(y, m - 1, d, h, min);

describe('digest schedule in the client’s time zone', () => {
  it('sends on Monday 08:00 local by default and covers the previous local week, midnight to midnight', () => {
    // Prepare
    const schedule = digestScheduleOf({ timeZone: 'Europe/Berlin' });
    // Act
    const sendAt = latestSendAt(schedule, utc(2026, 11, 9, 9, 0));
    const period = latestPeriod(schedule, utc(2026, 11, 9, 9, 0));
    // Assess
    expect(sendAt).toBe(utc(2026, 11, 9, 7, 0)); // 08:00 CET
    expect(period).toEqual({
      start: utc(2026, 11, 1, 23, 0),
      end: utc(2026, 11, 8, 23, 0),
      key: '2026-11-02',
    });
  });

  it('is due in Tokyo at 08:00 JST, which is Sunday 23:00 UTC, and not a minute before', () => {
    // Prepare
    const schedule = digestScheduleOf({ timeZone: 'Asia/Tokyo' });
    // Act
    const before = digestDue(schedule, utc(2026, 3, 8, 22, 59));
    const at = digestDue(schedule, utc(2026, 3, 8, 23, 0));
    // Assess
    expect(before.period.key).toBe('2026-02-23');
    expect(at).toEqual({
      due: true,
      sendAt: utc(2026, 3, 8, 23, 0),
      period: { start: utc(2026, 3, 1, 15, 0), end: utc(2026, 3, 8, 15, 0), key: '2026-03-02' },
    });
    expect(before.sendAt).toBe(utc(2026, 3, 1, 23, 0));
  });

  it('keeps 08:00 local in New York across the spring DST change (a 167-hour week)', () => {
    // Prepare: clocks go forward on Sunday 8 March 2026
    const schedule = digestScheduleOf({ timeZone: 'America/New_York' });
    // Act
    const sendAt = latestSendAt(schedule, utc(2026, 3, 9, 15, 0));
    const period = latestPeriod(schedule, utc(2026, 3, 9, 15, 0));
    // Assess
    expect(sendAt).toBe(utc(2026, 3, 9, 12, 0)); // 08:00 EDT (UTC-4)
    expect(latestSendAt(schedule, utc(2026, 3, 6, 0, 0))).toBe(utc(2026, 3, 2, 13, 0)); // 08:00 EST (UTC-5)
    expect(period.key).toBe('2026-03-02');
    expect((period.end - period.start) / HOUR).toBe(167);
  });

  it('keeps 08:00 local in New York across the autumn DST change (a 169-hour week)', () => {
    // Prepare: clocks go back on Sunday 1 November 2026
    const schedule = digestScheduleOf({ timeZone: 'America/New_York' });
    // Act
    const period = latestPeriod(schedule, utc(2026, 11, 2, 14, 0));
    // Assess
    expect(latestSendAt(schedule, utc(2026, 11, 2, 14, 0))).toBe(utc(2026, 11, 2, 13, 0)); // 08:00 EST
    expect(period).toEqual({
      start: utc(2026, 10, 26, 4, 0),
      end: utc(2026, 11, 2, 5, 0),
      key: '2026-10-26',
    });
    expect((period.end - period.start) / HOUR).toBe(169);
  });

  it('moves a send time that does not exist (inside the spring-forward gap) to the jump', () => {
    // Prepare: Sunday 02:00 does not exist in New York on 8 March 2026
    const schedule = digestScheduleOf({ timeZone: 'America/New_York', digestWeekday: 7, digestHour: 2 });
    // Act
    const sendAt = latestSendAt(schedule, utc(2026, 3, 8, 12, 0));
    // Assess
    expect(sendAt).toBe(utc(2026, 3, 8, 7, 0)); // the instant 02:00 EST becomes 03:00 EDT
    expect(localParts(sendAt, 'America/New_York').hour).toBe(3);
  });

  it('takes the first of two 01:30s when the clocks go back', () => {
    // Act
    const at = localToUtc({ year: 2026, month: 11, day: 1 }, 1, 30, 'America/New_York');
    // Assess
    expect(at).toBe(utc(2026, 11, 1, 5, 30)); // 01:30 EDT, not 01:30 EST
  });

  it('honours the client’s own weekday and hour', () => {
    // Prepare: Friday 17:00 in Sydney
    const schedule = digestScheduleOf({ timeZone: 'Australia/Sydney', digestWeekday: 5, digestHour: 17 });
    // Act
    const due = digestDue(schedule, utc(2026, 3, 13, 6, 30)); // Friday 17:30 AEDT
    // Assess
    expect(due.sendAt).toBe(utc(2026, 3, 13, 6, 0));
    expect(due.due).toBe(true);
    expect(due.period.key).toBe('2026-03-06');
    expect(nextSendAt(schedule, utc(2026, 3, 13, 6, 30))).toBe(utc(2026, 3, 20, 6, 0));
  });

  it('gives up on a send missed by more than a day: the next period’s digest is the next one', () => {
    // Prepare
    const schedule = digestScheduleOf({ timeZone: 'Europe/Berlin' });
    // Act
    const late = digestDue(schedule, utc(2026, 11, 10, 6, 59));
    const tooLate = digestDue(schedule, utc(2026, 11, 10, 7, 0));
    // Assess
    expect(late.due).toBe(true);
    expect(tooLate.due).toBe(false);
    expect(tooLate.period.key).toBe('2026-11-02');
  });

  it.each([
    [{ timeZone: 'Mars/Olympus' }, 'timeZone'],
    [{ timeZone: 'UTC', digestWeekday: 0 }, 'digestWeekday'],
    [{ timeZone: 'UTC', digestWeekday: 8 }, 'digestWeekday'],
    [{ timeZone: 'UTC', digestHour: 24 }, 'digestHour'],
    [{ timeZone: 'UTC', digestHour: 7.5 }, 'digestHour'],
  ])('refuses %o, naming %s', (settings, field) => {
    // Act / Assess
    expect(() => digestScheduleOf(settings)).toThrow(ValidationError);
    expect(() => digestScheduleOf(settings)).toThrow(new RegExp(`^${field}:`));
  });

  it('always finds the latest send at or before now, on the chosen local weekday and hour', () => {
    const zones = [
      'Europe/Berlin',
      'Asia/Tokyo',
      'America/New_York',
      'Australia/Lord_Howe',
      'Asia/Kolkata',
      'UTC',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: utc(2024, 1, 1), max: utc(2030, 12, 31) }),
        fc.constantFrom(...zones),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 23 }),
        (now, timeZone, weekday, hour) => {
          // Prepare
          const schedule = digestScheduleOf({ timeZone, digestWeekday: weekday, digestHour: hour });
          // Act
          const last = latestSendAt(schedule, now);
          const next = nextSendAt(schedule, now);
          const period = latestPeriod(schedule, now);
          // Assess
          expect(last).toBeLessThanOrEqual(now);
          expect(next).toBeGreaterThan(now);
          expect(next - last).toBeGreaterThanOrEqual(7 * 24 * HOUR - 2 * HOUR);
          expect(next - last).toBeLessThanOrEqual(7 * 24 * HOUR + 2 * HOUR);
          expect(isoWeekday(localDateOf(last, timeZone))).toBe(weekday);
          expect(period.end).toBeLessThanOrEqual(last);
          expect(localParts(period.start, timeZone)).toMatchObject({ hour: 0, minute: 0 });
          expect(isoWeekday(localDateOf(period.start, timeZone))).toBe(weekday);
        },
      ),
      { numRuns: 300 },
    );
  });
});
