import type { Network } from '../network.ts';
import type { LimiterConfig, WindowLimit } from './limiter.ts';
import { QuietCalendar, type QuietHours } from './quiet-hours.ts';

/**
 * The follow-back policy of one account, as the engine uses it. It is produced and validated by
 * shared/config/policy.ts (`resolvePolicy`), which holds the per-network defaults; the domain only
 * reads it. Durations are in the units people configure (hours, minutes, days); the helpers below
 * turn them into what the engine computes with (milliseconds, limiter configs, a quiet calendar).
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** The caps' short window, as X counts follows (and tight enough for Bluesky's and Mastodon's). */
export const CAP_WINDOW_MS = 15 * MINUTE_MS;
/** Counting granularity of the 15-minute window: costs at most one minute of throughput. */
export const CAP_WINDOW_SLOT_MS = MINUTE_MS;
/** Counting granularity of the 24-hour window: costs at most 15 minutes (~1 %) of throughput. */
export const DAY_SLOT_MS = 15 * MINUTE_MS;

/** `auto`: follow back by itself; `approve`: queue for the owner's approval; `off`: do nothing. */
export type FollowMode = 'auto' | 'approve' | 'off';

/** What a spam filter does when it fires: skip the follower, only show the signal, or nothing. */
export type FilterAction = 'skip' | 'flag' | 'off';

/** Whether followers who predate the connection get follow-backs (best effort, no promise). */
export type BackfillMode = 'none' | 'all';

export interface PromiseSettings {
  /** Earliest follow-back after the promise starts, in hours ("late follow backs"). */
  notBeforeHours: number;
  /** The promise: followed back within this many hours of the promise start. */
  withinHours: number;
}

export interface CapSettings {
  /** Most follows in any 15 minutes. */
  per15Minutes: number;
  /** Most follows in any 24 hours. */
  perDay: number;
  /** Sustained pace, follows per hour (a token bucket; keeps a backlog from bursting). */
  pacePerHour: number;
  /** Follows that may go back to back before the pace applies. */
  paceBurst: number;
}

export interface SpamSettings {
  /** No bio and no custom avatar. */
  emptyProfile: FilterAction;
  /** The platform's default avatar. */
  defaultAvatar: FilterAction;
  newAccount: { action: FilterAction; minAgeDays: number };
  /** Following far more accounts than follow them back. */
  ratio: { action: FilterAction; maxFollowingPerFollower: number; minFollowing: number };
  /** Case-insensitive substrings of the handle, name or bio. */
  keywords: { action: FilterAction; words: string[] };
}

export interface RetrySettings {
  /** Attempts (follow calls) before a task is `failed`. */
  maxAttempts: number;
  baseDelayMinutes: number;
  maxDelayMinutes: number;
}

/** Limits of a Mastodon instance that differ from the defaults (they are per-instance settings). */
export interface InstanceLimits {
  per15Minutes: number;
  perDay: number;
}

export interface EnginePolicy {
  network: Network;
  mode: FollowMode;
  /** Required for `auto` on X: the owner read and accepts X's automation rules (X_AUTOMATION_WARNING). */
  acknowledgeXAutomationPolicy: boolean;
  promise: PromiseSettings;
  /** IANA time zone of the account (quiet hours are local to it). */
  timeZone: string;
  /** Local quiet hours, or null for none. */
  quietHours: QuietHours | null;
  caps: CapSettings;
  backfill: BackfillMode;
  /** Entries: a handle (`alice`, `@alice`, `alice@mastodon.social`) or `id:<platform id>`. */
  allowList: string[];
  denyList: string[];
  spam: SpamSettings;
  retry: RetrySettings;
  /** Days a follow-back may wait for approval before it is skipped (`approval_expired`); null: never. */
  approvalExpiryDays: number | null;
  /** Mastodon only: the instance's own limits when they differ from Mastodon's defaults. */
  instanceLimits?: InstanceLimits | undefined;
}

/** The promise window in milliseconds. */
export interface PromiseWindow {
  notBeforeMs: number;
  withinMs: number;
}

export function promiseWindowOf(policy: Pick<EnginePolicy, 'promise'>): PromiseWindow {
  return {
    notBeforeMs: Math.round(policy.promise.notBeforeHours * HOUR_MS),
    withinMs: Math.round(policy.promise.withinHours * HOUR_MS),
  };
}

/** The two sliding windows of an account's follow caps. */
export function capWindows(caps: Pick<CapSettings, 'per15Minutes' | 'perDay'>): WindowLimit[] {
  return [
    { limit: caps.per15Minutes, windowMs: CAP_WINDOW_MS, slotMs: CAP_WINDOW_SLOT_MS },
    { limit: caps.perDay, windowMs: DAY_MS, slotMs: DAY_SLOT_MS },
  ];
}

