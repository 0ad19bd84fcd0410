/**
 * Quiet hours in an account's time zone, DST-safe, on Intl alone (no time-zone library).
 *
 * Semantics ("wall-clock"): an instant is quiet when the clock on the wall in the account's time zone
 * reads a time in [start, end). `start > end` wraps midnight (23:00–07:00); `start === end` means no
 * quiet hours. Consequences at DST changes, all deliberate:
 * - spring forward: wall times in the gap never occur, so 22:00–07:00 is one hour shorter that night,
 *   and a quiet period that ends inside the gap (say at 02:30) ends at the transition instant;
 * - fall back: the repeated wall hour is quiet on both passes if its wall time is in [start, end),
 *   so 22:00–07:00 is one hour longer that night.
 *
 * The maths: between two offset transitions a zone has a constant UTC offset, so the quiet instants
 * of that stretch are plain arithmetic. Transitions are found by sampling the offset every 6 hours
 * and bisecting where it changes (tzdb never has two transitions within 6 hours). A QuietCalendar
 * computes the quiet intervals lazily, a few weeks at a time, and answers by binary search, which
 * makes forecasting thousands of follow slots cheap.
 */
import { defined } from '../invariant.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const SAMPLE_MS = 6 * 3_600_000;
const CHUNK_MS = 21 * DAY_MS;

/** Local start and end, `HH:MM` (24-hour clock) in the account's time zone. */
export interface QuietHours {
  start: string;
  end: string;
}

