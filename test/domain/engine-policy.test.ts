import { describe, expect, it } from 'vitest';
import {
  derivePace,
  PLATFORM_FOLLOW_LIMITS,
  POLICY_DEFAULTS,
  policyWarnings,
  resolveAppDailyCap,
  resolvePolicy,
  X_AUTOMATION_WARNING,
} from '../../shared/config/policy.ts';
import {
  accountLimiterConfig,
  DAY_MS,
  listEntryFor,
  MINUTE_MS,
  promiseWindowOf,
  retryDelayMs,
} from '../../shared/domain/engine/index.ts';
import { ConfigError } from '../../shared/domain/errors.ts';

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('account policy', () => {
  it('defaults to approve on X and auto on Bluesky and Mastodon, caps below the platform limits', () => {
    // Act
    const x = resolvePolicy('x');
    const bluesky = resolvePolicy('bluesky');
    const mastodon = resolvePolicy('mastodon');

    // Assess
    expect([x.mode, bluesky.mode, mastodon.mode]).toEqual(['approve', 'auto', 'auto']);
    expect(x.caps).toMatchObject({ per15Minutes: 40, perDay: 350 });
    for (const policy of [x, bluesky, mastodon]) {
      const limits = PLATFORM_FOLLOW_LIMITS[policy.network];
      expect(policy.caps.per15Minutes).toBeLessThan(limits.per15Minutes);
      expect(policy.caps.perDay).toBeLessThan(limits.perDay);
      expect(policy.backfill).toBe('none');
      expect(policy.promise).toEqual({ notBeforeHours: 2, withinHours: 72 });
    }
    // Bluesky in points: 4 windows of 50 follows x 3 points per hour, far under 5,000.
    expect(bluesky.caps.per15Minutes * 4 * 3).toBeLessThan(5_000);
  });

  it('refuses auto on X without the acknowledgement, explaining X rule', () => {
    // Act
    const error = errorOf(() => resolvePolicy('x', { mode: 'auto' }));

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(
      /^invalid account policy: mode: 'auto' on X needs acknowledgeXAutomationPolicy: true/,
    );
    expect(error.message).toContain(
      "X's developer guidelines do not allow apps that automatically follow back",
    );
  });

  it('accepts auto on X with the acknowledgement, and has the warning to print', () => {
    // Act
    const policy = resolvePolicy('x', { mode: 'auto', acknowledgeXAutomationPolicy: true });

    // Assess
    expect(policy.mode).toBe('auto');
    expect(policyWarnings(policy)).toEqual([X_AUTOMATION_WARNING]);
    expect(X_AUTOMATION_WARNING).toMatch(/follows back anyone who follows/);
    expect(policyWarnings(resolvePolicy('x'))).toEqual([]);
  });

  it('names the field when a cap is above the platform limit', () => {
    // Act
    const perDay = errorOf(() => resolvePolicy('x', { caps: { perDay: 450 } }));
    const per15 = errorOf(() => resolvePolicy('bluesky', { caps: { per15Minutes: 500 } }));
    const mastodon = errorOf(() => resolvePolicy('mastodon', { caps: { perDay: 401 } }));

    // Assess
    expect(perDay.message).toBe(
      "invalid account policy: caps.perDay: 450 is above X's limit of 400 follows per 24 hours per user",
    );
    expect(per15.message).toContain('caps.per15Minutes: 500 is above Bluesky');
    expect(mastodon.message).toContain('caps.perDay: 401 is above Mastodon');
  });

  it("follows a Mastodon instance's own limits, for defaults and for validation", () => {
    // Act
    const generous = resolvePolicy('mastodon', {
      instanceLimits: { per15Minutes: 300, perDay: 2_000 },
      caps: { perDay: 1_500 },
    });
    const strict = resolvePolicy('mastodon', { instanceLimits: { per15Minutes: 20, perDay: 100 } });
    const onX = errorOf(() => resolvePolicy('x', { instanceLimits: { per15Minutes: 100, perDay: 1_000 } }));

    // Assess
    expect(generous.caps.perDay).toBe(1_500);
    expect(strict.caps).toMatchObject({ per15Minutes: 15, perDay: 75 });
    expect(onX.message).toContain('instanceLimits: only a Mastodon instance sets its own limits');
  });

  it('validates the time zone as an IANA zone and quiet hours as HH:MM', () => {
    // Act
    const zone = errorOf(() => resolvePolicy('bluesky', { timeZone: 'Paris' }));
    const clock = errorOf(() => resolvePolicy('bluesky', { quietHours: { start: '25:00' } }));
    const tooQuiet = errorOf(() =>
      resolvePolicy('bluesky', { quietHours: { start: '01:00', end: '23:00' } }),
    );
    const ok = resolvePolicy('bluesky', { timeZone: 'America/New_York', quietHours: { start: '21:30' } });

    // Assess
    expect(zone.message).toContain('timeZone: must be an IANA time zone');
    expect(clock.message).toContain('quietHours.start: must be a 24-hour HH:MM time');
    expect(tooQuiet.message).toContain('quietHours: must leave at least 4 active hours a day');
    expect(ok.quietHours).toEqual({ start: '21:30', end: '07:00' });
  });

  it('names unknown and mistyped fields, and refuses a window shorter than an hour', () => {
    // Act
    const unknown = errorOf(() => resolvePolicy('x', { spam: { emptyProfil: 'skip' } }));
    const typed = errorOf(() => resolvePolicy('x', { promise: { withinHours: '72' } }));
    const short = errorOf(() => resolvePolicy('x', { promise: { notBeforeHours: 10, withinHours: 10.5 } }));
    const notObject = errorOf(() => resolvePolicy('x', 'auto'));
    const otherNetwork = errorOf(() => resolvePolicy('x', { network: 'bluesky' }));

    // Assess
    expect(unknown.message).toContain('spam');
    expect(unknown.message).toContain('emptyProfil');
    expect(typed.message).toContain('promise.withinHours');
    expect(short.message).toContain('promise.withinHours: must be at least 1 hour more than notBeforeHours');
    expect(notObject.message).toContain('policy: must be an object');
    expect(otherNetwork.message).toContain('network:');
  });

  it('merges overrides into the defaults: nested objects merge, lists replace', () => {
    // Act
    const policy = resolvePolicy('bluesky', {
      promise: { withinHours: 48 },
      denyList: ['@spammer'],
      spam: { keywords: { words: ['crypto'] } },
    });

    // Assess
    expect(policy.promise).toEqual({ notBeforeHours: 2, withinHours: 48 });
    expect(policy.denyList).toEqual(['@spammer']);
    expect(policy.spam.keywords).toEqual({ action: 'skip', words: ['crypto'] });
    expect(policy.spam.newAccount).toEqual(POLICY_DEFAULTS.bluesky.spam.newAccount);
  });

  it('derives a pace that spreads the daily cap over the active hours', () => {
    // Act
    const pace = derivePace({ per15Minutes: 40, perDay: 350 }, { start: '23:00', end: '07:00' });
    const policy = resolvePolicy('x');

    // Assess: 350 x 1.25 / 16 active hours -> 28 per hour, a burst of 15 minutes' worth.
    expect(pace).toEqual({ pacePerHour: 28, paceBurst: 7 });
    expect(policy.caps).toMatchObject(pace);
    expect(resolvePolicy('x', { caps: { pacePerHour: 10, paceBurst: 2 } }).caps).toMatchObject({
      pacePerHour: 10,
      paceBurst: 2,
    });
  });

  it('turns the policy into limiter windows, a promise window in ms, and a backoff', () => {
    // Prepare
    const policy = resolvePolicy('x');

    // Act
    const limiter = accountLimiterConfig(policy);
    const window = promiseWindowOf(policy);
    const delays = [1, 2, 3, 10].map((attempt) => retryDelayMs(attempt, policy.retry, () => 1));

    // Assess
    expect(limiter.windows).toEqual([
      { limit: 40, windowMs: 15 * MINUTE_MS, slotMs: MINUTE_MS },
      { limit: 350, windowMs: DAY_MS, slotMs: 15 * MINUTE_MS },
    ]);
    expect(window).toEqual({ notBeforeMs: 2 * 3_600_000, withinMs: 72 * 3_600_000 });
    expect(delays).toEqual([5, 10, 20, 360].map((m) => m * MINUTE_MS));
    expect(retryDelayMs(1, policy.retry, () => 0)).toBe(2.5 * MINUTE_MS);
  });

  it('has an app-wide daily cap on X that defaults below 1,000 and refuses more', () => {
    // Act
    const x = resolveAppDailyCap('x');
    const raised = resolveAppDailyCap('x', 1_000);
    const error = errorOf(() => resolveAppDailyCap('x', 1_500));

    // Assess
    expect(x).toBe(900);
    expect(raised).toBe(1_000);
    expect(resolveAppDailyCap('bluesky')).toBeNull();
    expect(error.message).toContain(
      "appDailyCap.x: is above the platform's app-wide limit of 1000 follows per day",
    );
  });

  it('matches list entries by handle (any case, with or without @) or by id', () => {
    // Prepare
    const user = { id: '1790000000000000001', handle: 'Alice' };

    // Act
    const matches = [['@alice'], ['ALICE'], ['id:1790000000000000001'], ['bob', 'id:17']].map((list) =>
      listEntryFor(list, user),
    );

    // Assess
    expect(matches).toEqual(['@alice', 'ALICE', 'id:1790000000000000001', undefined]);
  });
});
