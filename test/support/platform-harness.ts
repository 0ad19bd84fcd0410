/**
 * One account end to end on any network: a seeded sandbox world on loopback, that network's sandbox
 * and real adapter (twitter-api-v2, @atcute/client or masto underneath), the DynamoDB store on its own
 * table, and the real tick. The same tests run against each network through it; what differs
 * (page sizes, endpoint names, ids, what the network can express) is here, not in the tests.
 */

import { type BlueskyMethod, type BlueskySandbox, startBlueskySandbox } from '../../sandbox/bluesky/index.ts';
import type { FaultKind } from '../../sandbox/common/faults.ts';
import type { FollowNotificationOptions } from '../../sandbox/common/follow-notifications.ts';
import type { MastodonIdStyle } from '../../sandbox/mastodon/ids.ts';
import {
  type MastodonEndpoint,
  type MastodonSandbox,
  startMastodonSandbox,
} from '../../sandbox/mastodon/index.ts';
import type { MastodonLimits } from '../../sandbox/mastodon/limits.ts';
import type { SandboxStats } from '../../sandbox/stats.ts';
import { createWorld, type OwnerOptions, type World, type WorldUser } from '../../sandbox/world.ts';
import type { XEndpoint } from '../../sandbox/x/limits.ts';
import { startXSandbox, type XSandbox } from '../../sandbox/x/server.ts';
import { createBlueskyPlatform } from '../../shared/adapters/bluesky/bluesky-platform.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { MemoryLogger } from '../../shared/adapters/logger.ts';
import { createMastodonPlatform } from '../../shared/adapters/mastodon/mastodon-platform.ts';
import { XPlatform } from '../../shared/adapters/x/x-platform.ts';
import type { EngineSettings } from '../../shared/app/engine/policy-of.ts';
import { loadGraph } from '../../shared/app/observe/graph-repo.ts';
import type { TickReport } from '../../shared/app/tick.ts';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import type { AccountRecord, GraphKind, ObserveSettings } from '../../shared/domain/account.ts';
import { type IdCodec, idCodecFor } from '../../shared/domain/idset/index.ts';
import type { Network, Platform } from '../../shared/ports/platform.ts';
import { createTestTable } from './backends.ts';
import type { DynamoTarget } from './dynalite.ts';
import { type TestGraph, worldGraph } from './test-graph.ts';
import { tickRunner } from './tick-runner.ts';

export const START = Date.UTC(2026, 0, 5, 9, 0, 0);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const NETWORKS: readonly Network[] = ['x', 'bluesky', 'mastodon'];

/** The operations a test can make fail, whatever each network calls them. */
export type LogicalEndpoint = 'me' | 'followers' | 'following' | 'follow' | 'profile' | 'relationships';

export interface LogicalFault {
  endpoint: LogicalEndpoint;
  kind: FaultKind;
  times?: number;
  holdMs?: number;
  apply?: boolean;
  probability?: number;
}

/** What a network can say, so a test asks only what it can answer. */
export interface Capabilities {
  /** A locked (protected) account turns a follow into a request (X, Mastodon; not Bluesky). */
  locks: boolean;
  /** Accounts carry a bot flag (Mastodon). */
  botFlag: boolean;
  /** The sandbox shows `#nobot` in bios (the open networks). */
  noBotBio: boolean;
  /** The adapter checks "still follows" with a direct relationship lookup (not X). */
  relationships: boolean;
  /** Followers per page of a full scan. */
  pageSize: number;
}

export const CAPABILITIES: Readonly<Record<Network, Capabilities>> = {
  x: { locks: true, botFlag: false, noBotBio: false, relationships: false, pageSize: 1000 },
  bluesky: { locks: false, botFlag: false, noBotBio: true, relationships: true, pageSize: 100 },
  mastodon: { locks: true, botFlag: true, noBotBio: true, relationships: true, pageSize: 80 },
};

export const ENDPOINTS: Readonly<Record<Network, Record<LogicalEndpoint, string>>> = {
  x: {
    me: 'me',
    followers: 'followers',
    following: 'following',
    follow: 'follow',
    profile: 'users',
    relationships: 'followers',
  },
  bluesky: {
    me: 'app.bsky.actor.getProfile',
    followers: 'app.bsky.graph.getFollowers',
    following: 'app.bsky.graph.getFollows',
    follow: 'com.atproto.repo.createRecord',
    profile: 'app.bsky.actor.getProfiles',
    relationships: 'app.bsky.actor.getProfiles',
  },
  mastodon: {
    me: 'verify_credentials',
    followers: 'followers',
    following: 'following',
    follow: 'follow',
    profile: 'accounts',
    relationships: 'relationships',
  },
};

/**
 * What the contract suites (platform-observe, platform-act) use: the same on a sandbox and on a real
 * network (test/real), where there is no world to reach into, only the owner's graph.
 */
export interface ContractHarness {
  network: Network;
  capabilities: Capabilities;
  clock: VirtualClock;
  store: DynamoStore;
  platform: Platform;
  account: AccountRecord;
  /** The owner's graph: change it, and ask what is true. */
  graph: TestGraph;
  /** The network's id codec (numeric on X, strings elsewhere). */
  ids: IdCodec;
  logs: string[];
  /** The platform id of a user id. */
  idOf(userId: string): string;
  /** Platform ids of user ids, sorted as the codec sorts them (for comparing with snapshots). */
  sortedIds(userIds: readonly string[]): string[];
  /** Queues a fault on the network's answers. */
  fault(spec: LogicalFault): void;
  /** The stored snapshot of a list, as platform ids in the codec's order. */
  snapshot(kind: GraphKind): Promise<string[]>;
  tick(options?: { worker?: string; timeLeftMs?: () => number; leaseMs?: number }): Promise<TickReport>;
  /** Ticks every 15 minutes for `ms` of virtual time. */
  runFor(ms: number): Promise<TickReport[]>;
  close(): Promise<void>;
}

