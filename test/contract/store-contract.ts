/**
 * The storage ports' contract, one suite for every implementation: the DynamoDB adapter on dynalite
 * and on moto (test/integration/dynamo-store.test.ts) and the in-memory store the simulation runs on
 * (test/adapters/memory-store.test.ts). What only DynamoDB has (table layout, query paging, batch
 * retries, attributes an operator reads, capacity) stays in the DynamoDB file.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { MissingItemError, StoreError } from '../../shared/adapters/dynamo/errors.ts';
import { type ItemKey, keys } from '../../shared/adapters/dynamo/table.ts';
import type { AccountRecord, AccountRef, ClientRecord } from '../../shared/domain/account.ts';
import { type AccountState, emptyObserveState } from '../../shared/domain/account-state.ts';
import type { FollowTask } from '../../shared/domain/engine/task.ts';
import { ConflictError, RecordTooLargeError, ValidationError } from '../../shared/domain/errors.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import type { Changeset, Store } from '../../shared/ports/store.ts';
import type { BucketStore, TaskStore } from '../../shared/ports/tasks.ts';

export type ContractStore = Store &
  TaskStore &
  BucketStore & { purgeAccountData(ref: AccountRef): Promise<number> };

/** How the suite reaches one implementation. */
export interface StoreBackend {
  /** A store on an empty table of its own. */
  fresh(options?: { clock?: Clock }): Promise<ContractStore>;
  /** Removes one item behind the store's back (an operator's delete, a lost part). */
  removeItem(store: ContractStore, key: ItemKey): Promise<void>;
  /** The item's TTL attribute (epoch seconds), or undefined. */
  expiresAt(store: ContractStore, key: ItemKey): Promise<number | undefined>;
}

const t0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const hour = 3_600_000;

function clientRecord(clientId: string, name = `Client ${clientId}`): ClientRecord {
  return {
    clientId,
    name,
    timeZone: 'Europe/Paris',
    digestEmails: [`${clientId}@example.com`],
    createdAt: t0,
  };
}

function accountRecord(clientId: string, accountId: string): AccountRecord {
  return {
    clientId,
    accountId,
    network: 'x',
    platformUserId: '1790000000000000001',
    handle: `@${accountId}`,
    status: 'active',
    observe: {
      detectionDelayHours: 6,
      readBudgetUsdPerMonth: 5,
      readRequestsPerDay: 100,
      usdPerUserRead: 0.01,
      fullScanMinDays: 30,
      headScanKnownRun: 5,
    },
    policy: { mode: 'approve', denyList: ['spam1', 'spam2'], quietHours: { from: 22, to: 7 } },
    createdAt: t0,
  };
}

function stateAt(seq: number, note = ''): AccountState {
  const observe = emptyObserveState();
  observe.seq = seq;
  return { observe, note };
}

function changeset(seq: number, at: number, addedBytes = 40, removedBytes = 8): Changeset {
  return {
    seq,
    at,
    kind: seq % 2 === 0 ? 'following' : 'followers',
    source: 'head',
    added: new Uint8Array(randomBytes(addedBytes)),
    removed: new Uint8Array(randomBytes(removedBytes)),
    addedCount: addedBytes,
    removedCount: removedBytes,
    profiles: [
      { id: `${900000000000000000n + BigInt(seq)}`, handle: `u${seq}`, name: 'Ü', bio: '', protected: false },
    ],
  };
}

