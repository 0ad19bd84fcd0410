import {
  type AttributeValue,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ZodType } from 'zod';
import type {
  AccountRecord,
  AccountRef,
  AccountStatus,
  ClientRecord,
  GraphKind,
} from '../../domain/account.ts';
import type { AccountState } from '../../domain/account-state.ts';
import type { FollowTask } from '../../domain/engine/task.ts';
import { ConflictError, FollowbackError, ValidationError } from '../../domain/errors.ts';
import { UNKNOWN_PLATFORM_USER_ID } from '../../domain/tenants/tenant.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Changeset, RemovalMark, Store, VersionedState } from '../../ports/store.ts';
import type { BucketKey, BucketStore, StoredBucket, StoredTask, TaskStore } from '../../ports/tasks.ts';
import { systemClock } from '../clock.ts';
import {
  decodeChangeset,
  describeIssue,
  digestOf,
  encodeChangeset,
  maxChangesetParts,
} from './changeset-codec.ts';
import { errorName, isConditionFailure, versionCondition } from './conditions.ts';
import { CorruptItemError, MissingItemError, StoreError, UnprocessedItemsError } from './errors.ts';
import {
  accountRecordSchema,
  accountStateSchema,
  changesetPartItemSchema,
  clientRecordSchema,
  dataItemSchema,
  removalMarkItemSchema,
  stateItemSchema,
} from './schemas.ts';
import { describeKey, type ItemKey, keyAttributes, keys, keyWidths, padded, registryPk } from './table.ts';
import { DynamoTaskStore } from './task-store.ts';

/** Bytes of caller data (a base chunk, a scan page) one item may hold; the item limit is 400 KB. */
export const maxItemDataBytes = 399_000;
/** Items per BatchWriteItem call (DynamoDB's limit). */
const batchSize = 25;
const day = 86_400;

export interface DynamoStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: Clock | undefined;
  /**
   * Limit on items per query page. Default: none (DynamoDB's 1 MB pages), except for the newest-first
   * changeset history, which reads 16 items a page so that stopping early reads little.
   */
  queryPageSize?: number | undefined;
  /** BatchWriteItem calls per batch before UnprocessedItemsError (default 8). */
  batchWriteAttempts?: number | undefined;
  /** First backoff between BatchWriteItem retries, doubled each time, max 2 s, jittered (default 25 ms). */
  batchWriteBaseDelayMs?: number | undefined;
  /** Changesets expire this long after they were observed (default 120 days). */
  changesetTtlDays?: number | undefined;
  /** Pages of a full scan expire this long after they were written (default 7 days). */
  scanPageTtlDays?: number | undefined;
}

type Item = Record<string, AttributeValue>;

/** Removed ids kept in a removal mark at most (bytes); more, and readers replay the changeset. */
export const removalMarkBytes = 300_000;

interface ChangesetPart {
  key: ItemKey;
  seq: number;
  part: number;
  parts: number;
  digest: string;
  at: number;
  data: Uint8Array;
}

/**
 * The Store port on one DynamoDB table (layout in table.ts). Only single-item conditional writes,
 * gets, queries and batch writes: dynalite has no transactions, and nothing here needs them.
 * Reads of the base table are strongly consistent: a worker reads what it (or the previous tick)
 * just committed. Everything read back is validated; a bad item is a CorruptItemError naming its key.
 */
export class DynamoStore implements Store, TaskStore, BucketStore {
  readonly #client: DynamoDBClient;
  /** Tasks and limiter buckets live in the same table; their code is in task-store.ts. */
  readonly #tasks: DynamoTaskStore;
  readonly #table: string;
  readonly #clock: Clock;
  readonly #pageSize: number | undefined;
  readonly #batchAttempts: number;
  readonly #batchBaseDelayMs: number;
  readonly #changesetTtlSeconds: number;
  readonly #scanPageTtlSeconds: number;

