import { randomUUID } from 'node:crypto';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { EngineSettings } from '../../shared/app/engine/policy-of.ts';
import { type EngineStore, runAccountTick, type TickDeps, type TickReport } from '../../shared/app/tick.ts';
import { parseInput } from '../../shared/config/validate.ts';
import type { AccountRecord, AccountRef, AccountStatus } from '../../shared/domain/account.ts';
import { AuthError, ConfigError, ValidationError } from '../../shared/domain/errors.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import type { FollowerSampleStore } from '../../shared/ports/digest-store.ts';
import type { Logger } from '../../shared/ports/logger.ts';
import type { Platform } from '../../shared/ports/platform.ts';
import type { RegistryStore } from '../../shared/ports/store.ts';
import { VaultOpenError } from '../../shared/ports/vault.ts';
import { type AccountWorkMessage, accountWorkMessageSchema } from '../lib/work-messages.ts';

/** Sets an account's status only if the record still exists with the status it had (DynamoStore). */
export interface AccountStatusStore {
  setAccountStatus(ref: AccountRef, to: AccountStatus, options: { from: AccountStatus }): Promise<boolean>;
}

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
 * What became of one message:
 * - `done`: the tick ran, or had nothing to do (not due, leased by another worker, inactive).
 * - `dropped`: retrying cannot help (malformed message, account gone, credentials missing, refused —
 *   a refused token refresh included — or sealed for another tenant, a network without an adapter);
 *   logged with the reason and counted. Missing or refused credentials also mark the account
 *   `token_expired`. Nothing is lost: messages are derived from the table, and the next tick
 *   dispatches the account again if it is still due.
 * - `retry`: a failure that may pass (DynamoDB, KMS, the network, X's token endpoint, another
 *   worker holding the refresh lock too long): reported as a batch item failure, so SQS delivers it
 *   again after the visibility timeout, and after `maxReceiveCount` deliveries moves it to the
 *   dead-letter queue (which alarms).
 */
export type RecordOutcome = 'done' | 'dropped' | 'retry';

/**
 * The SQS-triggered account worker: every record of the batch side by side, each one account's tick
 * within the Lambda's remaining time, partial batch failures for the retryable ones.
 */
export async function processAccountBatch(
  event: SQSEvent,
  context: WorkerContext,
  deps: AccountWorkerDeps,
): Promise<SQSBatchResponse> {
  const outcomes = await Promise.all(event.Records.map((record) => processRecord(record, context, deps)));
  const failures = event.Records.filter((_, index) => outcomes[index] === 'retry').map((record) => ({
    itemIdentifier: record.messageId,
  }));
  deps.logger.info('batch processed', {
    records: event.Records.length,
    done: outcomes.filter((o) => o === 'done').length,
    dropped: outcomes.filter((o) => o === 'dropped').length,
    retry: failures.length,
  });
  return { batchItemFailures: failures };
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

  let account: AccountRecord | undefined;
  try {
    account = await deps.store.getAccount(ref);
    if (account === undefined) {
      logger.warn('account is no longer registered; dropping its work');
      return 'dropped';
    }
    if (account.status !== 'active') {
      logger.info('account is not active; nothing to do', { status: account.status });
      return 'done';
    }
    // Opens the credentials (refreshing them under the account's lock if they are about to expire)
    // before the tick takes its lease: a credential problem changes no state.
    const platform = await deps.platformFor(account, { logger });
    const remaining = () => context.getRemainingTimeInMillis() - deps.timeMarginMs;
    const report = await runAccountTick(
      account,
      {
        platform,
        store: deps.store,
        clock: deps.clock,
        logger,
        newId: deps.newId ?? randomUUID,
        engine: deps.engine,
        samples: deps.samples,
        unfollows: deps.unfollows,
      },
      {
        worker: `${context.awsRequestId}/${record.messageId}`,
        timeLeftMs: remaining,
        leaseMs: Math.max(5 * 60_000, context.getRemainingTimeInMillis() + 30_000),
      },
    );
    recordReport(report, logger, metric);
    if (report.ran && report.act.stopped?.reason === 'auth') {
      // Act met refused credentials (observe would have thrown AuthError): the same as below.
      return await markTokenExpired(account, logger, deps);
    }
    return 'done';
  } catch (error) {
    return classifyFailure(error, account, logger, deps);
  }
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

/**
 * The platform refused the credentials (or there are none, or X refused to refresh them): a person
 * must reconnect the account. Mark it so the dispatcher stops sending work and the digest can say
 * so, and drop this message. The mark is conditional on the record still being there and still
 * active: an `account remove` (which pauses, purges, then deletes) or a pause or reconnect that ran
 * meanwhile wins, and no removed account comes back.
 */
async function markTokenExpired(
  account: AccountRecord,
  logger: Logger,
  deps: AccountWorkerDeps,
): Promise<RecordOutcome> {
  let marked: boolean;
  try {
    marked = await deps.store.setAccountStatus(account, 'token_expired', { from: account.status });
  } catch (markError) {
    logger.error('could not mark the account token_expired; will retry', { error: markError });
    return 'retry';
  }
  if (marked) logger.warn('account marked token_expired; it must be reconnected');
  else logger.warn('account changed or was removed meanwhile; left as it is');
  return 'dropped';
}

async function classifyFailure(
  error: unknown,
  account: AccountRecord | undefined,
  logger: Logger,
  deps: AccountWorkerDeps,
): Promise<RecordOutcome> {
  if (error instanceof AuthError && account !== undefined) {
    logger.warn('credentials missing or refused; the account must be reconnected', {
      error: error.message,
      errorName: error.name,
    });
    return markTokenExpired(account, logger, deps);
  }
  if (error instanceof VaultOpenError) {
    // Sealed for another tenant, account or purpose, or altered: never retried, never used.
    logger.error('stored credentials do not open for this account; dropping its work', {
      error: error.message,
    });
    return 'dropped';
  }
  if (error instanceof ValidationError || error instanceof ConfigError) {
    logger.error('account work cannot be done as configured; dropping it', { error });
    return 'dropped';
  }
  logger.error('account tick failed; it will be retried', { error });
  return 'retry';
}
