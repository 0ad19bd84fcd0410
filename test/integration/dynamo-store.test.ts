import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AttributeValue,
  type BatchWriteItemCommandInput,
  DeleteItemCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { attachCapacityMeter } from '../../shared/adapters/dynamo/capacity.ts';
import { createDynamoClient } from '../../shared/adapters/dynamo/client.ts';
import {
  CorruptItemError,
  MissingItemError,
  UnprocessedItemsError,
} from '../../shared/adapters/dynamo/errors.ts';
import { DynamoStore, type DynamoStoreOptions } from '../../shared/adapters/dynamo/store.ts';
import { keyAttributes, keys } from '../../shared/adapters/dynamo/table.ts';
import type { AccountRecord, AccountRef, ClientRecord } from '../../shared/domain/account.ts';
import { type AccountState, emptyObserveState } from '../../shared/domain/account-state.ts';
import { ConflictError } from '../../shared/domain/errors.ts';
import type { Changeset } from '../../shared/ports/store.ts';
import { LocalDynamoLockedError, startLocalDynamo } from '../../shared/runtime/local-dynamo.ts';
import { describeStoreContract } from '../contract/store-contract.ts';
import { createTestTable, dynamoBackends, useDynamoBackend } from '../support/backends.ts';
import type { DynamoTarget } from '../support/dynalite.ts';

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

/** Byte arrays as base64, so that large ones compare fast (toEqual walks a Uint8Array element by element). */
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

/** Counts commands of one kind sent through a client, and the items their responses carried. */
function countCommands(client: DynamoDBClient, commandName: string) {
  const name = `count${commandName}${Math.random()}`;
  const counter = { calls: 0, items: 0, remove: () => client.middlewareStack.remove(name) };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === commandName) {
        counter.calls += 1;
        counter.items += ((result.output as { Items?: unknown[] }).Items ?? []).length;
      }
      return result;
    },
    { step: 'initialize', name },
  );
  return counter;
}

/**
 * Makes BatchWriteItem answer as DynamoDB does under pressure: the first `faults` calls process only
 * the first half of the batch (`keep: 'half'`) or nothing (`keep: 'none'`) and return the rest as
 * UnprocessedItems.
 */
function unprocessedItemsFault(client: DynamoDBClient, faults: number, keep: 'half' | 'none') {
  const name = `unprocessed${Math.random()}`;
  const fault = { calls: 0, returnedUnprocessed: 0, remove: () => client.middlewareStack.remove(name) };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'BatchWriteItemCommand') return next(args);
      fault.calls += 1;
      if (fault.calls > faults) return next(args);
      const input = args.input as BatchWriteItemCommandInput;
      const [table, requests] = Object.entries(input.RequestItems ?? {})[0]!;
      const kept = keep === 'half' ? requests.slice(0, Math.ceil(requests.length / 2)) : [];
      const unprocessed = requests.slice(kept.length);
      fault.returnedUnprocessed += unprocessed.length;
      if (kept.length === 0) {
        return {
          response: {},
          output: { UnprocessedItems: { [table]: unprocessed }, $metadata: {} },
        } as never;
      }
      const result = await next({ ...args, input: { ...input, RequestItems: { [table]: kept } } } as never);
      (result.output as { UnprocessedItems?: unknown }).UnprocessedItems = { [table]: unprocessed };
      return result;
    },
    { step: 'initialize', name },
  );
  return fault;
}