  constructor(options: DynamoStoreOptions) {
    this.#tasks = new DynamoTaskStore({ client: options.client, tableName: options.tableName });
    this.#client = options.client;
    this.#table = options.tableName;
    this.#clock = options.clock ?? systemClock;
    this.#pageSize = options.queryPageSize;
    this.#batchAttempts = options.batchWriteAttempts ?? 8;
    this.#batchBaseDelayMs = options.batchWriteBaseDelayMs ?? 25;
    this.#changesetTtlSeconds = Math.round((options.changesetTtlDays ?? 120) * day);
    this.#scanPageTtlSeconds = Math.round((options.scanPageTtlDays ?? 7) * day);
  }

  // ------------------------------------------------------------------------------------------
  // Registry

  async putClient(client: ClientRecord): Promise<void> {
    const key = keys.client(client.clientId);
    await this.#put(key, { ...client, entity: 'client' });
  }

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    const key = keys.client(clientId);
    const item = await this.#get(key);
    return item === undefined ? undefined : this.#clientFrom(key, item);
  }

  async listClients(): Promise<ClientRecord[]> {
    const clients: ClientRecord[] = [];
    for await (const item of this.#queryPrefix(registryPk, keys.clientPrefix)) {
      clients.push(this.#clientFrom(itemKey(item), item));
    }
    return clients;
  }

  async deleteClient(clientId: string): Promise<void> {
    await this.#delete(keys.client(clientId));
  }

  async putAccount(account: AccountRecord): Promise<void> {
    const key = keys.account(account);
    await this.#put(key, { ...account, entity: 'account' });
  }

  async getAccount(ref: AccountRef): Promise<AccountRecord | undefined> {
    const key = keys.account(ref);
    const item = await this.#get(key);
    return item === undefined ? undefined : this.#accountFrom(key, item);
  }

  async listAccounts(clientId?: string): Promise<AccountRecord[]> {
    const accounts: AccountRecord[] = [];
    for await (const item of this.#queryPrefix(registryPk, keys.accountPrefix(clientId))) {
      accounts.push(this.#accountFrom(itemKey(item), item));
    }
    return accounts;
  }

  /**
   * Sets the account's status, and nothing else, only if its record still exists with status
   * `from`: a removal, pause or reconnect that ran meanwhile wins (no record is brought back, no
   * other field is overwritten). Returns whether the status changed. Not part of the port: for the
   * account worker, which marks an account `token_expired` after its tick.
   */
  async setAccountStatus(
    ref: AccountRef,
    to: AccountStatus,
    options: { from: AccountStatus },
  ): Promise<boolean> {
    const key = keys.account(ref);
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: keyAttributes(key),
          UpdateExpression: 'SET #status = :to',
          ConditionExpression: 'attribute_exists(pk) AND #status = :from',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':to': { S: to }, ':from': { S: options.from } },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) {
        return false;
      }
      throw this.#wrap('UpdateItem', describeKey(key), error);
    }
  }

  async deleteAccount(ref: AccountRef): Promise<void> {
    await this.#delete(keys.account(ref));
  }

  /**
   * Deletes every item in the account's partition (state, base chunks, changesets, scan pages and
   * whatever later issues put there) and in its credential partition (its sealed tokens). Not part
   * of the port: for `account remove` and tests. Returns the number of items deleted.
   */
  async purgeAccountData(ref: AccountRef): Promise<number> {
    let deleted = 0;
    for (const pk of [keys.accountPk(ref), keys.credentialPk(ref)]) {
      const doomed: ItemKey[] = [];
      const query = this.#query(
        {
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
          ProjectionExpression: 'pk, sk',
        },
        pk,
      );
      for await (const item of query) doomed.push(itemKey(item));
      await this.#batchWrite(doomed.map(deleteRequest), pk);
      deleted += doomed.length;
    }
    return deleted;
  }

  // ------------------------------------------------------------------------------------------
  // Account state

  async getState(ref: AccountRef): Promise<VersionedState | undefined> {
    const key = keys.accountState(ref);
    const item = await this.#get(key);
    if (item === undefined) return undefined;
    const raw = this.#fromItem(key, stateItemSchema, item);
    let json: unknown;
    try {
      json = JSON.parse(raw.state);
    } catch (error) {
      throw new CorruptItemError(`corrupt item ${describeKey(key)}: state is not JSON`, {
        cause: error,
        details: { ...key },
      });
    }
    const state = this.#check(key, accountStateSchema, json) as unknown as AccountState;
    return { state, version: raw.version };
  }

  async putState(ref: AccountRef, state: AccountState, expectedVersion: number): Promise<number> {
    const key = keys.accountState(ref);
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new ValidationError(`expectedVersion must be a non-negative integer, got ${expectedVersion}`, {
        details: { field: 'expectedVersion', value: expectedVersion },
      });
    }
    const version = expectedVersion + 1;
    const item = {
      ...keyAttributes(key),
      entity: { S: 'state' },
      state: { S: JSON.stringify(state) },
      version: { N: String(version) },
      updatedAt: { N: String(this.#clock.now()) },
    };
    const condition = versionCondition(expectedVersion);
    try {
      await this.#client.send(new PutItemCommand({ TableName: this.#table, Item: item, ...condition }));
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`state of ${describeKey(key)} is no longer at version ${expectedVersion}`, {
          cause: error,
          details: { ...key, expectedVersion },
        });
      }
      throw this.#wrap('PutItem', describeKey(key), error);
    }
    return version;
  }

  // ------------------------------------------------------------------------------------------
  // Base snapshot chunks

  async putBaseChunks(
    ref: AccountRef,
    kind: GraphKind,
    seq: number,
    chunks: readonly Uint8Array[],
    fence?: number,
  ): Promise<void> {
    const items = chunks.map((chunk, index) => {
      const key = keys.baseChunk(ref, kind, seq, index);
      checkDataSize(key, chunk);
      return withFence({ ...keyAttributes(key), entity: { S: 'base' }, data: { B: chunk } }, fence);
    });
    if (fence === undefined) {
      await this.#batchWrite(items.map(putRequest), keys.accountPk(ref));
      return;
    }
    // Fenced writes are conditional, one item each: batch writes cannot carry conditions.
    for (const item of items) await this.#putFenced(item, fence);
  }

  async getBaseChunks(ref: AccountRef, kind: GraphKind, seq: number, count: number): Promise<Uint8Array[]> {
    return this.#getDataRange(count, (index) => keys.baseChunk(ref, kind, seq, index));
  }

  async deleteBaseChunks(ref: AccountRef, kind: GraphKind, seq: number, count: number): Promise<void> {
    const requests = range(count).map((index) => deleteRequest(keys.baseChunk(ref, kind, seq, index)));
    await this.#batchWrite(requests, keys.accountPk(ref));
  }

  // ------------------------------------------------------------------------------------------
  // Changesets

  async putChangeset(ref: AccountRef, changeset: Changeset, fence?: number): Promise<void> {
    checkChangeset(changeset);
    const { parts, digest } = encodeChangeset(changeset);
    if (parts.length > maxChangesetParts) {
      throw new ValidationError(
        `changeset ${changeset.seq} needs ${parts.length} parts, more than ${maxChangesetParts}`,
        {
          details: { field: 'changeset', seq: changeset.seq },
        },
      );
    }
    const expiresAt = Math.floor(changeset.at / 1000) + this.#changesetTtlSeconds;
    const items = parts.map((data, part) => {
      const key = keys.changesetPart(ref, changeset.seq, part);
      const item: Item = {
        ...keyAttributes(key),
        entity: { S: 'changeset' },
        seq: { N: String(changeset.seq) },
        part: { N: String(part) },
        parts: { N: String(parts.length) },
        digest: { S: digest },
        at: { N: String(changeset.at) },
        data: { B: data },
        expiresAt: { N: String(expiresAt) },
      };
      if (fence !== undefined) item.fence = { N: String(fence) };
      if (part === 0) {
        // For people reading the table; the data holds the truth.
        item.kind = { S: changeset.kind };
        item.source = { S: changeset.source };
        item.addedCount = { N: String(changeset.addedCount) };
        item.removedCount = { N: String(changeset.removedCount) };
      }
      return item;
    });
    // The removal mark goes before part 0 too: a mark past the committed seq is not read.
    if (changeset.removedCount > 0) {
      const mark: Item = {
        ...keyAttributes(keys.removalMark(ref, changeset.kind, changeset.seq)),
        entity: { S: 'removal' },
        seq: { N: String(changeset.seq) },
        at: { N: String(changeset.at) },
        expiresAt: { N: String(expiresAt) },
      };
      if (changeset.removed.length <= removalMarkBytes) mark.removed = { B: changeset.removed };
      if (fence !== undefined) mark.fence = { N: String(fence) };
      items.splice(1, 0, mark);
    }
    // Part 0 goes last: it says how many parts there are, so it is the changeset's commit record.
    // A crash in between leaves parts whose digest part 0 does not know; reads then fail loudly.
    if (fence === undefined) {
      await this.#batchWrite(items.slice(1).map(putRequest), keys.accountPk(ref));
      await this.#putItem(items[0]!, describeKey(keys.changesetPart(ref, changeset.seq, 0)));
      return;
    }
    for (const item of [...items.slice(1), items[0]!]) await this.#putFenced(item, fence);
  }

  async getChangesets(ref: AccountRef, afterSeq: number, uptoSeq: number): Promise<Changeset[]> {
    padded('afterSeq', afterSeq, keyWidths.seq);
    padded('uptoSeq', uptoSeq, keyWidths.seq);
    if (uptoSeq <= afterSeq) return [];
    const changesets: Changeset[] = [];
    const from = keys.changesetPart(ref, afterSeq + 1, 0);
    const to = keys.changesetPart(ref, uptoSeq, maxChangesetParts);
    let expected = afterSeq + 1;
    for await (const group of this.#changesetGroups(ref, from.sk, to.sk, true, this.#pageSize)) {
      if (group.seq !== expected) throw missingChangeset(ref, expected, afterSeq, uptoSeq);
      changesets.push(assembleChangeset(ref, group.seq, group.parts));
      expected += 1;
    }
    if (expected <= uptoSeq) throw missingChangeset(ref, expected, afterSeq, uptoSeq);
    return changesets;
  }

  async getChangesetsSince(ref: AccountRef, sinceMs: number, uptoSeq: number): Promise<Changeset[]> {
    if (!Number.isFinite(sinceMs)) {
      throw new ValidationError(`sinceMs must be a finite number, got ${sinceMs}`, {
        details: { field: 'sinceMs', value: sinceMs },
      });
    }
    const from = keys.changesetPart(ref, 0, 0);
    const to = keys.changesetPart(ref, uptoSeq, maxChangesetParts);
    const changesets: Changeset[] = [];
    // Newest first; older changesets may have expired (TTL), but none may be missing in between.
    let expected = uptoSeq;
    for await (const group of this.#changesetGroups(ref, from.sk, to.sk, false, this.#pageSize ?? 16)) {
      if (group.seq !== expected) throw missingChangeset(ref, expected, 0, uptoSeq);
      const changeset = assembleChangeset(ref, group.seq, group.parts);
      if (changeset.at < sinceMs) break;
      changesets.push(changeset);
      expected -= 1;
    }
    return changesets;
  }

  async getRemovalMarks(
    ref: AccountRef,
    kind: GraphKind,
    sinceMs: number,
    uptoSeq: number,
  ): Promise<RemovalMark[]> {
    padded('uptoSeq', uptoSeq, keyWidths.seq);
    if (uptoSeq < 1) return [];
    const pk = keys.accountPk(ref);
    const from = keys.removalMark(ref, kind, 1).sk;
    const to = keys.removalMark(ref, kind, uptoSeq).sk;
    const marks: RemovalMark[] = [];
    const query = this.#query(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':from': { S: from }, ':to': { S: to } },
      },
      `${pk} / ${keys.removalPrefix(kind)}*`,
    );
    for await (const item of query) {
      const raw = this.#fromItem(itemKey(item), removalMarkItemSchema, item);
      if (raw.at < sinceMs) continue;
      marks.push({ seq: raw.seq, at: raw.at, removed: raw.removed });
    }
    return marks;
  }

  /** Changeset parts between two sort keys, grouped by seq, in query order. */
  async *#changesetGroups(
    ref: AccountRef,
    fromSk: string,
    toSk: string,
    forward: boolean,
    limit: number | undefined,
  ): AsyncGenerator<{ seq: number; parts: ChangesetPart[] }> {
    const pk = keys.accountPk(ref);
    const query = this.#query(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':from': { S: fromSk }, ':to': { S: toSk } },
        ScanIndexForward: forward,
        ...(limit === undefined ? {} : { Limit: limit }),
      },
      pk,
    );
    let current: { seq: number; parts: ChangesetPart[] } | undefined;
    for await (const item of query) {
      const part = this.#changesetPartFrom(item);
      if (current !== undefined && current.seq !== part.seq) {
        yield current;
        current = undefined;
      }
      current ??= { seq: part.seq, parts: [] };
      current.parts.push(part);
    }
    if (current !== undefined) yield current;
  }

  #changesetPartFrom(item: Item): ChangesetPart {
    const key = itemKey(item);
    const match = /^CHG#(\d{10})#(\d{3})$/.exec(key.sk);
    if (match === null) {
      throw new CorruptItemError(`corrupt item ${describeKey(key)}: not a changeset key`, {
        details: { ...key },
      });
    }
    const raw = this.#fromItem(key, changesetPartItemSchema, item);
    const seq = Number(match[1]);
    const part = Number(match[2]);
    if (raw.part !== part) {
      throw new CorruptItemError(
        `corrupt item ${describeKey(key)}: part attribute ${raw.part} does not match key`,
        {
          details: { ...key },
        },
      );
    }
    return { key, seq, part, parts: raw.parts, digest: raw.digest, at: raw.at, data: raw.data };
  }

  // ------------------------------------------------------------------------------------------
  // Scan pages

  async putScanPage(ref: AccountRef, scanId: string, page: number, ids: Uint8Array): Promise<void> {
    const key = keys.scanPage(ref, scanId, page);
    checkDataSize(key, ids);
    const expiresAt = Math.floor(this.#clock.now() / 1000) + this.#scanPageTtlSeconds;
    await this.#putItem(
      {
        ...keyAttributes(key),
        entity: { S: 'scan-page' },
        data: { B: ids },
        expiresAt: { N: String(expiresAt) },
      },
      describeKey(key),
    );
  }

  async getScanPages(ref: AccountRef, scanId: string, count: number): Promise<Uint8Array[]> {
    return this.#getDataRange(count, (page) => keys.scanPage(ref, scanId, page));
  }

  async deleteScanPages(ref: AccountRef, scanId: string, count: number): Promise<void> {
    const requests = range(count).map((page) => deleteRequest(keys.scanPage(ref, scanId, page)));
    await this.#batchWrite(requests, keys.accountPk(ref));
  }

  // ------------------------------------------------------------------------------------------
  // Table access

  /** Items 0..count-1 of a numbered run (chunks, pages), each with a `data` attribute; all must exist. */
  async #getDataRange(count: number, keyOf: (index: number) => ItemKey): Promise<Uint8Array[]> {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new ValidationError(`count must be a non-negative integer, got ${count}`, {
        details: { field: 'count', value: count },
      });
    }
    if (count === 0) return [];
    const first = keyOf(0);
    const last = keyOf(count - 1);
    const found = new Map<string, Uint8Array>();
    const query = this.#query(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': { S: first.pk },
          ':from': { S: first.sk },
          ':to': { S: last.sk },
        },
      },
      first.pk,
    );
    for await (const item of query) {
      const key = itemKey(item);
      found.set(key.sk, copy(this.#fromItem(key, dataItemSchema, item).data));
    }
    return range(count).map((index) => {
      const key = keyOf(index);
      const data = found.get(key.sk);
      if (data === undefined) {
        throw new MissingItemError(`missing item ${describeKey(key)} (${index + 1} of ${count})`, {
          details: { ...key, index, count },
        });
      }
      return data;
    });
  }

  async #put(key: ItemKey, record: object): Promise<void> {
    const item = { ...marshall(record, { removeUndefinedValues: true }), ...keyAttributes(key) };
    await this.#putItem(item, describeKey(key));
  }

  // ------------------------------------------------------------------------------------------
  // Tasks and limiter buckets (task-store.ts)

  createTask(ref: AccountRef, task: FollowTask): Promise<boolean> {
    return this.#tasks.createTask(ref, task);
  }
  getTask(ref: AccountRef, targetId: string): Promise<StoredTask | undefined> {
    return this.#tasks.getTask(ref, targetId);
  }
  putTask(ref: AccountRef, task: FollowTask, expectedVersion: number): Promise<number> {
    return this.#tasks.putTask(ref, task, expectedVersion);
  }
  listActive(
    ref: AccountRef,
    options: { now: number; from: 'onTime' | 'late'; limit: number },
  ): Promise<StoredTask[]> {
    return this.#tasks.listActive(ref, options);
  }
  listReleased(ref: AccountRef, options: { now: number; limit: number }): Promise<StoredTask[]> {
    return this.#tasks.listReleased(ref, options);
  }
  listAwaitingApproval(ref: AccountRef, options?: { limit?: number }): Promise<StoredTask[]> {
    return this.#tasks.listAwaitingApproval(ref, options);
  }
  listTasks(ref: AccountRef): Promise<StoredTask[]> {
    return this.#tasks.listTasks(ref);
  }
  getBucket<S>(key: BucketKey): Promise<StoredBucket<S> | undefined> {
    return this.#tasks.getBucket<S>(key);
  }
  putBucket<S>(key: BucketKey, state: S, expectedVersion: number): Promise<number> {
    return this.#tasks.putBucket(key, state, expectedVersion);
  }

  /**
   * Writes unless the item was written under a newer lease: a worker whose lease expired cannot
   * overwrite what the next holder wrote (ConflictError instead).
   */
  async #putFenced(item: Item, fence: number): Promise<void> {
    const key = { pk: item.pk?.S ?? '', sk: item.sk?.S ?? '' };
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR attribute_not_exists(fence) OR fence <= :fence',
          ExpressionAttributeValues: { ':fence': { N: String(fence) } },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`${describeKey(key)} was written under a newer lease than ${fence}`, {
          cause: error,
          details: { ...key, fence },
        });
      }
      throw this.#wrap('PutItem', describeKey(key), error);
    }
  }

  async #putItem(item: Item, what: string): Promise<void> {
    await this.#call('PutItem', what, () =>
      this.#client.send(new PutItemCommand({ TableName: this.#table, Item: item })),
    );
  }

  async #get(key: ItemKey): Promise<Item | undefined> {
    const out = await this.#call('GetItem', describeKey(key), () =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: keyAttributes(key), ConsistentRead: true }),
      ),
    );
    return out.Item;
  }

  async #delete(key: ItemKey): Promise<void> {
    await this.#call('DeleteItem', describeKey(key), () =>
      this.#client.send(new DeleteItemCommand({ TableName: this.#table, Key: keyAttributes(key) })),
    );
  }

  #queryPrefix(pk: string, prefix: string): AsyncGenerator<Item> {
    return this.#query(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: prefix } },
      },
      `${pk} / ${prefix}*`,
    );
  }

  /** All items of a query, page after page until LastEvaluatedKey runs out (or the caller stops). */
  async *#query(
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'ConsistentRead'>,
    what: string,
  ): AsyncGenerator<Item> {
    let start: Item | undefined;
    do {
      const page = await this.#call('Query', what, () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            ConsistentRead: true,
            ...(this.#pageSize === undefined ? {} : { Limit: this.#pageSize }),
            ...input,
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        ),
      );
      for (const item of page.Items ?? []) yield item;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  }

  /**
   * Writes in batches of 25, resubmitting UnprocessedItems with jittered exponential backoff until
   * none is left; after `batchWriteAttempts` calls for one batch, UnprocessedItemsError.
   */
  async #batchWrite(requests: WriteRequest[], what: string): Promise<void> {
    for (let offset = 0; offset < requests.length; offset += batchSize) {
      let pending = requests.slice(offset, offset + batchSize);
      for (let attempt = 1; ; attempt++) {
        const batch = pending;
        const out = await this.#call('BatchWriteItem', what, () =>
          this.#client.send(new BatchWriteItemCommand({ RequestItems: { [this.#table]: batch } })),
        );
        pending = out.UnprocessedItems?.[this.#table] ?? [];
        if (pending.length === 0) break;
        if (attempt >= this.#batchAttempts) {
          const unprocessed = pending.map((request) => requestKey(request));
          throw new UnprocessedItemsError(
            `${pending.length} items of ${what} still unprocessed after ${attempt} BatchWriteItem calls`,
            { details: { unprocessed: unprocessed.map(describeKey), attempts: attempt } },
          );
        }
        const backoff = Math.min(this.#batchBaseDelayMs * 2 ** (attempt - 1), 2_000);
        await sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
    }
  }

  async #call<T>(operation: string, what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.#wrap(operation, what, error);
    }
  }

  #wrap(operation: string, what: string, error: unknown): FollowbackError {
    if (error instanceof FollowbackError) return error;
    return new StoreError(`${operation} on ${what} in table ${this.#table} failed: ${errorName(error)}`, {
      cause: error,
      details: { operation, item: what, table: this.#table },
    });
  }

  /** The item as plain values, checked against `schema`; anything else is a CorruptItemError. */
  #fromItem<T>(key: ItemKey, schema: ZodType<T>, item: Item): T {
    let plain: unknown;
    try {
      plain = unmarshall(item);
    } catch (error) {
      throw new CorruptItemError(`corrupt item ${describeKey(key)}: ${(error as Error).message}`, {
        cause: error,
        details: { ...key },
      });
    }
    return this.#check(key, schema, plain);
  }

  #check<T>(key: ItemKey, schema: ZodType<T>, value: unknown): T {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(describeIssue).join('; ');
      throw new CorruptItemError(`corrupt item ${describeKey(key)}: ${problems}`, {
        details: { ...key, problems },
      });
    }
    return parsed.data;
  }

  #clientFrom(key: ItemKey, item: Item): ClientRecord {
    const record = this.#fromItem(key, clientRecordSchema, item);
    return stripKeys(record);
  }

  #accountFrom(key: ItemKey, item: Item): AccountRecord {
    const record = stripKeys(this.#fromItem(key, accountRecordSchema, item));
    // Older versions stored a never-connected account as token_expired; it is not_connected.
    return record.status === 'token_expired' && record.platformUserId === UNKNOWN_PLATFORM_USER_ID
      ? { ...record, status: 'not_connected' }
      : record;
  }
}

