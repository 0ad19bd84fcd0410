import { DEFAULT_LOCALE, formatCount, localParts } from '../shared/domain/digest/format.ts';
import { field } from './output.ts';

/**
 * How the CLI writes numbers, money, times and tables for people: thousands separators, nouns that
 * agree with their count, times in the account's (or client's) time zone, and columns that line up
 * however long a stranger's handle or an id is.
 */

/** `1 follow-back`, `2,410 follow-backs`, `? followers` (unknown). */
export function counted(n: number | null | undefined, noun: string, plural = `${noun}s`): string {
  if (n === undefined || n === null) return `? ${plural}`;
  return `${formatCount(n, DEFAULT_LOCALE)} ${n === 1 ? noun : plural}`;
}

/** `12,345` */
export const thousands = (n: number): string => formatCount(n, DEFAULT_LOCALE);

/** `$1,234.57`: money to the cent. */
export function usd(amount: number): string {
  return `$${new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(amount)}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * `2026-03-04 09:15 CET`-like, in the zone: the wall-clock date and minute, then the zone's short
 * name (or its UTC offset where it has none). No seconds, no milliseconds.
 */
export function localTime(
  at: number | null | undefined,
  timeZone: string,
  options: { seconds?: boolean } = {},
): string {
  if (at === undefined || at === null || !Number.isFinite(at)) return '-';
  const p = localParts(at, timeZone);
  const seconds = options.seconds ? `:${pad(Math.floor(at / 1000) % 60)}` : '';
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}${seconds} ${zoneName(at, timeZone)}`;
}

/** `2026-03-04` in the zone. */
export function localDate(at: number, timeZone: string): string {
  const p = localParts(at, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

function zoneName(at: number, timeZone: string): string {
  const part = new Intl.DateTimeFormat('en-GB', { timeZone, timeZoneName: 'short' })
    .formatToParts(new Date(at))
    .find((p) => p.type === 'timeZoneName')?.value;
  return part ?? timeZone;
}

export interface Column {
  title: string;
  /** Cells longer than this are cut with an ellipsis (ids, handles, names). */
  max?: number;
  align?: 'left' | 'right';
}

/**
 * Rows as aligned text: each column as wide as its widest cell (at most `max`), cells cleaned
 * (cleanText) and cut with an ellipsis, so one long id cannot push the others out of line.
 */
export function table(columns: readonly Column[], rows: readonly (readonly (string | number)[])[]): string[] {
  const cells = rows.map((row) => columns.map((column, i) => field(row[i] ?? '', column.max ?? 60)));
  const widths = columns.map((column, i) =>
    Math.max(column.title.length, ...cells.map((row) => [...(row[i] ?? '')].length)),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => {
        const gap = ' '.repeat(Math.max(0, (widths[i] ?? 0) - [...cell].length));
        return columns[i]?.align === 'right' ? gap + cell : i === row.length - 1 ? cell : cell + gap;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), ...cells.map(line)];
}
