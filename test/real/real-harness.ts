/**
 * The contract harness on the real network (npm run test:real): a fresh owner on the reference PDS
 * with an app password, followed by seeded accounts (a pool per test file, some without a profile
 * record), the real Bluesky adapter talking to the PDS through a loopback proxy of its own (its own
 * source address: its own per-IP rate-limit window; faults as the sandboxes inject them), the
 * DynamoDB store and the real tick on a virtual clock that starts at the wall clock. Before a tick,
 * the AppView is given time to index what the seeder changed, as 15 minutes between ticks would.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBlueskyPlatform } from '../../shared/adapters/bluesky/bluesky-platform.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { MemoryLogger } from '../../shared/adapters/logger.ts';
import { loadGraph } from '../../shared/app/observe/graph-repo.ts';
import type { TickReport } from '../../shared/app/tick.ts';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import type { AccountRecord } from '../../shared/domain/account.ts';
import { idCodecFor } from '../../shared/domain/idset/index.ts';
import { createTestTable } from '../support/backends.ts';
import type { DynamoTarget } from '../support/dynalite.ts';
import {
  CAPABILITIES,
  type ContractHarness,
  ENDPOINTS,
  MINUTE,
  type PlatformHarnessOptions,
} from '../support/platform-harness.ts';
import type { TestGraph } from '../support/test-graph.ts';
import { tickRunner } from '../support/tick-runner.ts';
import { type PdsProxy, startPdsProxy } from './pds-proxy.ts';
import { mapLimit, RealNetwork, type SeedAccount } from './real-network.ts';

const POOL_SIZE = 270;
let pool: Promise<SeedAccount[]> | undefined;
let harnesses = 0;

/**
 * Accounts to follow owners with, made once per run (kept in a file beside the run's network, which
 * the test files share one after another); every seventh has no profile record.
 */
export function seedPool(network: RealNetwork): Promise<SeedAccount[]> {
  pool ??= (async () => {
    const file = join(tmpdir(), `followback-real-pool-${new URL(network.info.pds).port}.json`);
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as SeedAccount[];
    const made = await mapLimit(Array.from({ length: POOL_SIZE }), 10, (_, index) =>
      network.createAccount('p', index % 7 === 3 ? null : {}),
    );
    writeFileSync(file, JSON.stringify(made));
    return made;
  })();
  return pool;
}

/** A loopback source address of its own for each harness of this process: its own rate-limit window. */
export function nextSourceAddress(): string {
  harnesses += 1;
  return `127.${1 + (process.pid % 250)}.${Math.floor(harnesses / 250)}.${1 + (harnesses % 250)}`;
}

export interface RealHarness extends ContractHarness {
  real: RealNetwork;
  proxy: PdsProxy;
  ownerAccount: SeedAccount;
  appPassword: string;
}

