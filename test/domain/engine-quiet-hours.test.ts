import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isQuietAt,
  isValidTimeZone,
  localDateTime,
  nextActiveAt,
  nextQuietStartAt,
  QuietCalendar,
  type QuietHours,
} from '../../shared/domain/engine/index.ts';

const NIGHT: QuietHours = { start: '22:00', end: '07:00' };
const NEW_YORK = 'America/New_York';
const PARIS = 'Europe/Paris';

function wall(at: number, timeZone: string): string {
  const l = localDateTime(at, timeZone);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${l.year}-${pad(l.month)}-${pad(l.day)} ${pad(l.hour)}:${pad(l.minute)}`;
}

/** The definition, read straight off the wall clock. */
function quietByWallClock(at: number, quiet: QuietHours, timeZone: string): boolean {
  const l = localDateTime(at, timeZone);
  const minute = l.hour * 60 + l.minute;
  const [sh, sm] = quiet.start.split(':').map(Number) as [number, number];
  const [eh, em] = quiet.end.split(':').map(Number) as [number, number];
  const start = sh * 60 + sm;
  const end = eh * 60 + em;
  if (start === end) return false;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

describe('quiet hours', () => {
  it('is quiet late at night and not at noon, across midnight', () => {
    // Prepare
    const lateEvening = Date.UTC(2026, 5, 10, 21, 30); // 23:30 in Paris (UTC+2)
    const earlyMorning = Date.UTC(2026, 5, 11, 4, 0); // 06:00
    const noon = Date.UTC(2026, 5, 11, 10, 0); // 12:00

    // Act
    const verdicts = [lateEvening, earlyMorning, noon].map((t) => isQuietAt(t, NIGHT, PARIS));

    // Assess
    expect(verdicts).toEqual([true, true, false]);
  });

  it('ends at the local end time the next morning', () => {
    // Prepare
    const lateEvening = Date.UTC(2026, 5, 10, 21, 30);

    // Act
    const next = nextActiveAt(lateEvening, NIGHT, PARIS);

    // Assess
    expect(wall(next, PARIS)).toBe('2026-06-11 07:00');
    expect(next).toBe(Date.UTC(2026, 5, 11, 5, 0));
  });

  it('returns the instant itself when it is not quiet, and finds the next start', () => {
    // Prepare
    const noon = Date.UTC(2026, 5, 11, 10, 0);

    // Act
    const active = nextActiveAt(noon, NIGHT, PARIS);
    const quietStart = nextQuietStartAt(noon, NIGHT, PARIS);

    // Assess
    expect(active).toBe(noon);
    expect(wall(quietStart, PARIS)).toBe('2026-06-11 22:00');
  });

  it('is one hour shorter on the night clocks spring forward (New York, 8 March 2026)', () => {
    // Prepare
    const start = nextQuietStartAt(Date.UTC(2026, 2, 7, 17, 0), NIGHT, NEW_YORK); // noon EST on the 7th

    // Act
    const end = nextActiveAt(start, NIGHT, NEW_YORK);

    // Assess
    expect(wall(start, NEW_YORK)).toBe('2026-03-07 22:00');
    expect(wall(end, NEW_YORK)).toBe('2026-03-08 07:00');
    expect(end - start).toBe(8 * 3_600_000);
  });

  it('is one hour longer on the night clocks fall back (Paris, 25 October 2026)', () => {
    // Prepare
    const start = nextQuietStartAt(Date.UTC(2026, 9, 24, 10, 0), NIGHT, PARIS);

    // Act
    const end = nextActiveAt(start, NIGHT, PARIS);

    // Assess
    expect(wall(start, PARIS)).toBe('2026-10-24 22:00');
    expect(wall(end, PARIS)).toBe('2026-10-25 07:00');
    expect(end - start).toBe(10 * 3_600_000);
  });

  it('ends at the jump when the end time falls in the spring-forward gap', () => {
    // Prepare: quiet 01:00-02:30, but 02:00-03:00 does not exist on 8 March 2026 in New York.
    const quiet: QuietHours = { start: '01:00', end: '02:30' };
    const at = Date.UTC(2026, 2, 8, 6, 10); // 01:10 EST

    // Act
    const next = nextActiveAt(at, quiet, NEW_YORK);

    // Assess
    expect(wall(next, NEW_YORK)).toBe('2026-03-08 03:00');
    expect(next).toBe(Date.UTC(2026, 2, 8, 7, 0));
  });

  it('is quiet on both passes of the repeated hour when clocks fall back', () => {
    // Prepare: quiet 01:00-01:30; on 1 November 2026 New York lives 01:00-02:00 twice.
    const quiet: QuietHours = { start: '01:00', end: '01:30' };
    const firstPass = Date.UTC(2026, 10, 1, 5, 15); // 01:15 EDT
    const secondPass = Date.UTC(2026, 10, 1, 6, 15); // 01:15 EST
    const between = Date.UTC(2026, 10, 1, 5, 45); // 01:45 EDT

    // Act
    const verdicts = [firstPass, between, secondPass].map((t) => isQuietAt(t, quiet, NEW_YORK));

    // Assess
    expect(verdicts).toEqual([true, false, true]);
    expect(nextActiveAt(secondPass, quiet, NEW_YORK)).toBe(Date.UTC(2026, 10, 1, 6, 30));
  });

  it('has no quiet time when none is set or start equals end', () => {
    // Prepare
    const at = Date.UTC(2026, 0, 1, 23, 0);

    // Act
    const none = new QuietCalendar(null, 'UTC');
    const empty = new QuietCalendar({ start: '05:00', end: '05:00' }, 'UTC');

    // Assess
    expect(none.isQuiet(at) || empty.isQuiet(at)).toBe(false);
    expect(none.nextQuietStart(at)).toBe(Number.POSITIVE_INFINITY);
    expect(empty.activeMsBetween(at, at + 86_400_000)).toBe(86_400_000);
  });

  it('agrees with the wall clock at any instant, in any of several zones', () => {
    const zones = [PARIS, NEW_YORK, 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Santiago', 'UTC'];
    const clockArb = fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
      .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        clockArb,
        clockArb,
        fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2028, 0, 1) }),
        (timeZone, start, end, at) => {
          // Prepare
          const quiet = { start, end };

          // Act
          const quietNow = isQuietAt(at, quiet, timeZone);
          const next = nextActiveAt(at, quiet, timeZone);

          // Assess
          expect(quietNow).toBe(quietByWallClock(at, quiet, timeZone));
          expect(quietByWallClock(next, quiet, timeZone)).toBe(false);
          if (next > at) {
            // Quiet all the way to `next`: sampled every 7 minutes and just before it.
            for (let t = at; t < next; t += 7 * 60_000)
              expect(quietByWallClock(t, quiet, timeZone)).toBe(true);
            expect(quietByWallClock(next - 1, quiet, timeZone)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('knows IANA zone names and refuses offsets and inventions', () => {
    // Act
    const verdicts = ['Europe/Paris', 'UTC', 'Etc/GMT+5', '+01:00', 'Mars/Olympus_Mons', ''].map(
      isValidTimeZone,
    );

    // Assess
    expect(verdicts).toEqual([true, true, true, false, false, false]);
  });
});
