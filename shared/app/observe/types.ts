import type { GraphKind } from '../../domain/account.ts';
import type { ReadCap } from '../../domain/account-state.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Platform } from '../../ports/platform.ts';
import type { GraphStore } from '../../ports/store.ts';

/** The observe use case's contract (shared/app/observe/observe.ts): what it takes and what it reports. */

export interface ObserveDeps {
  platform: Platform;
  store: GraphStore;
  clock: Clock;
  logger: Logger;
  /** Unique ids for scans; injectable so simulations are repeatable. */
  newId: () => string;
}

export interface ObserveOptions {
  /** Wall-clock milliseconds this invocation may still spend (a Lambda's remaining time, less a margin). */
  timeLeftMs: () => number;
  /** Scan the head now even if its turn has not come (e.g. a person asked). */
  forceHeadScan?: boolean;
}

export type StopReason = 'rate_limited' | 'budget' | 'deadline' | 'platform_error' | 'cursor_refused';

export interface ObserveReport {
  requests: number;
  /** Users the platform returned. */
  usersRead: number;
  /** Of those, users billed as far as observe can tell (X: once per app and UTC day). */
  usersBilled: number;
  newFollowers: string[];
  lostFollowers: string[];
  ownerFollowed: string[];
  ownerUnfollowed: string[];
  /** Changesets committed by this run. */
  committed: number[];
  headScan: 'done' | 'partial' | 'not_due' | 'skipped';
  fullScan?: { kind: GraphKind; state: 'started' | 'progressed' | 'finished'; pages: number } | undefined;
  stopped?:
    | { reason: StopReason; message: string; until?: number | undefined; cap?: ReadCap | undefined }
    | undefined;
}
