import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildDigestModel,
  byNotability,
  CHART_WEEKS,
  compareNotability,
  countSkipsByReason,
  digestSubject,
  formatCsvDate,
  formatDay,
  formatDuration,
  formatPct,
  longestDelay,
  netChange,
  promiseKept,
  WEEK_MS,
  weeklySeries,
} from '../../shared/domain/digest/index.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { DAY, digestInput, PERIOD_END, PERIOD_START, user, xAccount } from './digest-fixtures.ts';

describe('notability', () => {
  it('puts the follower with the most followers first and unknown counts last', () => {
    // Prepare
    const items = [
      { user: user('1', 'unknown', undefined), at: 0 },
      { user: user('2', 'mid', 500), at: 0 },
      { user: user('3', 'star', 90_000), at: 0 },
      { user: user('4', 'none', 0), at: 0 },
    ];
    // Act
    const ordered = byNotability(items).map((i) => i.user.handle);
    // Assess
    expect(ordered).toEqual(['star', 'mid', 'none', 'unknown']);
  });

  it('breaks a follower-count tie by the followers/following ratio', () => {
    // Prepare
    const followForFollow = user('1', 'f4f', 1000, { followingCount: 5000 });
    const selective = user('2', 'selective', 1000, { followingCount: 10 });
    // Act
    const order = [followForFollow, selective].sort(compareNotability).map((u) => u.handle);
    // Assess
    expect(order).toEqual(['selective', 'f4f']);
  });

  it('is a total order: sorting any permutation gives the same result', () => {
    const arbUser = fc.record({
      id: fc.string({ minLength: 1, maxLength: 4 }),
      handle: fc.string({ maxLength: 4 }),
      name: fc.constant(''),
      followersCount: fc.option(fc.nat(1000), { nil: undefined }),
      followingCount: fc.option(fc.nat(1000), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(arbUser, { selector: (u) => u.id, maxLength: 12 }), (users) => {
        const a = [...users].sort(compareNotability);
        const b = [...users].reverse().sort(compareNotability);
        expect(b.map((u) => u.id)).toEqual(a.map((u) => u.id));
      }),
    );
  });
});

describe('net change', () => {
  it('uses the follower count at the period start when known', () => {
    expect(netChange(1250, 1200, 4, 1)).toBe(50);
  });

  it('falls back to new minus lost without a start count', () => {
    expect(netChange(300, undefined, 4, 7)).toBe(-3);
  });
});

describe('promise kept', () => {
  it('counts on-time follow-backs as kept, late or overdue ones as broken, and not-yet-due ones not at all', () => {
    // Prepare
    const now = 1000;
    const outcomes = [
      { followedAt: 0, dueBy: 500, doneAt: 400 }, // kept
      { followedAt: 0, dueBy: 500, doneAt: 500 }, // kept, on the deadline
      { followedAt: 0, dueBy: 500, doneAt: 600 }, // late
      { followedAt: 0, dueBy: 900 }, // overdue, still owed
      { followedAt: 0, dueBy: 2000 }, // not due yet
    ];
    // Act
    const result = promiseKept(outcomes, now);
    // Assess
    expect(result).toEqual({ pct: 50, kept: 2, judged: 4 });
  });

  it('has no percentage when nothing could be judged', () => {
    expect(promiseKept([{ followedAt: 0, dueBy: 5000 }], 1000).pct).toBeNull();
    expect(formatPct(null)).toBe('–');
  });

  it('never rounds a broken promise up to 100%', () => {
    // Prepare: 999 kept of 1000
    const outcomes = Array.from({ length: 1000 }, (_, i) => ({
      followedAt: 0,
      dueBy: 10,
      doneAt: i === 0 ? 11 : 5,
    }));
    // Act
    const { pct } = promiseKept(outcomes, 100);
    // Assess
    expect(formatPct(pct)).toBe('99%');
  });

  it('reports the longest delay between a follow and its follow-back', () => {
    // Prepare
    const done = [
      { user: user('1', 'a'), followedAt: 0, at: 3 * DAY, outcome: 'followed' as const },
      { user: user('2', 'b'), followedAt: DAY, at: 2 * DAY + 4 * 3_600_000, outcome: 'requested' as const },
    ];
    // Act
    const longest = longestDelay(done);
    // Assess
    expect(longest).toBe(3 * DAY);
    expect(formatDuration(longest)).toBe('3 d');
    expect(longestDelay([])).toBeNull();
  });
});

describe('skips by reason', () => {
  it('counts each reason, largest first', () => {
    // Prepare
    const skips = ['spam', 'deny_list', 'spam', 'gone', 'spam', 'gone'].map((reason, i) => ({
      user: user(String(i), `u${i}`),
      at: i,
      reason,
    }));
    // Act
    const counts = countSkipsByReason(skips);
    // Assess
    expect(counts).toEqual([
      { reason: 'spam', count: 3 },
      { reason: 'gone', count: 2 },
      { reason: 'deny_list', count: 1 },
    ]);
  });
});

describe('weekly series', () => {
  it('always has twelve weekly points ending with the period, missing weeks as null', () => {
    // Prepare: samples for weeks 0, 5 and 11 only; two in week 11, the later one wins.
    const end = PERIOD_END;
    const start = end - 12 * WEEK_MS;
    const samples = [
      { at: start + DAY, count: 100 },
      { at: start + 5 * WEEK_MS + DAY, count: 150 },
      { at: end - 2 * DAY, count: 170 },
      { at: end - DAY, count: 180 },
      { at: end + DAY, count: 999 }, // after the period: ignored
      { at: start - DAY, count: 1 }, // before the chart: ignored
    ];
    // Act
    const series = weeklySeries(samples, end);
    // Assess
    expect(series).toHaveLength(CHART_WEEKS);
    expect(series.map((p) => p.count)).toEqual([
      100,
      null,
      null,
      null,
      null,
      150,
      null,
      null,
      null,
      null,
      null,
      180,
    ]);
    expect(series[11]?.weekStart).toBe(end - WEEK_MS);
    expect(series[0]?.weekStart).toBe(start);
  });
});

describe('building the digest model', () => {
  it('orders lists, derives the figures, and labels the period in the client zone', () => {
    // Prepare
    const input = digestInput();
    // Act
    const model = buildDigestModel(input);
    // Assess
    const x = model.accounts[0]!;
    expect(model.period.label).toMatch(/^2 ?– ?8 Mar 2026$/);
    expect(x.netChange).toBe(50);
    expect(x.newFollowers[0]?.user.handle).toBe('famous');
    expect(x.awaitingApproval.map((c) => c.user.handle)).toEqual(['clean', 'spammy']);
    expect(x.oneSided.map((o) => o.user.handle)).toEqual(['old', 'recent']);
    expect(x.promiseKeptPct).toBe(50);
    expect(x.weeklyFollowers).toHaveLength(12);
    expect(x.weeklyFollowers[11]?.count).toBe(1250);
    expect(x.skipsByReason).toEqual([
      { reason: 'spam', count: 2 },
      { reason: 'deny_list', count: 1 },
    ]);
    expect(model.accounts.map((a) => a.network)).toEqual(['x', 'bluesky', 'mastodon']);
  });

  it('shows a Tokyo client the Tokyo day, not the UTC one', () => {
    // Prepare: 23:30 UTC on Monday 2 March is 08:30 on Tuesday 3 March in Tokyo.
    const at = Date.UTC(2026, 2, 2, 23, 30);
    // Act
    const day = formatDay(at, 'Asia/Tokyo');
    const csvDate = formatCsvDate(at, 'Asia/Tokyo');
    // Assess
    expect(day).toBe('Tue 3 Mar');
    expect(csvDate).toBe('2026-03-03 08:30 +09:00');
    expect(formatCsvDate(at, 'America/St_Johns')).toBe('2026-03-02 20:00 -03:30');
  });

  it('names the client and period in the subject', () => {
    // Prepare
    const model = buildDigestModel(digestInput());
    // Act
    const subject = digestSubject(model);
    // Assess
    expect(subject).toMatch(/^Weekly digest for Acme Bakery: 2 ?– ?8 Mar 2026$/);
  });

  it('refuses an unknown time zone, naming the field', () => {
    // Prepare
    const input = digestInput();
    input.client.timeZone = 'Mars/Olympus_Mons';
    // Act
    const build = () => buildDigestModel(input);
    // Assess
    expect(build).toThrow(ValidationError);
    expect(build).toThrow(/client\.timeZone/);
  });

  it('refuses an empty period and a negative follower count', () => {
    expect(() =>
      buildDigestModel({ ...digestInput(), period: { start: PERIOD_START, end: PERIOD_START } }),
    ).toThrow(/period/);
    const bad = xAccount();
    bad.followersNow = -1;
    expect(() => buildDigestModel(digestInput([bad]))).toThrow(/accounts\[0\]\.followersNow/);
  });
});
