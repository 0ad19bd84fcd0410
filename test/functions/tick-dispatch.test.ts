import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatchAccountTicks } from '../../functions/handlers/tick-dispatch.ts';
import { withObservability } from '../../functions/lib/middleware.ts';
import { createObservability } from '../../functions/lib/observability.ts';
import { accountWorkMessageSchema } from '../../functions/lib/work-messages.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { silentLogger } from '../../shared/adapters/logger.ts';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import type { AccountRecord, AccountStatus } from '../../shared/domain/account.ts';
import { emptyObserveState } from '../../shared/domain/account-state.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { captureOutput, jsonLines, lambdaContext } from './support.ts';

const NOW = Date.UTC(2026, 0, 5, 9, 7, 30);
const SCHEDULED = '2026-01-05T09:00:00Z';
const HOUR = 3_600_000;
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/account-work';

const db = useDynamoBackend(dynaliteBackend);
let store: DynamoStore;
let clock: VirtualClock;
let sqs: SQSClient;
let sqsMock: ReturnType<typeof mockClient>;
let sent: SendMessageBatchRequestEntry[][];

function account(clientId: string, accountId: string, status: AccountStatus = 'active'): AccountRecord {
  return {
    clientId,
    accountId,
    network: 'x',
    platformUserId: '1000',
    handle: accountId,
    status,
    observe: resolveObserveSettings('x', {}),
    createdAt: NOW - 30 * 24 * HOUR,
  };
}

/** An account whose state says nothing is due for another hour (observe, reconcile and act). */
async function putNotDue(record: AccountRecord): Promise<void> {
  await store.putAccount(record);
  const observe = { ...emptyObserveState(), nextHeadScanAt: NOW + HOUR, nextFullScanCheckAt: NOW + HOUR };
  await store.putState(record, { observe, engine: { reconciledSeq: 0, nextActAt: NOW + HOUR } }, 0);
}

function deps() {
  return { store, sqs, queueUrl, clock, logger: silentLogger, tickMinutes: 15 };
}

function sentBodies(): { dedupeId: string; clientId: string; accountId: string }[] {
  return sent.flat().map((entry) => {
    const body = accountWorkMessageSchema.parse(JSON.parse(entry.MessageBody!));
    expect(entry.MessageAttributes?.dedupeId?.StringValue).toBe(body.dedupeId);
    return body;
  });
}

beforeEach(async () => {
  store = new DynamoStore({ client: db.client, tableName: await createTestTable(db) });
  clock = new VirtualClock(NOW);
  sqs = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  sqsMock = mockClient(sqs);
  sent = [];
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
    sent.push(input.Entries);
    return {
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' })),
      Failed: [],
    };
  });
});

afterEach(() => {
  sqsMock.restore();
});