describe.each(dynamoBackends)('DynamoStore on $name', (backend) => {
  const db: DynamoTarget = useDynamoBackend(backend);
  const extraClients: DynamoDBClient[] = [];

  afterEach(() => {
    for (const client of extraClients.splice(0)) client.destroy();
  });

  const tables = new WeakMap<object, string>();
  /** A store on a table of its own. */
  async function freshStore(options: Partial<DynamoStoreOptions> = {}) {
    const tableName = await createTestTable(db);
    const client = options.client ?? db.client;
    const store = new DynamoStore({ client, tableName, ...options });
    tables.set(store, tableName);
    return { store, tableName, client };
  }

  function tableOf(store: object): string {
    const tableName = tables.get(store);
    if (tableName === undefined) throw new Error('not a store of this suite');
    return tableName;
  }

  /** A separate client on the same back end, for middlewares that must not leak into other tests. */
  function ownClient(): DynamoDBClient {
    const client = createDynamoClient({ endpoint: db.endpoint, region: 'us-east-1' });
    extraClients.push(client);
    return client;
  }

  async function rawGet(tableName: string, key: { pk: string; sk: string }) {
    const out = await db.client.send(
      new GetItemCommand({ TableName: tableName, Key: keyAttributes(key), ConsistentRead: true }),
    );
    return out.Item;
  }

  async function rawPut(tableName: string, item: Record<string, AttributeValue>) {
    await db.client.send(new PutItemCommand({ TableName: tableName, Item: item }));
  }

  async function rawDelete(tableName: string, key: { pk: string; sk: string }) {
    await db.client.send(new DeleteItemCommand({ TableName: tableName, Key: keyAttributes(key) }));
  }

  describeStoreContract({
    fresh: async (options = {}) => (await freshStore(options.clock ? { clock: options.clock } : {})).store,
    removeItem: async (store, key) => rawDelete(tableOf(store), key),
    expiresAt: async (store, key) => {
      const value = (await rawGet(tableOf(store), key))?.expiresAt?.N;
      return value === undefined ? undefined : Number(value);
    },
  });

  describe('table', () => {
    it('has the key schema and sparse indexes of the definition, and TTL where the back end has it', async () => {
      // Prepare
      const tableName = await createTestTable(db);

      // Act
      const table = (await db.client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
      const ttl = (await db.client.send(new DescribeTimeToLiveCommand({ TableName: tableName })))
        .TimeToLiveDescription;

      // Assess
      expect(table?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(
        table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.Projection?.ProjectionType]),
      ).toEqual([
        ['gsi1', 'ALL'],
        ['gsi2', 'ALL'],
      ]);
      // dynalite 4 has no UpdateTimeToLive: items never expire there.
      expect(ttl?.TimeToLiveStatus).toBe(backend.name === 'moto' ? 'ENABLED' : 'DISABLED');
      if (backend.name === 'moto') expect(ttl?.AttributeName).toBe('expiresAt');
    });
  });

  describe('registry', () => {
    it('follows query pages to the end when listing', async () => {
      // Prepare
      const client = ownClient();
      const { store } = await freshStore({ client, queryPageSize: 2 });
      const expected: string[] = [];
      for (let i = 0; i < 7; i++) {
        await store.putAccount(accountRecord('c1', `a${i}`));
        expected.push(`a${i}`);
      }
      const queries = countCommands(client, 'QueryCommand');

      // Act
      const accounts = await store.listAccounts('c1');

      // Assess
      expect(accounts.map((a) => a.accountId)).toEqual(expected);
      expect(queries.calls).toBeGreaterThanOrEqual(4);
    });

    it('keeps records as attributes an operator can read in the console', async () => {
      // Prepare
      const { store, tableName } = await freshStore();

      // Act
      await store.putAccount(accountRecord('c1', 'a1'));

      // Assess
      const item = await rawGet(tableName, keys.account({ clientId: 'c1', accountId: 'a1' }));
      expect(item?.handle).toEqual({ S: '@a1' });
      expect(item?.observe?.M?.readRequestsPerDay).toEqual({ N: '100' });
      expect(item?.entity).toEqual({ S: 'account' });
    });
  });

  describe('account state', () => {
    it('says a lost race is a failed condition', async () => {
      // Prepare
      const { store } = await freshStore();
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
      expect((lost[0]!.cause as Error).name).toBe('ConditionalCheckFailedException');
      const stored = await store.getState(ref);
      expect(stored?.version).toBe(2);
      expect(stored?.state.note).toBe(won[0] === 0 ? 'writer A' : 'writer B');
    });
    /** A 10k-follower X account's state after weeks: a 100-id anchor, four weeks of owner counts. */
    function busyState(seq: number, anchorSalt = 0): AccountState {
      const observe = emptyObserveState();
      observe.seq = seq;
      observe.headAnchor = Array.from({ length: 100 }, (_, i) =>
        String(1_790_000_000_000_000_000n + BigInt(i * 7_919 + anchorSalt)),
      );
      observe.ownerHistory = Array.from({ length: 28 }, (_, day) => ({
        followers: 10_000 + day * 45,
        following: 300 + day,
        at: t0 + day * 24 * hour,
      }));
      observe.owner = { followers: 11_260, following: 328, at: t0 + 27 * 24 * hour };
      observe.graphs.followers = { baseSeq: 63, baseChunks: 1, baseAt: t0, count: 10_262, complete: true };
      return {
        observe,
        engine: { reconciledSeq: seq, nextActAt: t0 + 600_000 },
        lease: { holder: 'w1', until: t0, epoch: 149 },
      };
    }

    async function stateItems(tableName: string, ref: AccountRef) {
      const out = await db.client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': { S: keys.accountPk(ref) }, ':prefix': { S: 'STATE' } },
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map((item) => item.sk?.S ?? '');
    }

    it('writes a busy account state in one write unit a commit, its cold part only when it changed', async () => {
      // Prepare
      const client = ownClient();
      const meter = attachCapacityMeter(client);
      const { store } = await freshStore({ client });
      const ref = newRef();
      await store.putState(ref, busyState(1), 0);
      meter.reset();

      // Act: three commits that change only the hot part (the lease, the engine), as a tick does
      await store.putState(
        ref,
        { ...busyState(2), lease: { holder: 'w2', until: t0 + 60_000, epoch: 150 } },
        1,
      );
      await store.putState(ref, busyState(3), 2);
      await store.putState(ref, busyState(4), 3);

      // Assess
      expect(meter.writesByKind.get('STATE')).toEqual({ units: 3, items: 3 });
      expect((await store.getState(ref))?.state).toEqual(busyState(4));
      meter.detach();
    });

    it('replaces the cold part when it changes and deletes the one it replaced', async () => {
      // Prepare
      const { store, tableName } = await freshStore();
      const ref = newRef();
      await store.putState(ref, busyState(1), 0);

      // Act
      await store.putState(ref, busyState(2, 1), 1);

      // Assess
      const items = await stateItems(tableName, ref);
      expect(items).toHaveLength(2);
      expect(items[0]).toBe('STATE');
      expect(items[1]).toMatch(/^STATE#PART#/);
      expect((await store.getState(ref))?.state).toEqual(busyState(2, 1));
    });

    it('leaves the winner whole and no stray part when two writers race with different cold parts', async () => {
      // Prepare: two workers (two store instances) read the same version
      const { store, tableName, client } = await freshStore();
      const other = new DynamoStore({ client, tableName });
      const ref = newRef();
      await store.putState(ref, busyState(1), 0);
      await other.getState(ref);

      // Act
      const results = await Promise.allSettled([
        store.putState(ref, busyState(2, 11), 1),
        other.putState(ref, busyState(2, 22), 1),
      ]);

      // Assess
      const won = results.findIndex((r) => r.status === 'fulfilled');
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
      expect((await new DynamoStore({ client, tableName }).getState(ref))?.state).toEqual(
        busyState(2, won === 0 ? 11 : 22),
      );
      expect(await stateItems(tableName, ref)).toHaveLength(2);
    });

    it('deletes the part a crashed writer left once the next commit lands', async () => {
      // Prepare: a part written, then the worker died before its state put
      const { store, tableName } = await freshStore();
      const ref = newRef();
      await store.putState(ref, busyState(1), 0);
      const stray = keys.accountStatePart(ref, 2, 'deadbeef');
      await rawPut(tableName, { ...keyAttributes(stray), body: { B: new Uint8Array([3, 0]) } });
      const next = new DynamoStore({ client: db.client, tableName });
      await next.getState(ref);

      // Act
      await next.putState(ref, busyState(2), 1);

      // Assess
      expect(await stateItems(tableName, ref)).not.toContain(stray.sk);
      expect((await next.getState(ref))?.state).toEqual(busyState(2));
    });

    it('reads a state item written before the split, and splits it at the next commit', async () => {
      // Prepare
      const { store, tableName } = await freshStore();
      const ref = newRef();
      const key = keys.accountState(ref);
      await rawPut(tableName, {
        ...keyAttributes(key),
        entity: { S: 'state' },
        state: { S: JSON.stringify(busyState(1)) },
        version: { N: '1' },
      });

      // Act
      const read = await store.getState(ref);
      await store.putState(ref, busyState(2), 1);

      // Assess
      expect(read).toEqual({ state: busyState(1), version: 1 });
      expect((await rawGet(tableName, key))?.state).toBeUndefined();
      expect(await stateItems(tableName, ref)).toHaveLength(2);
      expect((await store.getState(ref))?.state).toEqual(busyState(2));
    });

    it('says a state item is corrupt when the part it names is gone', async () => {
      // Prepare
      const { store, tableName } = await freshStore();
      const ref = newRef();
      await store.putState(ref, busyState(1), 0);
      const part = (await stateItems(tableName, ref))[1] ?? '';
      await rawDelete(tableName, { pk: keys.accountPk(ref), sk: part });

      // Act
      const read = new DynamoStore({ client: db.client, tableName }).getState(ref);

      // Assess
      await expect(read).rejects.toBeInstanceOf(MissingItemError);
      await expect(read).rejects.toThrow(part);
    });
  });

  describe('changesets', () => {
    it('cuts a large changeset into parts of one item each', async () => {
      // Prepare
      const { store, tableName } = await freshStore();
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
      const parts = await db.client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': { S: keys.accountPk(ref) },
            ':prefix': { S: 'CHG#0000000002#' },
          },
          ConsistentRead: true,
        }),
      );
      expect(parts.Count).toBe(3);
    });

    it('returns the changesets observed since a time, newest first, and stops reading there', async () => {
      // Prepare
      const client = ownClient();
      const { store } = await freshStore({ client, queryPageSize: 2 });
      const ref = newRef();
      for (let seq = 1; seq <= 10; seq++) await store.putChangeset(ref, changeset(seq, t0 + seq * hour));
      const queries = countCommands(client, 'QueryCommand');

      // Act
      const recent = await store.getChangesetsSince(ref, t0 + 6 * hour + 1, 9);

      // Assess
      expect(recent.map((c) => c.seq)).toEqual([9, 8, 7]);
      // Seqs 9..6 fill two pages of two; reading on to seq 1 would take five.
      expect(queries.calls).toBeLessThanOrEqual(3);
      expect(await store.getChangesetsSince(ref, t0 + 6 * hour, 9)).toHaveLength(4);
      expect(await store.getChangesetsSince(ref, t0, 10)).toHaveLength(10);
    });

    it('detects a part altered after it was written', async () => {
      // Prepare
      const { store, tableName } = await freshStore();
      const ref = newRef();
      await store.putChangeset(ref, changeset(1, t0, 1_000));
      const key = keys.changesetPart(ref, 1, 0);
      const item = (await rawGet(tableName, key))!;
      const data = new Uint8Array(item.data!.B!);
      data[data.length - 1] = data[data.length - 1]! ^ 0xff;
      await rawPut(tableName, { ...item, data: { B: data } });

      // Act
      const read = store.getChangesets(ref, 0, 1);

      // Assess
      await expect(read).rejects.toBeInstanceOf(CorruptItemError);
      await expect(read).rejects.toThrow(`${key.pk} / ${key.sk}`);
    });
  });

  describe('batch writes', () => {
    it('resubmits unprocessed items until every item is written', async () => {
      // Prepare
      const client = ownClient();
      const fault = unprocessedItemsFault(client, 3, 'half');
      const { store } = await freshStore({ client, batchWriteBaseDelayMs: 1 });
      const ref = newRef();
      const chunks = Array.from({ length: 30 }, (_, i) => new Uint8Array([i, i + 1, i + 2]));

      // Act
      await store.putBaseChunks(ref, 'followers', 1, chunks);

      // Assess
      expect(fault.returnedUnprocessed).toBeGreaterThan(0);
      expect(await store.getBaseChunks(ref, 'followers', 1, 30)).toEqual(chunks);
    });

    it('gives up with UnprocessedItemsError rather than drop items', async () => {
      // Prepare
      const client = ownClient();
      const fault = unprocessedItemsFault(client, Number.POSITIVE_INFINITY, 'none');
      const { store } = await freshStore({ client, batchWriteAttempts: 3, batchWriteBaseDelayMs: 1 });

      // Act
      const put = store.putBaseChunks(newRef(), 'followers', 1, [new Uint8Array([1]), new Uint8Array([2])]);

      // Assess
      await expect(put).rejects.toBeInstanceOf(UnprocessedItemsError);
      expect(fault.calls).toBe(3);
    });
  });

  describe('corrupt items', () => {
    it('names the state item whose JSON is broken', async () => {
      // Prepare
      const { store, tableName } = await freshStore();
      const ref = newRef();
      const key = keys.accountState(ref);
      await rawPut(tableName, { ...keyAttributes(key), state: { S: '{"observe": ' }, version: { N: '1' } });

      // Act
      const read = store.getState(ref);

      // Assess
      await expect(read).rejects.toBeInstanceOf(CorruptItemError);
      await expect(read).rejects.toThrow(`${key.pk} / ${key.sk}`);
    });

    it('names the client record that lacks a field', async () => {
      // Prepare
      const { store, tableName } = await freshStore();
      const key = keys.client('c1');
      await rawPut(tableName, { ...keyAttributes(key), clientId: { S: 'c1' }, timeZone: { S: 'UTC' } });

      // Act
      const list = store.listClients();

      // Assess
      await expect(list).rejects.toBeInstanceOf(CorruptItemError);
      await expect(list).rejects.toThrow(/REGISTRY \/ CLIENT#c1: .*name/);
    });
  });

  describe('capacity meter', () => {
    it('counts the write units of what the store writes', async () => {
      // Prepare
      const client = ownClient();
      const meter = attachCapacityMeter(client);
      const { store } = await freshStore({ client });
      const ref = newRef();
      meter.reset();
      // Each item: ~2.5 KB of data plus key and names, under 3 KB: 3 write units.
      const chunks = [1, 2, 3].map(() => new Uint8Array(randomBytes(2_500)));

      // Act
      await store.putBaseChunks(ref, 'followers', 1, chunks);
      const written = {
        reported: meter.writeUnits,
        estimated: meter.estimatedWriteUnits,
        read: meter.readUnits,
      };
      await store.getBaseChunks(ref, 'followers', 1, 3);
      const afterRead = meter.readUnits;
      meter.reset();

      // Assess
      expect(written.estimated).toBe(9);
      expect(written.reported).toBeGreaterThan(0);
      if (backend.capacityFromItemSizes) expect(written.reported).toBe(9);
      expect(written.read).toBe(0);
      expect(afterRead).toBeGreaterThan(0);
      expect(meter.writeUnits + meter.readUnits + meter.estimatedWriteUnits).toBe(0);
      meter.detach();
    });
  });
});

