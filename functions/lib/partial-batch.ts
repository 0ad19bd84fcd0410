/**
 * SQS partial batch responses through Powertools' batch utility: each record's handler says what
 * became of its message, and only the `retry` ones become batch item failures (SQS delivers them
 * again after the visibility timeout, and moves them to the dead-letter queue after
 * `maxReceiveCount`). A batch whose every record is to be retried is answered the same way (every
 * record a failure), not by failing the invocation.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** `done`: handled; `dropped`: retrying cannot help (logged); `retry`: may pass, delivered again. */
export type RecordOutcome = 'done' | 'dropped' | 'retry';

export interface BatchSummary {
  records: number;
  done: number;
  dropped: number;
  retry: number;
}

/** What the record handler throws for a `retry`: the processor reports the record as failed. */
class RetryRecord extends Error {
  override readonly name = 'RetryRecord';
}

export async function processSqsRecords(
  event: SQSEvent,
  handle: (record: SQSRecord) => Promise<RecordOutcome>,
  options: { parallel: boolean },
): Promise<{ response: SQSBatchResponse; summary: BatchSummary }> {
  const summary: BatchSummary = { records: event.Records.length, done: 0, dropped: 0, retry: 0 };
  const response = await processPartialResponse(
    event,
    async (record: SQSRecord) => {
      let outcome: RecordOutcome;
      try {
        outcome = await handle(record);
      } catch (error) {
        // A handler that throws is a failure that may pass, as with the answer `retry`.
        summary.retry += 1;
        throw error;
      }
      summary[outcome] += 1;
      if (outcome === 'retry') throw new RetryRecord(`message ${record.messageId} is to be retried`);
    },
    // One processor per batch: it holds the batch's records and failures.
    new BatchProcessor(EventType.SQS),
    { processInParallel: options.parallel, throwOnFullBatchFailure: false },
  );
  return { response: { batchItemFailures: response.batchItemFailures }, summary };
}
