import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  AccountRecord,
  AccountRef,
  AccountStatus,
  ClientRecord,
  GraphKind,
} from '../../domain/account.ts';
import type { AccountState } from '../../domain/account-state.ts';
import type { FollowTask } from '../../domain/engine/task.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Changeset, RemovalMark, Store, VersionedState } from '../../ports/store.ts';
import type { BucketKey, BucketStore, StoredBucket, StoredTask, TaskStore } from '../../ports/tasks.ts';
import { systemClock } from '../clock.ts';
import { DynamoBucketStore } from './bucket-store.ts';
import { DynamoGraphStore } from './graph-store.ts';
import { DynamoRegistryStore } from './registry-store.ts';
import { DynamoAccountStateStore } from './state-store.ts';
import { TableAccess } from './table-access.ts';
import { DynamoTaskStore } from './task-store.ts';

export { removalMarkBytes } from './graph-store.ts';
export { maxItemDataBytes } from './table-access.ts';

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

/** The storage ports on one table, one store per port (each in its own file), over one TableAccess. */
export interface DynamoStores {
  registry: DynamoRegistryStore;
  state: DynamoAccountStateStore;
  graph: DynamoGraphStore;
  tasks: DynamoTaskStore;
  buckets: DynamoBucketStore;
}

export function createDynamoStores(options: DynamoStoreOptions): DynamoStores {
  const table = new TableAccess(options);
  const clock = options.clock ?? systemClock;
  return {
    registry: new DynamoRegistryStore(table),
    state: new DynamoAccountStateStore(table, clock),
    graph: new DynamoGraphStore(table, {
      clock,
      changesetTtlDays: options.changesetTtlDays,
      scanPageTtlDays: options.scanPageTtlDays,
    }),
    tasks: new DynamoTaskStore({ client: options.client, tableName: options.tableName }),
    buckets: new DynamoBucketStore({ client: options.client, tableName: options.tableName }),
  };
}

/**
 * The five storage ports (registry, account state, graph, tasks, limiter buckets) as one object,
 * for the use cases that take a Store with its TaskStore and BucketStore: every method hands over
 * to the store of its port (createDynamoStores). Only single-item conditional writes, gets, queries
 * and batch writes: dynalite has no transactions, and nothing here needs them.
 */
export class DynamoStore implements Store, TaskStore, BucketStore {
  readonly #registry: DynamoRegistryStore;
  readonly #state: DynamoAccountStateStore;
  readonly #graph: DynamoGraphStore;
  readonly #tasks: DynamoTaskStore;
  readonly #buckets: DynamoBucketStore;

  constructor(options: DynamoStoreOptions) {
    const stores = createDynamoStores(options);
    this.#registry = stores.registry;
    this.#state = stores.state;
    this.#graph = stores.graph;
    this.#tasks = stores.tasks;
    this.#buckets = stores.buckets;
  }

  // Registry (registry-store.ts)

  putClient(client: ClientRecord): Promise<void> {
    return this.#registry.putClient(client);
  }
  getClient(clientId: string): Promise<ClientRecord | undefined> {
    return this.#registry.getClient(clientId);
  }
  listClients(): Promise<ClientRecord[]> {
    return this.#registry.listClients();
  }
  deleteClient(clientId: string): Promise<void> {
    return this.#registry.deleteClient(clientId);
  }
  putAccount(account: AccountRecord): Promise<void> {
    return this.#registry.putAccount(account);
  }
  getAccount(ref: AccountRef): Promise<AccountRecord | undefined> {
    return this.#registry.getAccount(ref);
  }
  listAccounts(clientId?: string): Promise<AccountRecord[]> {
    return this.#registry.listAccounts(clientId);
  }
  /** See DynamoRegistryStore.setAccountStatus (not part of the port). */
  setAccountStatus(ref: AccountRef, to: AccountStatus, options: { from: AccountStatus }): Promise<boolean> {
    return this.#registry.setAccountStatus(ref, to, options);
  }
  deleteAccount(ref: AccountRef): Promise<void> {
    return this.#registry.deleteAccount(ref);
  }
  /** See DynamoRegistryStore.purgeAccountData (not part of the port). */
  purgeAccountData(ref: AccountRef): Promise<number> {
    return this.#registry.purgeAccountData(ref);
  }

  // Account state (state-store.ts)

  getState(ref: AccountRef): Promise<VersionedState | undefined> {
    return this.#state.getState(ref);
  }
  putState(ref: AccountRef, state: AccountState, expectedVersion: number): Promise<number> {
    return this.#state.putState(ref, state, expectedVersion);
  }

  // Graph: base chunks, changesets, removal marks, scan pages (graph-store.ts)

  putBaseChunks(
    ref: AccountRef,
    kind: GraphKind,
    seq: number,
    chunks: readonly Uint8Array[],
    fence?: number,
  ): Promise<void> {
    return this.#graph.putBaseChunks(ref, kind, seq, chunks, fence);
  }
  getBaseChunks(ref: AccountRef, kind: GraphKind, seq: number, count: number): Promise<Uint8Array[]> {
    return this.#graph.getBaseChunks(ref, kind, seq, count);
  }
  deleteBaseChunks(ref: AccountRef, kind: GraphKind, seq: number, count: number): Promise<void> {
    return this.#graph.deleteBaseChunks(ref, kind, seq, count);
  }
  putChangeset(ref: AccountRef, changeset: Changeset, fence?: number): Promise<void> {
    return this.#graph.putChangeset(ref, changeset, fence);
  }
  getChangesets(ref: AccountRef, afterSeq: number, uptoSeq: number): Promise<Changeset[]> {
    return this.#graph.getChangesets(ref, afterSeq, uptoSeq);
  }
  getChangesetsSince(ref: AccountRef, sinceMs: number, uptoSeq: number): Promise<Changeset[]> {
    return this.#graph.getChangesetsSince(ref, sinceMs, uptoSeq);
  }
  getRemovalMarks(
    ref: AccountRef,
    kind: GraphKind,
    sinceMs: number,
    uptoSeq: number,
  ): Promise<RemovalMark[]> {
    return this.#graph.getRemovalMarks(ref, kind, sinceMs, uptoSeq);
  }
  putScanPage(ref: AccountRef, scanId: string, page: number, ids: Uint8Array): Promise<void> {
    return this.#graph.putScanPage(ref, scanId, page, ids);
  }
  getScanPages(ref: AccountRef, scanId: string, count: number): Promise<Uint8Array[]> {
    return this.#graph.getScanPages(ref, scanId, count);
  }
  deleteScanPages(ref: AccountRef, scanId: string, count: number): Promise<void> {
    return this.#graph.deleteScanPages(ref, scanId, count);
  }

  // Tasks (task-store.ts) and limiter buckets (bucket-store.ts)

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
    return this.#buckets.getBucket<S>(key);
  }
  putBucket<S>(key: BucketKey, state: S, expectedVersion: number): Promise<number> {
    return this.#buckets.putBucket(key, state, expectedVersion);
  }
}
