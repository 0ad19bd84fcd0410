import { createWorld, type OwnerOptions, type World, type WorldUser } from '../../sandbox/world.ts';
import { startXSandbox, type XSandbox, type XSandboxOptions } from '../../sandbox/x/server.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { MemoryLogger } from '../../shared/adapters/logger.ts';
import { XPlatform } from '../../shared/adapters/x/x-platform.ts';
import type { EngineSettings } from '../../shared/app/engine/policy-of.ts';
import type { TickReport } from '../../shared/app/tick.ts';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import type { AccountRecord, ObserveSettings } from '../../shared/domain/account.ts';
import type { FollowTask } from '../../shared/domain/engine/task.ts';
import { createTestTable, type DynamoBackend } from './backends.ts';
import type { DynamoTarget } from './dynalite.ts';
import { tickRunner } from './tick-runner.ts';

export const START = Date.UTC(2026, 0, 5, 9, 0, 0);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export interface AccountHarness {
  clock: VirtualClock;
  world: World;
  owner: WorldUser;
  sandbox: XSandbox;
  store: DynamoStore;
  platform: XPlatform;
  account: AccountRecord;
  logs: string[];
  /** One tick for the account, as the scheduler would fire it. */
  tick(options?: { worker?: string; timeLeftMs?: () => number; leaseMs?: number }): Promise<TickReport>;
  /** Ticks every 15 minutes for `ms` of virtual time. */
  runFor(ms: number): Promise<TickReport[]>;
  close(): Promise<void>;
}

export interface AccountHarnessOptions {
  seed?: number;
  orderNoise?: number;
  owner?: Partial<OwnerOptions>;
  observe?: Partial<ObserveSettings>;
  server?: Omit<XSandboxOptions, 'world'>;
  /** The account's follow-back policy overrides (default: none, so X's defaults: `approve` mode). */
  policy?: AccountRecord['policy'];
  /** Deployment engine settings passed to every tick (app-wide caps, task lease). */
  engine?: EngineSettings;
  /** The X adapter's per-request timeout (real ms). Default 1,000. */
  platformTimeoutMs?: number;
}

/**
 * One X account end to end: a seeded sandbox world on loopback, the real X adapter, the DynamoDB
 * store on its own table of a running back end, and the real tick.
 */
export async function startAccountHarness(
  target: DynamoTarget,
  options: AccountHarnessOptions = {},
): Promise<AccountHarness> {
  const clock = new VirtualClock(START);
  const world = createWorld({ seed: options.seed ?? 1, clock, orderNoise: options.orderNoise ?? 0 });
  const owner = world.addOwner({
    handle: 'shop',
    initialFollowers: 250,
    initialFollowing: 40,
    followersPerDay: 0,
    unfollowsPerDay: 0,
    deletionsPerDay: 0,
    ...options.owner,
  });
  const sandbox = await startXSandbox({ world, ...options.server });
  const token = sandbox.issueToken(owner.id);
  const tableName = await createTestTable(target);
  const store = new DynamoStore({ client: target.client, tableName, clock });
  const platform = new XPlatform({
    baseUrl: sandbox.baseUrl,
    accessToken: token,
    timeoutMs: options.platformTimeoutMs ?? 1_000,
  });
  const account: AccountRecord = {
    clientId: 'acme',
    accountId: 'x-shop',
    network: 'x',
    platformUserId: owner.id,
    handle: owner.username,
    status: 'active',
    observe: resolveObserveSettings('x', { readBudgetUsdPerMonth: 1_000, ...options.observe }),
    createdAt: START,
    ...(options.policy === undefined ? {} : { policy: options.policy }),
  };
  await store.putAccount(account);
  const logs: string[] = [];
  const logger = new MemoryLogger(logs);
  const tick = tickRunner({ account, platform, store, clock, logger, engine: options.engine });
  return {
    clock,
    world,
    owner,
    sandbox,
    store,
    platform,
    account,
    logs,
    tick,
    async runFor(ms) {
      const reports: TickReport[] = [];
      const end = clock.now() + ms;
      while (clock.now() + 15 * MINUTE <= end) {
        clock.advance(15 * MINUTE);
        reports.push(await tick());
      }
      return reports;
    },
    close: () => sandbox.close(),
  };
}

