import { randomUUID } from 'node:crypto';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  type AccountStatusStore,
  type AccountWorkResult,
  workAccount,
} from '../../shared/app/account-work.ts';
import type { EngineSettings } from '../../shared/app/engine/policy-of.ts';
import type { EngineStore, TickDeps, TickReport } from '../../shared/app/tick.ts';
import { parseInput } from '../../shared/config/validate.ts';
import type { AccountRecord } from '../../shared/domain/account.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import type { FollowerSampleStore } from '../../shared/ports/digest-store.ts';
import type { Logger } from '../../shared/ports/logger.ts';
import type { Platform } from '../../shared/ports/platform.ts';
import type { RegistryStore } from '../../shared/ports/store.ts';
import { processSqsRecords, type RecordOutcome } from '../lib/partial-batch.ts';
import { type AccountWorkMessage, accountWorkMessageSchema } from '../lib/work-messages.ts';

export type { AccountStatusStore } from '../../shared/app/account-work.ts';
export type { RecordOutcome } from '../lib/partial-batch.ts';

export interface AccountWorkerDeps {
  store: RegistryStore & EngineStore & AccountStatusStore;
  /**
   * The account's platform for this message, its credentials opened (and refreshed if about to
   * expire) before it returns: shared/runtime/aws-platforms.ts `createPlatformFactory`.
   */
  platformFor: (account: AccountRecord, context: { logger: Logger }) => Promise<Platform>;
  clock: Clock;
  logger: Logger;
  metrics?: Pick<Metrics, 'addMetric'> | undefined;
  /** Held back from the Lambda's remaining time for committing and releasing the lease. */
  timeMarginMs: number;
  /** The deployment's app-wide caps. */
  engine?: EngineSettings | undefined;
  /** Where each tick records the day's follower count, for the digest's 12-week chart. */
  samples?: Pick<FollowerSampleStore, 'putFollowerSample'> | undefined;
  /** The owner's queued unfollows (Bluesky, Mastodon), carried out after act under the caps. */
  unfollows?: TickDeps['unfollows'];
  newId?: () => string;
}

/** The part of the Lambda context the worker uses. */
export interface WorkerContext {
  awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/**
 * The SQS-triggered account worker: every record of the batch side by side, each one account's work
 * (shared/app/account-work.ts: the tick, and the policy for what fails: which failures mark the
 * account `token_expired`, which are dropped, which retry) within the Lambda's remaining time. The
 * handler maps each outcome to the batch response: `retry` a batch item failure (SQS delivers it
 * again after the visibility timeout, and after `maxReceiveCount` deliveries moves it to the
 * dead-letter queue, which alarms); `done` and `dropped` (logged with the reason and counted) not.
 * Nothing dropped is lost: messages are derived from the table, and the next tick dispatches the
 * account again if it is still due.
 */
export async function processAccountBatch(
  event: SQSEvent,
  context: WorkerContext,
  deps: AccountWorkerDeps,
): Promise<SQSBatchResponse> {
  const { response, summary } = await processSqsRecords(
    event,
    (record) => processRecord(record, context, deps),
    { parallel: true },
  );
  deps.logger.info('batch processed', { ...summary });
  return response;
}

export async function processRecord(
  record: SQSRecord,
  context: WorkerContext,
  deps: AccountWorkerDeps,
): Promise<RecordOutcome> {
  const metric = (name: string, value = 1) => deps.metrics?.addMetric(name, MetricUnit.Count, value);
  let message: AccountWorkMessage;
  try {
    message = parseMessage(record.body);
  } catch (error) {
    deps.logger.error('dropping malformed account work message', {
      messageId: record.messageId,
      error: (error as Error).message,
    });
    metric('MalformedMessages');
    return 'dropped';
  }

  const ref = { clientId: message.clientId, accountId: message.accountId };
  const logger = deps.logger.child({ clientId: ref.clientId, accountId: ref.accountId });
  logger.debug('account work received', {
    messageId: record.messageId,
    dedupeId: message.dedupeId,
    receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
  });

  const { platformFor, metrics: _metrics, timeMarginMs, newId, ...rest } = deps;
  const result = await workAccount(
    ref,
    {
      ...rest,
      logger,
      newId: newId ?? randomUUID,
      // Opens the credentials (refreshing them under the account's lock if they are about to expire)
      // before the tick takes its lease: a credential problem changes no state.
      platformFor: (account) => platformFor(account, { logger }),
    },
    {
      worker: `${context.awsRequestId}/${record.messageId}`,
      timeLeftMs: () => context.getRemainingTimeInMillis() - timeMarginMs,
      leaseMs: Math.max(5 * 60_000, context.getRemainingTimeInMillis() + 30_000),
    },
  );
  recordResult(result, logger, metric);
  return result.outcome;
}

/** The work's figures as metrics (and the tick's summary as a log line). */
function recordResult(
  result: AccountWorkResult,
  logger: Logger,
  metric: (name: string, value?: number) => void,
): void {
  if (result.report !== undefined) recordReport(result.report, logger, metric);
  // Credential and tick failures are in the log lines (with their reasons), not metrics: each custom
  // metric costs $0.30 a month. Only what an alarm watches is a metric.
}

function parseMessage(body: string): AccountWorkMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new ValidationError('invalid account work message: body is not JSON', { cause });
  }
  return parseInput(accountWorkMessageSchema, json, 'account work message');
}

function recordReport(
  report: TickReport,
  logger: Logger,
  metric: (name: string, value?: number) => void,
): void {
  if (!report.ran) {
    logger.info('tick skipped', { reason: report.reason, heldBy: report.heldBy });
    return;
  }
  const { observe: observed, reconcile: reconciled, act: acted } = report;
  logger.info('tick ran', {
    requests: observed.requests,
    usersRead: observed.usersRead,
    newFollowers: observed.newFollowers.length,
    lostFollowers: observed.lostFollowers.length,
    headScan: observed.headScan,
    fullScan: observed.fullScan?.state,
    observeStopped: observed.stopped?.reason,
    reconcile: reconciled,
    act: acted,
  });
  // Counts of the tick (reads, new followers, follow-backs) are in the log line above, not metrics:
  // each custom metric costs $0.30 a month. Only what an alarm watches is a metric.
  const atRisk = promisesAtRisk(report);
  if (atRisk !== undefined) metric('PromisesAtRisk', atRisk);
}

/** Open promises the tick found it can no longer keep (act's late lane); undefined when the tick did not run. */
export function promisesAtRisk(report: TickReport): number | undefined {
  return report.ran ? report.act.promisesAtRisk : undefined;
}
