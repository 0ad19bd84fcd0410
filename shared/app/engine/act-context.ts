import type { AccountRecord } from '../../domain/account.ts';
import type { EnginePolicy } from '../../domain/engine/policy.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Platform } from '../../ports/platform.ts';
import type { GraphStore } from '../../ports/store.ts';
import type { BucketStore, TaskStore } from '../../ports/tasks.ts';
import type { StateCell } from '../state-cell.ts';
import type { LoadedLimiter } from './limits.ts';
import type { StillFollows } from './still-follows.ts';

export interface ActDeps {
  platform: Platform;
  store: GraphStore;
  tasks: TaskStore & BucketStore;
  clock: Clock;
  logger: Logger;
}

export interface ActOptions {
  worker: string;
  timeLeftMs: () => number;
  appDailyCap: number | null;
  /** How long a claimed task stays leased while its follow call is in flight. */
  taskLeaseMs?: number | undefined;
  /** Tasks read per lane per tick: a tick can act on a few dozen at most. */
  readLimit?: number;
}

export interface ActReport {
  followed: number;
  requested: number;
  gone: number;
  alreadyFollowing: number;
  leftBeforeFollowBack: number;
  /** Tasks skipped because their target was put on the deny list after they were planned. */
  denied: number;
  /** Follows the target refused (X: neither a follow nor a request came of it). */
  refused: number;
  /**
   * Calls whose answer was lost and whose follow the network does not show now, long enough after
   * the call that the owner may have undone it: closed without calling again.
   */
  outcomeUnknown: number;
  retried: number;
  failed: number;
  /** Follow-backs made after their deadline. */
  late: number;
  /**
   * Open promises (of the tasks this tick read) that can no longer be kept under the caps: already
   * past their deadline, or queued behind more work than the capacity before it. Emitted as the
   * PromisesAtRisk metric, which alarms.
   */
  promisesAtRisk: number;
  stopped?:
    | { reason: 'rate_limited' | 'caps' | 'deadline' | 'auth' | 'blocked' | 'quiet'; until?: number }
    | undefined;
}

export function emptyActReport(): ActReport {
  return {
    followed: 0,
    requested: 0,
    gone: 0,
    alreadyFollowing: 0,
    leftBeforeFollowBack: 0,
    denied: 0,
    refused: 0,
    outcomeUnknown: 0,
    retried: 0,
    failed: 0,
    late: 0,
    promisesAtRisk: 0,
  };
}

/** What acting on one task needs, shared by every task of the tick. */
export interface AttemptContext {
  account: AccountRecord;
  policy: EnginePolicy;
  cell: StateCell;
  deps: ActDeps;
  options: ActOptions;
  limiters: LoadedLimiter[];
  random: () => number;
  report: ActReport;
  log: Logger;
  stillFollows: StillFollows;
  /** Users returned by each look at the owner's following list (billed reads on X). */
  looks: number[];
}

export type TaskResult = 'next' | NonNullable<ActReport['stopped']>;
