/**
 * Dates, numbers and durations as a client reads them: always in the client's IANA time zone
 * (Intl does the zone maths; nothing here knows the host's zone).
 */

import { ValidationError } from '../errors.ts';
import type { Network } from '../network.ts';

export const DEFAULT_LOCALE = 'en-GB';

/**
 * The languages the digest and the approval page are written in. Their fixed text is English only,
 * so only English locales are accepted (en, en-GB, en-US, en-IE, ...: the locale picks how dates
 * and numbers read): a German date inside English sentences reads worse than one language.
 */
export const DIGEST_LANGUAGES: readonly string[] = ['en'];

/** True for a locale whose language the digest speaks. */
export function isDigestLocale(tag: string): boolean {
  try {
    return DIGEST_LANGUAGES.includes(new Intl.Locale(tag).language);
  } catch {
    return false;
  }
}

/** The locale to render with: the client's, when the digest speaks it (older records may hold another), else en-GB. */
export function digestLocale(tag: string | undefined): string {
  return tag !== undefined && isDigestLocale(tag) ? tag : DEFAULT_LOCALE;
}

const formatterCache = new Map<string, Intl.DateTimeFormat>();

/** ICU puts thin and narrow no-break spaces in dates (and changes where between versions): plain spaces. */
function plainSpaces(text: string): string {
  return text.replace(/[\u2009\u202F\u00A0]/g, ' ');
}

function dateFormat(
  locale: string,
  timeZone: string,
  options: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${JSON.stringify(options)}`;
  let format = formatterCache.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    formatterCache.set(key, format);
  }
  return format;
}

/** True when Intl knows the IANA zone name. */
export function isValidTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone.length === 0) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Throws a ValidationError naming `field` when the zone is unknown. */
export function assertTimeZone(timeZone: string, field: string): void {
  if (!isValidTimeZone(timeZone)) {
    throw new ValidationError(`${field}: unknown time zone ${JSON.stringify(timeZone)}`, {
      details: { field },
    });
  }
}

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** Offset of the zone from UTC at that instant, in minutes (Tokyo: +540). */
  offsetMinutes: number;
}

/** The wall-clock parts of an instant in a zone. */
export function localParts(at: number, timeZone: string): LocalParts {
  const parts = dateFormat('en-US', timeZone, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const get = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value);
  const year = get('year');
  const month = get('month');
  const day = get('day');
  const hour = get('hour') % 24;
  const minute = get('minute');
  const second = get('second');
  const wallAsUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const offsetMinutes = Math.round((wallAsUtc - Math.floor(at / 1000) * 1000) / 60_000);
  return { year, month, day, hour, minute, offsetMinutes };
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0');

/** `2026-03-04`: the local calendar day in the zone. */
export function localIsoDate(at: number, timeZone: string): string {
  const p = localParts(at, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** `2026-03-04 09:15 +09:00`: readable in a spreadsheet and still unambiguous. */
export function formatCsvDate(at: number, timeZone: string): string {
  const p = localParts(at, timeZone);
  const sign = p.offsetMinutes < 0 ? '-' : '+';
  const offset = `${sign}${pad(Math.trunc(p.offsetMinutes / 60))}:${pad(p.offsetMinutes % 60)}`;
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)} ${offset}`;
}

/** `Tue 3 Mar` (en-GB) in the zone. */
export function formatDay(at: number, timeZone: string, locale = DEFAULT_LOCALE): string {
  return plainSpaces(
    dateFormat(locale, timeZone, { weekday: 'short', day: 'numeric', month: 'short' }).format(new Date(at)),
  );
}

/** `Mar 2020` in the zone: when an account was created. */
export function formatMonthYear(at: number, timeZone: string, locale = DEFAULT_LOCALE): string {
  return plainSpaces(dateFormat(locale, timeZone, { month: 'short', year: 'numeric' }).format(new Date(at)));
}

/** `3 Mar` in the zone: the short label under a chart bar. */
export function formatShortDay(at: number, timeZone: string, locale = DEFAULT_LOCALE): string {
  return plainSpaces(dateFormat(locale, timeZone, { day: 'numeric', month: 'short' }).format(new Date(at)));
}

