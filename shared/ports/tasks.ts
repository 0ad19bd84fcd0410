import type { AccountRef } from '../domain/account.ts';
import type { FollowTask } from '../domain/engine/task.ts';

export interface StoredTask {
  task: FollowTask;
  /** Version of the task item; every write is conditional on the version it read. */
  version: number;
}

/** The queues the engine reads in order; a final task is in none. */
export type TaskQueue = 'approval' | 'active';

/**
 * Follow tasks, one item per (account, target): the item is also the memory of what happened to
 * that target, so a second task for the same person can never be created by accident.
 */
export interface TaskStore {
  /** Creates the task if none exists for its target; false (and nothing written) when one does. */
  createTask(ref: AccountRef, task: FollowTask): Promise<boolean>;
  getTask(ref: AccountRef, targetId: string): Promise<StoredTask | undefined>;
  /** Writes if the stored version still equals `expectedVersion`; ConflictError otherwise. Returns the new version. */
  putTask(ref: AccountRef, task: FollowTask, expectedVersion: number): Promise<number>;
  /**
   * Active tasks (scheduled, in progress) by deadline: `from: 'onTime'` those whose deadline is at or
   * after `now`, earliest first; `from: 'late'` those past it, earliest first.
   */
  listActive(
    ref: AccountRef,
    options: { now: number; from: 'onTime' | 'late'; limit: number },
  ): Promise<StoredTask[]>;
  /** Active tasks that may be acted on at `now` (due, backoff over, or lease expired), released first. */
  listReleased(ref: AccountRef, options: { now: number; limit: number }): Promise<StoredTask[]>;
  /** Tasks awaiting approval, oldest first. */
  listAwaitingApproval(ref: AccountRef, options?: { limit?: number }): Promise<StoredTask[]>;
  /** Every task of the account (status, digest, forecast). */
  listTasks(ref: AccountRef): Promise<StoredTask[]>;
}

/** A rate-limit bucket as stored: the limiter's state plus a version for conditional updates. */
export interface StoredBucket<S> {
  state: S;
  version: number;
}

/** Limiter buckets, one item each: per (account, action) and per app-wide cap. */
export interface BucketStore {
  getBucket<S>(key: BucketKey): Promise<StoredBucket<S> | undefined>;
  /** Conditional on `expectedVersion` (0: must not exist); ConflictError when another writer won. */
  putBucket<S>(key: BucketKey, state: S, expectedVersion: number): Promise<number>;
}

export type BucketKey = { scope: 'account'; ref: AccountRef; name: string } | { scope: 'app'; name: string };
