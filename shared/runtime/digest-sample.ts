/**
 * A small, fixed client whose digest has something in every section: two X accounts (one in
 * `approve` mode with candidates waiting, one in `auto` mode with follow-backs done, one late and
 * one failed), new and lost followers with profiles, skips, one-sided follows and twelve weeks of
 * follower samples. Written through the real store ports, in the shapes observe and the engine
 * write, so the digest builder reads it exactly as it reads a live account. Used by
 * `followback digest screenshot` (without --local) and by tests.
 */
import { resolveObserveSettings } from '../config/observe-settings.ts';
import type { AccountRecord, ClientRecord, GraphKind } from '../domain/account.ts';
import { type AccountState, emptyObserveState } from '../domain/account-state.ts';
import { WEEK_MS } from '../domain/digest/model.ts';
import {
  createPendingTask,
  createScheduledTask,
  createSkippedTask,
  type FollowTask,
  type SpamSignal,
  taskProfileOf,
} from '../domain/engine/task.ts';
import { chunkBytes, encodeIds, parseIds, sortUnique } from '../domain/idset/index.ts';
import { defined } from '../domain/invariant.ts';
import type { FollowerSampleStore } from '../ports/digest-store.ts';
import type { PlatformUser } from '../ports/platform.ts';
import type { Store } from '../ports/store.ts';
import type { TaskStore } from '../ports/tasks.ts';

/** Monday 9 March 2026, 09:30 in Berlin: the sample's "now" (its digest covers 2 – 8 Mar 2026). */
export const SAMPLE_NOW = Date.UTC(2026, 2, 9, 8, 30);
export const SAMPLE_CLIENT_ID = 'sunrise';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Local midnight starting Monday 2 March 2026 in Berlin (UTC+1). */
const PERIOD_START = Date.UTC(2026, 2, 1, 23, 0);

export interface DigestSample {
  client: ClientRecord;
  accounts: AccountRecord[];
  /** Candidates waiting for approval, per account id. */
  pending: Record<string, string[]>;
  now: number;
}

function id(n: number): string {
  return String(1_600_000_000_000_000_000n + BigInt(n));
}

function person(
  n: number,
  handle: string,
  name: string,
  followers: number,
  following: number,
  extra: Partial<PlatformUser> = {},
): PlatformUser {
  return {
    id: id(n),
    handle,
    name,
    bio: extra.bio ?? '',
    createdAt: extra.createdAt ?? Date.UTC(2019, 4, 1),
    followersCount: followers,
    followingCount: following,
    protected: false,
    ...extra,
  };
}