/** `Tue 3 Mar 2026, 09:15` in the zone. */
export function formatDateTime(at: number, timeZone: string, locale = DEFAULT_LOCALE): string {
  return plainSpaces(
    dateFormat(locale, timeZone, {
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(at)),
  );
}

/**
 * The period as the client reads it, e.g. `2 – 8 Mar 2026`. `end` is exclusive (the start of the
 * next period), so the label ends on the last day actually covered.
 */
export function formatPeriodLabel(
  start: number,
  end: number,
  timeZone: string,
  locale = DEFAULT_LOCALE,
): string {
  const format = dateFormat(locale, timeZone, { day: 'numeric', month: 'short', year: 'numeric' });
  const last = Math.max(start, end - 1);
  if (localIsoDate(start, timeZone) === localIsoDate(last, timeZone))
    return plainSpaces(format.format(new Date(start)));
  return plainSpaces(format.formatRange(new Date(start), new Date(last)));
}

/** `12,345` */
const numberCache = new Map<string, Intl.NumberFormat>();

export function formatCount(n: number, locale = DEFAULT_LOCALE): string {
  let format = numberCache.get(locale);
  if (format === undefined) {
    format = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
    numberCache.set(locale, format);
  }
  return plainSpaces(format.format(n));
}

/** `1 follower`, `2,410 followers`: the count and a noun that agrees with it. */
export function formatCounted(n: number, noun: string, locale = DEFAULT_LOCALE, plural = `${noun}s`): string {
  return `${formatCount(n, locale)} ${n === 1 ? noun : plural}`;
}

/** `+12`, `-3`, `0` (ASCII sign, the same in HTML, text and CSV). */
export function formatSigned(n: number, locale = DEFAULT_LOCALE): string {
  if (n > 0) return `+${formatCount(n, locale)}`;
  if (n < 0) return `-${formatCount(-n, locale)}`;
  return '0';
}

/**
 * A percentage rounded down, so a promise kept 99.6 % of the time never reads as 100 %.
 * `null` (nothing to judge) reads as an en dash.
 */
export function formatPct(pct: number | null): string {
  if (pct === null || !Number.isFinite(pct)) return '–';
  return `${Math.floor(pct)}%`;
}

/** `3 d 4 h`, `5 h 20 min`, `45 min`, `under 1 min`. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return 'under 1 min';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
  if (hours > 0) return mins > 0 ? `${hours} h ${mins} min` : `${hours} h`;
  return `${mins} min`;
}

export const NETWORK_NAMES: Readonly<Record<Network, string>> = {
  x: 'X',
  bluesky: 'Bluesky',
  mastodon: 'Mastodon',
};

export function networkName(network: Network): string {
  return NETWORK_NAMES[network] ?? String(network);
}

/** `@alice`, `@alice.bsky.social`, `@alice@mastodon.social`. Plain text: clean and escape it. */
export function formatHandle(handle: string): string {
  const bare = handle.replace(/^@+/, '');
  return bare === '' ? '' : `@${bare}`;
}

/**
 * The profile page of a user: by handle (profileUrl), else by id where the network has a page for
 * ids (X `i/user/<id>`, Bluesky's profile by DID), so someone whose profile was never read can
 * still be looked at, by the reader, at no cost to the account's read budget.
 */
export function profileUrlOf(network: Network, user: { id: string; handle: string }): string | undefined {
  const byHandle = user.handle === '' ? undefined : profileUrl(network, user.handle);
  if (byHandle !== undefined || user.handle !== '') return byHandle;
  if (network === 'x' && /^[0-9]{1,30}$/.test(user.id)) return `https://x.com/i/user/${user.id}`;
  if (network === 'bluesky' && /^did:(plc:[a-z2-7]{24}|web:[A-Za-z0-9.-]{1,253})$/.test(user.id))
    return `https://bsky.app/profile/${user.id}`;
  return undefined;
}

const X_HANDLE = /^[A-Za-z0-9_]{1,15}$/;
const BSKY_HANDLE = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const MASTODON_HANDLE = /^([A-Za-z0-9_]{1,64})@([A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;

/**
 * The public profile page of a handle, or undefined when the handle does not have the network's
 * shape (so a crafted handle never becomes a link somewhere else).
 */
export function profileUrl(network: Network, handle: string): string | undefined {
  const bare = handle.replace(/^@+/, '');
  switch (network) {
    case 'x':
      return X_HANDLE.test(bare) ? `https://x.com/${bare}` : undefined;
    case 'bluesky':
      return BSKY_HANDLE.test(bare) && bare.includes('.') ? `https://bsky.app/profile/${bare}` : undefined;
    case 'mastodon': {
      const m = MASTODON_HANDLE.exec(bare);
      return m?.[2]?.includes('.') ? `https://${m[2]}/@${m[1]}` : undefined;
    }
    default:
      return undefined;
  }
}
