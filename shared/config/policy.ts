import type { EnginePolicy } from '../domain/engine/policy.ts';
import { isClock, isValidTimeZone, quietMinutesPerDay } from '../domain/engine/quiet-hours.ts';
import { ConfigError } from '../domain/errors.ts';
import type { Network } from '../ports/platform.ts';
import { parseConfig } from './validate.ts';
import * as z from './zod.ts';

/**
 * The follow-back policy of an account: per-network defaults, overrides from the account's
 * settings, validated once (`resolvePolicy`). A bad value is a ConfigError naming the field, e.g.
 * `invalid account policy: caps.perDay: 450 is above X's limit of 400 follows per 24 hours per user`.
 */

/** Shown whenever an X account runs in `auto` mode (the owner acknowledged it). */
export const X_AUTOMATION_WARNING =
  "X's developer guidelines do not allow an app that follows back anyone who follows an account, and " +
  'forbid bulk, aggressive or automated following. In `auto` mode this X account follows back without ' +
  "the owner's approval of each follow: X may limit, lock or suspend the account or the app for it. " +
  'The owner acknowledged this (acknowledgeXAutomationPolicy: true). `approve` mode, the default on X, ' +
  'vets and queues the follow-backs and carries out only those the owner approves.';

const X_AUTO_REFUSAL =
  "'auto' on X needs acknowledgeXAutomationPolicy: true. X's developer guidelines do not allow apps " +
  'that automatically follow back anyone who follows an account; use mode "approve" (the default on X: ' +
  'followback vets and queues the follow-backs and the owner approves them), or set ' +
  'acknowledgeXAutomationPolicy: true to accept the risk to the account';

/** A platform's published follow limits, as caps are counted (per 15 minutes, per 24 hours). */
export interface PlatformFollowLimits {
  per15Minutes: number;
  perDay: number;
  /** Per app across all its users, where the platform has one (X, possibly). */
  appPerDay?: number | undefined;
  /** How the limit is stated by the platform, for error messages. */
  per15MinutesText: string;
  perDayText: string;
}

/** Checked 2026 (see DESIGN.md section 3). */
export const PLATFORM_FOLLOW_LIMITS: Readonly<Record<Network, PlatformFollowLimits>> = {
  x: {
    per15Minutes: 50,
    perDay: 400,
    appPerDay: 1000,
    per15MinutesText: "X's limit of 50 follows per 15 minutes per user",
    perDayText: "X's limit of 400 follows per 24 hours per user",
  },
  bluesky: {
    // 5,000 write points per hour, 3 per follow = 1,666 follows per hour; any hour holds four
    // 15-minute windows, so 416 per 15 minutes keeps every hour within it.
    per15Minutes: 416,
    // 35,000 points per day / 3.
    perDay: 11_666,
    per15MinutesText:
      "Bluesky's limit of 5,000 write points per hour (3 per follow: 1,666 follows per hour, 416 per 15 minutes)",
    perDayText: "Bluesky's limit of 35,000 write points per day (3 per follow: 11,666 follows per day)",
  },
  mastodon: {
    // 300 requests per 5 minutes per account: a 15-minute cap of at most 300 keeps any 5 minutes within it.
    per15Minutes: 300,
    perDay: 400,
    per15MinutesText: "Mastodon's default limit of 300 requests per 5 minutes per account",
    perDayText: "Mastodon's default limit of 400 follows per 24 hours per account",
  },
};

/** Share of an instance's own limits the default caps take (Mastodon `instanceLimits`). */
export const SAFE_FRACTION = 0.75;

type PolicyDefaults = Omit<EnginePolicy, 'caps'> & {
  caps: Omit<EnginePolicy['caps'], 'pacePerHour' | 'paceBurst'>;
};

