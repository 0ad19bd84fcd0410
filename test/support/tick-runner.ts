import type { EngineSettings } from '../../shared/app/engine/policy-of.ts';
import { type EngineStore, runAccountTick, type TickReport } from '../../shared/app/tick.ts';
import type { AccountRecord } from '../../shared/domain/account.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import type { Logger } from '../../shared/ports/logger.ts';
import type { Platform } from '../../shared/ports/platform.ts';

export interface TickOptions {
  worker?: string;
  timeLeftMs?: () => number;
  leaseMs?: number;
}

/** One tick for the account as the scheduler would fire it, with repeatable scan ids (test harnesses). */
export function tickRunner(deps: {
  account: AccountRecord;
  platform: Platform;
  store: EngineStore;
  clock: Clock;
  logger: Logger;
  engine?: EngineSettings | undefined;
}): (options?: TickOptions) => Promise<TickReport> {
  let scans = 0;
  return (options = {}) =>
    runAccountTick(
      deps.account,
      {
        platform: deps.platform,
        store: deps.store,
        clock: deps.clock,
        logger: deps.logger,
        newId: () => `scan-${++scans}`,
        ...(deps.engine === undefined ? {} : { engine: deps.engine }),
      },
      {
        worker: options.worker ?? 'worker-1',
        timeLeftMs: options.timeLeftMs ?? (() => 60_000),
        ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
      },
    );
}
