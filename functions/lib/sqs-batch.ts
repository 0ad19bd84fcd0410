import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type RetryPolicy, retryUntil } from '../../shared/adapters/retry.ts';
import { FollowbackError } from '../../shared/domain/errors.ts';

/** SendMessageBatch takes at most 10 entries. */
export const SQS_BATCH_SIZE = 10;

/** Some messages could not be queued even after retries; the dispatch fails and is retried whole. */
export class QueueSendError extends FollowbackError {
  override readonly name = 'QueueSendError';
}

export interface OutgoingMessage {
  /** Stable id of the work item (e.g. `<clientId>/<accountId>/<tickAt>`), sent as the `dedupeId` attribute. */
  dedupeId: string;
  body: unknown;
}

export interface SendBatchesOptions {
  /** SendMessageBatch calls per batch before giving up on its failed entries (default 4). */
  attempts?: number;
  /** First backoff, doubled per attempt (default 50 ms). */
  baseDelayMs?: number;
}

/**
 * Sends messages 10 per SendMessageBatch call, resending the entries SQS reports as failed (not the
 * ones it took) with backoff. An entry refused as the sender's fault is not retried. Returns how many
 * were sent; throws QueueSendError naming the work items that could not be queued.
 */
export async function sendInBatches(
  client: SQSClient,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
  options: SendBatchesOptions = {},
): Promise<number> {
  const attempts = options.attempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 50;
  const unsent: { dedupeId: string; reason: string }[] = [];
  let sent = 0;
  for (let offset = 0; offset < messages.length; offset += SQS_BATCH_SIZE) {
    const chunk = messages.slice(offset, offset + SQS_BATCH_SIZE);
    // Entry ids need only be unique within a call and may hold [A-Za-z0-9_-]: use the position.
    let pending = new Map<string, SendMessageBatchRequestEntry & { dedupeId: string }>(
      chunk.map((message, index) => [
        `m${index}`,
        {
          Id: `m${index}`,
          MessageBody: JSON.stringify(message.body),
          MessageAttributes: { dedupeId: { DataType: 'String', StringValue: message.dedupeId } },
          dedupeId: message.dedupeId,
        },
      ]),
    );
    // Waits doubling from the base, no cap, no jitter; whatever is still failing after the last
    // attempt is unsent, with the reason SQS gave for it then.
    const policy: RetryPolicy = { attempts, baseMs: baseDelayMs, capMs: Number.POSITIVE_INFINITY };
    await retryUntil(
      async (attempt) => {
        const entries = [...pending.values()].map(({ dedupeId: _dedupeId, ...entry }) => entry);
        const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        for (const ok of out.Successful ?? []) {
          if (ok.Id !== undefined && pending.delete(ok.Id)) sent += 1;
        }
        const failures = new Map((out.Failed ?? []).map((failed) => [failed.Id, failed]));
        const retry = new Map<string, SendMessageBatchRequestEntry & { dedupeId: string }>();
        // Whatever SQS did not report as taken is retried, whether it reported a failure or nothing.
        for (const [entryId, entry] of pending) {
          const failed = failures.get(entryId);
          const reason = failed
            ? `${failed.Code ?? 'unknown'}${failed.SenderFault ? ' (sender fault)' : ''}`
            : 'no result';
          if (failed?.SenderFault || attempt >= attempts) unsent.push({ dedupeId: entry.dedupeId, reason });
          else retry.set(entryId, entry);
        }
        pending = retry;
        return pending.size;
      },
      (left) => left === 0,
      policy,
    );
  }
  if (unsent.length > 0) {
    throw new QueueSendError(
      `${unsent.length} of ${messages.length} messages were not queued: ${unsent
        .slice(0, 5)
        .map((u) => `${u.dedupeId} (${u.reason})`)
        .join(', ')}${unsent.length > 5 ? ', …' : ''}`,
      { details: { unsent } },
    );
  }
  return sent;
}
