/**
 * The storage ports in process memory, with the contract of the DynamoDB adapter (dynamo/store.ts,
 * dynamo/task-store.ts) kept exactly: the same key layout and validation (keys from dynamo/table.ts),
 * conditional versions and lease fences that lose with ConflictError, the same query orders and
 * limits, every value stored and read back as a JSON (or codec) copy so that a caller never shares
 * an object with the store, DynamoDB's 400 KB item limit as a StoreError, and the TTL attribute kept
 * but, as on dynalite, never acted on (`expire` sweeps it on demand). For simulations and unit tests
 * that would otherwise need a table: test/contract/store-contract.ts proves the two the same.
 */
import type { AccountRecord, AccountRef, ClientRecord, GraphKind } from '../../domain/account.ts';
import type { AccountState } from '../../domain/account-state.ts';
import { type FollowTask, isFinal } from '../../domain/engine/task.ts';
import { ConflictError, RecordTooLargeError, ValidationError } from '../../domain/errors.ts';
import { defined, invariant } from '../../domain/invariant.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Changeset, RemovalMark, Store, VersionedState } from '../../ports/store.ts';
import type { BucketKey, BucketStore, StoredBucket, StoredTask, TaskStore } from '../../ports/tasks.ts';
import { systemClock } from '../clock.ts';
import { decodeChangeset, encodeChangeset, maxChangesetParts } from '../dynamo/changeset-codec.ts';
import { CorruptItemError, MissingItemError, StoreError } from '../dynamo/errors.ts';
import { maxItemDataBytes, removalMarkBytes } from '../dynamo/store.ts';
import { describeKey, type ItemKey, keyPart, keys, keyWidths, padded, registryPk } from '../dynamo/table.ts';

/** DynamoDB's item size limit (names and values, UTF-8). */
export const maxItemBytes = 400 * 1024;
const TIME_WIDTH = 15;
const DAY_S = 86_400;

interface MemoryItem {
  /** Encoded value (JSON text or bytes), never shared with a caller. */
  value: string | Uint8Array;
  version?: number;
  fence?: number;
  /** TTL, epoch seconds. */
  expiresAt?: number;
  /** Sparse index keys of a task. */
  gsi1?: { pk: string; sk: string };
  gsi2?: { pk: string; sk: string };
  /** Changeset part bookkeeping. */
  part?: { seq: number; part: number; parts: number; digest: string; at: number };
  /** Part 0 of a changeset: what decoding the parts gives, decoded once (the parts stay the truth). */
  decoded?: Changeset;
  /** A removal mark (value: the removed ids, empty when too many to keep). */
  mark?: { seq: number; at: number; kept: boolean };
}

export interface MemoryStoreOptions {
  clock?: Clock;
  changesetTtlDays?: number;
  scanPageTtlDays?: number;
}

/** Counts of the writes a simulation may want to check or crash at. */
export type MemoryWrite =
  | 'putClient'
  | 'putAccount'
  | 'putState'
  | 'putBaseChunks'
  | 'putChangeset'
  | 'putScanPage'
  | 'createTask'
  | 'putTask'
  | 'putBucket';

