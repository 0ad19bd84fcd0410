/**
 * X-style user ids. Accounts created before snowflake user ids (late 2015) have sequential ids below
 * 2^32, roughly increasing with their creation date; later accounts have 64-bit snowflakes whose top
 * bits are the creation time. Ids are decimal strings at the edges and BigInt inside.
 */
import { intBetween, type RandomGenerator, uniform } from './rng.ts';

/** X's snowflake epoch (2010-11-04T01:42:54.657Z). */
export const SNOWFLAKE_EPOCH_MS = 1288834974657;

/** From this creation time on, new X accounts get snowflake ids. */
export const SNOWFLAKE_USER_IDS_FROM = Date.UTC(2015, 11, 1);

const MAX_LEGACY_ID = 4_294_967_295;

/** [creation time, approximate sequential id]. */
type Anchor = readonly [number, number];

/** Anchors, interpolated linearly. */
const LEGACY_ANCHORS: readonly [Anchor, ...Anchor[]] = [
  [Date.UTC(2006, 2, 21), 12],
  [Date.UTC(2007, 0, 1), 5_000_000],
  [Date.UTC(2008, 0, 1), 12_000_000],
  [Date.UTC(2009, 0, 1), 19_000_000],
  [Date.UTC(2010, 0, 1), 100_000_000],
  [Date.UTC(2011, 0, 1), 230_000_000],
  [Date.UTC(2012, 0, 1), 460_000_000],
  [Date.UTC(2013, 0, 1), 1_100_000_000],
  [Date.UTC(2014, 0, 1), 2_300_000_000],
  [Date.UTC(2015, 0, 1), 2_980_000_000],
  [SNOWFLAKE_USER_IDS_FROM, 4_290_000_000],
];

/** The earliest creation time an X account can have. */
export const FIRST_ACCOUNT_AT = LEGACY_ANCHORS[0][0];

function legacyIdAround(createdAt: number): number {
  const [first, ...later] = LEGACY_ANCHORS;
  if (createdAt <= first[0]) return first[1];
  let [t0, id0] = first;
  for (const [t1, id1] of later) {
    if (createdAt <= t1) return id0 + ((createdAt - t0) / (t1 - t0)) * (id1 - id0);
    [t0, id0] = [t1, id1];
  }
  return id0;
}

/** A snowflake for the given time, with random worker and sequence bits. */
export function snowflakeAt(createdAt: number, rng: RandomGenerator): bigint {
  const ms = BigInt(Math.max(0, Math.floor(createdAt) - SNOWFLAKE_EPOCH_MS));
  const low = BigInt(intBetween(rng, 0, (1 << 22) - 1));
  return (ms << 22n) | low;
}

/** The creation time encoded in a snowflake id, or undefined for a legacy id. */
export function snowflakeTime(id: bigint): number | undefined {
  if (id <= BigInt(MAX_LEGACY_ID)) return undefined;
  return Number(id >> 22n) + SNOWFLAKE_EPOCH_MS;
}

/**
 * A plausible X user id for an account created at `createdAt`. Callers retry on the (rare)
 * collision with an existing id; each call draws fresh random bits.
 */
export function xUserId(createdAt: number, rng: RandomGenerator): bigint {
  if (createdAt >= SNOWFLAKE_USER_IDS_FROM) return snowflakeAt(createdAt, rng);
  const centre = legacyIdAround(createdAt);
  const jitter = (uniform(rng) - 0.5) * 0.01 * centre + (uniform(rng) - 0.5) * 2000;
  const id = Math.round(centre + jitter);
  return BigInt(Math.min(MAX_LEGACY_ID, Math.max(1, id)));
}