describe('tick dispatch', () => {
  it('queues one message per due account and skips the not-due and the inactive', async () => {
    // Prepare
    await store.putAccount(account('acme', 'x-new'));
    await putNotDue(account('acme', 'x-quiet'));
    await store.putAccount(account('beta', 'x-paused', 'paused'));
    const overdue = account('beta', 'x-overdue');
    await store.putAccount(overdue);
    await store.putState(
      overdue,
      {
        observe: { ...emptyObserveState(), nextHeadScanAt: NOW - HOUR },
        engine: { reconciledSeq: 0, nextActAt: 0 },
      },
      0,
    );

    // Act
    const result = await dispatchAccountTicks({ scheduledTime: SCHEDULED }, deps());

    // Assess
    expect(result).toEqual({
      tickAt: '2026-01-05T09:00:00.000Z',
      accounts: 4,
      inactive: 1,
      notDue: 1,
      queued: 2,
    });
    expect(
      sentBodies()
        .map((b) => b.dedupeId)
        .sort(),
    ).toEqual(['acme/x-new/2026-01-05T09:00:00.000Z', 'beta/x-overdue/2026-01-05T09:00:00.000Z']);
  });

  it('queues the same message ids when the same tick is delivered again, later', async () => {
    // Prepare
    await store.putAccount(account('acme', 'x-new'));
    await dispatchAccountTicks({ scheduledTime: SCHEDULED }, deps());
    const first = sentBodies().map((b) => b.dedupeId);
    sent = [];
    clock.advance(4 * 60_000);

    // Act: a retry of the same scheduled invocation, four minutes later.
    await dispatchAccountTicks({ scheduledTime: SCHEDULED }, deps());

    // Assess
    expect(sentBodies().map((b) => b.dedupeId)).toEqual(first);
  });

  it('sends ten messages per SendMessageBatch call', async () => {
    // Prepare
    for (let i = 0; i < 23; i++) await store.putAccount(account('acme', `x-${String(i).padStart(2, '0')}`));

    // Act
    const result = await dispatchAccountTicks({ scheduledTime: SCHEDULED }, deps());

    // Assess
    expect(result.queued).toBe(23);
    expect(sent.map((batch) => batch.length)).toEqual([10, 10, 3]);
    expect(new Set(sentBodies().map((b) => b.accountId)).size).toBe(23);
  });

  it('resends only the entries SQS reports as failed', async () => {
    // Prepare
    for (const id of ['x-a', 'x-b', 'x-c']) await store.putAccount(account('acme', id));
    let calls = 0;
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      sent.push(input.Entries);
      calls += 1;
      const [failing, ...rest] = input.Entries;
      if (calls === 1) {
        return {
          Successful: rest.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })),
          Failed: [{ Id: failing!.Id, Code: 'InternalError', SenderFault: false }],
        };
      }
      return {
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })),
        Failed: [],
      };
    });

    // Act
    const result = await dispatchAccountTicks({ scheduledTime: SCHEDULED }, deps());

    // Assess
    expect(result.queued).toBe(3);
    expect(sent.map((batch) => batch.length)).toEqual([3, 1]);
    expect(sent[1]![0]!.MessageBody).toBe(sent[0]![0]!.MessageBody);
  });

  it('fails the invocation, naming the work, when SQS refuses an entry as the sender’s fault, without resending it', async () => {
    // Prepare
    await store.putAccount(account('acme', 'x-a'));
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      sent.push(input.Entries);
      return { Successful: [], Failed: [{ Id: 'm0', Code: 'InvalidParameterValue', SenderFault: true }] };
    });

    // Act
    const dispatch = dispatchAccountTicks({ scheduledTime: SCHEDULED }, deps());

    // Assess: the same entry would be refused again, so it is sent once
    await expect(dispatch).rejects.toThrow(
      'acme/x-a/2026-01-05T09:00:00.000Z (InvalidParameterValue (sender fault))',
    );
    expect(sent).toHaveLength(1);
  });

  it('refuses a scheduled event whose time is not a time, naming the field', async () => {
    const dispatching = dispatchAccountTicks({ scheduledTime: 'soon' }, deps());

    await expect(dispatching).rejects.toBeInstanceOf(ValidationError);
    await expect(dispatching).rejects.toThrow('scheduledTime');
    expect(sent).toEqual([]);
  });

  it('logs the dispatch as JSON with the Lambda context through the middy handler', async () => {
    // Prepare
    await store.putAccount(account('acme', 'x-new'));
    const observability = createObservability({ service: 'tick-dispatch', stage: 'test', level: 'info' });
    const handler = withObservability(observability, (event: unknown) =>
      dispatchAccountTicks(event, {
        ...deps(),
        logger: observability.logger,
        metrics: observability.metrics,
      }),
    );

    // Act
    const { result, lines } = await captureOutput(() =>
      handler({ scheduledTime: SCHEDULED }, lambdaContext('tick-dispatch')),
    );

    // Assess
    expect(result.queued).toBe(1);
    const logs = jsonLines(lines);
    expect(logs).toContainEqual(
      expect.objectContaining({
        message: 'tick dispatched',
        service: 'tick-dispatch',
        function_name: 'tick-dispatch',
        stage: 'test',
        queued: 1,
      }),
    );
    // The log line says what was queued; no custom metric ($0.30 a month each), no empty-flush warning.
    expect(logs.filter((log) => '_aws' in log)).toEqual([]);
    expect(logs.filter((log) => log.level === 'WARN')).toEqual([]);
  });
});
