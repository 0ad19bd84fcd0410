/**
 * The 12-week follower chart, drawn so that it survives mail clients: a table of cells whose
 * height and background colour are the bars (no SVG, no canvas, no images, no CSS grid/flex).
 * Outlook honours `height` and `bgcolor` attributes on cells, Gmail keeps inline styles.
 */

import { DEFAULT_LOCALE, formatCount, formatSigned } from './format.ts';
import type { WeeklyPoint } from './model.ts';

export interface ChartBar {
  weekStart: number;
  count: number | null;
  /** Pixel height of the bar; missing weeks get a thin grey stub. */
  height: number;
  missing: boolean;
}

export interface ChartScaleOptions {
  /** Tallest bar, px. */
  maxHeight?: number;
  /** Shortest bar for a real value, px, so a low week is still visibly a bar. */
  minHeight?: number;
}

export const CHART_BAR_COLOR = '#3b6fe0';
export const CHART_LAST_BAR_COLOR = '#1d4fbf';
export const CHART_MISSING_COLOR = '#d5d9e0';

/**
 * Maps counts to bar heights. The axis does not start at zero (a 10,000-follower account that
 * grew by 50 would otherwise draw twelve identical bars): the baseline sits below the lowest value
 * by half the range, so the lowest real bar is a third of the way up, and changes stay visible.
 * Equal values draw half-height bars; a zero is always the lowest stub. Heights are monotonic in
 * the counts.
 */
export function scaleChart(points: readonly WeeklyPoint[], options: ChartScaleOptions = {}): ChartBar[] {
  const maxHeight = options.maxHeight ?? 80;
  const minHeight = options.minHeight ?? 4;
  const values = points.map((p) => p.count).filter((c): c is number => c !== null && Number.isFinite(c));
  const max = values.length > 0 ? Math.max(...values) : 0;
  const min = values.length > 0 ? Math.min(...values) : 0;
  const baseline = Math.max(0, min - (max - min) / 2);
  return points.map((p) => {
    if (p.count === null || !Number.isFinite(p.count)) {
      return { weekStart: p.weekStart, count: null, height: 2, missing: true };
    }
    let height: number;
    // Zero followers is nothing to draw: the lowest stub, whatever the other weeks are.
    if (p.count <= 0) height = minHeight;
    else if (max === min) height = Math.round(maxHeight / 2);
    else height = Math.round(minHeight + ((p.count - baseline) / (max - baseline)) * (maxHeight - minHeight));
    return { weekStart: p.weekStart, count: p.count, height: Math.max(minHeight, height), missing: false };
  });
}

/** `1,020 → 1,250 (+230)` over the known points; empty when nothing is known. */
export function chartSummary(points: readonly WeeklyPoint[], locale = DEFAULT_LOCALE): string {
  const known = points.filter((p): p is WeeklyPoint & { count: number } => p.count !== null);
  const first = known[0];
  const last = known[known.length - 1];
  if (first === undefined || last === undefined) return '';
  if (known.length === 1) return formatCount(last.count, locale);
  return `${formatCount(first.count, locale)} → ${formatCount(last.count, locale)} (${formatSigned(last.count - first.count, locale)})`;
}
