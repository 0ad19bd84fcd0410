import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DigestDispatchDeps, dispatchDigests } from '../../functions/handlers/digest-dispatch.ts';
import { withObservability } from '../../functions/lib/middleware.ts';
import { createObservability } from '../../functions/lib/observability.ts';
import { type DigestWorkMessage, digestWorkMessageSchema } from '../../functions/lib/work-messages.ts';
import { DynamoDigestStore } from '../../shared/adapters/dynamo/digest-store.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { silentLogger } from '../../shared/adapters/logger.ts';
import type { DigestRun } from '../../shared/ports/digest-store.ts';
import { SAMPLE_CLIENT_ID } from '../../shared/runtime/digest-sample.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { type DigestWorld, startDigestWorld, TEST_AGENCY } from '../support/digest.ts';
import {
  captureOutput,
  type DynamoCall,
  expectWithinGrants,
  jsonLines,
  lambdaContext,
  recordingDynamoClient,
} from './support.ts';

const HOUR = 3_600_000;
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/digest-work';
/** The sample's period (Monday 2 March 2026, in Berlin and in UTC alike). */
const PERIOD = '2026-03-02';

const db = useDynamoBackend(dynaliteBackend);
let world: DigestWorld;
let sqs: SQSClient;
let sqsMock: ReturnType<typeof mockClient>;
let sent: SendMessageBatchRequestEntry[][];
let calls: DynamoCall[];
let deps: DigestDispatchDeps;

beforeEach(async () => {
  world = await startDigestWorld(db);
  // The dispatcher's own stores on a client that records what it calls.
  const recording = recordingDynamoClient(db.endpoint);
  calls = recording.calls;
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
  deps = {
    store: new DynamoStore({ client: recording.client, tableName: world.tableName, clock: world.clock }),
    runs: new DynamoDigestStore({ client: recording.client, tableName: world.tableName }),
    agency: TEST_AGENCY,
    sqs,
    queueUrl,
    clock: world.clock,
    logger: silentLogger,
  };
});

afterEach(() => {
  sqsMock.restore();
});

function sentMessages(): DigestWorkMessage[] {
  return sent.flat().map((entry) => {
    const body = digestWorkMessageSchema.parse(JSON.parse(entry.MessageBody!));
    expect(entry.MessageAttributes?.dedupeId?.StringValue).toBe(body.dedupeId);
    return body;
  });
}

/** A second client whose digest goes out on Wednesdays, and one that unsubscribed. */
async function addOtherClients(): Promise<void> {
  const client = (await world.store.getClient(SAMPLE_CLIENT_ID))!;
  await world.store.putClient({ ...client, clientId: 'wednesday', name: 'Wednesday Ltd', digestWeekday: 3 });
  await world.store.putClient({ ...client, clientId: 'quiet', name: 'Quiet Ltd', digestOptOut: true });
}

function sentRun(at: number): DigestRun {
  return {
    state: 'sent',
    kind: 'digest',
    periodStart: at - 7 * 24 * HOUR,
    periodEnd: at,
    messageId: `digest.${SAMPLE_CLIENT_ID}.${PERIOD}@agency.example`,
    holder: 'earlier',
    leaseUntil: at,
    attempts: 1,
    claimedAt: at,
    sentAt: at,
    updatedAt: at,
  };
}

describe('digest dispatch', () => {
  it('queues one message per due client and one for the roll-up, with ids from client and period', async () => {
    // Prepare
    await addOtherClients();

    // Act
    const result = await dispatchDigests({ scheduledTime: '2026-03-09T08:00:00Z' }, deps);

    // Assess: the Monday client and the operator's roll-up; not the Wednesday one, not the opted-out one
    expect(result).toEqual({
      at: new Date(world.clock.now()).toISOString(),
      digests: 1,
      rollup: true,
      queued: 2,
    });
    expect(sentMessages()).toEqual([
      {
        v: 1,
        kind: 'digest',
        clientId: SAMPLE_CLIENT_ID,
        periodKey: PERIOD,
        at: new Date(world.clock.now()).toISOString(),
        dedupeId: `digest/${SAMPLE_CLIENT_ID}/${PERIOD}`,
      },
      {
        v: 1,
        kind: 'rollup',
        periodKey: PERIOD,
        at: new Date(world.clock.now()).toISOString(),
        dedupeId: `rollup/${PERIOD}`,
      },
    ]);
    expectWithinGrants(calls, 'digest-dispatch');
  });

  it('queues the same ids when the tick is repeated an hour later', async () => {
    // Act
    await dispatchDigests({}, deps);
    const first = sentMessages().map((m) => m.dedupeId);
    sent = [];
    world.clock.advance(HOUR);
    await dispatchDigests({}, deps);

    // Assess
    expect(sentMessages().map((m) => m.dedupeId)).toEqual(first);
  });

  it('queues nothing for a period already sent, nor when no send time has come', async () => {
    // Prepare: the sample's digest already sent; the roll-up's operator absent
    await world.digests.putRun(
      { scope: 'client', clientId: SAMPLE_CLIENT_ID, periodKey: PERIOD },
      sentRun(world.clock.now()),
      0,
    );
    const noOperator = { ...deps, agency: { ...TEST_AGENCY, operatorEmails: [] } };

    // Act
    const now = await dispatchDigests({}, noOperator);
    world.clock.advance(2 * 24 * HOUR);
    const later = await dispatchDigests({}, deps);

    // Assess
    expect(now).toMatchObject({ digests: 0, rollup: false, queued: 0 });
    expect(later).toMatchObject({ digests: 0, rollup: false, queued: 0 });
    expect(sent).toEqual([]);
  });

  it('runs as deployed: one log line with the counts, and no custom metric to pay for', async () => {
    // Prepare
    const observability = createObservability({ service: 'digest-dispatch', stage: 'test', level: 'info' });
    const handler = withObservability(observability, (event: unknown) =>
      dispatchDigests(event, { ...deps, logger: observability.logger, metrics: observability.metrics }),
    );

    // Act
    const { lines } = await captureOutput(() =>
      handler({ scheduledTime: '2026-03-09T08:00:00Z' }, lambdaContext('digest-dispatch')),
    );

    // Assess
    const logs = jsonLines(lines);
    expect(logs).toContainEqual(
      expect.objectContaining({
        message: 'digests dispatched',
        digests: 1,
        rollup: true,
        queued: 2,
        clients: [`${SAMPLE_CLIENT_ID}@${PERIOD}`],
      }),
    );
    // The counts are the log line's: no alarm watches them, and each custom metric costs money.
    expect(logs.filter((line) => '_aws' in line)).toEqual([]);
  });
});