/** Reassembles one changeset from its parts; a missing or mismatched part is an error, never a short read. */
function assembleChangeset(ref: AccountRef, seq: number, found: ChangesetPart[]): Changeset {
  const byPart = new Map(found.map((part) => [part.part, part]));
  const head = byPart.get(0);
  if (head === undefined) {
    const key = keys.changesetPart(ref, seq, 0);
    throw new MissingItemError(`missing item ${describeKey(key)}: changeset ${seq} has parts but no part 0`, {
      details: { ...key, seq },
    });
  }
  const chunks: Uint8Array[] = [];
  for (let index = 0; index < head.parts; index++) {
    const part = byPart.get(index);
    const key = keys.changesetPart(ref, seq, index);
    if (part === undefined) {
      throw new MissingItemError(
        `missing item ${describeKey(key)}: part ${index + 1} of ${head.parts} of changeset ${seq}`,
        {
          details: { ...key, seq, part: index, parts: head.parts },
        },
      );
    }
    if (part.digest !== head.digest || part.parts !== head.parts) {
      throw new CorruptItemError(
        `corrupt item ${describeKey(key)}: belongs to another write of changeset ${seq}`,
        {
          details: { ...key, seq },
        },
      );
    }
    chunks.push(part.data);
  }
  const whole = concat(chunks);
  if (digestOf(whole) !== head.digest) {
    throw new CorruptItemError(
      `corrupt item ${describeKey(head.key)}: changeset ${seq} does not match its digest`,
      {
        details: { ...head.key, seq },
      },
    );
  }
  let changeset: Changeset;
  try {
    changeset = decodeChangeset(whole);
  } catch (error) {
    throw new CorruptItemError(`corrupt item ${describeKey(head.key)}: ${(error as Error).message}`, {
      cause: error,
      details: { ...head.key, seq },
    });
  }
  if (changeset.seq !== seq || changeset.at !== head.at) {
    throw new CorruptItemError(`corrupt item ${describeKey(head.key)}: data is changeset ${changeset.seq}`, {
      details: { ...head.key, seq },
    });
  }
  return changeset;
}