/** Limiter of one account's follows: the 15-minute and 24-hour caps plus the pace bucket. */
export function accountLimiterConfig(policy: Pick<EnginePolicy, 'caps'>): LimiterConfig {
  return {
    windows: capWindows(policy.caps),
    pace: { capacity: policy.caps.paceBurst, refillPerMs: policy.caps.pacePerHour / HOUR_MS },
  };
}

/**
 * Bluesky's PDS counts 3,000 requests per 5 minutes per client IP: every account of a deployment on
 * one PDS host shares that window. A follow costs about 3 of them (the AppView look, the owner's
 * repo look, the create); half the window is left to reads (observe). So, per PDS host and
 * deployment-wide: 500 follows per 5 minutes.
 */
export const PDS_REQUESTS_PER_WINDOW = 3_000;
export const PDS_WINDOW_MS = 5 * MINUTE_MS;
export const PDS_REQUESTS_PER_FOLLOW = 3;
export const PDS_FOLLOW_SHARE = 0.5;

/** Limiter of the follows of every account of the deployment on one Bluesky PDS host. */
export function pdsHostLimiterConfig(requestsPerWindow = PDS_REQUESTS_PER_WINDOW): LimiterConfig {
  const limit = Math.max(1, Math.floor((requestsPerWindow * PDS_FOLLOW_SHARE) / PDS_REQUESTS_PER_FOLLOW));
  return { windows: [{ limit, windowMs: PDS_WINDOW_MS, slotMs: MINUTE_MS }] };
}

/** Limiter of the app-wide daily cap shared by every account of the deployment on one network. */
export function appLimiterConfig(perDay: number): LimiterConfig {
  return { windows: [{ limit: perDay, windowMs: DAY_MS, slotMs: DAY_SLOT_MS }] };
}

/**
 * A limiter standing for one account's expected share of the app-wide cap, for forecasts: the real
 * app-wide limiter is shared, so a forecast for one account assumes it gets `perDay / accounts`.
 */
export function appShareLimiterConfig(perDay: number, accountsSharing: number): LimiterConfig {
  const share = Math.max(1, Math.floor(perDay / Math.max(1, accountsSharing)));
  return appLimiterConfig(share);
}

export function quietCalendarOf(policy: Pick<EnginePolicy, 'quietHours' | 'timeZone'>): QuietCalendar {
  return new QuietCalendar(policy.quietHours, policy.timeZone);
}

/** Delay before retry `attempt` (1-based) after a transient failure: exponential with jitter. */
export function retryDelayMs(attempt: number, retry: RetrySettings, random: () => number): number {
  const base = retry.baseDelayMinutes * MINUTE_MS;
  const cap = retry.maxDelayMinutes * MINUTE_MS;
  const exponential = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  // "Equal jitter": at least half the delay, so retries never bunch up at zero.
  return Math.round(exponential / 2 + (exponential / 2) * random());
}

/**
 * Follows to keep free for followers not detected yet when a late backlog competes for capacity
 * (pickNext / forecast option `reserve`). A late follow taken now holds its slot of the longest cap
 * window (a day) until that window has passed, so it can only crowd out a follower whose promise
 * ends before then: one arriving within `day − withinHours`. Keep the follows those arrivals need
 * and no more; a reserve held longer is capacity lost for good while people wait (the daily cap
 * frees nothing for a slot left unused). A promise of a day or longer needs none.
 */
export function suggestedReserve(growthPerHour: number, policy: Pick<EnginePolicy, 'promise'>): number {
  if (!(growthPerHour > 0)) return 0;
  const exposedHours = Math.max(0, DAY_MS / HOUR_MS - policy.promise.withinHours);
  return Math.ceil(growthPerHour * exposedHours);
}

/** Lower-cases and drops a leading `@`, so `@Alice` and `alice` match. */
export function normalizeHandle(handle: string): string {
  return handle.trim().replace(/^@/, '').toLowerCase();
}

/**
 * The first entry of `list` that names this user, or undefined. `id:<id>` entries match the
 * platform id exactly; other entries match the handle case-insensitively, with or without `@`.
 */
export function listEntryFor(
  list: readonly string[],
  user: { id: string; handle: string },
): string | undefined {
  const handle = normalizeHandle(user.handle);
  for (const entry of list) {
    const trimmed = entry.trim();
    if (trimmed.startsWith('id:')) {
      if (trimmed.slice(3).trim() === user.id) return entry;
    } else if (normalizeHandle(trimmed) === handle && handle !== '') {
      return entry;
    }
  }
  return undefined;
}
