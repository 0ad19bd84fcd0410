import { createWorld, type OwnerOptions, type World, type WorldUser } from '../../sandbox/world.ts';
import { startXSandbox, type XSandbox, type XSandboxOptions } from '../../sandbox/x/server.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { MemoryLogger } from '../../shared/adapters/logger.ts';
import { XPlatform } from '../../shared/adapters/x/x-platform.ts';
import { runAccountTick, type TickReport } from '../../shared/app/tick.ts';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import type { AccountRecord, ObserveSettings } from '../../shared/domain/account.ts';
import { createTestTable, type DynamoBackend } from './backends.ts';
import type { DynamoTarget } from './dynalite.ts';

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
  tick(options?: { worker?: string; timeLeftMs?: () => number }): Promise<TickReport>;
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
  const platform = new XPlatform({ baseUrl: sandbox.baseUrl, accessToken: token, timeoutMs: 1_000 });
  const account: AccountRecord = {
    clientId: 'acme',
    accountId: 'x-shop',
    network: 'x',
    platformUserId: owner.id,
    handle: owner.username,
    status: 'active',
    observe: resolveObserveSettings('x', { readBudgetUsdPerMonth: 1_000, ...options.observe }),
    createdAt: START,
  };
  await store.putAccount(account);
  const logs: string[] = [];
  const logger = new MemoryLogger(logs);
  let ids = 0;
  const tick: AccountHarness['tick'] = (tickOptions = {}) =>
    runAccountTick(
      account,
      { platform, store, clock, logger, newId: () => `scan-${++ids}` },
      { worker: tickOptions.worker ?? 'worker-1', timeLeftMs: tickOptions.timeLeftMs ?? (() => 60_000) },
    );
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