const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes after midnight of a `HH:MM` clock time; throws RangeError on anything else. */
export function parseClock(value: string): number {
  const match = CLOCK.exec(value);
  if (!match) throw new RangeError(`not a HH:MM clock time: ${JSON.stringify(value)}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

export function isClock(value: string): boolean {
  return CLOCK.test(value);
}

/** Wall-clock length of quiet hours in minutes (0 when start === end). */
export function quietMinutesPerDay(quiet: QuietHours | null | undefined): number {
  if (!quiet) return 0;
  const start = parseClock(quiet.start);
  const end = parseClock(quiet.end);
  return (end - start + 1440) % 1440;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * Whether `timeZone` is an IANA zone name that Intl knows (`Europe/Paris`, `UTC`, `Etc/GMT+5`).
 * Offset strings such as `+01:00` are refused: they have no DST rules and are not zones.
 */
export function isValidTimeZone(timeZone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(timeZone)) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock in `timeZone` at instant `at` (month 1–12). */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function localDateTime(at: number, timeZone: string): LocalDateTime {
  const out: LocalDateTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatterFor(timeZone).formatToParts(at)) {
    switch (part.type) {
      case 'year':
      case 'month':
      case 'day':
      case 'hour':
      case 'minute':
      case 'second':
        out[part.type] = Number(part.value);
        break;
      default:
        break;
    }
  }
  return out;
}

/** UTC offset of `timeZone` at `at`, in ms: local wall time = at + offset. */
export function utcOffsetAt(at: number, timeZone: string): number {
  const wall = localDateTime(at, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** A half-open interval of instants [start, end), epoch ms. */
export interface Interval {
  start: number;
  end: number;
}

/**
 * The quiet intervals of one account's quiet hours, computed lazily and cached. Not shared state:
 * build one per policy (cheap) and reuse it across a reconcile, act or forecast run.
 */
export class QuietCalendar {
  readonly quiet: QuietHours | null;
  readonly timeZone: string;
  private readonly startMin: number;
  private readonly endMin: number;
  private readonly none: boolean;
  private from = Number.NaN;
  private to = Number.NaN;
  private intervals: Interval[] = [];

  constructor(quiet: QuietHours | null | undefined, timeZone: string) {
    this.quiet = quiet ?? null;
    this.timeZone = timeZone;
    formatterFor(timeZone); // throws RangeError on an unknown zone
    this.startMin = quiet ? parseClock(quiet.start) : 0;
    this.endMin = quiet ? parseClock(quiet.end) : 0;
    this.none = !quiet || this.startMin === this.endMin;
  }

  /** Whether `at` falls inside quiet hours. */
  isQuiet(at: number): boolean {
    return this.containing(at) !== undefined;
  }

  /** `at` itself when it is not quiet, else the first instant after `at` that is not quiet. */
  nextActive(at: number): number {
    const interval = this.containing(at);
    return interval ? interval.end : at;
  }

  /** `at` itself when it is quiet, else the first quiet instant after `at` (Infinity when never). */
  nextQuietStart(at: number): number {
    if (this.none) return Number.POSITIVE_INFINITY;
    this.ensure(at);
    const index = this.lastStartingAtOrBefore(at);
    const here = index >= 0 ? this.intervals[index] : undefined;
    if (here && at < here.end) return at;
    const next = this.intervals[index + 1];
    return next ? next.start : Number.POSITIVE_INFINITY;
  }

  /** The active (not quiet) parts of [start, end), in order. */
  activeIntervals(start: number, end: number): Interval[] {
    const out: Interval[] = [];
    let at = this.nextActive(start);
    while (at < end) {
      const quietAt = Math.min(this.nextQuietStart(at), end);
      if (quietAt > at) out.push({ start: at, end: quietAt });
      if (quietAt >= end) break;
      at = this.nextActive(quietAt);
    }
    return out;
  }

  /** Milliseconds of active time in [start, end). */
  activeMsBetween(start: number, end: number): number {
    let total = 0;
    for (const interval of this.activeIntervals(start, end)) total += interval.end - interval.start;
    return total;
  }

  private containing(at: number): Interval | undefined {
    if (this.none) return undefined;
    this.ensure(at);
    const index = this.lastStartingAtOrBefore(at);
    const interval = index >= 0 ? this.intervals[index] : undefined;
    return interval && at < interval.end ? interval : undefined;
  }

  private lastStartingAtOrBefore(at: number): number {
    let lo = 0;
    let hi = this.intervals.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (defined(this.intervals[mid], 'the middle of the search range').start <= at) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * Makes sure intervals are known on [at - 2 days, at + 2 days]. A quiet period lasts less than a
   * wall day (at most 25 h of real time), so any interval touching `at` is then known whole.
   */
  private ensure(at: number): void {
    if (Number.isNaN(this.from) || at - 2 * DAY_MS < this.from || at - 2 * DAY_MS > this.to) {
      this.from = Math.floor((at - 2 * DAY_MS) / DAY_MS) * DAY_MS;
      this.to = this.from;
      this.intervals = [];
    }
    while (this.to < at + 2 * DAY_MS) {
      const chunkEnd = this.to + CHUNK_MS;
      this.addRange(this.to, chunkEnd);
      this.to = chunkEnd;
    }
  }

  /** Adds the quiet intervals of [a, b), split into stretches of constant UTC offset. */
  private addRange(a: number, b: number): void {
    let segmentStart = a;
    let offset = utcOffsetAt(a, this.timeZone);
    for (let sample = a + SAMPLE_MS; ; sample += SAMPLE_MS) {
      const probe = Math.min(sample, b);
      const probeOffset = utcOffsetAt(probe, this.timeZone);
      if (probeOffset !== offset) {
        const transition = this.findTransition(probe - SAMPLE_MS, probe, offset);
        this.addSegment(segmentStart, transition, offset);
        segmentStart = transition;
        offset = probeOffset;
      }
      if (probe >= b) break;
    }
    this.addSegment(segmentStart, b, offset);
  }

  /** First instant in (lo, hi] whose offset differs from `before` (lo has offset `before`). */
  private findTransition(lo: number, hi: number, before: number): number {
    let low = lo;
    let high = hi;
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (utcOffsetAt(mid, this.timeZone) === before) low = mid;
      else high = mid;
    }
    return high;
  }

  private addSegment(a: number, b: number, offset: number): void {
    if (b <= a) return;
    const startMs = this.startMin * MINUTE_MS;
    const endMs = this.endMin * MINUTE_MS;
    const wraps = this.startMin > this.endMin;
    const firstDay = Math.floor((a + offset) / DAY_MS) - 1;
    const lastDay = Math.floor((b + offset) / DAY_MS);
    for (let day = firstDay; day <= lastDay; day++) {
      const localStart = day * DAY_MS + startMs;
      const localEnd = (wraps ? (day + 1) * DAY_MS : day * DAY_MS) + endMs;
      const start = Math.max(a, localStart - offset);
      const end = Math.min(b, localEnd - offset);
      if (start < end) this.push(start, end);
    }
  }

  private push(start: number, end: number): void {
    const last = this.intervals[this.intervals.length - 1];
    if (last && start <= last.end) {
      if (end > last.end) last.end = end;
      return;
    }
    this.intervals.push({ start, end });
  }
}

const calendars = new Map<string, QuietCalendar>();

function calendarFor(quiet: QuietHours | null | undefined, timeZone: string): QuietCalendar {
  const key = `${timeZone}|${quiet?.start ?? ''}|${quiet?.end ?? ''}`;
  let calendar = calendars.get(key);
  if (!calendar) {
    if (calendars.size > 256) calendars.clear();
    calendar = new QuietCalendar(quiet, timeZone);
    calendars.set(key, calendar);
  }
  return calendar;
}

/** Whether `at` is inside quiet hours in `timeZone`. */
export function isQuietAt(at: number, quiet: QuietHours | null | undefined, timeZone: string): boolean {
  return calendarFor(quiet, timeZone).isQuiet(at);
}

/** `at` when it is outside quiet hours, else the first instant after `at` outside them. */
export function nextActiveAt(at: number, quiet: QuietHours | null | undefined, timeZone: string): number {
  return calendarFor(quiet, timeZone).nextActive(at);
}

/** `at` when it is inside quiet hours, else the next instant quiet hours begin (Infinity if never). */
export function nextQuietStartAt(at: number, quiet: QuietHours | null | undefined, timeZone: string): number {
  return calendarFor(quiet, timeZone).nextQuietStart(at);
}