export async function startRealHarness(
  target: DynamoTarget,
  options: PlatformHarnessOptions,
): Promise<RealHarness> {
  if (options.network !== 'bluesky') throw new Error(`the real network is Bluesky, not ${options.network}`);
  const real = RealNetwork.fromInject();
  const accounts = await seedPool(real);
  const initialFollowers = options.owner?.initialFollowers ?? 250;
  const initialFollowing = options.owner?.initialFollowing ?? 40;
  if (initialFollowers > accounts.length)
    throw new Error(`the pool has ${accounts.length} accounts, not ${initialFollowers}`);
  const owner = await real.createAccount('owner', { displayName: 'The Shop', description: 'Bread, daily.' });
  const appPassword = await real.createAppPassword(owner);

  // Followers: the first of the pool, in order; the owner follows a slice that overlaps them.
  const followers = new Map<string, { account: SeedAccount; uri: string }>();
  const uris = await mapLimit(accounts.slice(0, initialFollowers), 8, (account) =>
    real.follow(account, owner.did),
  );
  for (const [index, account] of accounts.slice(0, initialFollowers).entries()) {
    followers.set(account.did, { account, uri: uris[index]! });
  }
  const followed = accounts
    .slice(200 % accounts.length)
    .concat(accounts)
    .slice(0, initialFollowing);
  await mapLimit(followed, 8, (account) => real.follow(owner, account.did));
  const fresh = new Map<string, SeedAccount>();

  const clock = new VirtualClock(Date.now());
  const proxy = await startPdsProxy({
    pds: real.info.pds,
    sourceAddress: nextSourceAddress(),
    now: () => clock.now(),
  });
  for (const account of followed) proxy.followed.add(account.did);
  await real.settle();

  const platform = createBlueskyPlatform({
    service: proxy.url,
    identifier: owner.handle,
    password: appPassword,
    clock,
    timeoutMs: options.timeoutMs ?? 2_500,
  });
  const tableName = await createTestTable(target);
  const store = new DynamoStore({ client: target.client, tableName, clock });
  const account: AccountRecord = {
    clientId: 'acme',
    accountId: 'bluesky-shop',
    network: 'bluesky',
    platformUserId: owner.did,
    handle: owner.handle,
    status: 'active',
    observe: resolveObserveSettings('bluesky', options.observe ?? {}),
    createdAt: clock.now(),
    ...(options.policy === undefined ? {} : { policy: options.policy }),
  };
  await store.putAccount(account);
  const ids = idCodecFor('bluesky');
  const logs: string[] = [];
  const runTick = tickRunner({
    account,
    platform,
    store,
    clock,
    logger: new MemoryLogger(logs),
    engine: options.engine,
  });
  let dirty = false;
  const changed = () => {
    dirty = true;
  };

  const followingIds = async () => [
    ...new Set((await real.followRecords(owner.did)).map((record) => record.subject)),
  ];
  const graph: TestGraph = {
    async gainFollowers(count, wanted = {}) {
      const out: string[] = [];
      for (let i = 0; i < count; i += 1) {
        const user = await real.createAccount(
          'f',
          wanted.noBot ? { description: 'Just a person. #nobot' } : {},
        );
        const uri = await real.follow(user, owner.did);
        followers.set(user.did, { account: user, uri });
        fresh.set(user.did, user);
        out.push(user.did);
        clock.advance(MINUTE);
      }
      changed();
      return out;
    },
    async userUnfollows(did) {
      const follower = followers.get(did);
      if (!follower) return;
      await real.deleteRecord(follower.account, follower.uri);
      followers.delete(did);
      changed();
    },
    async ownerFollows(did) {
      await real.follow(owner, did);
      proxy.followed.add(did);
      changed();
    },
    async ownerUnfollows(did) {
      for (const record of await real.followRecords(owner.did)) {
        if (record.subject === did) await real.deleteRecord(owner, record.uri);
      }
      proxy.followed.delete(did);
      changed();
    },
    async deleteUser(did) {
      if (!fresh.has(did))
        throw new Error('only followers made by gainFollowers may be deleted (the pool is shared)');
      await real.deleteAccount(did);
      followers.delete(did);
      changed();
    },
    followerIds: async () => [...followers.keys()],
    followingIds,
    isFollowing: async (did) => (await followingIds()).includes(did),
    isPending: async () => false,
    isProtected: () => false,
    followCalls: (did) =>
      proxy.followCalls.filter((call) => call.subject === did).map((call) => call.outcome),
    totals: () => {
      const { rateLimited, faults, duplicateFollowCalls } = proxy.stats.snapshot().totals;
      return { rateLimited, faults, duplicateFollowCalls };
    },
  };

  const tick: ContractHarness['tick'] = async (tickOptions) => {
    if (dirty) {
      dirty = false;
      await real.settle();
    }
    return runTick(tickOptions);
  };
  return {
    network: 'bluesky',
    capabilities: CAPABILITIES.bluesky,
    clock,
    store,
    platform,
    account,
    graph,
    ids,
    logs,
    real,
    proxy,
    ownerAccount: owner,
    appPassword,
    idOf: (did) => did,
    sortedIds: (dids) => ids.toStrings(ids.fromStrings(dids)),
    fault: (spec) => {
      proxy.faults.add({ ...spec, endpoint: ENDPOINTS.bluesky[spec.endpoint] });
    },
    async snapshot(kind) {
      const state = (await store.getState(account))!.state.observe;
      return ids.toStrings(await loadGraph(store, account, kind, state.graphs[kind], state.seq, ids));
    },
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
    close: () => proxy.close(),
  };
}
