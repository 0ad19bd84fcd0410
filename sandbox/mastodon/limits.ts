/**
 * Mastodon's limits as the sandbox enforces them, per account, in fixed windows that open with their
 * first hit, on the injected clock. Defaults are Mastodon's (2026): 300 requests per 5 minutes for
 * every authenticated endpoint, 400 follows per 24 hours. Instances change them: both are options.
 *
 * Every answer carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (an ISO
 * 8601 time); an exceeded limit answers 429 `{ "error": "Too many requests" }` with the headers of the
 * limit that was hit.
 */

export interface MastodonLimits {
  requestsPerWindow: number;
  windowMs: number;
  followsPerDay: number;
  dayMs: number;
}

export const MASTODON_DEFAULT_LIMITS: MastodonLimits = {
  requestsPerWindow: 300,
  windowMs: 5 * 60_000,
  followsPerDay: 400,
  dayMs: 24 * 3_600_000,
};

export function resolveMastodonLimits(overrides: Partial<MastodonLimits> = {}): MastodonLimits {
  return { ...MASTODON_DEFAULT_LIMITS, ...overrides };
}