function task(targetId: string, fields: Partial<FollowTask> = {}): FollowTask {
  return {
    targetId,
    state: 'scheduled',
    detectedAt: t0,
    backfill: false,
    attempts: 0,
    profile: { handle: `h${targetId}`, name: 'N', bio: '', protected: false },
    signals: [],
    updatedAt: t0,
    ...fields,
  };
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function comparable(changesets: readonly Changeset[]) {
  return changesets.map((c) => ({ ...c, added: b64(c.added), removed: b64(c.removed) }));
}

let refCount = 0;
function newRef(): AccountRef {
  refCount += 1;
  return { clientId: 'agency', accountId: `acct${refCount}` };
}

export function describeStoreContract(backend: StoreBackend): void {
  const fresh = (options?: { clock?: Clock }) => backend.fresh(options);

  describe('registry', () => {
    it('stores, reads, lists and deletes clients and accounts', async () => {
      // Prepare
      const store = await fresh();
      // 'c1' is a prefix of 'c10': listing c1's accounts must not pick up c10's.
      for (const id of ['c1', 'c10']) await store.putClient(clientRecord(id));
      await store.putAccount(accountRecord('c1', 'a1'));
      await store.putAccount(accountRecord('c1', 'a2'));
      await store.putAccount(accountRecord('c10', 'b1'));

      // Act
      const client = await store.getClient('c1');
      const account = await store.getAccount({ clientId: 'c1', accountId: 'a2' });
      const clients = await store.listClients();
      const all = await store.listAccounts();
      const ofC1 = await store.listAccounts('c1');
      await store.deleteAccount({ clientId: 'c1', accountId: 'a2' });
      await store.deleteClient('c10');

      // Assess
      expect(client).toEqual(clientRecord('c1'));
      expect(account).toEqual(accountRecord('c1', 'a2'));
      expect(clients.map((c) => c.clientId).sort()).toEqual(['c1', 'c10']);
      expect(all.map((a) => `${a.clientId}/${a.accountId}`).sort()).toEqual(['c1/a1', 'c1/a2', 'c10/b1']);
      expect(ofC1.map((a) => a.accountId).sort()).toEqual(['a1', 'a2']);
      expect(await store.getAccount({ clientId: 'c1', accountId: 'a2' })).toBeUndefined();
      expect(await store.getClient('c10')).toBeUndefined();
      expect(await store.getClient('nobody')).toBeUndefined();
    });

    it('replaces a record written again', async () => {
      // Prepare
      const store = await fresh();
      await store.putClient(clientRecord('c1', 'Old name'));

      // Act
      await store.putClient(clientRecord('c1', 'New name'));

      // Assess
      expect((await store.getClient('c1'))?.name).toBe('New name');
      expect(await store.listClients()).toHaveLength(1);
    });

    it('lists accounts in key order', async () => {
      // Prepare
      const store = await fresh();
      for (const id of ['a3', 'a1', 'a2']) await store.putAccount(accountRecord('c1', id));

      // Act
      const accounts = await store.listAccounts('c1');

      // Assess
      expect(accounts.map((a) => a.accountId)).toEqual(['a1', 'a2', 'a3']);
    });

    it('refuses an id that would break the key layout', async () => {
      // Prepare
      const store = await fresh();

      // Act
      const put = store.putClient(clientRecord('evil#client'));

      // Assess
      await expect(put).rejects.toBeInstanceOf(ValidationError);
      await expect(put).rejects.toThrow(/clientId/);
    });

    it('hands out copies: changing what was read changes nothing stored', async () => {
      // Prepare
      const store = await fresh();
      await store.putAccount(accountRecord('c1', 'a1'));
      const read = (await store.getAccount({ clientId: 'c1', accountId: 'a1' }))!;

      // Act
      read.handle = '@changed';

      // Assess
      expect((await store.getAccount({ clientId: 'c1', accountId: 'a1' }))?.handle).toBe('@a1');
    });
  });

  describe('account state', () => {
    it('writes the state only at the version the writer read', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      expect(await store.getState(ref)).toBeUndefined();

      // Act
      const v1 = await store.putState(ref, stateAt(1), 0);
      const v2 = await store.putState(ref, stateAt(2), v1);
      const stale = await store.putState(ref, stateAt(99), v1).catch((error: unknown) => error);
      const recreate = await store.putState(ref, stateAt(99), 0).catch((error: unknown) => error);
      const negative = await store.putState(ref, stateAt(99), -1).catch((error: unknown) => error);

      // Assess
      expect([v1, v2]).toEqual([1, 2]);
      expect(stale).toBeInstanceOf(ConflictError);
      expect(recreate).toBeInstanceOf(ConflictError);
      expect(negative).toBeInstanceOf(ValidationError);
      expect(await store.getState(ref)).toEqual({ state: stateAt(2), version: 2 });
    });

    it('lets exactly one of two concurrent writers win', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      await store.putState(ref, stateAt(1), 0);

      // Act
      const results = await Promise.allSettled([
        store.putState(ref, stateAt(2, 'writer A'), 1),
        store.putState(ref, stateAt(2, 'writer B'), 1),
      ]);

      // Assess
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toBeInstanceOf(ConflictError);
      const stored = await store.getState(ref);
      expect(stored?.version).toBe(2);
      expect(stored?.state.note).toBe(won[0] === 0 ? 'writer A' : 'writer B');
    });

    it('keeps sections it does not know, and drops undefined fields as JSON does', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      const state = { ...stateAt(3), act: { tasks: 4, nested: { list: [1, 'two', null] } }, gone: undefined };

      // Act
      await store.putState(ref, state, 0);

      // Assess
      const read = (await store.getState(ref))?.state as Record<string, unknown>;
      expect(read).toEqual(state);
      expect('gone' in read).toBe(false);
    });

    it('refuses a state item over 400 KB, leaving the stored one', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      await store.putState(ref, stateAt(1), 0);

      // Act: random text, which no compression brings under the limit
      const put = store.putState(ref, stateAt(2, randomBytes(450_000).toString('base64')), 1);

      // Assess
      await expect(put).rejects.toBeInstanceOf(StoreError);
      expect((await store.getState(ref))?.version).toBe(1);
    });
  });

  describe('base snapshot chunks', () => {
    it('reads back the chunks it wrote, in order', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      const chunks = [
        new Uint8Array(randomBytes(300_000)),
        new Uint8Array(randomBytes(1_000)),
        new Uint8Array(0),
      ];

      // Act
      await store.putBaseChunks(ref, 'followers', 7, chunks);
      const read = await store.getBaseChunks(ref, 'followers', 7, 3);

      // Assess
      expect(read.map(b64)).toEqual(chunks.map(b64));
      expect(read.every((chunk) => chunk.constructor === Uint8Array)).toBe(true);
      await expect(store.getBaseChunks(ref, 'following', 7, 1)).rejects.toBeInstanceOf(MissingItemError);
    });

    it('names the chunk that is missing', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      await store.putBaseChunks(ref, 'followers', 3, [new Uint8Array([1]), new Uint8Array([2])]);

      // Act
      const read = store.getBaseChunks(ref, 'followers', 3, 3);

      // Assess
      await expect(read).rejects.toBeInstanceOf(MissingItemError);
      await expect(read).rejects.toThrow(`${keys.accountPk(ref)} / BASE#followers#0000000003#0002`);
    });

    it('deletes the chunks of a base', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      await store.putBaseChunks(ref, 'followers', 3, [new Uint8Array([1]), new Uint8Array([2])]);

      // Act
      await store.deleteBaseChunks(ref, 'followers', 3, 2);

      // Assess
      await expect(store.getBaseChunks(ref, 'followers', 3, 1)).rejects.toBeInstanceOf(MissingItemError);
    });

    it('refuses a chunk larger than one item holds', async () => {
      // Prepare
      const store = await fresh();

      // Act
      const put = store.putBaseChunks(newRef(), 'followers', 1, [new Uint8Array(400_000)]);

      // Assess
      await expect(put).rejects.toBeInstanceOf(ValidationError);
    });

    it('never lets a writer under an older lease overwrite a newer one’s chunk', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      await store.putBaseChunks(ref, 'followers', 1, [new Uint8Array([2])], 2);

      // Act
      const stale = await store
        .putBaseChunks(ref, 'followers', 1, [new Uint8Array([1])], 1)
        .catch((error: unknown) => error);
      await store.putBaseChunks(ref, 'followers', 1, [new Uint8Array([3])], 3);

      // Assess
      expect(stale).toBeInstanceOf(ConflictError);
      expect(await store.getBaseChunks(ref, 'followers', 1, 1)).toEqual([new Uint8Array([3])]);
    });
  });

  describe('changesets', () => {
    it('reads back small and multi-part changesets in seq order', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      const written = [
        changeset(1, t0),
        changeset(2, t0 + hour, 800_000, 100_000),
        changeset(3, t0 + 2 * hour),
      ];

      // Act
      for (const c of [written[2]!, written[0]!, written[1]!]) await store.putChangeset(ref, c);
      const all = await store.getChangesets(ref, 0, 3);
      const tail = await store.getChangesets(ref, 1, 2);

      // Assess
      expect(comparable(all)).toEqual(comparable(written));
      expect(comparable(tail)).toEqual(comparable([written[1]!]));
      expect(await store.getChangesets(ref, 2, 2)).toEqual([]);
    });

    it('returns the changesets observed since a time, newest first', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      for (let seq = 1; seq <= 10; seq++) await store.putChangeset(ref, changeset(seq, t0 + seq * hour));

      // Act
      const recent = await store.getChangesetsSince(ref, t0 + 6 * hour + 1, 9);

      // Assess
      expect(recent.map((c) => c.seq)).toEqual([9, 8, 7]);
      expect(await store.getChangesetsSince(ref, t0 + 6 * hour, 9)).toHaveLength(4);
      expect(await store.getChangesetsSince(ref, t0, 10)).toHaveLength(10);
    });

    it('never returns a changeset short of a missing part', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      await store.putChangeset(ref, changeset(1, t0, 800_000));
      await backend.removeItem(store, keys.changesetPart(ref, 1, 1));

      // Act
      const read = store.getChangesets(ref, 0, 1);

      // Assess
      await expect(read).rejects.toBeInstanceOf(MissingItemError);
      await expect(read).rejects.toThrow(`${keys.accountPk(ref)} / CHG#0000000001#001`);
      await expect(store.getChangesetsSince(ref, t0, 1)).rejects.toBeInstanceOf(MissingItemError);
    });

    it('reports a changeset missing inside the asked range', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      for (let seq = 1; seq <= 3; seq++) await store.putChangeset(ref, changeset(seq, t0 + seq * hour));
      await backend.removeItem(store, keys.changesetPart(ref, 2, 0));

      // Act
      const read = store.getChangesets(ref, 0, 3);

      // Assess
      await expect(read).rejects.toBeInstanceOf(MissingItemError);
      await expect(read).rejects.toThrow('CHG#0000000002#000');
      await expect(store.getChangesets(ref, 2, 3)).resolves.toHaveLength(1);
    });

    it('replaces a changeset written again under the same seq', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      await store.putChangeset(ref, changeset(1, t0, 800_000));
      const retry = changeset(1, t0 + 1_000, 100);

      // Act
      await store.putChangeset(ref, retry);

      // Assess
      expect(comparable(await store.getChangesets(ref, 0, 1))).toEqual(comparable([retry]));
    });

    it('keeps a changeset whose profiles exceed one item (a 420 KB bio)', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      const big = changeset(1, t0);
      big.profiles = [{ id: '1', handle: 'h', name: 'n', bio: 'b'.repeat(420_000), protected: false }];

      // Act
      await store.putChangeset(ref, big);

      // Assess
      const [read] = await store.getChangesets(ref, 0, 1);
      expect(read?.profiles[0]?.bio).toHaveLength(420_000);
    });

    it('refuses a changeset written under an older lease than the stored one', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      await store.putChangeset(ref, changeset(1, t0), 5);

      // Act
      const stale = store.putChangeset(ref, changeset(1, t0 + 1), 4);

      // Assess
      await expect(stale).rejects.toBeInstanceOf(ConflictError);
      expect((await store.getChangesets(ref, 0, 1))[0]?.at).toBe(t0);
    });

    it('keeps the removed ids of each changeset that removed anyone beside it, by list and time', async () => {
      // Prepare: followers changesets 1, 3, 5 (3 removed nobody, 5 removed too many to keep beside)
      const store = await fresh();
      const ref = newRef();
      const none = { ...changeset(3, t0 + 3 * hour), removed: new Uint8Array(), removedCount: 0 };
      const many = changeset(5, t0 + 5 * hour, 40, 400_000);
      for (const c of [changeset(1, t0 + hour), changeset(2, t0 + 2 * hour), none, changeset(4, t0), many]) {
        await store.putChangeset(ref, c);
      }

      // Act
      const all = await store.getRemovalMarks(ref, 'followers', 0, 5);
      const recent = await store.getRemovalMarks(ref, 'followers', t0 + 2 * hour, 5);
      const committed = await store.getRemovalMarks(ref, 'followers', 0, 4);

      // Assess
      const first = (await store.getChangesets(ref, 0, 1))[0]!;
      expect(all.map((mark) => [mark.seq, mark.at])).toEqual([
        [1, t0 + hour],
        [5, t0 + 5 * hour],
      ]);
      expect(all[0]!.removed).toEqual(first.removed);
      expect(all[1]!.removed).toBeUndefined();
      expect(recent.map((mark) => mark.seq)).toEqual([5]);
      expect(committed.map((mark) => mark.seq)).toEqual([1]);
      expect((await store.getRemovalMarks(ref, 'following', 0, 5)).map((mark) => mark.seq)).toEqual([2, 4]);
    });

    it('sets every part to expire 120 days after the changeset was observed', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();

      // Act
      await store.putChangeset(ref, changeset(1, t0, 800_000));

      // Assess
      const expiresAt = Math.floor(t0 / 1000) + 120 * 86_400;
      for (const part of [0, 1, 2]) {
        expect(await backend.expiresAt(store, keys.changesetPart(ref, 1, part))).toBe(expiresAt);
      }
    });
  });

  describe('purge', () => {
    it('deletes everything about one account and nothing about another', async () => {
      // Prepare
      const store = await fresh();
      const [gone, kept] = [newRef(), newRef()];
      for (const ref of [gone, kept]) {
        await store.putAccount(accountRecord(ref.clientId, ref.accountId));
        await store.putState(ref, stateAt(2), 0);
        await store.putBaseChunks(ref, 'followers', 1, [new Uint8Array([1]), new Uint8Array([2])]);
        for (const seq of [1, 2]) await store.putChangeset(ref, changeset(seq, t0 + seq));
        await store.putScanPage(ref, 'scan', 0, new Uint8Array([3]));
      }

      // Act
      const deleted = await store.purgeAccountData(gone);

      // Assess: state, 2 base chunks, 2 changesets and their 2 removal marks, the scan page
      expect(deleted).toBe(8);
      expect(await store.getState(gone)).toBeUndefined();
      expect(await store.getRemovalMarks(gone, 'followers', 0, 2)).toEqual([]);
      await expect(store.getChangesets(gone, 0, 2)).rejects.toBeInstanceOf(MissingItemError);
      expect(await store.getAccount(gone)).toBeDefined();
      expect((await store.getState(kept))?.version).toBe(1);
      expect(await store.getChangesets(kept, 0, 2)).toHaveLength(2);
    });
  });

  describe('scan pages', () => {
    it('stores the pages of a scan in progress for seven days and deletes them', async () => {
      // Prepare
      const clock = new VirtualClock(t0);
      const store = await fresh({ clock });
      const ref = newRef();
      const pages = [
        new Uint8Array(randomBytes(8_000)),
        new Uint8Array(randomBytes(10)),
        new Uint8Array(randomBytes(3)),
      ];

      // Act
      for (const [page, ids] of pages.entries()) await store.putScanPage(ref, 'scan1', page, ids);
      const read = await store.getScanPages(ref, 'scan1', 3);
      await store.deleteScanPages(ref, 'scan1', 3);

      // Assess
      expect(read).toEqual(pages);
      await expect(store.getScanPages(ref, 'scan1', 1)).rejects.toBeInstanceOf(MissingItemError);
      await store.putScanPage(ref, 'scan2', 0, pages[1]!);
      expect(await backend.expiresAt(store, keys.scanPage(ref, 'scan2', 0))).toBe(
        Math.floor(t0 / 1000) + 7 * 86_400,
      );
    });

    it('keeps scans whose ids share a prefix apart', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      await store.putScanPage(ref, 's1', 0, new Uint8Array([1]));
      await store.putScanPage(ref, 's10', 0, new Uint8Array([10]));
      await store.putScanPage(ref, 's10', 1, new Uint8Array([11]));

      // Act
      const read = store.getScanPages(ref, 's1', 2);

      // Assess
      await expect(read).rejects.toBeInstanceOf(MissingItemError);
      expect(await store.getScanPages(ref, 's10', 2)).toEqual([new Uint8Array([10]), new Uint8Array([11])]);
    });
  });

  describe('tasks', () => {
    it('creates one task per target, and only once', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();

      // Act
      const first = await store.createTask(ref, task('1'));
      const again = await store.createTask(ref, task('1', { state: 'skipped', skipReason: 'deny_list' }));

      // Assess
      expect([first, again]).toEqual([true, false]);
      expect(await store.getTask(ref, '1')).toEqual({ task: task('1'), version: 1 });
      expect(await store.getTask(ref, '2')).toBeUndefined();
    });

    it('writes a task only at the version its writer read', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      await store.createTask(ref, task('1'));

      // Act
      const v2 = await store.putTask(ref, task('1', { attempts: 1 }), 1);
      const results = await Promise.allSettled([
        store.putTask(ref, task('1', { attempts: 2, lastError: 'A' }), v2),
        store.putTask(ref, task('1', { attempts: 2, lastError: 'B' }), v2),
      ]);
      const missing = await store.putTask(ref, task('9'), 1).catch((error: unknown) => error);

      // Assess
      expect(v2).toBe(2);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.find((r) => r.status === 'rejected')?.reason).toBeInstanceOf(ConflictError);
      expect(missing).toBeInstanceOf(ConflictError);
      expect((await store.getTask(ref, '1'))?.version).toBe(3);
    });

    it('queues open tasks by deadline, on time and late, with a limit', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      const now = t0 + 10 * hour;
      for (const [id, deadline] of [
        ['a', now + 3 * hour],
        ['b', now - 2 * hour],
        ['c', now + hour],
        ['d', now - 5 * hour],
        ['e', now],
      ] as const) {
        await store.createTask(ref, task(id, { deadline }));
      }
      await store.createTask(ref, task('f', { state: 'done', deadline: now + hour }));

      // Act
      const onTime = await store.listActive(ref, { now, from: 'onTime', limit: 10 });
      const late = await store.listActive(ref, { now, from: 'late', limit: 10 });
      const first = await store.listActive(ref, { now, from: 'onTime', limit: 2 });

      // Assess
      expect(onTime.map((t) => t.task.targetId)).toEqual(['e', 'c', 'a']);
      expect(late.map((t) => t.task.targetId)).toEqual(['d', 'b']);
      expect(first.map((t) => t.task.targetId)).toEqual(['e', 'c']);
    });

    it('releases due tasks, ended backoffs and expired leases first, and leaves the rest', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      const now = t0 + 10 * hour;
      await store.createTask(ref, task('due', { dueAt: now - hour }));
      await store.createTask(ref, task('later', { dueAt: now + hour }));
      await store.createTask(ref, task('backoff', { dueAt: now - 3 * hour, retryAt: now + 1 }));
      await store.createTask(ref, task('retry', { dueAt: now - 3 * hour, retryAt: now - 2 * hour }));
      await store.createTask(
        ref,
        task('crashed', { state: 'in_progress', lease: { holder: 'w', until: now - 4 * hour } }),
      );
      await store.createTask(
        ref,
        task('held', { state: 'in_progress', lease: { holder: 'w', until: now + 60_000 } }),
      );
      await store.createTask(ref, task('exactly', { dueAt: now }));

      // Act
      const released = await store.listReleased(ref, { now, limit: 10 });
      const two = await store.listReleased(ref, { now, limit: 2 });

      // Assess
      expect(released.map((t) => t.task.targetId)).toEqual(['crashed', 'retry', 'due', 'exactly']);
      expect(two.map((t) => t.task.targetId)).toEqual(['crashed', 'retry']);
    });

    it('lists the tasks awaiting approval oldest first, and a decided one leaves the queue', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      for (const [id, detectedAt] of [
        ['new', t0 + 2 * hour],
        ['old', t0],
        ['mid', t0 + hour],
      ] as const) {
        await store.createTask(ref, task(id, { state: 'pending_approval', detectedAt }));
      }

      // Act
      await store.putTask(ref, task('mid', { state: 'scheduled', detectedAt: t0 + hour }), 1);
      const waiting = await store.listAwaitingApproval(ref);
      const first = await store.listAwaitingApproval(ref, { limit: 1 });

      // Assess
      expect(waiting.map((t) => t.task.targetId)).toEqual(['old', 'new']);
      expect(first.map((t) => t.task.targetId)).toEqual(['old']);
      expect((await store.listTasks(ref)).map((t) => t.task.targetId).sort()).toEqual(['mid', 'new', 'old']);
    });

    it('takes a final task out of every queue', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      await store.createTask(ref, task('1', { dueAt: t0, deadline: t0 + hour }));

      // Act
      await store.putTask(ref, task('1', { state: 'done', doneAt: t0 }), 1);

      // Assess
      expect(await store.listReleased(ref, { now: t0 + 2 * hour, limit: 10 })).toEqual([]);
      expect(await store.listActive(ref, { now: t0, from: 'onTime', limit: 10 })).toEqual([]);
      expect(await store.listActive(ref, { now: t0 + 2 * hour, from: 'late', limit: 10 })).toEqual([]);
    });

    it('refuses a task item over 400 KB as too large, writing nothing', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      const huge = task('1', {
        profile: { handle: 'h', name: 'n', bio: 'b'.repeat(420_000), protected: false },
      });

      // Act
      const created = store.createTask(ref, huge);

      // Assess: the record alone is refused (RecordTooLargeError), so a caller can store less of it
      await expect(created).rejects.toBeInstanceOf(RecordTooLargeError);
      expect(await store.getTask(ref, '1')).toBeUndefined();
    });
  });

  describe('limiter buckets', () => {
    it('creates a bucket once and updates it only at the version read', async () => {
      // Prepare
      const store = await fresh();
      const ref = newRef();
      const key = { scope: 'account' as const, ref, name: 'follow-15m' };
      const app = { scope: 'app' as const, name: `day-${ref.accountId}` };

      // Act
      const v1 = await store.putBucket(key, { tokens: 5 }, 0);
      const twice = await store.putBucket(key, { tokens: 9 }, 0).catch((error: unknown) => error);
      const v2 = await store.putBucket(key, { tokens: 4 }, v1);
      const stale = await store.putBucket(key, { tokens: 9 }, v1).catch((error: unknown) => error);
      await store.putBucket(app, { used: 1 }, 0);

      // Assess
      expect([v1, v2]).toEqual([1, 2]);
      expect(twice).toBeInstanceOf(ConflictError);
      expect(stale).toBeInstanceOf(ConflictError);
      expect(await store.getBucket(key)).toEqual({ state: { tokens: 4 }, version: 2 });
      expect(await store.getBucket(app)).toEqual({ state: { used: 1 }, version: 1 });
      expect(await store.getBucket({ scope: 'app', name: 'none' })).toBeUndefined();
    });
  });
}
