/**
 * Bluesky's limits as the sandbox enforces them (PDS and AppView, 2026), per account, in fixed
 * windows that open with their first hit, on the injected clock:
 *
 * - write points: 5,000 per hour and 35,000 per day; a create costs 3, an update 2, a delete 1;
 * - requests: 3,000 per 5 minutes (the PDS's global limit);
 * - createSession: 30 per 5 minutes and 300 per day (per identifier).
 *
 * Every answer carries `ratelimit-limit`, `ratelimit-remaining`, `ratelimit-reset` (epoch seconds)
 * and `ratelimit-policy` (`<limit>;w=<seconds>`) of its tightest window; an exceeded one answers 429
 * `{ "error": "RateLimitExceeded" }`.
 */

export interface BlueskyLimits {
  writePointsPerHour: number;
  writePointsPerDay: number;
  createPoints: number;
  updatePoints: number;
  deletePoints: number;
  requestsPerWindow: number;
  requestWindowMs: number;
  sessionsPer5Minutes: number;
  sessionsPerDay: number;
}

export const BLUESKY_DEFAULT_LIMITS: BlueskyLimits = {
  writePointsPerHour: 5_000,
  writePointsPerDay: 35_000,
  createPoints: 3,
  updatePoints: 2,
  deletePoints: 1,
  requestsPerWindow: 3_000,
  requestWindowMs: 5 * 60_000,
  sessionsPer5Minutes: 30,
  sessionsPerDay: 300,
};

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export function resolveBlueskyLimits(overrides: Partial<BlueskyLimits> = {}): BlueskyLimits {
  return { ...BLUESKY_DEFAULT_LIMITS, ...overrides };
}
