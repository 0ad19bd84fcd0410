/** What every benchmark module of `npm run bench` exports, and small helpers to print figures. */
import { defined } from '../../shared/domain/invariant.ts';

/** Figures of a bench: flat, JSON-friendly. Printed, never asserted. */
export type BenchFigures = Record<string, number | string>;

export interface BenchOptions {
  /** The human-readable report (stdout). */
  out: (line: string) => void;
  /** Progress while a bench runs (stderr), so stdout stays the report. */
  progress: (line: string) => void;
  /** `--explain`: a bench that can also print what its figures are made of (`lambda`: each bundle's biggest parts). */
  explain?: boolean;
}

/** A bench module: `export async function run(options) { … }`, printing its own tables. */
export interface BenchModule {
  run(options: BenchOptions): Promise<BenchFigures>;
}

/** Rounds to `digits` decimals (figures are read by people; JSON keeps the same values). */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A number for a table: thousands separators for big ones, a few decimals for small ones. */
export function show(value: number | string | undefined, digits = 2): string {
  if (value === undefined) return '–';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return integer.format(value);
  return String(round(value, digits));
}

/** Left-aligned first column, right-aligned others, two spaces between. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0; // a row longer than the header: its extra cells unpadded
        return column === 0 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)];
}

/** 'yes' / 'NO' for a target, so a missed one stands out. */
export function met(ok: boolean): string {
  return ok ? 'yes' : 'NO';
}

/** The q-quantile (0–1) of sorted values, nearest rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return defined(sorted[rank - 1], 'the value at a rank within the list');
}