export class MemoryStore implements Store, TaskStore, BucketStore {
  readonly #partitions = new Map<string, Map<string, MemoryItem>>();
  readonly #clock: Clock;
  readonly #changesetTtlSeconds: number;
  readonly #scanPageTtlSeconds: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#changesetTtlSeconds = Math.round((options.changesetTtlDays ?? 120) * DAY_S);
    this.#scanPageTtlSeconds = Math.round((options.scanPageTtlDays ?? 7) * DAY_S);
  }

  // ---- registry -------------------------------------------------------------------------------

  async putClient(client: ClientRecord): Promise<void> {
    this.#set(keys.client(client.clientId), { value: json(client) });
  }

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    const item = this.#get(keys.client(clientId));
    return item === undefined ? undefined : parse<ClientRecord>(item);
  }

  async listClients(): Promise<ClientRecord[]> {
    return this.#prefix(registryPk, keys.clientPrefix).map(([, item]) => parse<ClientRecord>(item));
  }

  async deleteClient(clientId: string): Promise<void> {
    this.#delete(keys.client(clientId));
  }

  async putAccount(account: AccountRecord): Promise<void> {
    this.#set(keys.account(account), { value: json(account) });
  }

  async getAccount(ref: AccountRef): Promise<AccountRecord | undefined> {
    const item = this.#get(keys.account(ref));
    return item === undefined ? undefined : parse<AccountRecord>(item);
  }

  async listAccounts(clientId?: string): Promise<AccountRecord[]> {
    return this.#prefix(registryPk, keys.accountPrefix(clientId)).map(([, item]) =>
      parse<AccountRecord>(item),
    );
  }

  async deleteAccount(ref: AccountRef): Promise<void> {
    this.#delete(keys.account(ref));
  }

  /** Every item of the account's partition (as DynamoStore.purgeAccountData); returns how many. */
  async purgeAccountData(ref: AccountRef): Promise<number> {
    const pk = keys.accountPk(ref);
    const count = this.#partitions.get(pk)?.size ?? 0;
    this.#partitions.delete(pk);
    return count;
  }

  // ---- account state --------------------------------------------------------------------------

  async getState(ref: AccountRef): Promise<VersionedState | undefined> {
    const item = this.#get(keys.accountState(ref));
    if (item === undefined) return undefined;
    return { state: parse<AccountState>(item), version: item.version ?? 0 };
  }

  async putState(ref: AccountRef, state: AccountState, expectedVersion: number): Promise<number> {
    const key = keys.accountState(ref);
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new ValidationError(`expectedVersion must be a non-negative integer, got ${expectedVersion}`, {
        details: { field: 'expectedVersion', value: expectedVersion },
      });
    }
    const value = json(state);
    checkItemSize(key, value, 'PutItem');
    const current = this.#get(key);
    if ((current?.version ?? 0) !== expectedVersion || (expectedVersion === 0 && current !== undefined)) {
      throw new ConflictError(`state of ${describeKey(key)} is no longer at version ${expectedVersion}`, {
        details: { ...key, expectedVersion },
      });
    }
    this.#set(key, { value, version: expectedVersion + 1 });
    return expectedVersion + 1;
  }

  // ---- base chunks ----------------------------------------------------------------------------

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
      return { key, item: withFence({ value: new Uint8Array(chunk) }, fence) };
    });
    for (const { key, item } of items) {
      if (fence !== undefined) this.#checkFence(key, fence);
      this.#set(key, item);
    }
  }

  async getBaseChunks(ref: AccountRef, kind: GraphKind, seq: number, count: number): Promise<Uint8Array[]> {
    return this.#dataRange(count, (index) => keys.baseChunk(ref, kind, seq, index));
  }

  async deleteBaseChunks(ref: AccountRef, kind: GraphKind, seq: number, count: number): Promise<void> {
    for (const index of range(count)) this.#delete(keys.baseChunk(ref, kind, seq, index));
  }

  // ---- changesets -----------------------------------------------------------------------------

  async putChangeset(ref: AccountRef, changeset: Changeset, fence?: number): Promise<void> {
    checkChangeset(changeset);
    const { parts, digest } = encodeChangeset(changeset);
    if (parts.length > maxChangesetParts) {
      throw new ValidationError(
        `changeset ${changeset.seq} needs ${parts.length} parts, more than ${maxChangesetParts}`,
        { details: { field: 'changeset', seq: changeset.seq } },
      );
    }
    const expiresAt = Math.floor(changeset.at / 1000) + this.#changesetTtlSeconds;
    const items = parts.map((data, part) => ({
      key: keys.changesetPart(ref, changeset.seq, part),
      item: withFence(
        {
          value: new Uint8Array(data),
          expiresAt,
          part: { seq: changeset.seq, part, parts: parts.length, digest, at: changeset.at },
        },
        fence,
      ),
    }));
    if (changeset.removedCount > 0) {
      const kept = changeset.removed.length <= removalMarkBytes;
      items.splice(1, 0, {
        key: keys.removalMark(ref, changeset.kind, changeset.seq),
        item: withFence(
          {
            value: kept ? new Uint8Array(changeset.removed) : new Uint8Array(),
            expiresAt,
            mark: { seq: changeset.seq, at: changeset.at, kept },
          },
          fence,
        ),
      });
    }
    // Part 0 last: it is the commit record (as in DynamoStore).
    const [commit, ...rest] = items;
    invariant(commit !== undefined, 'a changeset has a part 0');
    for (const { key, item } of [...rest, commit]) {
      if (fence !== undefined) this.#checkFence(key, fence);
      this.#set(key, item);
    }
  }

  async getChangesets(ref: AccountRef, afterSeq: number, uptoSeq: number): Promise<Changeset[]> {
    padded('afterSeq', afterSeq, keyWidths.seq);
    padded('uptoSeq', uptoSeq, keyWidths.seq);
    if (uptoSeq <= afterSeq) return [];
    const out: Changeset[] = [];
    const groups = this.#changesetGroups(ref, afterSeq + 1, uptoSeq, true);
    let expected = afterSeq + 1;
    for (const group of groups) {
      if (group.seq !== expected) throw missingChangeset(ref, expected, afterSeq, uptoSeq);
      out.push(assemble(ref, group.seq, group.parts));
      expected += 1;
    }
    if (expected <= uptoSeq) throw missingChangeset(ref, expected, afterSeq, uptoSeq);
    return out;
  }

  async getChangesetsSince(ref: AccountRef, sinceMs: number, uptoSeq: number): Promise<Changeset[]> {
    if (!Number.isFinite(sinceMs)) {
      throw new ValidationError(`sinceMs must be a finite number, got ${sinceMs}`, {
        details: { field: 'sinceMs', value: sinceMs },
      });
    }
    const out: Changeset[] = [];
    let expected = uptoSeq;
    for (const group of this.#changesetGroups(ref, 0, uptoSeq, false)) {
      if (group.seq !== expected) throw missingChangeset(ref, expected, 0, uptoSeq);
      const changeset = assemble(ref, group.seq, group.parts);
      if (changeset.at < sinceMs) break;
      out.push(changeset);
      expected -= 1;
    }
    return out;
  }

  async getRemovalMarks(
    ref: AccountRef,
    kind: GraphKind,
    sinceMs: number,
    uptoSeq: number,
  ): Promise<RemovalMark[]> {
    padded('uptoSeq', uptoSeq, keyWidths.seq);
    const marks: RemovalMark[] = [];
    for (const [, item] of this.#prefix(keys.accountPk(ref), keys.removalPrefix(kind))) {
      const mark = defined(item.mark, 'the mark of a removal item');
      if (mark.seq > uptoSeq || mark.at < sinceMs) continue;
      marks.push({
        seq: mark.seq,
        at: mark.at,
        removed: mark.kept ? new Uint8Array(item.value as Uint8Array) : undefined,
      });
    }
    return marks;
  }

  // ---- scan pages -----------------------------------------------------------------------------

  async putScanPage(ref: AccountRef, scanId: string, page: number, ids: Uint8Array): Promise<void> {
    const key = keys.scanPage(ref, scanId, page);
    checkDataSize(key, ids);
    const expiresAt = Math.floor(this.#clock.now() / 1000) + this.#scanPageTtlSeconds;
    this.#set(key, { value: new Uint8Array(ids), expiresAt });
  }

  async getScanPages(ref: AccountRef, scanId: string, count: number): Promise<Uint8Array[]> {
    return this.#dataRange(count, (page) => keys.scanPage(ref, scanId, page));
  }

  async deleteScanPages(ref: AccountRef, scanId: string, count: number): Promise<void> {
    for (const page of range(count)) this.#delete(keys.scanPage(ref, scanId, page));
  }

  // ---- tasks ----------------------------------------------------------------------------------

  async createTask(ref: AccountRef, task: FollowTask): Promise<boolean> {
    const key = taskKey(ref, task.targetId);
    const item = taskItem(ref, task, 1);
    checkItemSize(key, item.value as string, 'PutItem', 'record');
    if (this.#get(key) !== undefined) return false;
    this.#set(key, item);
    return true;
  }

  async getTask(ref: AccountRef, targetId: string): Promise<StoredTask | undefined> {
    const item = this.#get(taskKey(ref, targetId));
    return item === undefined ? undefined : { task: parse<FollowTask>(item), version: item.version ?? 0 };
  }

  async putTask(ref: AccountRef, task: FollowTask, expectedVersion: number): Promise<number> {
    const key = taskKey(ref, task.targetId);
    const version = expectedVersion + 1;
    const item = taskItem(ref, task, version);
    checkItemSize(key, item.value as string, 'PutItem', 'record');
    if (this.#get(key)?.version !== expectedVersion) {
      throw new ConflictError(`task ${task.targetId} is no longer at version ${expectedVersion}`, {
        details: { targetId: task.targetId, expectedVersion },
      });
    }
    this.#set(key, item);
    return version;
  }

  async listActive(
    ref: AccountRef,
    options: { now: number; from: 'onTime' | 'late'; limit: number },
  ): Promise<StoredTask[]> {
    const bound = time(options.now);
    return this.#index('gsi1', queueKey(ref, 'active'), (sk) =>
      options.from === 'onTime' ? sk >= bound : sk < bound,
    ).slice(0, options.limit);
  }

  async listReleased(ref: AccountRef, options: { now: number; limit: number }): Promise<StoredTask[]> {
    const bound = time(options.now + 1);
    return this.#index('gsi2', releaseQueueKey(ref), (sk) => sk < bound).slice(0, options.limit);
  }

  async listAwaitingApproval(ref: AccountRef, options: { limit?: number } = {}): Promise<StoredTask[]> {
    const found = this.#index('gsi1', queueKey(ref, 'approval'), () => true);
    return options.limit === undefined ? found : found.slice(0, options.limit);
  }

  async listTasks(ref: AccountRef): Promise<StoredTask[]> {
    return this.#prefix(keys.accountPk(ref), 'TASK#').map(([, item]) => ({
      task: parse<FollowTask>(item),
      version: item.version ?? 0,
    }));
  }

  // ---- buckets --------------------------------------------------------------------------------

  async getBucket<S>(key: BucketKey): Promise<StoredBucket<S> | undefined> {
    const item = this.#get(bucketKey(key));
    return item === undefined ? undefined : { state: parse<S>(item), version: item.version ?? 0 };
  }

  async putBucket<S>(key: BucketKey, state: S, expectedVersion: number): Promise<number> {
    const itemKey = bucketKey(key);
    const current = this.#get(itemKey);
    const matches = expectedVersion === 0 ? current === undefined : current?.version === expectedVersion;
    if (!matches) {
      throw new ConflictError(
        `bucket ${itemKey.pk} / ${itemKey.sk} changed since version ${expectedVersion}`,
      );
    }
    this.#set(itemKey, { value: json(state), version: expectedVersion + 1 });
    return expectedVersion + 1;
  }

  // ---- TTL --------------------------------------------------------------------------------------

  /** Deletes the items whose TTL (`expiresAt`) has passed, as DynamoDB does some time after. */
  expire(nowMs = this.#clock.now()): number {
    let removed = 0;
    for (const items of this.#partitions.values()) {
      for (const [sk, item] of items) {
        if (item.expiresAt !== undefined && item.expiresAt * 1000 <= nowMs) {
          items.delete(sk);
          removed += 1;
        }
      }
    }
    return removed;
  }

  /** Removes one item by its key, as an operator's delete or an expired TTL would (tests). */
  deleteItem(key: ItemKey): void {
    this.#delete(key);
  }

  /** The TTL of an item (epoch seconds), for tests of the contract. */
  expiresAtOf(key: ItemKey): number | undefined {
    return this.#get(key)?.expiresAt;
  }

  // ---- internals ------------------------------------------------------------------------------

  #get(key: ItemKey): MemoryItem | undefined {
    return this.#partitions.get(key.pk)?.get(key.sk);
  }

  #set(key: ItemKey, item: MemoryItem): void {
    let items = this.#partitions.get(key.pk);
    if (!items) {
      items = new Map();
      this.#partitions.set(key.pk, items);
    }
    items.set(key.sk, item);
  }

  #delete(key: ItemKey): void {
    this.#partitions.get(key.pk)?.delete(key.sk);
  }

  #checkFence(key: ItemKey, fence: number): void {
    const current = this.#get(key);
    if (current?.fence !== undefined && current.fence > fence) {
      throw new ConflictError(`${describeKey(key)} was written under a newer lease than ${fence}`, {
        details: { ...key, fence },
      });
    }
  }

  /** Items of a partition whose sort key starts with `prefix`, in sort-key order. */
  #prefix(pk: string, prefix: string): [string, MemoryItem][] {
    const items = this.#partitions.get(pk);
    if (!items) return [];
    return [...items].filter(([sk]) => sk.startsWith(prefix)).sort(([a], [b]) => compare(a, b));
  }

  #dataRange(count: number, keyOf: (index: number) => ItemKey): Uint8Array[] {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new ValidationError(`count must be a non-negative integer, got ${count}`, {
        details: { field: 'count', value: count },
      });
    }
    return range(count).map((index) => {
      const key = keyOf(index);
      const item = this.#get(key);
      if (item === undefined) {
        throw new MissingItemError(`missing item ${describeKey(key)} (${index + 1} of ${count})`, {
          details: { ...key, index, count },
        });
      }
      return new Uint8Array(item.value as Uint8Array);
    });
  }

  #changesetGroups(
    ref: AccountRef,
    fromSeq: number,
    toSeq: number,
    forward: boolean,
  ): { seq: number; parts: MemoryItem[] }[] {
    const bySeq = new Map<number, MemoryItem[]>();
    for (const [, item] of this.#prefix(keys.accountPk(ref), 'CHG#')) {
      const part = partOf(item);
      if (part.seq < fromSeq || part.seq > toSeq) continue;
      const list = bySeq.get(part.seq) ?? [];
      list.push(item);
      bySeq.set(part.seq, list);
    }
    return [...bySeq.entries()]
      .sort(([a], [b]) => (forward ? a - b : b - a))
      .map(([seq, parts]) => ({ seq, parts }));
  }

  #index(index: 'gsi1' | 'gsi2', pk: string, accept: (sk: string) => boolean): StoredTask[] {
    const found: { sk: string; item: MemoryItem }[] = [];
    for (const items of this.#partitions.values()) {
      for (const item of items.values()) {
        const entry = item[index];
        if (entry?.pk === pk && accept(entry.sk)) found.push({ sk: entry.sk, item });
      }
    }
    found.sort((a, b) => compare(a.sk, b.sk));
    return found.map(({ item }) => ({ task: parse<FollowTask>(item), version: item.version ?? 0 }));
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

