import type { AccountRecord, AccountRef, ClientRecord, GraphKind } from '../domain/account.ts';
import type { AccountState } from '../domain/account-state.ts';
import type { PlatformUser } from './platform.ts';

/**
 * Storage ports. One DynamoDB table backs them all (shared/adapters/dynamo), but the use cases see
 * narrow interfaces so each takes only what it touches. Every change that must happen once is a
 * single-item conditional write; a lost race is a ConflictError.
 */

/** Clients (tenants) and their accounts. */
export interface RegistryStore {
  putClient(client: ClientRecord): Promise<void>;
  getClient(clientId: string): Promise<ClientRecord | undefined>;
  listClients(): Promise<ClientRecord[]>;
  /** Removes the client record only; callers remove its accounts first. */
  deleteClient(clientId: string): Promise<void>;
  putAccount(account: AccountRecord): Promise<void>;
  getAccount(ref: AccountRef): Promise<AccountRecord | undefined>;
  /** All accounts, or those of one client. */
  listAccounts(clientId?: string): Promise<AccountRecord[]>;
  deleteAccount(ref: AccountRef): Promise<void>;
}

export interface VersionedState {
  state: AccountState;
  /** Monotonic version of the state item; 0 means it does not exist yet. */
  version: number;
}

/** The per-account run state, written with optimistic concurrency. */
export interface AccountStateStore {
  getState(ref: AccountRef): Promise<VersionedState | undefined>;
  /**
   * Writes the state if its stored version still equals `expectedVersion` (0: must not exist yet).
   * Returns the new version. Throws ConflictError when another writer got there first.
   */
  putState(ref: AccountRef, state: AccountState, expectedVersion: number): Promise<number>;
}

/**
 * What changed in one list between two observations. Committed changesets are numbered by a
 * per-account sequence (`seq`); a list's snapshot is its base plus the changesets after it.
 */
export interface Changeset {
  seq: number;
  /** When it was observed, epoch ms. */
  at: number;
  kind: GraphKind;
  /**
   * head: new followers from a head scan; feed: new followers from the network's notifications;
   * full: a full-scan diff; baseline: the first full scan.
   */
  source: 'head' | 'full' | 'baseline' | 'feed';
  /** Sorted ids, encoded with the idset codec. */
  added: Uint8Array;
  removed: Uint8Array;
  addedCount: number;
  removedCount: number;
  /** Profiles of the added users, when the scan returned them (for the policy and the digest). */
  profiles: PlatformUser[];
  /**
   * Followers already in the snapshot who followed again (they left unnoticed between full scans):
   * new followers for the engine, no change to the snapshot.
   */
  refollowed?: string[] | undefined;
}

/**
 * The ids one changeset removed from a list, kept beside the changeset (without its profiles) so
 * that "does X still follow?" is answered without replaying the changesets.
 */
export interface RemovalMark {
  seq: number;
  /** When the changeset was observed, epoch ms. */
  at: number;
  /** Encoded removed ids; undefined when too many to keep beside (read the changeset itself). */
  removed: Uint8Array | undefined;
}

/** Snapshots (base chunks), changesets and the pages of a full scan in progress. */
export interface GraphStore {
  /**
   * `fence` is the writer's lease epoch: an item written under a higher epoch is never overwritten
   * (ConflictError), so a worker whose lease expired cannot clobber its successor's writes.
   */
  putBaseChunks(
    ref: AccountRef,
    kind: GraphKind,
    seq: number,
    chunks: readonly Uint8Array[],
    fence?: number,
  ): Promise<void>;
  getBaseChunks(ref: AccountRef, kind: GraphKind, seq: number, count: number): Promise<Uint8Array[]>;
  deleteBaseChunks(ref: AccountRef, kind: GraphKind, seq: number, count: number): Promise<void>;
  /** Idempotent: writing the same seq again replaces it (a retry after a crash before commit). */
  putChangeset(ref: AccountRef, changeset: Changeset, fence?: number): Promise<void>;
  /** Changesets with afterSeq < seq <= uptoSeq, in seq order. */
  getChangesets(ref: AccountRef, afterSeq: number, uptoSeq: number): Promise<Changeset[]>;
  /** Changesets observed at or after `sinceMs` up to `uptoSeq`, newest first. */
  getChangesetsSince(ref: AccountRef, sinceMs: number, uptoSeq: number): Promise<Changeset[]>;
  /**
   * The removal marks of a list's changesets observed at or after `sinceMs`, up to `uptoSeq`, in seq
   * order (one small item per changeset that removed anyone; `putChangeset` writes it).
   */
  getRemovalMarks(ref: AccountRef, kind: GraphKind, sinceMs: number, uptoSeq: number): Promise<RemovalMark[]>;
  /** One page of a full scan in progress (encoded ids). */
  putScanPage(ref: AccountRef, scanId: string, page: number, ids: Uint8Array): Promise<void>;
  getScanPages(ref: AccountRef, scanId: string, count: number): Promise<Uint8Array[]>;
  deleteScanPages(ref: AccountRef, scanId: string, count: number): Promise<void>;
}

export type Store = RegistryStore & AccountStateStore & GraphStore;
