import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { nextTickAt } from '../../shared/app/tick.ts';
import { parseInput } from '../../shared/config/validate.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import type { Logger } from '../../shared/ports/logger.ts';
import type { AccountStateStore, RegistryStore } from '../../shared/ports/store.ts';
import { mapWithLimit } from '../lib/concurrency.ts';
import { sendInBatches } from '../lib/sqs-batch.ts';
import { accountWorkMessage, scheduledEventSchema } from '../lib/work-messages.ts';

export interface TickDispatchDeps {
  store: Pick<RegistryStore, 'listAccounts'> & Pick<AccountStateStore, 'getState'>;
  sqs: SQSClient;
  queueUrl: string;
  clock: Clock;
  logger: Logger;
  metrics?: Pick<Metrics, 'addMetric'> | undefined;
  tickMinutes: number;
  /** State reads in flight at once (default 16). */
  readConcurrency?: number;
}

export interface TickDispatchResult {
  /** The tick the messages belong to (ISO 8601). */
  tickAt: string;
  accounts: number;
  inactive: number;
  notDue: number;
  queued: number;
}

/**
 * One scheduled tick: list the registry's accounts, skip the inactive and those whose state says
 * nothing is due yet, and queue one message per due account. Message ids derive from the account
 * and the tick (the schedule's time rounded down to the tick), so a retried or duplicated delivery
 * of the same tick queues the same ids; the worker's lease and due check make a repeat harmless.
 */
export async function dispatchAccountTicks(
  event: unknown,
  deps: TickDispatchDeps,
): Promise<TickDispatchResult> {
  const scheduled = parseInput(scheduledEventSchema, event ?? {}, 'scheduled event');
  const now = deps.clock.now();
  const interval = deps.tickMinutes * 60_000;
  const scheduledAt = scheduled.scheduledTime === undefined ? now : Date.parse(scheduled.scheduledTime);
  const tickAt = Math.floor(scheduledAt / interval) * interval;

  const accounts = await deps.store.listAccounts();
  const active = accounts.filter((account) => account.status === 'active');
  const due = await mapWithLimit(active, deps.readConcurrency ?? 16, async (account) => {
    const current = await deps.store.getState(account);
    // The same test runAccountTick makes before it takes the lease (observe, reconcile or act due).
    return current === undefined || nextTickAt(current.state) <= now;
  });
  const messages = active
    .filter((_, index) => due[index])
    .map((account) => {
      const body = accountWorkMessage(account.clientId, account.accountId, tickAt);
      return { dedupeId: body.dedupeId, body };
    });
  const queued = await sendInBatches(deps.sqs, deps.queueUrl, messages);

  const result: TickDispatchResult = {
    tickAt: new Date(tickAt).toISOString(),
    accounts: accounts.length,
    inactive: accounts.length - active.length,
    notDue: active.length - messages.length,
    queued,
  };
  deps.logger.info('tick dispatched', { ...result });
  return result;
}
