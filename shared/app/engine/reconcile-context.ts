import type { AccountRecord } from '../../domain/account.ts';
import type { EnginePolicy, PromiseWindow } from '../../domain/engine/policy.ts';
import type { QuietCalendar } from '../../domain/engine/quiet-hours.ts';
import type { SkipReason } from '../../domain/engine/task.ts';
import { ConflictError } from '../../domain/errors.ts';
import type { IdCodec, IdList } from '../../domain/idset/index.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Platform, PlatformUser } from '../../ports/platform.ts';
import type { GraphStore } from '../../ports/store.ts';
import type { TaskStore } from '../../ports/tasks.ts';
import type { StateCell } from '../state-cell.ts';

export interface ReconcileDeps {
  platform: Platform;
  store: GraphStore;
  tasks: TaskStore;
  clock: Clock;
  logger: Logger;
}

export interface ReconcileReport {
  /** Tasks created, by what they became. */
  scheduled: number;
  awaitingApproval: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Open tasks closed because the follower left, the owner unfollowed or followed them by hand. */
  closed: number;
  /** Followers who already had a final task (a returning follower, say). */
  alreadyHandled: number;
}

/** What every step of one reconcile run shares: the account, its policy and state, the ports, the report. */
export interface ReconcileContext {
  account: AccountRecord;
  policy: EnginePolicy;
  cell: StateCell;
  deps: ReconcileDeps;
  report: ReconcileReport;
  log: Logger;
  /** The network's ids: numeric on X, strings (DIDs, Mastodon ids) on the open networks. */
  codec: IdCodec;
  window: PromiseWindow;
  quiet: QuietCalendar;
  /** The owner's following list as observed, once it has a baseline. */
  ownerFollowing?: IdList | undefined;
}

export function unknownProfile(id: string): PlatformUser {
  return { id, handle: '', name: '', bio: '', protected: false };
}

export function ignoreConflict(error: unknown): void {
  if (!(error instanceof ConflictError)) throw error;
}