function parse<T>(item: MemoryItem): T {
  return JSON.parse(item.value as string) as T;
}

function withFence(item: MemoryItem, fence: number | undefined): MemoryItem {
  return fence === undefined ? item : { ...item, fence };
}

function taskKey(ref: AccountRef, targetId: string): ItemKey {
  return { pk: keys.accountPk(ref), sk: `TASK#${keyPart('targetId', targetId)}` };
}

function queueKey(ref: AccountRef, queue: 'active' | 'approval'): string {
  return `TASKQ#${keyPart('clientId', ref.clientId)}#${keyPart('accountId', ref.accountId)}#${queue}`;
}

function releaseQueueKey(ref: AccountRef): string {
  return `TASKR#${keyPart('clientId', ref.clientId)}#${keyPart('accountId', ref.accountId)}`;
}

function releaseTime(task: FollowTask): number {
  if (task.state === 'in_progress') return task.lease?.until ?? task.updatedAt;
  return Math.max(task.dueAt ?? task.detectedAt, task.retryAt ?? 0);
}

function time(ms: number): string {
  return String(Math.max(0, Math.floor(ms))).padStart(TIME_WIDTH, '0');
}

function taskItem(ref: AccountRef, task: FollowTask, version: number): MemoryItem {
  const item: MemoryItem = { value: json(task), version };
  if (task.state === 'pending_approval') {
    item.gsi1 = { pk: queueKey(ref, 'approval'), sk: `${time(task.detectedAt)}#${task.targetId}` };
  } else if (!isFinal(task.state)) {
    item.gsi1 = {
      pk: queueKey(ref, 'active'),
      sk: `${time(task.deadline ?? task.dueAt ?? task.detectedAt)}#${task.targetId}`,
    };
    item.gsi2 = { pk: releaseQueueKey(ref), sk: `${time(releaseTime(task))}#${task.targetId}` };
  }
  return item;
}

