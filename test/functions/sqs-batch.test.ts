import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SendMessageBatchResult,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QueueSendError, sendInBatches } from '../../functions/lib/sqs-batch.ts';

const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/work';

let sqs: SQSClient;
let sqsMock: ReturnType<typeof mockClient>;
/** The dedupe ids of each SendMessageBatch call, in order. */
let calls: string[][];

function messages(...dedupeIds: string[]) {
  return dedupeIds.map((dedupeId) => ({ dedupeId, body: { dedupeId } }));
}

function dedupeIdOf(entry: SendMessageBatchRequestEntry): string {
  return entry.MessageAttributes?.dedupeId?.StringValue ?? '?';
}

/** SQS answering each call with `answer(dedupe id of the entry)` per entry: taken, refused or silent. */
function answering(answer: (dedupeId: string, call: number) => 'ok' | 'transient' | 'sender' | 'silent') {
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
    calls.push(input.Entries.map(dedupeIdOf));
    const successful: NonNullable<SendMessageBatchResult['Successful']> = [];
    const failed: NonNullable<SendMessageBatchResult['Failed']> = [];
    for (const entry of input.Entries) {
      const verdict = answer(dedupeIdOf(entry), calls.length);
      if (verdict === 'ok') successful.push({ Id: entry.Id, MessageId: 'm', MD5OfMessageBody: '' });
      if (verdict === 'transient') failed.push({ Id: entry.Id, Code: 'InternalError', SenderFault: false });
      if (verdict === 'sender')
        failed.push({ Id: entry.Id, Code: 'InvalidParameterValue', SenderFault: true });
    }
    return { Successful: successful, Failed: failed };
  });
}

beforeEach(() => {
  sqs = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  sqsMock = mockClient(sqs);
  calls = [];
});

afterEach(() => {
  sqsMock.restore();
});

describe('sendInBatches', () => {
  it('resends an entry SQS failed on its side but never one it refused as the sender’s fault', async () => {
    // Prepare: in one batch, one taken, one refused for good, one failed on SQS's side once
    answering((id, call) => {
      if (id === 'refused') return 'sender';
      if (id === 'flaky' && call === 1) return 'transient';
      return 'ok';
    });

    // Act
    const sending = sendInBatches(sqs, queueUrl, messages('taken', 'refused', 'flaky'), { baseDelayMs: 0 });

    // Assess: the flaky one is resent alone, the refused one only named
    await expect(sending).rejects.toThrow(
      /1 of 3 messages were not queued: refused \(InvalidParameterValue \(sender fault\)\)$/,
    );
    expect(calls).toEqual([['taken', 'refused', 'flaky'], ['flaky']]);
  });

  it('names every refused entry in the error’s details', async () => {
    // Prepare
    answering((id) => (id.startsWith('bad') ? 'sender' : 'ok'));

    // Act
    const error = await sendInBatches(sqs, queueUrl, messages('bad-1', 'good', 'bad-2')).catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(QueueSendError);
    expect(error.name).toBe('QueueSendError');
    expect(error.details.unsent).toEqual([
      { dedupeId: 'bad-1', reason: 'InvalidParameterValue (sender fault)' },
      { dedupeId: 'bad-2', reason: 'InvalidParameterValue (sender fault)' },
    ]);
  });

  it('sends ten entries per call', async () => {
    // Prepare
    answering(() => 'ok');
    const ids = Array.from({ length: 23 }, (_, index) => `w${index}`);

    // Act
    const sent = await sendInBatches(sqs, queueUrl, messages(...ids));

    // Assess
    expect(sent).toBe(23);
    expect(calls.map((call) => call.length)).toEqual([10, 10, 3]);
    expect(calls.flat()).toEqual(ids);
  });

  it('names the first five refused entries in the message and says there are more', async () => {
    // Prepare
    answering(() => 'sender');
    const ids = Array.from({ length: 7 }, (_, index) => `w${index}`);

    // Act
    const sending = sendInBatches(sqs, queueUrl, messages(...ids));

    // Assess
    await expect(sending).rejects.toThrow(
      /^7 of 7 messages were not queued: w0 \(InvalidParameterValue \(sender fault\)\), .*w4 \(InvalidParameterValue \(sender fault\)\), …$/,
    );
  });

  it('resends an entry SQS reported nothing about, and counts it sent once taken', async () => {
    // Prepare
    answering((id, call) => (id === 'lost' && call === 1 ? 'silent' : 'ok'));

    // Act
    const sent = await sendInBatches(sqs, queueUrl, messages('a', 'lost'), { baseDelayMs: 0 });

    // Assess
    expect(sent).toBe(2);
    expect(calls).toEqual([['a', 'lost'], ['lost']]);
  });

  it('gives up on an entry after the attempts it was given, naming why', async () => {
    // Prepare
    answering(() => 'transient');

    // Act
    const sending = sendInBatches(sqs, queueUrl, messages('a'), { attempts: 3, baseDelayMs: 0 });

    // Assess
    await expect(sending).rejects.toThrow('a (InternalError)');
    expect(calls).toHaveLength(3);
  });

  it('makes no empty call when the messages fill the last batch exactly', async () => {
    // Prepare
    answering(() => 'ok');
    const ids = Array.from({ length: 20 }, (_, index) => `w${index}`);

    // Act
    const sent = await sendInBatches(sqs, queueUrl, messages(...ids));

    // Assess
    expect(sent).toBe(20);
    expect(calls.map((call) => call.length)).toEqual([10, 10]);
  });

  it('names all of exactly five refused entries without saying there are more', async () => {
    // Prepare
    answering(() => 'sender');

    // Act
    const sending = sendInBatches(sqs, queueUrl, messages('w0', 'w1', 'w2', 'w3', 'w4'));

    // Assess
    await expect(sending).rejects.toThrow(/w4 \(InvalidParameterValue \(sender fault\)\)$/);
  });

  it('sends the dedupe id as a string attribute and the body as JSON', async () => {
    // Prepare
    let sentEntries: SendMessageBatchRequestEntry[] = [];
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      sentEntries = input.Entries;
      return {
        Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: 'm', MD5OfMessageBody: '' })),
      };
    });

    // Act
    await sendInBatches(sqs, queueUrl, [{ dedupeId: 'c1/a1/t', body: { accountId: 'a1' } }]);

    // Assess
    expect(sentEntries).toEqual([
      {
        Id: 'm0',
        MessageBody: '{"accountId":"a1"}',
        MessageAttributes: { dedupeId: { DataType: 'String', StringValue: 'c1/a1/t' } },
      },
    ]);
  });

  it('counts an entry once though SQS reports it taken twice', async () => {
    // Prepare
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      const taken = input.Entries.map((entry) => ({ Id: entry.Id, MessageId: 'm', MD5OfMessageBody: '' }));
      return { Successful: [...taken, ...taken] };
    });

    // Act
    const sent = await sendInBatches(sqs, queueUrl, messages('a', 'b'));

    // Assess
    expect(sent).toBe(2);
  });
});