const COMMON_DEFAULTS: Omit<PolicyDefaults, 'network' | 'mode' | 'caps'> = {
  acknowledgeXAutomationPolicy: false,
  promise: { notBeforeHours: 2, withinHours: 72 },
  timeZone: 'UTC',
  quietHours: { start: '23:00', end: '07:00' },
  backfill: 'none',
  allowList: [],
  denyList: [],
  spam: {
    emptyProfile: 'skip',
    defaultAvatar: 'flag',
    newAccount: { action: 'skip', minAgeDays: 3 },
    ratio: { action: 'skip', maxFollowingPerFollower: 50, minFollowing: 500 },
    keywords: { action: 'skip', words: [] },
  },
  retry: { maxAttempts: 5, baseDelayMinutes: 5, maxDelayMinutes: 360 },
  approvalExpiryDays: 30,
};

/**
 * Per-network defaults. Caps sit well below the platform's limits (they also cover follows the
 * owner makes by hand, clock skew and call latency); the pace is derived from the daily cap and the
 * active hours unless set.
 */
export const POLICY_DEFAULTS: Readonly<Record<Network, PolicyDefaults>> = {
  x: { ...COMMON_DEFAULTS, network: 'x', mode: 'approve', caps: { per15Minutes: 40, perDay: 350 } },
  // 50 per 15 min = 600 points per hour of 5,000; 1,000 per day = 3,000 points of 35,000.
  bluesky: {
    ...COMMON_DEFAULTS,
    network: 'bluesky',
    mode: 'auto',
    caps: { per15Minutes: 50, perDay: 1_000 },
  },
  mastodon: {
    ...COMMON_DEFAULTS,
    network: 'mastodon',
    mode: 'auto',
    caps: { per15Minutes: 30, perDay: 300 },
  },
};

/** Default app-wide daily cap per network (null: the platform has none). */
export const APP_DAILY_CAP_DEFAULTS: Readonly<Record<Network, number | null>> = {
  x: 900,
  bluesky: null,
  mastodon: null,
};

const filterAction = z.enum(['skip', 'flag', 'off']);
const clock = z.string().check(z.refine(isClock, 'must be a 24-hour HH:MM time such as "23:00"'));
const listEntry = z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(320));

const basePolicySchema = z.strictObject({
  network: z.enum(['x', 'bluesky', 'mastodon']),
  mode: z.enum(['auto', 'approve', 'off']),
  acknowledgeXAutomationPolicy: z.boolean(),
  promise: z.strictObject({
    notBeforeHours: z.number().check(z.gte(0), z.lte(24 * 14)),
    withinHours: z.number().check(z.positive(), z.lte(24 * 60)),
  }),
  timeZone: z
    .string()
    .check(z.refine(isValidTimeZone, 'must be an IANA time zone such as "Europe/Paris" or "UTC"')),
  quietHours: z.nullable(z.strictObject({ start: clock, end: clock })),
  caps: z.strictObject({
    per15Minutes: z.number().check(z.int(), z.gte(1)),
    perDay: z.number().check(z.int(), z.gte(1)),
    pacePerHour: z.number().check(z.positive(), z.lte(100_000)),
    paceBurst: z.number().check(z.int(), z.gte(1)),
  }),
  backfill: z.enum(['none', 'all']),
  allowList: z.array(listEntry).check(z.maxLength(100_000)),
  denyList: z.array(listEntry).check(z.maxLength(100_000)),
  spam: z.strictObject({
    emptyProfile: filterAction,
    defaultAvatar: filterAction,
    newAccount: z.strictObject({ action: filterAction, minAgeDays: z.number().check(z.gte(0), z.lte(3650)) }),
    ratio: z.strictObject({
      action: filterAction,
      maxFollowingPerFollower: z.number().check(z.positive()),
      minFollowing: z.number().check(z.int(), z.gte(0)),
    }),
    keywords: z.strictObject({ action: filterAction, words: z.array(listEntry).check(z.maxLength(10_000)) }),
  }),
  retry: z.strictObject({
    maxAttempts: z.number().check(z.int(), z.gte(1), z.lte(50)),
    baseDelayMinutes: z.number().check(z.positive(), z.lte(24 * 60)),
    maxDelayMinutes: z.number().check(z.positive(), z.lte(7 * 24 * 60)),
  }),
  approvalExpiryDays: z.nullable(z.number().check(z.positive(), z.lte(365))),
  instanceLimits: z.optional(
    z.strictObject({
      per15Minutes: z.number().check(z.int(), z.gte(1)),
      perDay: z.number().check(z.int(), z.gte(1)),
    }),
  ),
});

