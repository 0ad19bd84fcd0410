/**
 * The owner's chosen unfollows on Bluesky and Mastodon: what the caps do not allow at once is
 * queued durably and carried out paced under the caps on later ticks, each person once, whatever
 * crashes or races; people who follow back, whom the owner re-followed or unfollowed by hand, or
 * who are gone are skipped, each with its reason. Nothing is queued that a person did not choose.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { FakePlatform } from '../../sandbox/fake-platform.ts';
import { createWorld, type World, type WorldUser } from '../../sandbox/world.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoConsoleStore } from '../../shared/adapters/dynamo/console-store.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { DynamoUnfollowQueue } from '../../shared/adapters/dynamo/unfollow-store.ts';
import { MemoryLogger } from '../../shared/adapters/logger.ts';
import {
  enqueueUnfollows,
  runUnfollowQueue,
  type UnfollowQueueDeps,
  unfollowQueueOf,
} from '../../shared/app/engine/unfollow-queue.ts';
import { runAccountTick } from '../../shared/app/tick.ts';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import type { AccountRecord } from '../../shared/domain/account.ts';
import { emptyObserveState } from '../../shared/domain/account-state.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { idCodecFor } from '../../shared/domain/idset/index.ts';
import type { Network } from '../../shared/ports/platform.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;
const OWNER_ACTOR = { kind: 'console', id: 'ops@agency.example' } as const;

describe.each(['bluesky', 'mastodon'] as const)('queued unfollows on %s', (network: Network) => {
  const db = useDynamoBackend(dynaliteBackend);
  let clock: VirtualClock;
  let world: World;
  let owner: WorldUser;
  let platform: FakePlatform;
  let store: DynamoStore;
  let queue: DynamoUnfollowQueue;
  let audit: DynamoConsoleStore;
  let account: AccountRecord;
  /** Platform ids of people the owner follows who do not follow back. */
  let oneSided: string[];

  beforeEach(async () => {
    clock = new VirtualClock(START);
    world = createWorld({ seed: 7, clock, orderNoise: 0 });
    owner = world.addOwner({
      handle: 'shop',
      initialFollowers: 30,
      initialFollowing: 40,
      followersPerDay: 0,
      unfollowsPerDay: 0,
      deletionsPerDay: 0,
    });
    platform = new FakePlatform({ world, network, ownerId: owner.id });
    const tableName = await createTestTable(db);
    store = new DynamoStore({ client: db.client, tableName, clock });
    queue = new DynamoUnfollowQueue({ client: db.client, tableName });
    audit = new DynamoConsoleStore({ client: db.client, tableName });
    const me = await platform.me();
    account = {
      clientId: 'acme',
      accountId: `${network}-shop`,
      network,
      platformUserId: me.id,
      handle: 'shop',
      status: 'active',
      observe: resolveObserveSettings(network, {}),
      // Two a window: a batch of five takes three windows.
      policy: { mode: 'auto', timeZone: 'UTC', caps: { per15Minutes: 2, perDay: 100 } },
      createdAt: START,
    };
    await store.putClient({
      clientId: 'acme',
      name: 'Acme',
      timeZone: 'UTC',
      digestEmails: ['owner@acme.example'],
      createdAt: START,
    });
    await store.putAccount(account);
    const following = (await platform.listFollowing(me.id, { pageSize: 80 })).users.map((u) => u.id);
    const relations = await platform.relationships!(me.id, following);
    oneSided = following.filter((id) => relations.get(id)?.followedBy === false);
    expect(oneSided.length).toBeGreaterThanOrEqual(6);
  });

  const deps = (extra: Partial<UnfollowQueueDeps> = {}): UnfollowQueueDeps => ({
    queue,
    store,
    clock,
    audit,
    unfollowed: audit,
    ...extra,
  });
  const run = (extra: Partial<UnfollowQueueDeps> = {}, worker = 'w1') =>
    runUnfollowQueue(account, platform, deps(extra), { worker, pauseMs: 0 });
  const worldId = (platformId: string) => platform.worldIdOf(platformId)!;
  const unfollowCalls = () => world.unfollowCalls(owner.id).map((c) => c.targetId);
  const stateOf = async (targetId: string) => (await queue.getUnfollow(account, targetId))?.item;

  /** Runs the queue whenever the caps allow, until it is empty; the runs' reports. */
  async function drain(worker = 'w1') {
    const reports = [];
    for (let i = 0; i < 100; i += 1) {
      const report = await run({}, worker);
      reports.push(report);
      if (report.remaining === 0) break;
      clock.set(Math.max(report.nextAt ?? 0, clock.now() + MINUTE));
    }
    return reports;
  }

  it('carries out what the caps allow at once and the rest on later runs, paced under the caps', async () => {
    // Prepare
    const chosen = oneSided.slice(0, 5);
    await enqueueUnfollows(
      { queue, clock },
      OWNER_ACTOR,
      account,
      chosen.map((targetId) => ({ targetId })),
    );
    // Act
    const [first, ...later] = await drain();
    // Assess: not all at once; every one once, in the end; never more than the cap in 15 minutes
    expect(first?.done.length).toBeGreaterThan(0);
    expect(first?.done.length).toBeLessThanOrEqual(2);
    expect(first).toMatchObject({ stopped: 'caps', remaining: 5 - (first?.done.length ?? 0) });
    expect(first?.nextAt).toBeGreaterThan(START);
    expect(later.length).toBeGreaterThan(0);
    expect(unfollowCalls().sort()).toEqual(chosen.map(worldId).sort());
    const times = world.unfollowCalls(owner.id).map((c) => c.at);
    for (const at of times) {
      expect(times.filter((t) => t >= at && t < at + 15 * MINUTE).length).toBeLessThanOrEqual(2);
    }
    for (const id of chosen) {
      expect(world.isFollowing(owner.id, worldId(id))).toBe(false);
      expect((await stateOf(id))?.state).toBe('done');
    }
    const entries = await audit.listAudit('acme');
    expect(
      entries
        .filter((e) => e.action === 'unfollow')
        .flatMap((e) => e.targets ?? [])
        .sort(),
    ).toEqual([...chosen].sort());
    expect(entries.every((e) => e.actor.id === OWNER_ACTOR.id)).toBe(true);
  });

  it('skips people who follow back now, are gone, or were unfollowed or re-followed by hand, each with its reason', async () => {
    // Prepare
    const [followsBack, gone, unfollowedByHand, reFollowed, plain] = oneSided;
    await enqueueUnfollows(
      { queue, clock },
      OWNER_ACTOR,
      account,
      [followsBack, gone, unfollowedByHand, reFollowed, plain].map((targetId) => ({ targetId: targetId! })),
    );
    clock.advance(MINUTE);
    world.userFollows(worldId(followsBack!), owner.id);
    world.deleteUser(worldId(gone!));
    world.ownerUnfollows(owner.id, worldId(unfollowedByHand!));
    // The owner unfollowed and followed again by hand; an observation of the following list saw the gap.
    world.ownerUnfollows(owner.id, worldId(reFollowed!));
    world.ownerFollows(owner.id, worldId(reFollowed!));
    const codec = idCodecFor(network);
    await store.putState(account, { observe: { ...emptyObserveState(), seq: 1 } }, 0);
    await store.putChangeset(account, {
      seq: 1,
      at: clock.now(),
      kind: 'following',
      source: 'full',
      added: codec.encode(codec.fromStrings([])),
      removed: codec.encode(codec.fromStrings([reFollowed!])),
      addedCount: 0,
      removedCount: 1,
      profiles: [],
    });
    clock.advance(MINUTE);
    // Act
    const reports = await drain();
    // Assess
    expect(new Map(reports.flatMap((r) => r.skipped).map((s) => [s.targetId, s.reason]))).toEqual(
      new Map([
        [followsBack, 'follows_back'],
        [gone, 'gone'],
        [unfollowedByHand, 'not_following'],
        [reFollowed, 're_followed'],
      ]),
    );
    expect(unfollowCalls()).toEqual([worldId(plain!)]);
    expect(world.isFollowing(owner.id, worldId(reFollowed!))).toBe(true);
    const shown = await unfollowQueueOf(queue, account);
    expect(shown.open).toEqual([]);
    expect(shown.finished.map((i) => [i.targetId, i.state]).sort()).toEqual(
      [
        [followsBack, 'skipped'],
        [gone, 'skipped'],
        [unfollowedByHand, 'skipped'],
        [reFollowed, 'skipped'],
        [plain, 'done'],
      ].sort(),
    );
  });

  it('does not call again after a crash between the unfollow and marking it done', async () => {
    // Prepare: the process dies at the first `done` write
    const target = oneSided[0]!;
    await enqueueUnfollows({ queue, clock }, OWNER_ACTOR, account, [{ targetId: target }]);
    let dies = true;
    const dying = new Proxy(queue, {
      get(t, name, receiver) {
        if (name === 'putUnfollow') {
          return async (...args: Parameters<DynamoUnfollowQueue['putUnfollow']>) => {
            if (dies && args[1].state === 'done') {
              dies = false;
              throw new Error('process killed');
            }
            return t.putUnfollow(...args);
          };
        }
        const value = Reflect.get(t, name, receiver);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
    await expect(run({ queue: dying })).rejects.toThrow('process killed');
    const stuck = await stateOf(target);
    // Act: a later tick, before and after the dead worker's lease ran out
    const tooSoon = await run({}, 'w2');
    clock.advance(3 * MINUTE);
    const later = await run({}, 'w2');
    // Assess
    expect(stuck?.state).toBe('in_progress');
    expect(tooSoon.done).toEqual([]);
    expect(later.done).toEqual([target]);
    expect(unfollowCalls()).toEqual([worldId(target)]);
  });

  it('leaves a person queued, no attempt spent, when the network cannot be asked before the call', async () => {
    // Prepare
    const target = oneSided[0]!;
    await enqueueUnfollows({ queue, clock }, OWNER_ACTOR, account, [{ targetId: target }]);
    platform.faults.add({ endpoint: 'relationships', kind: '500', times: 1 });
    // Act
    const failed = await run();
    const waiting = await stateOf(target);
    const retried = await run();
    // Assess
    expect(failed).toMatchObject({ stopped: 'error', remaining: 1, done: [] });
    expect(waiting).toMatchObject({ state: 'queued', attempts: 0 });
    expect(waiting?.lastError).toBeDefined();
    expect(retried.done).toEqual([target]);
    expect(unfollowCalls()).toEqual([worldId(target)]);
  });

  it('unfollows each person once when two workers run the queue at the same time', async () => {
    // Prepare
    const chosen = oneSided.slice(0, 6);
    await enqueueUnfollows(
      { queue, clock },
      OWNER_ACTOR,
      account,
      chosen.map((targetId) => ({ targetId })),
    );
    // Act: two workers at every turn until the queue is empty
    const done: string[] = [];
    for (let i = 0; i < 100; i += 1) {
      const [a, b] = await Promise.all([run({}, 'a'), run({}, 'b')]);
      done.push(...a.done, ...b.done);
      if (a.remaining === 0 || b.remaining === 0) break;
      clock.set(Math.max(a.nextAt ?? 0, b.nextAt ?? 0, clock.now() + MINUTE));
    }
    // Assess
    expect([...done].sort()).toEqual([...chosen].sort());
    expect(unfollowCalls().sort()).toEqual(chosen.map(worldId).sort());
  });

  it('queues a person chosen twice once, and queues only whom a person chose', async () => {
    // Prepare
    const target = oneSided[0]!;
    // Act
    const first = await enqueueUnfollows({ queue, clock }, OWNER_ACTOR, account, [{ targetId: target }]);
    const again = await enqueueUnfollows({ queue, clock }, OWNER_ACTOR, account, [{ targetId: target }]);
    const report = await run();
    // Assess
    expect(first.queued).toEqual([target]);
    expect(again).toEqual({ queued: [], already: [target] });
    expect(report.done).toEqual([target]);
    expect(unfollowCalls()).toEqual([worldId(target)]);
    expect((await queue.listUnfollows(account)).map((s) => s.item.targetId)).toEqual([target]);
  });

  it('is carried out by the account tick after act, which wakes again when the caps allow the next', async () => {
    // Prepare
    const chosen = oneSided.slice(0, 4);
    await enqueueUnfollows(
      { queue, clock },
      OWNER_ACTOR,
      account,
      chosen.map((targetId) => ({ targetId })),
    );
    const tick = () =>
      runAccountTick(
        account,
        {
          platform,
          store,
          clock,
          logger: new MemoryLogger(),
          newId: () => `id-${clock.now()}`,
          unfollows: { queue, audit, unfollowed: audit },
        },
        { worker: 'tick', timeLeftMs: () => 60_000 },
      );
    // Act: the scheduler's ticks every 15 minutes
    const first = await tick();
    const wakeAt = (await store.getState(account))?.state.engine?.nextActAt ?? 0;
    for (let i = 0; i < 40 && unfollowCalls().length < chosen.length; i += 1) {
      clock.advance(15 * MINUTE);
      await tick();
    }
    // Assess
    const firstDone = first.ran ? (first.unfollows?.done.length ?? 0) : 0;
    expect(firstDone).toBeGreaterThan(0);
    expect(firstDone).toBeLessThan(chosen.length);
    expect(wakeAt).toBeLessThan(START + 6 * 3_600_000);
    expect(unfollowCalls().sort()).toEqual(chosen.map(worldId).sort());
  });
});

describe('queued unfollows on X', () => {
  it('are refused: X forbids bulk and automated unfollowing', async () => {
    // Prepare
    const account = { network: 'x' } as AccountRecord;
    // Act
    const attempt = enqueueUnfollows(
      { queue: {} as DynamoUnfollowQueue, clock: new VirtualClock(START) },
      OWNER_ACTOR,
      account,
      [{ targetId: '1' }],
    );
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
  });
});
