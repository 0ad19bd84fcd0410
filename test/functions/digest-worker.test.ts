import { randomBytes } from 'node:crypto';
import { SESv2Client, SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatchDigests } from '../../functions/handlers/digest-dispatch.ts';
import { type DigestWorkerDeps, processDigestBatch } from '../../functions/handlers/digest-worker.ts';
import { withObservability } from '../../functions/lib/middleware.ts';
import { createObservability } from '../../functions/lib/observability.ts';
import { cachedSecret } from '../../functions/lib/secrets.ts';
import {
  type DigestWorkMessage,
  digestWorkMessage,
  rollupWorkMessage,
} from '../../functions/lib/work-messages.ts';
import { DynamoDigestStore } from '../../shared/adapters/dynamo/digest-store.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { silentLogger } from '../../shared/adapters/logger.ts';
import { mimeComposer } from '../../shared/adapters/mime/mime-composer.ts';
import { SesMailer } from '../../shared/adapters/ses/ses-mailer.ts';
import { parseApprovalKeys } from '../../shared/app/approval/keys.ts';
import { verifyApprovalToken } from '../../shared/domain/approval/token.ts';
import { SAMPLE_CLIENT_ID } from '../../shared/runtime/digest-sample.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { BASE_URL, type DigestWorld, startDigestWorld, TEST_AGENCY } from '../support/digest.ts';
import {
  captureOutput,
  type DynamoCall,
  expectWithinGrants,
  jsonLines,
  lambdaContext,
  recordingDynamoClient,
  sqsRecord,
} from './support.ts';

const PERIOD = '2026-03-02';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:approval-AbC123';
/** The signing key as the Secrets Manager secret holds it (`APPROVAL_SIGNING_KEY` format). */
const SIGNING_KEY = randomBytes(32).toString('base64');

const db = useDynamoBackend(dynaliteBackend);
let world: DigestWorld;
let ses: SESv2Client;
let sesMock: ReturnType<typeof mockClient>;
let mails: SendEmailCommandInput[];
/** SES as the mock plays it: takes every message. */
const takeMail = (input: SendEmailCommandInput) => {
  mails.push(input);
  return { MessageId: `ses-${mails.length}` };
};
let calls: DynamoCall[];
let secretReads: number;
let messages: number;