function bucketKey(key: BucketKey): ItemKey {
  const sk = `LIMIT#${keyPart('bucket', key.name)}`;
  return key.scope === 'app' ? { pk: 'APP', sk } : { pk: keys.accountPk(key.ref), sk };
}

/**
 * DynamoDB refuses an item over 400 KB (ValidationException); the adapter wraps it in a StoreError,
 * or, for a task (one follower's record), in the domain's RecordTooLargeError, as the task store does.
 */
function checkItemSize(
  key: ItemKey,
  value: string,
  operation: string,
  kind: 'item' | 'record' = 'item',
): void {
  // Attribute names and key values count too; ~200 bytes covers keys, version and index keys.
  const overhead = key.pk.length + key.sk.length + 200;
  // A UTF-16 unit is at most 3 UTF-8 bytes: most items are plainly small enough.
  if (value.length * 3 + overhead <= maxItemBytes) return;
  const bytes = Buffer.byteLength(value, 'utf8') + overhead;
  if (bytes > maxItemBytes) {
    const cause = Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
      name: 'ValidationException',
    });
    const details = { operation, what: key.sk, bytes };
    if (kind === 'record') {
      throw new RecordTooLargeError(`${operation} ${key.sk} refused: the item is too large`, {
        cause,
        details,
      });
    }
    throw new StoreError(`${operation} ${key.sk} failed`, { cause, details });
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

