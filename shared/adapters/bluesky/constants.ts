/**
 * Bluesky's facts, without its client library: code that only needs the limits (policy, the
 * platform factory) does not load the XRPC client to get them.
 */
import type { PlatformLimits } from '../../ports/platform.ts';

export { BLUESKY_DEFAULT_SERVICE } from '../../ports/bluesky-session.ts';
export const FOLLOW_COLLECTION = 'app.bsky.graph.follow';

/**
 * Bluesky's limits (2026): reads are free but the PDS allows 3,000 requests per 5 minutes; writes
 * cost points, 5,000 per hour and 35,000 per day, 3 per follow: 1,666 follows per hour, 11,666 a day.
 */
export const BLUESKY_LIMITS: PlatformLimits = {
  graphReadsPerWindow: 3_000,
  graphReadWindowMs: 5 * 60_000,
  maxPageSize: 100,
  followsPerWindow: 1_666,
  followWindowMs: 3_600_000,
  followsPerDay: 11_666,
};

/** Write points Bluesky counts per record operation. */
export const BLUESKY_WRITE_POINTS = { create: 3, update: 2, delete: 1 } as const;