/**
 * Every committed seq has a changeset (observe commits seq + 1 with one), so a hole in a range is lost
 * data (an expired TTL under an old base, a manual delete): an error, never a silently short list.
 */
function missingChangeset(ref: AccountRef, seq: number, afterSeq: number, uptoSeq: number): MissingItemError {
  const key = keys.changesetPart(ref, seq, 0);
  return new MissingItemError(
    `missing item ${describeKey(key)}: changeset ${seq} of (${afterSeq}, ${uptoSeq}]`,
    {
      details: { ...key, seq, afterSeq, uptoSeq },
    },
  );
}

function checkChangeset(changeset: Changeset): void {
  const problems: string[] = [];
  if (!Number.isFinite(changeset.at)) problems.push('at must be a finite number');
  if (changeset.kind !== 'followers' && changeset.kind !== 'following') problems.push('kind');
  if (!['head', 'full', 'baseline', 'feed'].includes(changeset.source)) problems.push('source');
  if (!(changeset.added instanceof Uint8Array)) problems.push('added must be bytes');
  if (!(changeset.removed instanceof Uint8Array)) problems.push('removed must be bytes');
  for (const field of ['addedCount', 'removedCount'] as const) {
    if (!Number.isSafeInteger(changeset[field]) || changeset[field] < 0)
      problems.push(`${field} must be a count`);
  }
  if (!Array.isArray(changeset.profiles)) problems.push('profiles must be an array');
  if (problems.length > 0) {
    throw new ValidationError(`invalid changeset ${changeset.seq}: ${problems.join(', ')}`, {
      details: { field: 'changeset', problems },
    });
  }
}

