import type { ObserveSettings } from '../domain/account.ts';
import type { Network } from '../ports/platform.ts';
import { parseConfig } from './validate.ts';
import * as z from './zod.ts';

/** X bills each user a list read returns: $0.010, or $0.001 when the account owns the app (2026). */
export const X_USD_PER_USER_READ = 0.01;
export const X_USD_PER_OWNED_USER_READ = 0.001;

export const observeSettingsSchema = z.object({
  detectionDelayHours: z.number().check(z.gte(0.25), z.lte(72)),
  readBudgetUsdPerMonth: z.number().check(z.gte(0), z.lte(100_000)),
  readRequestsPerDay: z.number().check(z.int(), z.gte(1), z.lte(100_000)),
  usdPerUserRead: z.number().check(z.gte(0), z.lte(1)),
  fullScanMinDays: z.number().check(z.gte(0), z.lte(365)),
  headScanKnownRun: z.number().check(z.int(), z.gte(1), z.lte(100)),
});

/** Per-network defaults: reads on X cost money, reads on Bluesky and Mastodon are free. */
export const OBSERVE_DEFAULTS: Record<Network, ObserveSettings> = {
  x: {
    // Hourly detection costs no more than six-hourly: X bills a user once a UTC day, so the run and
    // overlap that later head scans of a day read again are free; only requests grow.
    detectionDelayHours: 1,
    readBudgetUsdPerMonth: 25,
    readRequestsPerDay: 2_000,
    usdPerUserRead: X_USD_PER_USER_READ,
    fullScanMinDays: 7,
    headScanKnownRun: 3,
  },
  bluesky: {
    detectionDelayHours: 1,
    readBudgetUsdPerMonth: 0,
    readRequestsPerDay: 20_000,
    usdPerUserRead: 0,
    fullScanMinDays: 1,
    headScanKnownRun: 3,
  },
  mastodon: {
    detectionDelayHours: 1,
    readBudgetUsdPerMonth: 0,
    readRequestsPerDay: 20_000,
    usdPerUserRead: 0,
    fullScanMinDays: 1,
    headScanKnownRun: 3,
  },
};

/** The network's defaults with the account's overrides, validated; a bad value is named. */
export function resolveObserveSettings(network: Network, overrides: unknown = {}): ObserveSettings {
  const merged = { ...OBSERVE_DEFAULTS[network], ...(overrides as object) };
  return parseConfig(observeSettingsSchema, merged, 'observe settings');
}