describe('startLocalDynamo', () => {
  const directories: string[] = [];
  afterEach(async () => {
    for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
  });

  async function tempDirectory(): Promise<string> {
    const directory = await mkdtemp(join(tmpdir(), 'followback-dynamo-'));
    directories.push(directory);
    return directory;
  }

  it('keeps data on disk across a close and a restart in the same process', async () => {
    // Prepare
    const path = await tempDirectory();
    const first = await startLocalDynamo({ path });
    await new DynamoStore({ client: first.client, tableName: first.tableName }).putClient(clientRecord('c1'));
    await first.close();

    // Act
    const second = await startLocalDynamo({ path });
    const client = await new DynamoStore({ client: second.client, tableName: second.tableName }).getClient(
      'c1',
    );
    await second.close();

    // Assess
    expect(second.tableName).toBe('followback');
    expect(client).toEqual(clientRecord('c1'));
  });

  it('refuses a second start on a directory in use, in this process', async () => {
    // Prepare
    const path = await tempDirectory();
    const first = await startLocalDynamo({ path });

    // Act
    const second = startLocalDynamo({ path });

    // Assess
    await expect(second).rejects.toBeInstanceOf(LocalDynamoLockedError);
    await first.close();
  });

  it('gives another process on the same directory a named error, not a hang', async () => {
    // Prepare
    const path = await tempDirectory();
    const first = await startLocalDynamo({ path });
    const module = fileURLToPath(new URL('../../shared/runtime/local-dynamo.ts', import.meta.url));
    const script = `
      import { startLocalDynamo } from ${JSON.stringify(module)};
      try { const d = await startLocalDynamo({ path: ${JSON.stringify(path)} }); await d.close(); console.log('started'); }
      catch (error) { console.log(error.name); }
    `;

    // Act
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--no-warnings', '--import', 'tsx', '--input-type=module', '-e', script],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.on('data', (data: Buffer) => {
        out += data.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('error', reject);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(out.trim());
      });
    });
    await first.close();

    // Assess
    expect(output).toBe('LocalDynamoLockedError');
  });
});