export type { DynamoBackend };

/** Spam filters that never skip: targeted engine tests decide who is a candidate themselves. */
export const NO_SPAM_FILTERS = {
  emptyProfile: 'off',
  defaultAvatar: 'off',
  newAccount: { action: 'off' },
  ratio: { action: 'off' },
  keywords: { action: 'off' },
} as const;

/** An X account in `auto` mode (acknowledged: the sandbox is no real X), spam filters off. */
export const AUTO_POLICY = {
  mode: 'auto',
  acknowledgeXAutomationPolicy: true,
  spam: NO_SPAM_FILTERS,
} as const;

/** Makes `count` new users follow the owner now (protected ones when asked). */
export function gainFollowers(
  h: Pick<AccountHarness, 'world' | 'owner'>,
  count: number,
  options: { protected?: boolean } = {},
): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const user = h.world.createUser({ protected: options.protected ?? false });
    h.world.userFollows(user.id, h.owner.id);
    ids.push(user.id);
  }
  return ids;
}

/** One call of the X adapter's follow, as the engine made it. */
export interface FollowAttempt {
  at: number;
  targetId: string;
  /** The outcome, or the error's name. */
  result: string;
  /** A RateLimitedError's reset. */
  resetAt?: number | undefined;
}

/** Records every follow call the engine makes through the harness's adapter (in call order). */
export function recordFollowAttempts(h: Pick<AccountHarness, 'platform' | 'clock'>): FollowAttempt[] {
  const attempts: FollowAttempt[] = [];
  const follow = h.platform.follow.bind(h.platform);
  h.platform.follow = async (source, target) => {
    const at = h.clock.now();
    try {
      const result = await follow(source, target);
      attempts.push({ at, targetId: target, result: result.outcome });
      return result;
    } catch (error) {
      const resetAt = (error as { resetAt?: unknown }).resetAt;
      attempts.push({
        at,
        targetId: target,
        result: (error as Error).name,
        resetAt: typeof resetAt === 'number' ? resetAt : undefined,
      });
      throw error;
    }
  };
  return attempts;
}

/** Most of `times` in any half-open interval [t, t + windowMs). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end += 1) {
    while (sorted[end]! - sorted[start]! >= windowMs) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

export interface RunTicksOptions {
  worker?: string;
  timeLeftMs?: () => number;
  /** Ticks that throw (injected crashes) are handed here instead of failing the run. */
  onError?: (error: unknown) => void;
  /** Called after every tick that returned. */
  onReport?: (report: TickReport) => void;
}

/** Like `runFor`, but tolerant of injected crashes when `onError` is given: a tick every 15 minutes. */
export async function runTicks(
  h: AccountHarness,
  ms: number,
  options: RunTicksOptions = {},
): Promise<TickReport[]> {
  const reports: TickReport[] = [];
  const end = h.clock.now() + ms;
  while (h.clock.now() + 15 * MINUTE <= end) {
    h.clock.advance(15 * MINUTE);
    try {
      const report = await h.tick({
        ...(options.worker === undefined ? {} : { worker: options.worker }),
        ...(options.timeLeftMs === undefined ? {} : { timeLeftMs: options.timeLeftMs }),
      });
      reports.push(report);
      options.onReport?.(report);
    } catch (error) {
      if (!options.onError) throw error;
      options.onError(error);
    }
  }
  return reports;
}

/** A worker dying at a chosen step, as the crash tests inject it. */
export class InjectedCrash extends Error {
  override readonly name = 'InjectedCrash';
}

/** Follows (or requests) X really made for the owner towards `targetId`: the world's ground truth. */
export function followEffects(h: Pick<AccountHarness, 'world' | 'owner'>, targetId: string): number {
  return h.world
    .followCalls(h.owner.id)
    .filter((call) => call.targetId === targetId)
    .filter((call) => call.outcome === 'followed' || call.outcome === 'pending').length;
}

/** The stored task for a target; fails the test when there is none. */
export async function taskOf(
  h: Pick<AccountHarness, 'store' | 'account'>,
  targetId: string,
): Promise<FollowTask> {
  const stored = await h.store.getTask(h.account, targetId);
  if (!stored) throw new Error(`no task for ${targetId}`);
  return stored.task;
}
