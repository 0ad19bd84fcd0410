/** The 12-week follower chart as an HTML table and as a line of text. */
import {
  CHART_BAR_COLOR,
  CHART_LAST_BAR_COLOR,
  CHART_MISSING_COLOR,
  type ChartScaleOptions,
  chartSummary,
  scaleChart,
} from '../../domain/digest/chart.ts';
import { DEFAULT_LOCALE, formatCount, formatShortDay } from '../../domain/digest/format.ts';
import type { WeeklyPoint } from '../../domain/digest/model.ts';
import { html, type SafeHtml } from '../html.ts';

export interface ChartHtmlOptions extends ChartScaleOptions {
  timeZone: string;
  locale?: string;
}

/**
 * The chart as an HTML table: one row of bars (each a `td` with `data-chart-bar`), one row of week
 * labels in the client's zone (every third week and the last), and the count above the last bar.
 */
export function renderChartHtml(points: readonly WeeklyPoint[], options: ChartHtmlOptions): SafeHtml {
  const locale = options.locale ?? DEFAULT_LOCALE;
  const bars = scaleChart(points, options);
  const maxHeight = options.maxHeight ?? 80;
  const summary = chartSummary(points, locale);
  const label = `Followers over the last ${points.length} weeks${summary === '' ? ': no data' : `: ${summary}`}`;
  const width = bars.length > 0 ? Math.floor(100 / bars.length) : 100;
  const lastIndex = bars.length - 1;
  const font = 'font-family:Arial,Helvetica,sans-serif;font-size:10px;line-height:12px;';
  const last = bars[lastIndex];
  const valueRow =
    last?.count === null || last === undefined
      ? ''
      : html`<tr><td colspan="${bars.length}" align="right" style="padding:0 2px 2px 0;${font}color:${CHART_LAST_BAR_COLOR};">${formatCount(last.count, locale)}</td></tr>`;
  const barRow = bars.map((b, i) => {
    const colour = b.missing ? CHART_MISSING_COLOR : i === lastIndex ? CHART_LAST_BAR_COLOR : CHART_BAR_COLOR;
    const title = `Week of ${formatShortDay(b.weekStart, options.timeZone, locale)}: ${b.count === null ? 'no data' : formatCount(b.count, locale)}`;
    return html`<td width="${width}%" height="${maxHeight}" valign="bottom" style="padding:0 2px;height:${maxHeight}px;" data-chart-bar="${i}" data-count="${b.count ?? ''}" title="${title}"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td height="${b.height}" bgcolor="${colour}" style="height:${b.height}px;line-height:${b.height}px;font-size:1px;mso-line-height-rule:exactly;">&nbsp;</td></tr></table></td>`;
  });
  const labelRow = bars.map((b, i) =>
    i % 3 === 0 || i === lastIndex
      ? html`<td align="center" valign="top" style="padding-top:4px;${font}color:#6b7280;white-space:nowrap;">${formatShortDay(b.weekStart, options.timeZone, locale)}</td>`
      : html`<td></td>`,
  );
  return html`<table role="img" aria-label="${label}" width="100%" cellpadding="0" cellspacing="0" border="0" style="table-layout:fixed;" data-chart="followers">${valueRow}<tr>${barRow}</tr><tr>${labelRow}</tr></table>`;
}

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** The chart in plain text: one block character per week (`·` for a missing week). */
export function renderChartText(points: readonly WeeklyPoint[]): string {
  return scaleChart(points, { maxHeight: BLOCKS.length, minHeight: 1 })
    .map((b) => (b.missing ? '·' : (BLOCKS[Math.min(BLOCKS.length, Math.max(1, b.height)) - 1] ?? '▁')))
    .join('');
}
