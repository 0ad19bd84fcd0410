import type { AccountRecord } from '../../domain/account.ts';
import {
  drainLimiter,
  type LimiterConfig,
  type LimiterState,
  newLimiter,
  refundLimiter,
  tryTakeLimiter,
} from '../../domain/engine/limiter.ts';
import type { EnginePolicy } from '../../domain/engine/policy.ts';
import { accountLimiterConfig, appLimiterConfig, pdsHostLimiterConfig } from '../../domain/engine/policy.ts';
import { ConflictError } from '../../domain/errors.ts';
import { defined } from '../../domain/invariant.ts';
import { appFollowBucketName } from '../../domain/x-app.ts';
import type { BucketKey, BucketStore } from '../../ports/tasks.ts';

/** One limiter as stored: its config, key, state and the version it was read at. */
export interface LoadedLimiter {
  key: BucketKey;
  config: LimiterConfig;
  state: LimiterState;
  version: number;
}

/** Where a Bluesky account's PDS requests go when it names no PDS of its own. */
export const DEFAULT_PDS_HOST = 'bsky.social';

/**
 * The name of the deployment-wide bucket of a Bluesky account's PDS host (its `instanceUrl`, or the
 * default service): the PDS's request window is per client IP, so all accounts on one host share it.
 */
export function pdsHostBucketName(account: Pick<AccountRecord, 'instanceUrl'>): string {
  let host = DEFAULT_PDS_HOST;
  if (account.instanceUrl) {
    try {
      host = new URL(account.instanceUrl).host;
    } catch {
      host = account.instanceUrl;
    }
  }
  return `follow-bluesky-pds:${host.toLowerCase()}`;
}

/**
 * The limiters a follow by this account must pass: its own caps, on Bluesky the deployment-wide
 * window of its PDS host, and, if set, the app-wide daily cap of its app (on X the client's own app
 * has a cap of its own: `appFollowBucketName`). The account's limiter comes first.
 */
export async function loadFollowLimiters(
  buckets: BucketStore,
  account: AccountRecord,
  policy: EnginePolicy,
  appDailyCap: number | null,
): Promise<LoadedLimiter[]> {
  const specs: Array<{ key: BucketKey; config: LimiterConfig }> = [
    { key: { scope: 'account', ref: account, name: 'follow' }, config: accountLimiterConfig(policy) },
  ];
  if (account.network === 'bluesky') {
    specs.push({ key: { scope: 'app', name: pdsHostBucketName(account) }, config: pdsHostLimiterConfig() });
  }
  if (appDailyCap !== null) {
    specs.push({
      key: { scope: 'app', name: appFollowBucketName(account) },
      config: appLimiterConfig(appDailyCap),
    });
  }
  return Promise.all(specs.map(async (spec) => load(buckets, spec.key, spec.config)));
}

async function load(buckets: BucketStore, key: BucketKey, config: LimiterConfig): Promise<LoadedLimiter> {
  const stored = await buckets.getBucket<LimiterState>(key);
  return { key, config, state: stored?.state ?? newLimiter(config), version: stored?.version ?? 0 };
}

export type TakeOutcome = { ok: true; takenAt: number[] } | { ok: false; availableAt: number };

/**
 * Takes one follow from every limiter, each with a conditional write; a lost race re-reads and
 * tries again. If a later limiter refuses, the earlier takes are refunded, so no cap is spent on a
 * follow that is not made.
 */
export async function takeFollow(
  buckets: BucketStore,
  limiters: LoadedLimiter[],
  now: number,
): Promise<TakeOutcome> {
  const taken: number[] = [];
  for (let index = 0; index < limiters.length; index += 1) {
    const outcome = await takeOne(buckets, limiters, index, now);
    if (!outcome.ok) {
      await refundFollow(buckets, limiters.slice(0, index), taken);
      return outcome;
    }
    taken.push(outcome.takenAt);
  }
  return { ok: true, takenAt: taken };
}

async function takeOne(
  buckets: BucketStore,
  limiters: LoadedLimiter[],
  index: number,
  now: number,
): Promise<{ ok: true; takenAt: number } | { ok: false; availableAt: number }> {
  let limiter = defined(limiters[index], 'the limiter to take from');
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const result = tryTakeLimiter(limiter.state, limiter.config, now);
    if (!result.ok) return { ok: false, availableAt: result.availableAt };
    try {
      const version = await buckets.putBucket(limiter.key, result.state, limiter.version);
      limiters[index] = { ...limiter, state: result.state, version };
      return { ok: true, takenAt: result.takenAt };
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      limiter = await load(buckets, limiter.key, limiter.config);
      limiters[index] = limiter;
    }
  }
  // Heavy contention: act again next tick rather than spin.
  return { ok: false, availableAt: now + 60_000 };
}

/** Gives back follows that were taken but not made. */
export async function refundFollow(
  buckets: BucketStore,
  limiters: LoadedLimiter[],
  takenAt: number[],
): Promise<void> {
  await update(buckets, limiters, (limiter, index) =>
    refundLimiter(limiter.state, limiter.config, defined(takenAt[index], 'the time taken from each limiter')),
  );
}

/**
 * A 429: nothing passes the account's limiter before the platform's reset. When the platform says
 * the window was its per-IP one (Bluesky's `ratelimit-policy: 3000;w=300`, in the error's details),
 * the PDS host's deployment-wide limiter is blocked as well: every account behind the address waits.
 */
export async function blockUntil(
  buckets: BucketStore,
  limiters: LoadedLimiter[],
  until: number,
  window?: { policy?: unknown } | undefined,
): Promise<void> {
  const shared = typeof window?.policy === 'string' && /;\s*w=300\b/.test(window.policy);
  const blocked = limiters.filter(
    (limiter, index) =>
      index === 0 ||
      (shared && limiter.key.scope === 'app' && limiter.key.name.startsWith('follow-bluesky-pds:')),
  );
  await update(buckets, blocked, (limiter) => drainLimiter(limiter.state, until));
}

async function update(
  buckets: BucketStore,
  limiters: LoadedLimiter[],
  change: (limiter: LoadedLimiter, index: number) => LimiterState,
): Promise<void> {
  for (const [index, loaded] of limiters.entries()) {
    let limiter = loaded;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const state = change(limiter, index);
      try {
        const version = await buckets.putBucket(limiter.key, state, limiter.version);
        limiters[index] = { ...limiter, state, version };
        break;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        limiter = await load(buckets, limiter.key, limiter.config);
        limiters[index] = limiter;
      }
    }
  }
}