export async function seedDigestSample(deps: {
  store: Store & TaskStore;
  samples?: FollowerSampleStore | undefined;
}): Promise<DigestSample> {
  const { store } = deps;
  const created = Date.UTC(2025, 10, 1);
  const client: ClientRecord = {
    clientId: SAMPLE_CLIENT_ID,
    name: 'Sunrise Bakery',
    timeZone: 'Europe/Berlin',
    digestEmails: ['owner@sunrise-bakery.example'],
    createdAt: created,
  };
  const observe = resolveObserveSettings('x', {});
  const shop: AccountRecord = {
    clientId: SAMPLE_CLIENT_ID,
    accountId: 'x-sunrise',
    network: 'x',
    platformUserId: id(1),
    handle: 'sunrisebakery',
    status: 'active',
    observe,
    policy: { mode: 'approve', timeZone: client.timeZone },
    createdAt: created,
  };
  const kitchen: AccountRecord = {
    clientId: SAMPLE_CLIENT_ID,
    accountId: 'x-sunrise-kitchen',
    network: 'x',
    platformUserId: id(2),
    handle: 'sunrisekitchen',
    status: 'active',
    observe,
    policy: { mode: 'auto', acknowledgeXAutomationPolicy: true, timeZone: client.timeZone },
    createdAt: created,
  };
  await store.putClient(client);
  await store.putAccount(shop);
  await store.putAccount(kitchen);

  // --- the shop: approve mode --------------------------------------------------------------
  const newcomers = [
    person(101, 'oatmilk_anna', 'Anna Berg', 18_400, 610, { bio: 'Food writer. Sourdough every Sunday.' }),
    person(102, 'kiezcafe', 'Kiez Café', 3_210, 880, { bio: 'Neighbourhood café, Kreuzberg.' }),
    person(103, 'jonas_bakes', 'Jonas', 920, 400, { bio: 'Home baker, weekend markets.' }),
    person(104, 'flourpower', 'Flour Power Mill', 12_050, 300, { bio: 'Stone-ground flour since 1921.' }),
    person(105, 'lea.m', 'Lea M.', 210, 190, { bio: 'Croissant hunter.' }),
    person(106, 'deals4u_9921', 'Best Deals 4U', 12, 4_900, {
      createdAt: SAMPLE_NOW - 3 * DAY,
      bio: 'Follow back 100%!!',
    }),
    person(107, 'emptyprofile77', '', 0, 2_100, { defaultAvatar: true }),
    person(108, 'spamking', 'Spam King', 5, 7_000, { bio: 'crypto giveaway' }),
    person(109, 'marktschwaermer', 'Markt Schwärmer', 5_600, 1_200, { bio: 'Local producers, weekly.' }),
  ];
  const lostShop = [
    person(150, 'moved_away', 'Moved Away', 340, 280),
    person(151, 'quiet_reader', 'Quiet Reader', 45, 60),
  ];
  const oneSidedOnly = [id(160), id(161), id(162), id(163), id(164)];
  const followersBase = [...range(10_000, 12_400).map(id), ...lostShop.map((p) => p.id)];
  const followingBase = [...range(10_000, 10_300).map(id), ...oneSidedOnly, entry(lostShop, 0).id];
  let seq = await writeBases(store, shop, followersBase, followingBase, PERIOD_START - 30 * DAY);
  const days = [0.4, 1.3, 2.6, 3.5, 4.2, 5.8];
  const groups = [[0, 1], [2], [3, 4], [5, 6], [7], [8]];
  for (const [i, group] of groups.entries()) {
    const users = group.map((g) => entry(newcomers, g));
    seq = await putChange(
      store,
      shop,
      seq,
      PERIOD_START + entry(days, i) * DAY,
      'head',
      users.map((u) => u.id),
      [],
      users,
    );
  }
  seq = await putChange(
    store,
    shop,
    seq,
    PERIOD_START + 6.2 * DAY,
    'full',
    [],
    lostShop.map((p) => p.id),
    [],
  );
  await writeState(
    store,
    shop,
    seq,
    followersBase.length + newcomers.length - lostShop.length,
    followingBase.length,
  );

  const signals = (kinds: SpamSignal['kind'][]): SpamSignal[] =>
    kinds.map((kind) => ({ kind, detail: kind }));
  const pendingShop = [0, 1, 2, 3, 4, 8].map((i) => entry(newcomers, i));
  const shopTasks: FollowTask[] = [
    ...pendingShop.map((u) =>
      createPendingTask({
        targetId: u.id,
        detectedAt: detectedAt(newcomers, groups, days, u),
        profile: taskProfileOf(u),
      }),
    ),
    createPendingTask({
      targetId: entry(newcomers, 5).id,
      detectedAt: detectedAt(newcomers, groups, days, entry(newcomers, 5)),
      profile: taskProfileOf(entry(newcomers, 5)),
      signals: signals(['new_account', 'ratio']),
    }),
    createSkippedTask(
      {
        targetId: entry(newcomers, 6).id,
        detectedAt: detectedAt(newcomers, groups, days, entry(newcomers, 6)),
        profile: taskProfileOf(entry(newcomers, 6)),
      },
      { reason: 'spam_empty_profile', detail: 'no bio, no picture' },
    ),
    createSkippedTask(
      {
        targetId: entry(newcomers, 7).id,
        detectedAt: detectedAt(newcomers, groups, days, entry(newcomers, 7)),
        profile: taskProfileOf(entry(newcomers, 7)),
      },
      { reason: 'deny_list', detail: 'keyword: crypto giveaway' },
    ),
    // Followed back in February, left this week: now a one-sided follow to review.
    done(
      createScheduledTask(
        {
          targetId: entry(lostShop, 0).id,
          detectedAt: PERIOD_START - 20 * DAY,
          profile: taskProfileOf(entry(lostShop, 0)),
        },
        plan(PERIOD_START - 20 * DAY),
      ),
      PERIOD_START - 18 * DAY,
    ),
  ];
  for (const task of shopTasks) await store.createTask(shop, task);

  // --- the kitchen: auto mode ----------------------------------------------------------------
  const fans = [
    person(201, 'chef_mara', 'Mara Koch', 7_700, 520, { bio: 'Chef. Seasonal menus.' }),
    person(202, 'rye_and_co', 'Rye & Co', 1_450, 390),
    person(203, 'tomfood', 'Tom', 300, 280, { protected: true }),
    person(204, 'gastro_berlin', 'Gastro Berlin', 22_000, 1_100, { bio: 'Restaurant news.' }),
    person(205, 'pia_eats', 'Pia', 95, 140),
  ];
  const kitchenFollowers = range(20_000, 20_812).map(id);
  const kitchenFollowing = range(20_000, 20_140).map(id);
  let kseq = await writeBases(store, kitchen, kitchenFollowers, kitchenFollowing, PERIOD_START - 30 * DAY);
  const fanDays = [0.2, 1.1, 2.4, 3.3, 5.1];
  for (const [i, fan] of fans.entries()) {
    kseq = await putChange(
      store,
      kitchen,
      kseq,
      PERIOD_START + entry(fanDays, i) * DAY,
      'head',
      [fan.id],
      [],
      [fan],
    );
  }
  await writeState(store, kitchen, kseq, kitchenFollowers.length + fans.length, kitchenFollowing.length);
  const at = (i: number) => PERIOD_START + entry(fanDays, i) * DAY;
  const kitchenTasks: FollowTask[] = [
    done(
      createScheduledTask(
        { targetId: entry(fans, 0).id, detectedAt: at(0), profile: taskProfileOf(entry(fans, 0)) },
        plan(at(0)),
      ),
      at(0) + 30 * HOUR,
    ),
    done(
      createScheduledTask(
        { targetId: entry(fans, 1).id, detectedAt: at(1), profile: taskProfileOf(entry(fans, 1)) },
        plan(at(1)),
      ),
      at(1) + 41 * HOUR,
    ),
    done(
      createScheduledTask(
        { targetId: entry(fans, 2).id, detectedAt: at(2), profile: taskProfileOf(entry(fans, 2)) },
        plan(at(2)),
      ),
      at(2) + 20 * HOUR,
      'requested',
    ),
    // Late: done after its deadline.
    done(
      createScheduledTask(
        { targetId: entry(fans, 3).id, detectedAt: at(3), profile: taskProfileOf(entry(fans, 3)) },
        plan(at(3)),
      ),
      at(3) + 80 * HOUR,
    ),
    {
      ...createScheduledTask(
        { targetId: entry(fans, 4).id, detectedAt: at(4), profile: taskProfileOf(entry(fans, 4)) },
        plan(at(4)),
      ),
      state: 'failed',
      attempts: 3,
      lastError: 'platform error 503',
      closedAt: at(4) + 10 * HOUR,
      updatedAt: at(4) + 10 * HOUR,
    },
  ];
  for (const task of kitchenTasks) await store.createTask(kitchen, task);

  // --- twelve weeks of follower counts ---------------------------------------------------------
  if (deps.samples !== undefined) {
    // Weeks before the previous one (the builder works out the count at this period's start itself).
    for (let week = 11; week >= 2; week--) {
      const sampleAt = PERIOD_START - (week - 1) * WEEK_MS - 1;
      const shopCount = 2_402 - (week - 1) * 21 + (week % 3) * 5;
      await deps.samples.putFollowerSample(shop, { at: sampleAt, followers: shopCount });
      await deps.samples.putFollowerSample(kitchen, { at: sampleAt, followers: 812 - (week - 1) * 9 });
    }
  }
  return {
    client,
    accounts: [shop, kitchen],
    pending: {
      [shop.accountId]: shopTasks.filter((t) => t.state === 'pending_approval').map((t) => t.targetId),
      [kitchen.accountId]: [],
    },
    now: SAMPLE_NOW,
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function detectedAt(all: PlatformUser[], groups: number[][], days: number[], user: PlatformUser): number {
  const index = all.indexOf(user);
  const group = groups.findIndex((g) => g.includes(index));
  return PERIOD_START + entry(days, group) * DAY;
}

/** Promise: not before 12 hours, within 72 hours. */
function plan(from: number): { windowStart: number; dueAt: number; deadline: number } {
  return { windowStart: from + 12 * HOUR, dueAt: from + 24 * HOUR, deadline: from + 72 * HOUR };
}

function done(task: FollowTask, at: number, state: 'done' | 'requested' = 'done'): FollowTask {
  return { ...task, state, attempts: 1, doneAt: at, closedAt: at, updatedAt: at };
}

async function writeBases(
  store: Store,
  account: AccountRecord,
  followers: string[],
  following: string[],
  at: number,
): Promise<number> {
  await writeBase(store, account, 'followers', 1, followers, at);
  await writeBase(store, account, 'following', 2, following, at + 1);
  return 2;
}

async function writeBase(
  store: Store,
  account: AccountRecord,
  kind: GraphKind,
  seq: number,
  ids: string[],
  at: number,
): Promise<void> {
  const chunks = chunkBytes(encodeIds(sortUnique(parseIds(ids))));
  await store.putBaseChunks(account, kind, seq, chunks);
  const empty = encodeIds(new BigUint64Array(0));
  await store.putChangeset(account, {
    seq,
    at,
    kind,
    source: 'baseline',
    added: empty,
    removed: empty,
    addedCount: 0,
    removedCount: 0,
    profiles: [],
  });
  baseChunksOf.set(`${account.accountId}/${kind}`, chunks.length);
}

const baseChunksOf = new Map<string, number>();

async function putChange(
  store: Store,
  account: AccountRecord,
  previousSeq: number,
  at: number,
  source: 'head' | 'full',
  added: string[],
  removed: string[],
  profiles: PlatformUser[],
): Promise<number> {
  const seq = previousSeq + 1;
  await store.putChangeset(account, {
    seq,
    at,
    kind: 'followers',
    source,
    added: encodeIds(sortUnique(parseIds(added))),
    removed: encodeIds(sortUnique(parseIds(removed))),
    addedCount: added.length,
    removedCount: removed.length,
    profiles,
  });
  return seq;
}

async function writeState(
  store: Store,
  account: AccountRecord,
  seq: number,
  followers: number,
  following: number,
): Promise<void> {
  const observe = emptyObserveState();
  const state: AccountState = {
    observe: {
      ...observe,
      seq,
      graphs: {
        followers: {
          baseSeq: 1,
          baseChunks: baseChunksOf.get(`${account.accountId}/followers`) ?? 1,
          count: followers,
          complete: true,
          lastFullScanAt: PERIOD_START + 6.2 * DAY,
        },
        following: {
          baseSeq: 2,
          baseChunks: baseChunksOf.get(`${account.accountId}/following`) ?? 1,
          count: following,
          complete: true,
          lastFullScanAt: PERIOD_START - 30 * DAY,
        },
      },
      owner: { followers, following, at: SAMPLE_NOW - HOUR },
    },
  };
  await store.putState(account, state, 0);
}

/** Entry `index` of one of the sample's fixed lists (the sample names only entries it wrote). */
function entry<T>(list: readonly T[], index: number): T {
  return defined(list[index], `entry ${index} of a sample list`);
}
