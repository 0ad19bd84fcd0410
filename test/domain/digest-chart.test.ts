import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHART_MISSING_COLOR,
  chartSummary,
  scaleChart,
  WEEK_MS,
  type WeeklyPoint,
} from '../../shared/domain/digest/index.ts';
import { renderChartHtml, renderChartText } from '../../shared/presentation/digest/index.ts';
import { htmlElements } from './digest-fixtures.ts';

const series = (counts: (number | null)[]): WeeklyPoint[] =>
  counts.map((count, i) => ({ weekStart: Date.UTC(2026, 0, 5) + i * WEEK_MS, count }));

describe('chart scale', () => {
  it('keeps bar heights in the order of the counts, within bounds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.nat(1_000_000), { nil: null }), { minLength: 12, maxLength: 12 }),
        (counts) => {
          // Act
          const bars = scaleChart(series(counts), { maxHeight: 80, minHeight: 4 });
          // Assess
          for (const a of bars) {
            if (a.missing) continue;
            expect(a.height).toBeGreaterThanOrEqual(4);
            expect(a.height).toBeLessThanOrEqual(80);
            for (const b of bars) {
              if (!b.missing && a.count! < b.count!) expect(a.height).toBeLessThanOrEqual(b.height);
            }
          }
        },
      ),
    );
  });

  it('makes a small change on a big account visible (the axis does not start at zero)', () => {
    // Act
    const bars = scaleChart(series([10_000, 10_050]), { maxHeight: 80 });
    // Assess
    expect(bars[1]!.height - bars[0]!.height).toBeGreaterThan(30);
  });

  it('draws equal counts at half height and missing weeks as thin stubs', () => {
    // Act
    const bars = scaleChart(series([5, null, 5]), { maxHeight: 80 });
    // Assess
    expect(bars.map((b) => [b.height, b.missing])).toEqual([
      [40, false],
      [2, true],
      [40, false],
    ]);
  });
});

describe('chart HTML', () => {
  it('has one table-cell bar per week, a grey stub for a missing week, and a text alternative', () => {
    // Prepare
    const points = series([100, 110, null, 130, 140, 150, 160, 170, 180, 190, 200, 210]);
    // Act
    const elements = htmlElements(renderChartHtml(points, { timeZone: 'Asia/Tokyo' }).toString());
    // Assess
    const bars = elements.filter((e) => e.attribs['data-chart-bar'] !== undefined);
    expect(bars).toHaveLength(12);
    const fills = elements.filter((e) => e.name === 'td' && e.attribs.bgcolor !== undefined);
    expect(fills).toHaveLength(12);
    expect(fills[2]?.attribs.bgcolor).toBe(CHART_MISSING_COLOR);
    expect(Number(fills[11]?.attribs.height)).toBeGreaterThan(Number(fills[0]?.attribs.height));
    const table = elements.find((e) => e.attribs['data-chart'] === 'followers');
    expect(table?.attribs['aria-label']).toBe('Followers over the last 12 weeks: 100 → 210 (+110)');
    expect(elements.some((e) => ['svg', 'canvas', 'img', 'div'].includes(e.name))).toBe(false);
  });

  it('summarises an empty series without inventing numbers', () => {
    expect(chartSummary(series([null, null]))).toBe('');
  });

  it('draws a zero as the lowest stub, never as a half or full bar', () => {
    // Prepare
    const points = (counts: (number | null)[]) =>
      counts.map((count, i) => ({ weekStart: i * 7 * 86_400_000, count }));

    // Act
    const zeros = scaleChart(points([0, 0, 0]));
    const mixed = scaleChart(points([0, 120, 0]));

    // Assess
    expect(zeros.map((b) => b.height)).toEqual([4, 4, 4]);
    expect(mixed.map((b) => b.height)).toEqual([4, 80, 4]);
    expect(renderChartText(points([0, 0, null, 0]))).toBe('▁▁·▁');
  });
});