export interface PlatformHarness extends ContractHarness {
  world: World;
  owner: WorldUser;
  stats: SandboxStats;
  /** The sandbox of this network (narrow with `network`). */
  sandbox: XSandbox | BlueskySandbox | MastodonSandbox;
  /** The world id of a platform id (X: the same; Bluesky: the DID; Mastodon: the account id). */
  userIdOf(platformId: string): string;
}

export interface PlatformHarnessOptions {
  network: Network;
  seed?: number;
  orderNoise?: number;
  owner?: Partial<OwnerOptions>;
  observe?: Partial<ObserveSettings>;
  policy?: AccountRecord['policy'];
  engine?: EngineSettings;
  /** Mastodon: the instance's limits and id style. */
  mastodon?: { limits?: Partial<MastodonLimits>; idStyle?: MastodonIdStyle };
  /** Adapter request timeout (real ms). Default 1,000. */
  timeoutMs?: number;
  /** Bluesky, Mastodon: how the notifications feed loses some (truncated, lost). */
  notifications?: FollowNotificationOptions;
}

/** Starts the world, the network's sandbox and adapter, and a fresh table; the account is stored. */
export async function startPlatformHarness(
  target: DynamoTarget,
  options: PlatformHarnessOptions,
): Promise<PlatformHarness> {
  const { network } = options;
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
  const timeoutMs = options.timeoutMs ?? 1_000;
  let sandbox: XSandbox | BlueskySandbox | MastodonSandbox;
  let platform: Platform;
  let idOf: (userId: string) => string;
  let userIdOf: (platformId: string) => string | undefined;
  let addFault: (endpoint: string, spec: LogicalFault) => void;
  if (network === 'x') {
    const x = await startXSandbox({ world });
    sandbox = x;
    platform = new XPlatform({ baseUrl: x.baseUrl, accessToken: x.issueToken(owner.id), timeoutMs });
    idOf = (id) => id;
    userIdOf = (id) => id;
    addFault = (endpoint, spec) => x.faults.add({ ...spec, endpoint: endpoint as XEndpoint });
  } else if (network === 'bluesky') {
    const bluesky = await startBlueskySandbox({ world, notifications: options.notifications });
    sandbox = bluesky;
    platform = createBlueskyPlatform({
      service: bluesky.baseUrl,
      identifier: bluesky.handleOf(owner.id),
      password: bluesky.appPasswordFor(owner.id),
      clock,
      timeoutMs,
    });
    idOf = (id) => bluesky.didOf(id);
    userIdOf = (did) => world.userIdForDid(did);
    addFault = (endpoint, spec) => bluesky.faults.add({ ...spec, endpoint: endpoint as BlueskyMethod });
  } else {
    const mastodon = await startMastodonSandbox({
      world,
      ...options.mastodon,
      notifications: options.notifications,
    });
    sandbox = mastodon;
    platform = createMastodonPlatform({
      url: mastodon.baseUrl,
      accessToken: mastodon.issueToken(owner.id),
      clock,
      timeoutMs,
      instance: options.mastodon?.limits && {
        requestsPer5Minutes: options.mastodon.limits.requestsPerWindow,
        followsPerDay: options.mastodon.limits.followsPerDay,
      },
    });
    idOf = (id) => mastodon.idOf(id);
    userIdOf = (id) => mastodon.userIdOf(id);
    addFault = (endpoint, spec) => mastodon.faults.add({ ...spec, endpoint: endpoint as MastodonEndpoint });
  }
  const ownerPlatformId = idOf(owner.id);
  const tableName = await createTestTable(target);
  const store = new DynamoStore({ client: target.client, tableName, clock });
  const account: AccountRecord = {
    clientId: 'acme',
    accountId: `${network}-shop`,
    network,
    platformUserId: ownerPlatformId,
    handle: owner.username,
    status: 'active',
    observe: resolveObserveSettings(network, {
      // X bills reads: give the test account room; the open networks' reads are free.
      ...(network === 'x' ? { readBudgetUsdPerMonth: 1_000 } : {}),
      ...options.observe,
    }),
    createdAt: START,
    ...(options.policy === undefined ? {} : { policy: options.policy }),
  };
  await store.putAccount(account);
  const ids = idCodecFor(network);
  const logs: string[] = [];
  const logger = new MemoryLogger(logs);
  const tick = tickRunner({ account, platform, store, clock, logger, engine: options.engine });
  const harness: PlatformHarness = {
    network,
    capabilities: CAPABILITIES[network],
    clock,
    world,
    owner,
    store,
    platform,
    account,
    graph: worldGraph(world, owner, (ms) => clock.advance(ms)),
    stats: world.stats,
    ids,
    logs,
    sandbox,
    idOf,
    userIdOf(platformId) {
      const id = userIdOf(platformId);
      if (id === undefined) throw new Error(`${network} id ${platformId} is no user of this world`);
      return id;
    },
    sortedIds: (userIds) => ids.toStrings(ids.fromStrings(userIds.map(idOf))),
    fault: (spec) => addFault(ENDPOINTS[network][spec.endpoint], spec),
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
    close: () => sandbox.close(),
  };
  return harness;
}