function checkDataSize(key: ItemKey, data: Uint8Array): void {
  if (!(data instanceof Uint8Array)) {
    throw new ValidationError(`data for ${describeKey(key)} must be bytes`, { details: { ...key } });
  }
  if (data.length > maxItemDataBytes) {
    throw new ValidationError(
      `data for ${describeKey(key)} is ${data.length} bytes; one item holds at most ${maxItemDataBytes}`,
      { details: { ...key, bytes: data.length } },
    );
  }
}

function putRequest(item: Item): WriteRequest {
  return { PutRequest: { Item: item } };
}

function deleteRequest(key: ItemKey): WriteRequest {
  return { DeleteRequest: { Key: keyAttributes(key) } };
}

function requestKey(request: WriteRequest): ItemKey {
  const attributes = request.PutRequest?.Item ?? request.DeleteRequest?.Key ?? {};
  return { pk: attributes.pk?.S ?? '?', sk: attributes.sk?.S ?? '?' };
}

function itemKey(item: Item): ItemKey {
  const pk = item.pk?.S;
  const sk = item.sk?.S;
  if (pk === undefined || sk === undefined) {
    throw new CorruptItemError('corrupt item without a string pk and sk', { details: { pk, sk } });
  }
  return { pk, sk };
}

/** The record without the item's own attributes (key, entity). */
function stripKeys<T extends Record<string, unknown>>(record: T): T {
  const rest: Record<string, unknown> = { ...record };
  delete rest.pk;
  delete rest.sk;
  delete rest.entity;
  return rest as T;
}

function copy(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.length;
  }
  return whole;
}

function range(count: number): number[] {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new ValidationError(`count must be a non-negative integer, got ${count}`, {
      details: { field: 'count', value: count },
    });
  }
  return Array.from({ length: count }, (_, index) => index);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withFence(item: Item, fence: number | undefined): Item {
  return fence === undefined ? item : { ...item, fence: { N: String(fence) } };
}
