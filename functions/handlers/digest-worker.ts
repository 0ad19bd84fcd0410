import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { DeliveryResult } from '../../shared/app/digest/deliver.ts';
import type { RollupResult } from '../../shared/app/digest/rollup.ts';
import { sendDueRollup } from '../../shared/app/digest/rollup.ts';
import {
  type ClientDigestResult,
  type DigestSendDeps,
  sendClientDigest,
} from '../../shared/app/digest/send.ts';
import { parseInput } from '../../shared/config/validate.ts';
import type { ApprovalKeys } from '../../shared/domain/approval/token.ts';
import { ConfigError, ValidationError } from '../../shared/domain/errors.ts';
import type { Logger } from '../../shared/ports/logger.ts';
import { processSqsRecords, type RecordOutcome } from '../lib/partial-batch.ts';
import { type DigestWorkMessage, digestWorkMessageSchema } from '../lib/work-messages.ts';
import type { WorkerContext } from './account-worker.ts';

export interface DigestWorkerDeps extends Omit<DigestSendDeps, 'keys' | 'logger' | 'holder'> {
  /** The approval links' signing keys (read from Secrets Manager once per container). */
  keys: () => Promise<ApprovalKeys>;
  logger: Logger;
  metrics?: Pick<Metrics, 'addMetric'> | undefined;
}

/**
 * What became of one message:
 * - `done`: the digest was sent, or needs nothing from this message: already sent, another worker
 *   holds the claim (`busy`), the mailer refused it (the run says when to try again, and the next
 *   hourly dispatch queues it then), the send's outcome is unknown (not repeated: at-most-once),
 *   the client is gone, opted out or has no recipients, or the period is no longer due.
 * - `dropped`: retrying cannot help (a malformed message, a message that cannot be built: a bad
 *   address or setting); logged with the reason. The run item records a build that failed.
 * - `retry`: a failure that may pass (DynamoDB, the signing key's secret): a batch item failure.
 */
export type DigestRecordOutcome = RecordOutcome;

export async function processDigestBatch(
  event: SQSEvent,
  context: WorkerContext,
  deps: DigestWorkerDeps,
): Promise<SQSBatchResponse> {
  // One at a time: a digest reads a client's whole week, and the stack gives the worker one message
  // per invocation anyway.
  const { response, summary } = await processSqsRecords(
    event,
    (record) => processDigestRecord(record, context, deps),
    { parallel: false },
  );
  deps.logger.info('digest batch processed', { ...summary });
  return response;
}

export async function processDigestRecord(
  record: SQSRecord,
  context: WorkerContext,
  deps: DigestWorkerDeps,
): Promise<DigestRecordOutcome> {
  const metric = (name: string, value = 1) => deps.metrics?.addMetric(name, MetricUnit.Count, value);
  let message: DigestWorkMessage;
  try {
    message = parseMessage(record.body);
  } catch (error) {
    deps.logger.error('dropping malformed digest work message', {
      messageId: record.messageId,
      error: (error as Error).message,
    });
    // A digest that cannot be built: one metric for every digest that did not go out as it should.
    metric('DigestsFailed');
    return 'dropped';
  }
  const logger = deps.logger.child(
    message.kind === 'digest'
      ? { clientId: message.clientId, period: message.periodKey }
      : { rollup: message.periodKey },
  );
  logger.debug('digest work received', {
    messageId: record.messageId,
    dedupeId: message.dedupeId,
    receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
  });

  try {
    const keys = await deps.keys();
    const { keys: _keys, metrics: _metrics, ...rest } = deps;
    const send: DigestSendDeps = {
      ...rest,
      keys,
      logger,
      // Names this delivery on the run item's claim (who holds it, for people reading the table).
      holder: `${context.awsRequestId}/${record.messageId}`,
    };
    const at = Date.parse(message.at);
    if (message.kind === 'digest') {
      const result = await sendClientDigest(send, message.clientId, at);
      reportDigest(result, message, logger, metric);
    } else {
      const result = await sendDueRollup(send, at);
      reportRollup(result, message, logger, metric);
    }
    return 'done';
  } catch (error) {
    if (error instanceof ValidationError) {
      // The message cannot be built from these inputs; the run item says so and is not retried.
      logger.error('digest cannot be built as configured; dropping it', { error });
      metric('DigestsFailed');
      return 'dropped';
    }
    if (error instanceof ConfigError) {
      // Nothing was claimed (the keys or the client's schedule are wrong): the next hourly dispatch
      // queues it again, and sends it once the setting is fixed.
      logger.error('digest work cannot be done as configured; dropping it', { error });
      metric('DigestsFailed');
      return 'dropped';
    }
    logger.error('digest work failed; it will be retried', { error });
    return 'retry';
  }
}

function parseMessage(body: string): DigestWorkMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new ValidationError('invalid digest work message: body is not JSON', { cause });
  }
  return parseInput(digestWorkMessageSchema, json, 'digest work message');
}

function reportDigest(
  result: ClientDigestResult,
  message: DigestWorkMessage,
  logger: Logger,
  metric: (name: string, value?: number) => void,
): void {
  if (!('periodKey' in result)) {
    if (result.outcome === 'not_due') {
      logger.warn('digest no longer due for this message; nothing sent', {
        nextPeriod: result.nextPeriodKey,
      });
    } else {
      logger.info('no digest for this client', { outcome: result.outcome });
    }
    return;
  }
  if (result.periodKey !== message.periodKey) {
    logger.warn('digest period differs from the dispatched one', { sentPeriod: result.periodKey });
  }
  reportDelivery('digest', result, logger, metric);
}

function reportRollup(
  result: RollupResult,
  message: DigestWorkMessage,
  logger: Logger,
  metric: (name: string, value?: number) => void,
): void {
  if (!('periodKey' in result)) {
    logger.warn('roll-up not sent for this message', {
      outcome: result.outcome,
      ...('nextPeriodKey' in result ? { nextPeriod: result.nextPeriodKey } : {}),
    });
    return;
  }
  if (result.periodKey !== message.periodKey) {
    logger.warn('roll-up period differs from the dispatched one', { sentPeriod: result.periodKey });
  }
  reportDelivery('roll-up', result, logger, metric);
}

function reportDelivery(
  what: string,
  result: DeliveryResult,
  logger: Logger,
  metric: (name: string, value?: number) => void,
): void {
  switch (result.outcome) {
    case 'sent':
      logger.info(`${what} sent`, { attempts: result.attempts, recovered: result.recovered });
      return;
    case 'already_sent':
      logger.info(`${what} already sent; nothing to do`, { recovered: result.recovered });
      return;
    case 'busy':
      logger.info(`${what} is being sent by another worker`, { until: new Date(result.until).toISOString() });
      return;
    case 'uncertain':
      logger.error(`${what} send interrupted; not sent again (at-most-once)`);
      metric('DigestsFailed');
      return;
    case 'failed':
      logger.warn(`the mailer refused the ${what}`, {
        error: result.error,
        retryAt: result.retryAt === undefined ? undefined : new Date(result.retryAt).toISOString(),
        givenUp: result.retryAt === undefined,
      });
      metric('DigestsFailed');
      return;
  }
}