/** The platform limits an account's caps must respect (a Mastodon instance may state its own). */
export function followLimitsFor(
  network: Network,
  instanceLimits?: { per15Minutes: number; perDay: number } | undefined,
): PlatformFollowLimits {
  const limits = PLATFORM_FOLLOW_LIMITS[network];
  if (network !== 'mastodon' || !instanceLimits) return limits;
  return {
    ...limits,
    per15Minutes: instanceLimits.per15Minutes,
    perDay: instanceLimits.perDay,
    per15MinutesText: `the instance's limit of ${instanceLimits.per15Minutes} per 15 minutes (instanceLimits)`,
    perDayText: `the instance's limit of ${instanceLimits.perDay} follows per 24 hours (instanceLimits)`,
  };
}

export const policySchema = basePolicySchema.check(
  z.superRefine((policy, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });

    if (policy.network === 'x' && policy.mode === 'auto' && !policy.acknowledgeXAutomationPolicy) {
      issue(['mode'], X_AUTO_REFUSAL);
    }
    if (policy.instanceLimits && policy.network !== 'mastodon') {
      issue(['instanceLimits'], 'only a Mastodon instance sets its own limits');
    }

    const { notBeforeHours, withinHours } = policy.promise;
    if (withinHours - notBeforeHours < 1) {
      issue(
        ['promise', 'withinHours'],
        `must be at least 1 hour more than notBeforeHours (${notBeforeHours})`,
      );
    }
    const quiet = policy.quietHours;
    if (quiet && isClock(quiet.start) && isClock(quiet.end) && quietMinutesPerDay(quiet) > 20 * 60) {
      issue(['quietHours'], 'must leave at least 4 active hours a day');
    }

    const limits = followLimitsFor(policy.network, policy.instanceLimits);
    const { caps } = policy;
    if (caps.per15Minutes > limits.per15Minutes) {
      issue(['caps', 'per15Minutes'], `${caps.per15Minutes} is above ${limits.per15MinutesText}`);
    }
    if (caps.perDay > limits.perDay) {
      issue(['caps', 'perDay'], `${caps.perDay} is above ${limits.perDayText}`);
    }
    if (caps.paceBurst > caps.per15Minutes) {
      issue(['caps', 'paceBurst'], `must not exceed caps.per15Minutes (${caps.per15Minutes})`);
    }
    if (policy.retry.maxDelayMinutes < policy.retry.baseDelayMinutes) {
      issue(
        ['retry', 'maxDelayMinutes'],
        `must be at least retry.baseDelayMinutes (${policy.retry.baseDelayMinutes})`,
      );
    }
  }),
);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Overrides merged into defaults: nested objects merge, anything else (arrays, null) replaces. */
function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = deepMerge(base[key], value);
  return out;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * The sustained pace derived from the caps: the daily cap spread over the active hours, with 25 %
 * headroom so a backlog can still fill the day; a burst of 15 minutes of pace (one tick's worth).
 */
export function derivePace(
  caps: { per15Minutes: number; perDay: number },
  quietHours: { start: string; end: string } | null,
): { pacePerHour: number; paceBurst: number } {
  const activeHours = Math.max(1, 24 - quietMinutesPerDay(quietHours) / 60);
  const pacePerHour = Math.min(
    caps.per15Minutes * 4,
    Math.max(1, Math.ceil((caps.perDay * 1.25) / activeHours)),
  );
  const paceBurst = Math.min(caps.per15Minutes, Math.max(1, Math.ceil(pacePerHour / 4)));
  return { pacePerHour, paceBurst };
}

/**
 * The account's policy: the network's defaults, the overrides (an object shaped like EnginePolicy,
 * any part of it), validated. Throws ConfigError naming each bad field.
 */
export function resolvePolicy(network: Network, overrides: unknown = {}): EnginePolicy {
  if (overrides === null || overrides === undefined) overrides = {};
  if (!isPlainObject(overrides)) throw new ConfigError('invalid account policy: policy: must be an object');
  if (overrides.network !== undefined && overrides.network !== network) {
    throw new ConfigError(
      `invalid account policy: network: is ${JSON.stringify(overrides.network)} but the account is on ${network}`,
    );
  }
  const defaults = POLICY_DEFAULTS[network];
  if (!defaults)
    throw new ConfigError(`invalid account policy: network: unknown network ${JSON.stringify(network)}`);
  const merged = deepMerge(defaults, overrides) as Record<string, unknown>;

  const caps = (isPlainObject(merged.caps) ? { ...merged.caps } : merged.caps) as Record<string, unknown>;
  if (isPlainObject(caps)) {
    const overrideCaps = isPlainObject(overrides.caps) ? overrides.caps : {};
    const instance = isPlainObject(merged.instanceLimits) ? merged.instanceLimits : undefined;
    if (network === 'mastodon' && instance) {
      // Defaults follow the instance's own limits unless the caps are set explicitly.
      const per15 = num(instance.per15Minutes);
      const perDay = num(instance.perDay);
      if (overrideCaps.per15Minutes === undefined && per15 !== undefined) {
        caps.per15Minutes = Math.max(
          1,
          Math.min(defaults.caps.per15Minutes, Math.floor(per15 * SAFE_FRACTION)),
        );
      }
      if (overrideCaps.perDay === undefined && perDay !== undefined) {
        caps.perDay = Math.max(1, Math.min(defaults.caps.perDay, Math.floor(perDay * SAFE_FRACTION)));
      }
    }
    const per15 = num(caps.per15Minutes);
    const perDay = num(caps.perDay);
    const quiet = merged.quietHours;
    const quietOk =
      quiet === null ||
      (isPlainObject(quiet) &&
        typeof quiet.start === 'string' &&
        typeof quiet.end === 'string' &&
        isClock(quiet.start) &&
        isClock(quiet.end));
    if (per15 !== undefined && perDay !== undefined && per15 >= 1 && perDay >= 1) {
      const derived = derivePace(
        { per15Minutes: per15, perDay },
        quietOk ? (quiet as { start: string; end: string } | null) : null,
      );
      if (caps.pacePerHour === undefined) caps.pacePerHour = derived.pacePerHour;
      if (caps.paceBurst === undefined)
        caps.paceBurst = Math.min(derived.paceBurst, Math.max(1, Math.floor(per15)));
    } else {
      // The caps themselves are wrong and will be reported; do not report derived fields too.
      caps.pacePerHour ??= 1;
      caps.paceBurst ??= 1;
    }
    merged.caps = caps;
  }
  return parseConfig(policySchema, merged, 'account policy');
}

/** The warning to print for this policy, if any (X in `auto` mode). */
export function policyWarnings(policy: EnginePolicy): string[] {
  return policy.network === 'x' && policy.mode === 'auto' ? [X_AUTOMATION_WARNING] : [];
}

/**
 * The app-wide daily follow cap shared by all accounts of the deployment on `network` (null: none).
 * X's earlier docs gave 1,000 follows per day per app: the default is 900 and more is refused.
 */
export function resolveAppDailyCap(network: Network, override?: unknown): number | null {
  const limit = PLATFORM_FOLLOW_LIMITS[network].appPerDay;
  const schema = z.nullable(z.number().check(z.int(), z.gte(1))).check(
    z.refine((v) => v === null || limit === undefined || v <= limit, {
      message: `is above the platform's app-wide limit of ${limit} follows per day`,
    }),
  );
  const value = override === undefined ? APP_DAILY_CAP_DEFAULTS[network] : override;
  return parseConfig(schema, value, `appDailyCap.${network}`);
}