beforeEach(async () => {
  world = await startDigestWorld(db);
  ses = new SESv2Client({ region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  sesMock = mockClient(ses);
  mails = [];
  sesMock.on(SendEmailCommand).callsFake(takeMail);
  calls = [];
  secretReads = 0;
  messages = 0;
});

afterEach(() => {
  sesMock.restore();
});

/** The worker's deps as the entry builds them, on a recording DynamoDB client and the mocked SES. */
function workerDeps(overrides: Partial<DigestWorkerDeps> = {}): DigestWorkerDeps {
  const recording = recordingDynamoClient(db.endpoint);
  calls = recording.calls;
  const digests = new DynamoDigestStore({ client: recording.client, tableName: world.tableName });
  return {
    store: new DynamoStore({ client: recording.client, tableName: world.tableName, clock: world.clock }),
    samples: digests,
    runs: digests,
    composer: mimeComposer,
    mailer: new SesMailer({ client: ses, configurationSetName: 'followback-test' }),
    clock: world.clock,
    agency: TEST_AGENCY,
    keys: cachedSecret(
      async (secretId) => {
        secretReads += 1;
        expect(secretId).toBe(SECRET_ARN);
        return SIGNING_KEY;
      },
      SECRET_ARN,
      (value) => parseApprovalKeys(value, 'approval signing key secret'),
    ),
    baseUrl: BASE_URL,
    logger: silentLogger,
    ...overrides,
  };
}

function record(body: unknown): SQSRecord {
  messages += 1;
  return sqsRecord(`digest-msg-${messages}`, body, 'digest-work');
}

const digestFor = (clientId = SAMPLE_CLIENT_ID) => digestWorkMessage(clientId, PERIOD, world.clock.now());

/** The handler as deployed (middy, Powertools logger and metrics). */
async function invoke(records: SQSRecord[], deps: DigestWorkerDeps = workerDeps()) {
  const observability = createObservability({ service: 'digest-worker', stage: 'test', level: 'debug' });
  const handler = withObservability(observability, (event: SQSEvent, context) =>
    processDigestBatch(event, context, {
      ...deps,
      logger: observability.logger,
      metrics: observability.metrics,
    }),
  );
  return captureOutput(() => handler({ Records: records }, lambdaContext('digest-worker', 300_000)));
}

async function runOf(clientId = SAMPLE_CLIENT_ID) {
  return (await world.digests.getRun({ scope: 'client', clientId, periodKey: PERIOD }))?.run;
}

describe('digest worker', () => {
  it("sends a due client's digest through SES once, with links signed by the secret's key", async () => {
    // Act
    const { result, lines } = await invoke([record(digestFor())]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({
      FromEmailAddress: TEST_AGENCY.senderAddress,
      Destination: { ToAddresses: ['owner@sunrise-bakery.example'] },
      ConfigurationSetName: 'followback-test',
    });
    expect(await runOf()).toMatchObject({ state: 'sent', providerId: 'ses-1', attempts: 1 });
    const mail = await simpleParser(Buffer.from(mails[0]!.Content!.Raw!.Data!));
    const link = /https:\/\/approve\.agency\.example\/approve\/sunrise\?t=[^"&\s]+/.exec(
      String(mail.html),
    )?.[0];
    const token = new URL(link ?? 'https://invalid/').searchParams.get('t');
    const keys = parseApprovalKeys(SIGNING_KEY);
    expect(verifyApprovalToken(token, keys, world.clock.now(), { clientId: SAMPLE_CLIENT_ID }).ok).toBe(true);
    expect(jsonLines(lines)).toContainEqual(
      expect.objectContaining({ message: 'digest sent', clientId: SAMPLE_CLIENT_ID, period: PERIOD }),
    );
    // A digest sent is a log line, not a custom metric (only failures are: the alarm watches them).
    expect(jsonLines(lines).filter((log) => '_aws' in log)).toEqual([]);
    expectWithinGrants(calls, 'digest-worker');
  });

  it('sends one mail for a message delivered twice, in one batch or in two invocations', async () => {
    // Prepare
    const message = digestFor();
    const deps = workerDeps();

    // Act
    const first = await invoke([record(message), record(message)], deps);
    const again = await invoke([record(message)], deps);

    // Assess
    expect(first.result).toEqual({ batchItemFailures: [] });
    expect(again.result).toEqual({ batchItemFailures: [] });
    expect(mails).toHaveLength(1);
    expect(jsonLines([...first.lines, ...again.lines]).map((log) => log.message)).toEqual(
      expect.arrayContaining(['digest sent', 'digest already sent; nothing to do']),
    );
    expect(secretReads).toBe(1);
  });

  it('drops a malformed message without retrying it, naming the field in the log', async () => {
    // Prepare
    const { clientId: _clientId, ...noClient } = digestFor() as Extract<
      DigestWorkMessage,
      { kind: 'digest' }
    >;
    const missing = record(noClient);
    const badPeriod = record({ ...digestFor(), periodKey: 'last week' });
    const notJson = record('{"v":1,');

    // Act
    const { result, lines } = await invoke([missing, badPeriod, notJson]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(mails).toEqual([]);
    const dropped = jsonLines(lines).filter(
      (log) => log.message === 'dropping malformed digest work message',
    );
    expect(dropped).toEqual([
      expect.objectContaining({ messageId: missing.messageId, error: expect.stringContaining('clientId') }),
      expect.objectContaining({
        messageId: badPeriod.messageId,
        error: expect.stringContaining('periodKey'),
      }),
      expect.objectContaining({ messageId: notJson.messageId, error: expect.stringContaining('not JSON') }),
    ]);
    expect(await runOf()).toBeUndefined();
  });

  it('leaves a send SES refused as failed with a retry time, and the next hourly dispatch queues it again', async () => {
    // Prepare
    sesMock
      .on(SendEmailCommand)
      .rejectsOnce(
        Object.assign(new Error('Maximum sending rate exceeded'), {
          name: 'TooManyRequestsException',
          $metadata: { httpStatusCode: 429 },
        }),
      )
      .callsFake(takeMail);
    const sqs = new SQSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    const sqsMock = mockClient(sqs);
    const queued: SendMessageBatchRequestEntry[] = [];
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      queued.push(...input.Entries);
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })) };
    });
    const dispatch = () =>
      dispatchDigests(
        {},
        {
          store: world.store,
          runs: world.digests,
          agency: { ...TEST_AGENCY, operatorEmails: [] },
          sqs,
          queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/digest-work',
          clock: world.clock,
          logger: silentLogger,
        },
      );

    try {
      // Act
      const refused = await invoke([record(digestFor())]);
      const soon = await dispatch();
      world.clock.advance(60 * 60_000);
      const nextHour = await dispatch();
      const retried = await invoke([record(JSON.parse(queued[0]!.MessageBody!))]);

      // Assess: not a batch failure (the run says when), queued again once its time came, then sent
      expect(refused.result).toEqual({ batchItemFailures: [] });
      expect(jsonLines(refused.lines)).toContainEqual(
        expect.objectContaining({ message: 'the mailer refused the digest', givenUp: false }),
      );
      expect(soon.digests).toBe(0);
      expect(nextHour.digests).toBe(1);
      expect(retried.result).toEqual({ batchItemFailures: [] });
      expect(mails).toHaveLength(1);
      expect(await runOf()).toMatchObject({ state: 'sent', attempts: 2 });
    } finally {
      sqsMock.restore();
    }
  });

  it('reports the message as a batch item failure when the signing key cannot be read, and sends nothing', async () => {
    // Prepare
    const deps = workerDeps({
      keys: cachedSecret(
        async () => {
          throw Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
        },
        SECRET_ARN,
        parseApprovalKeys,
      ),
    });
    const message = record(digestFor());

    // Act
    const { result, lines } = await invoke([message], deps);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: message.messageId }] });
    expect(mails).toEqual([]);
    expect(await runOf()).toBeUndefined();
    expect(jsonLines(lines)).toContainEqual(
      expect.objectContaining({
        message: 'digest work failed; it will be retried',
        error: expect.objectContaining({ name: 'SecretUnavailableError' }),
      }),
    );
  });

  it("sends the operator's roll-up once for its message", async () => {
    // Prepare
    const message = rollupWorkMessage(PERIOD, world.clock.now());

    // Act
    const first = await invoke([record(message)]);
    const again = await invoke([record(message)]);

    // Assess
    expect(first.result).toEqual({ batchItemFailures: [] });
    expect(again.result).toEqual({ batchItemFailures: [] });
    expect(mails).toHaveLength(1);
    expect(mails[0]?.Destination?.ToAddresses).toEqual(TEST_AGENCY.operatorEmails);
    expect((await world.digests.getRun({ scope: 'agency', periodKey: PERIOD }))?.run.state).toBe('sent');
    expectWithinGrants(calls, 'digest-worker');
  });

  it('sends nothing for a client that is gone or unsubscribed, and does not retry', async () => {
    // Prepare
    const client = (await world.store.getClient(SAMPLE_CLIENT_ID))!;
    await world.store.putClient({ ...client, digestOptOut: true });

    // Act
    const { result, lines } = await invoke([record(digestFor()), record(digestFor('gone'))]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(mails).toEqual([]);
    expect(
      jsonLines(lines)
        .filter((log) => log.message === 'no digest for this client')
        .map((log) => log.outcome),
    ).toEqual(['opted_out', 'unknown_client']);
  });
});