/** The part fields every changeset item carries. */
function partOf(item: MemoryItem): NonNullable<MemoryItem['part']> {
  return defined(item.part, 'the part fields of a changeset item');
}

function assemble(ref: AccountRef, seq: number, found: MemoryItem[]): Changeset {
  const byPart = new Map(found.map((item) => [partOf(item).part, item]));
  const head = byPart.get(0);
  if (head === undefined) {
    const key = keys.changesetPart(ref, seq, 0);
    throw new MissingItemError(`missing item ${describeKey(key)}: changeset ${seq} has parts but no part 0`, {
      details: { ...key, seq },
    });
  }
  const { parts, digest } = partOf(head);
  const chunks: Uint8Array[] = [];
  for (let index = 0; index < parts; index++) {
    const item = byPart.get(index);
    const key = keys.changesetPart(ref, seq, index);
    if (item !== undefined && partOf(item).digest !== digest) {
      throw new CorruptItemError(
        `corrupt item ${describeKey(key)}: belongs to another write of changeset ${seq}`,
        {
          details: { ...key, seq },
        },
      );
    }
    if (item === undefined) {
      throw new MissingItemError(
        `missing item ${describeKey(key)}: part ${index + 1} of ${parts} of changeset ${seq}`,
        { details: { ...key, seq, part: index, parts } },
      );
    }
    chunks.push(item.value as Uint8Array);
  }
  if (head.decoded === undefined) {
    const whole = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      whole.set(chunk, offset);
      offset += chunk.length;
    }
    head.decoded = decodeChangeset(whole);
  }
  return copyChangeset(head.decoded);
}

/** A copy no caller can alter the stored one through (strings are immutable, so shared). */
function copyChangeset(changeset: Changeset): Changeset {
  return {
    ...changeset,
    added: changeset.added.slice(),
    removed: changeset.removed.slice(),
    profiles: changeset.profiles.map((profile) => ({ ...profile })),
    ...(changeset.refollowed ? { refollowed: [...changeset.refollowed] } : {}),
  };
}

function missingChangeset(ref: AccountRef, seq: number, afterSeq: number, uptoSeq: number): MissingItemError {
  const key = keys.changesetPart(ref, seq, 0);
  return new MissingItemError(
    `missing item ${describeKey(key)}: changeset ${seq} of (${afterSeq}, ${uptoSeq}]`,
    { details: { ...key, seq, afterSeq, uptoSeq } },
  );
}

function range(count: number): number[] {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new ValidationError(`count must be a non-negative integer, got ${count}`, {
      details: { field: 'count', value: count },
    });
  }
  return Array.from({ length: count }, (_, index) => index);
}
