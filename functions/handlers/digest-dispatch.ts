import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AgencyInfo } from '../../shared/app/digest/build.ts';
import { dueDigests, rollupIsDue } from '../../shared/app/digest/dispatch.ts';
import { rollupScheduleOf } from '../../shared/app/digest/rollup.ts';
import { digestDue } from '../../shared/app/digest/schedule.ts';
import { parseInput } from '../../shared/config/validate.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import type { DigestRunStore } from '../../shared/ports/digest-store.ts';
import type { Logger } from '../../shared/ports/logger.ts';
import type { RegistryStore } from '../../shared/ports/store.ts';
import { type OutgoingMessage, sendInBatches } from '../lib/sqs-batch.ts';
import { digestWorkMessage, rollupWorkMessage, scheduledEventSchema } from '../lib/work-messages.ts';

export interface DigestDispatchDeps {
  store: Pick<RegistryStore, 'listClients'>;
  /** The run items: a period already sent (or given up on) is not queued again. */
  runs: DigestRunStore;
  /** The roll-up's recipients and schedule: the same as the worker's. */
  agency: AgencyInfo;
  sqs: SQSClient;
  queueUrl: string;
  clock: Clock;
  logger: Logger;
  metrics?: Pick<Metrics, 'addMetric'> | undefined;
  /** How long after its send time a missed digest is still sent (default 24 hours, as the worker). */
  catchUpMs?: number | undefined;
}

export interface DigestDispatchResult {
  /** The dispatch time (ISO 8601): the worker sends the period due at this instant. */
  at: string;
  digests: number;
  rollup: boolean;
  queued: number;
}

/**
 * The hourly digest tick: one message per client whose digest is due now and not sent for its
 * period (the clients' own weekday, hour and zone decide), and one for the roll-up when it is due.
 * The message ids derive from the client and the period (`digest/<clientId>/<periodKey>`,
 * `rollup/<periodKey>`), so a retried or repeated tick queues the same ids; the worker's run item
 * makes a repeat send nothing. A client whose send failed is queued again once its `retryAt` has
 * come, and one that is still being sent (a live claim) is queued too: the worker answers `busy`.
 */
export async function dispatchDigests(
  event: unknown,
  deps: DigestDispatchDeps,
): Promise<DigestDispatchResult> {
  const scheduled = parseInput(scheduledEventSchema, event ?? {}, 'scheduled event');
  const now = deps.clock.now();
  const due = await dueDigests(
    { store: deps.store, runs: deps.runs, logger: deps.logger, catchUpMs: deps.catchUpMs },
    now,
  );
  const messages: OutgoingMessage[] = due.map((entry) => {
    const body = digestWorkMessage(entry.clientId, entry.periodKey, now);
    return { dedupeId: body.dedupeId, body };
  });
  const rollupDeps = { agency: deps.agency, runs: deps.runs, catchUpMs: deps.catchUpMs };
  const rollup = await rollupIsDue(rollupDeps, now);
  if (rollup) {
    const period = digestDue(rollupScheduleOf(rollupDeps), now, deps.catchUpMs).period;
    const body = rollupWorkMessage(period.key, now);
    messages.push({ dedupeId: body.dedupeId, body });
  }
  const queued = await sendInBatches(deps.sqs, deps.queueUrl, messages);

  const result: DigestDispatchResult = {
    at: new Date(now).toISOString(),
    digests: due.length,
    rollup,
    queued,
  };
  deps.logger.info('digests dispatched', {
    ...result,
    scheduledTime: scheduled.scheduledTime,
    clients: due.map((entry) => `${entry.clientId}@${entry.periodKey}`).slice(0, 50),
  });
  return result;
}
