/**
 * X's rate limits, as the sandbox enforces them: per user and endpoint, fixed 15-minute windows
 * (a window opens with the first request after the previous one closed); a 24-hour follow cap per
 * user; optionally app-wide 24-hour caps. Time comes only from the injected clock.
 */
import { PointsWindow, WindowMap } from '../common/windows.ts';

export type XEndpoint = 'me' | 'users' | 'user' | 'followers' | 'following' | 'follow' | 'unfollow';

export const X_ENDPOINTS: readonly XEndpoint[] = [
  'me',
  'users',
  'user',
  'followers',
  'following',
  'follow',
  'unfollow',
];

export interface XRateLimits {
  /** Length of the per-endpoint windows. Default 15 minutes. */
  windowMs: number;
  /** Requests per window per user, by endpoint. */
  perWindow: Record<XEndpoint, number>;
  /** Length of the daily caps' windows. Default 24 hours. */
  dayMs: number;
  /** Follows per day per user (X: 400). */
  followsPerDayPerUser: number;
  /** Follows per day across all users of the app (X's older docs: 1000). Undefined = no cap. */
  followsPerDayPerApp: number | undefined;
  /** Unfollows per day across all users of the app (X's older docs: 500). Undefined = no cap. */
  unfollowsPerDayPerApp: number | undefined;
}

export type XRateLimitsOverrides = Partial<Omit<XRateLimits, 'perWindow'>> & {
  perWindow?: Partial<Record<XEndpoint, number>>;
};

/** X's published limits (2026): followers/following 300, follow/unfollow 50 (separate endpoints). */
export const X_DEFAULT_LIMITS: XRateLimits = {
  windowMs: 15 * 60_000,
  perWindow: {
    me: 75,
    users: 900,
    user: 900,
    followers: 300,
    following: 300,
    follow: 50,
    unfollow: 50,
  },
  dayMs: 24 * 3_600_000,
  followsPerDayPerUser: 400,
  followsPerDayPerApp: undefined,
  unfollowsPerDayPerApp: undefined,
};

export function resolveLimits(overrides: XRateLimitsOverrides = {}): XRateLimits {
  return {
    ...X_DEFAULT_LIMITS,
    ...overrides,
    perWindow: { ...X_DEFAULT_LIMITS.perWindow, ...overrides.perWindow },
  };
}

/** A fixed window that opens with its first hit (a request is one point). */
export { PointsWindow as FixedWindow, type WindowState } from '../common/windows.ts';

/** All the windows of one sandbox server. */
export class XRateLimiter {
  readonly limits: XRateLimits;
  readonly #windows = new WindowMap();
  readonly appFollowDay: PointsWindow | undefined;
  readonly appUnfollowDay: PointsWindow | undefined;

  constructor(limits: XRateLimits) {
    this.limits = limits;
    this.appFollowDay =
      limits.followsPerDayPerApp === undefined
        ? undefined
        : new PointsWindow(limits.followsPerDayPerApp, limits.dayMs);
    this.appUnfollowDay =
      limits.unfollowsPerDayPerApp === undefined
        ? undefined
        : new PointsWindow(limits.unfollowsPerDayPerApp, limits.dayMs);
  }

  window(userId: string, endpoint: XEndpoint): PointsWindow {
    return this.#windows.get(`${userId}|${endpoint}`, this.limits.perWindow[endpoint], this.limits.windowMs);
  }

  followDay(userId: string): PointsWindow {
    return this.#windows.get(`${userId}|follow-day`, this.limits.followsPerDayPerUser, this.limits.dayMs);
  }
}
