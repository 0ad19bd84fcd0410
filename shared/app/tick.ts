import type { AccountRecord } from '../domain/account.ts';
import { nextObserveAt } from '../domain/observe-plan.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { Platform } from '../ports/platform.ts';
import type { AccountStateStore, GraphStore } from '../ports/store.ts';
import { acquireLease, releaseLease } from './lease.ts';
import { type ObserveReport, observe } from './observe/observe.ts';

export interface TickDeps {
  platform: Platform;
  store: AccountStateStore & GraphStore;
  clock: Clock;
  logger: Logger;
  newId: () => string;
}

export interface TickOptions {
  /** Who is running the tick (a Lambda request id, a local worker name). */
  worker: string;
  timeLeftMs: () => number;
  /** How long the lease holds if the worker dies without releasing it. */
  leaseMs?: number;
}

export type TickReport =
  | { ran: false; reason: 'inactive' | 'leased' | 'not_due'; heldBy?: string }
  | { ran: true; observe: ObserveReport };

/** One tick for one account: observe (later: reconcile and act), under the account's lease. */
export async function runAccountTick(
  account: AccountRecord,
  deps: TickDeps,
  options: TickOptions,
): Promise<TickReport> {
  if (account.status !== 'active') return { ran: false, reason: 'inactive' };
  const now = deps.clock.now();
  const current = await deps.store.getState(account);
  if (current && nextObserveAt(current.state.observe) > now) return { ran: false, reason: 'not_due' };
  const lease = await acquireLease(deps.store, account, options.worker, now, options.leaseMs ?? 5 * 60_000);
  if (!lease.acquired) {
    deps.logger.info('account is leased by another worker', {
      accountId: account.accountId,
      heldBy: lease.heldBy,
    });
    return { ran: false, reason: 'leased', heldBy: lease.heldBy };
  }
  const report = await observe(account, lease.cell, deps, { timeLeftMs: options.timeLeftMs });
  await releaseLease(lease.cell);
  return { ran: true, observe: report };
}
