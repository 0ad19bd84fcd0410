/**
 * When a client's digest goes out, and which period it covers, in the client's own time zone.
 *
 * A client chooses a local weekday and hour (default Monday 08:00). The digest sent then covers the
 * previous local week: the seven local days before the send day, from local midnight to local
 * midnight (so a Monday send covers Monday to Sunday). Periods are keyed by the local date they
 * start on (`2026-11-02`), which is what makes "one digest per client per period" checkable.
 *
 * DST: local times are turned into instants by Intl alone. A local time that does not exist (the
 * spring-forward gap) is moved forward by the gap (02:30 → 03:30 in New York, as Temporal's
 * 'compatible' does; a whole-hour send at 02:00 goes at the jump, 03:00); one that exists twice
 * (fall back) is its first occurrence. A week across a change is 167 or 169 hours.
 */
import type { ClientRecord } from '../../domain/account.ts';
import { assertTimeZone, localParts } from '../../domain/digest/format.ts';
import { ValidationError } from '../../domain/errors.ts';

export const DEFAULT_DIGEST_WEEKDAY = 1;
export const DEFAULT_DIGEST_HOUR = 8;
/** A send missed for this long (an outage, a paused deployment) is no longer made: the next one is. */
export const DEFAULT_CATCH_UP_MS = 24 * 60 * 60 * 1000;

const DAY_MS = 86_400_000;
const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

export interface DigestSchedule {
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** Local hour, 0–23. */
  hour: number;
  timeZone: string;
}

/** A calendar date (no zone). */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

export interface DigestPeriod {
  /** Epoch ms, inclusive: local midnight starting the first day. */
  start: number;
  /** Epoch ms, exclusive: local midnight starting the send day. */
  end: number;
  /** The local date of the first day, `yyyy-mm-dd`: the period's key. */
  key: string;
}

/** The client's schedule, checked: a bad value is a ValidationError naming the field. */
export function digestScheduleOf(
  client: Pick<ClientRecord, 'timeZone' | 'digestWeekday' | 'digestHour'>,
): DigestSchedule {
  assertTimeZone(client.timeZone, 'timeZone');
  const weekday = client.digestWeekday ?? DEFAULT_DIGEST_WEEKDAY;
  const hour = client.digestHour ?? DEFAULT_DIGEST_HOUR;
  if (!Number.isInteger(weekday) || weekday < 1 || weekday > 7) {
    throw new ValidationError(`digestWeekday: must be 1 (Monday) to 7 (Sunday), got ${weekday}`, {
      details: { field: 'digestWeekday' },
    });
  }
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) {
    throw new ValidationError(`digestHour: must be 0 to 23, got ${hour}`, {
      details: { field: 'digestHour' },
    });
  }
  return { weekday, hour, timeZone: client.timeZone };
}

/** `Monday 08:00 (Europe/Berlin)`. */
export function describeSchedule(schedule: DigestSchedule): string {
  return `${WEEKDAYS[schedule.weekday]} ${String(schedule.hour).padStart(2, '0')}:00 (${schedule.timeZone})`;
}

// ---------------------------------------------------------------------------------------------
// Local time <-> instants

/** The local calendar date of an instant in a zone. */
export function localDateOf(at: number, timeZone: string): LocalDate {
  const p = localParts(at, timeZone);
  return { year: p.year, month: p.month, day: p.day };
}

/** The date `days` later (or earlier), by the calendar. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** ISO weekday of a calendar date: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: LocalDate): number {
  const day = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
  return day === 0 ? 7 : day;
}

export function formatLocalDate(date: LocalDate): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
}

function offsetMs(at: number, timeZone: string): number {
  return localParts(at, timeZone).offsetMinutes * 60_000;
}

function wallOf(at: number, timeZone: string): number {
  const p = localParts(at, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
}

/**
 * The instant a local wall time occurs in a zone. Ambiguous (fall back): the first occurrence.
 * Non-existent (spring forward): moved forward by the length of the gap.
 */
export function localToUtc(date: LocalDate, hour: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  // The offsets a day either side bound every offset in force around this wall time.
  const before = offsetMs(wall - DAY_MS, timeZone);
  const after = offsetMs(wall + DAY_MS, timeZone);
  const candidates = [...new Set([wall - before, wall - after, wall - offsetMs(wall, timeZone)])]
    .filter((t) => wallOf(t, timeZone) === wall)
    .sort((a, b) => a - b);
  const [earliest] = candidates;
  if (earliest !== undefined) return earliest;
  // In a gap: the wall time never shows; read it with the offset before the jump (moved forward).
  return wall - before;
}

// ---------------------------------------------------------------------------------------------
// Sends and periods

/** The instant of the send on a given local date. */
export function sendAtOn(schedule: DigestSchedule, date: LocalDate): number {
  return localToUtc(date, schedule.hour, 0, schedule.timeZone);
}

/** The local date of the latest send at or before `now`. */
export function latestSendDate(schedule: DigestSchedule, now: number): LocalDate {
  const today = localDateOf(now, schedule.timeZone);
  let date = addDays(today, -((isoWeekday(today) - schedule.weekday + 7) % 7));
  if (sendAtOn(schedule, date) > now) date = addDays(date, -7);
  return date;
}

/** The latest send instant at or before `now`. */
export function latestSendAt(schedule: DigestSchedule, now: number): number {
  return sendAtOn(schedule, latestSendDate(schedule, now));
}

/** The first send instant after `now`. */
export function nextSendAt(schedule: DigestSchedule, now: number): number {
  return sendAtOn(schedule, addDays(latestSendDate(schedule, now), 7));
}

/** The period a send on `sendDate` covers: the seven local days before it, midnight to midnight. */
export function periodBefore(sendDate: LocalDate, timeZone: string): DigestPeriod {
  const first = addDays(sendDate, -7);
  return {
    start: localToUtc(first, 0, 0, timeZone),
    end: localToUtc(sendDate, 0, 0, timeZone),
    key: formatLocalDate(first),
  };
}

/** The period of the latest send at or before `now` (what `digest preview` shows). */
export function latestPeriod(schedule: DigestSchedule, now: number): DigestPeriod {
  return periodBefore(latestSendDate(schedule, now), schedule.timeZone);
}

export interface DueCheck {
  due: boolean;
  /** The latest send instant at or before `now`. */
  sendAt: number;
  period: DigestPeriod;
}

/**
 * Whether the digest is due at `now`: its latest send time has come and is less than `catchUpMs`
 * ago. Whether it was already sent is the digest run's business, not the schedule's.
 */
export function digestDue(schedule: DigestSchedule, now: number, catchUpMs = DEFAULT_CATCH_UP_MS): DueCheck {
  const date = latestSendDate(schedule, now);
  const sendAt = sendAtOn(schedule, date);
  return { due: now - sendAt < catchUpMs, sendAt, period: periodBefore(date, schedule.timeZone) };
}
