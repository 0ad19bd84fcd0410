import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AccountWorkerDeps, processAccountBatch } from '../../functions/handlers/account-worker.ts';
import { withObservability } from '../../functions/lib/middleware.ts';
import { createObservability } from '../../functions/lib/observability.ts';
import { accountWorkMessage } from '../../functions/lib/work-messages.ts';
import { createWorld, type World, type WorldUser } from '../../sandbox/world.ts';
import { startXSandbox, type XSandbox } from '../../sandbox/x/server.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoCredentialStore } from '../../shared/adapters/dynamo/credential-store.ts';
import { DynamoDigestStore } from '../../shared/adapters/dynamo/digest-store.ts';
import { StoreError } from '../../shared/adapters/dynamo/errors.ts';
import { DynamoRefreshLock } from '../../shared/adapters/dynamo/refresh-lock.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { keyAttributes } from '../../shared/adapters/dynamo/table.ts';
import { LocalVault } from '../../shared/adapters/vault/local-vault.ts';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import type { AccountRecord, AccountRef } from '../../shared/domain/account.ts';
import { createPlatformFactory } from '../../shared/runtime/aws-platforms.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import {
  captureOutput,
  expectWithinGrants,
  jsonLines,
  lambdaContext,
  recordingDynamoClient,
} from './support.ts';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const shop: AccountRef = { clientId: 'acme', accountId: 'x-shop' };

const db = useDynamoBackend(dynaliteBackend);
let vaultDir: string;
let vault: LocalVault;

let clock: VirtualClock;
let world: World;
let owner: WorldUser;
let sandbox: XSandbox;
let token: string;
let store: DynamoStore;
let tableName: string;
let credentials: DynamoCredentialStore;

beforeAll(async () => {
  vaultDir = await mkdtemp(join(tmpdir(), 'followback-worker-'));
  vault = await LocalVault.inDirectory(join(vaultDir, '.followback'));
});

afterAll(async () => {
  await rm(vaultDir, { recursive: true, force: true });
});

beforeEach(async () => {
  clock = new VirtualClock(START);
  world = createWorld({ seed: 7, clock, orderNoise: 0 });
  owner = world.addOwner({
    handle: 'shop',
    initialFollowers: 120,
    initialFollowing: 30,
    followersPerDay: 0,
    unfollowsPerDay: 0,
    deletionsPerDay: 0,
  });
  sandbox = await startXSandbox({ world });
  token = sandbox.issueToken(owner.id);
  tableName = await createTestTable(db);
  store = new DynamoStore({ client: db.client, tableName, clock });
  credentials = new DynamoCredentialStore({ client: db.client, tableName, vault, clock });
});

afterEach(async () => {
  await sandbox.close();
});

function account(ref: AccountRef): AccountRecord {
  return {
    ...ref,
    network: 'x',
    platformUserId: owner.id,
    handle: owner.username,
    status: 'active',
    observe: resolveObserveSettings('x', { readBudgetUsdPerMonth: 1_000 }),
    createdAt: START,
  };
}

async function connect(ref: AccountRef, accessToken: string): Promise<AccountRecord> {
  const record = account(ref);
  await store.putAccount(record);
  await credentials.put(record, 'x', { accessToken, refreshToken: `refresh-of-${accessToken}` });
  return record;
}

let messages = 0;
function record(body: unknown): SQSRecord {
  messages += 1;
  return {
    messageId: `msg-${messages}`,
    receiptHandle: `rh-${messages}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(START),
      SenderId: 'dispatcher',
      ApproximateFirstReceiveTimestamp: String(START),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:account-work',
    awsRegion: 'us-east-1',
  };
}

function work(ref: AccountRef) {
  return record(accountWorkMessage(ref.clientId, ref.accountId, START));
}

/** The AWS composition's platform factory on the sandbox (tokens stored without expiry: no refresh). */
function platformFactory() {
  return createPlatformFactory({
    xApiBaseUrl: sandbox.baseUrl,
    credentials,
    refreshLock: new DynamoRefreshLock({ client: db.client, tableName }),
    clock,
    timeoutMs: 2_000,
  });
}

/** The handler as deployed (middy, Powertools logger and metrics), wired to dynalite, the vault and the sandbox. */
function handlerWith(overrides: Partial<AccountWorkerDeps> = {}) {
  const observability = createObservability({ service: 'account-worker', stage: 'test', level: 'debug' });
  const deps: AccountWorkerDeps = {
    store,
    platformFor: platformFactory(),
    clock,
    logger: observability.logger,
    metrics: observability.metrics,
    timeMarginMs: 1_000,
    ...overrides,
  };
  return withObservability(observability, (event: SQSEvent, context) =>
    processAccountBatch(event, context, deps),
  );
}

async function invoke(records: SQSRecord[], overrides: Partial<AccountWorkerDeps> = {}) {
  return captureOutput(() =>
    handlerWith(overrides)({ Records: records }, lambdaContext('account-worker', 60_000)),
  );
}

function expectNoSecretIn(lines: readonly string[], ...secrets: string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
}

describe('account worker', () => {
  it("runs the account's tick against the platform with its sealed credentials, logging the tenant and account", async () => {
    // Prepare
    await connect(shop, token);

    // Act
    const { result, lines } = await invoke([work(shop)]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const state = (await store.getState(shop))!.state;
    expect(state.observe.seq).toBeGreaterThan(0);
    expect(state.observe.graphs.followers.count).toBe(120);
    expect(state.lease?.until).toBe(0);
    const logs = jsonLines(lines);
    expect(logs).toContainEqual(
      expect.objectContaining({
        message: 'tick ran',
        clientId: 'acme',
        accountId: 'x-shop',
        service: 'account-worker',
      }),
    );
    expect(logs).toContainEqual(expect.objectContaining({ PromisesAtRisk: 0, _aws: expect.any(Object) }));
    expectNoSecretIn(lines, token, `refresh-of-${token}`);
  });

  it('drops a malformed message without retrying it, naming the field in the log', async () => {
    // Prepare
    await connect(shop, token);
    const malformed = record({
      v: 1,
      clientId: 'acme',
      tickAt: new Date(START).toISOString(),
      dedupeId: 'x',
    });
    const notJson = record('{"v":1,');

    // Act
    const { result, lines } = await invoke([malformed, notJson, work(shop)]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const dropped = jsonLines(lines).filter(
      (log) => log.message === 'dropping malformed account work message',
    );
    expect(dropped).toEqual([
      expect.objectContaining({
        messageId: malformed.messageId,
        error: expect.stringContaining('accountId'),
      }),
      expect.objectContaining({ messageId: notJson.messageId, error: expect.stringContaining('not JSON') }),
    ]);
    // EMF lists the two values of the invocation; CloudWatch sums them.
    expect(jsonLines(lines)).toContainEqual(expect.objectContaining({ MalformedMessages: [1, 1] }));
    expect((await store.getState(shop))?.state.observe.seq).toBeGreaterThan(0);
  });

  it('runs a message delivered twice in one batch once', async () => {
    // Prepare
    await connect(shop, token);
    const message = accountWorkMessage(shop.clientId, shop.accountId, START);

    // Act
    const { result, lines } = await invoke([record(message), record(message)]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const logs = jsonLines(lines);
    expect(logs.filter((log) => log.message === 'tick ran')).toHaveLength(1);
    expect(logs.filter((log) => log.message === 'tick skipped')).toHaveLength(1);
  });

  it('reports a failure that may pass as a batch item failure, and only that message', async () => {
    // Prepare
    await connect(shop, token);
    const other = { clientId: 'acme', accountId: 'x-flaky' };
    await connect(other, token);
    const flaky = new Proxy(store, {
      get(target, property) {
        if (property === 'getAccount') {
          return async (ref: AccountRef) => {
            if (ref.accountId === 'x-flaky')
              throw new StoreError('GetItem on the registry failed: throttled');
            return target.getAccount(ref);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const failing = work(other);

    // Act
    const { result, lines } = await invoke([work(shop), failing], { store: flaky });

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: failing.messageId }] });
    expect(jsonLines(lines)).toContainEqual(
      expect.objectContaining({
        message: 'account tick failed; it will be retried',
        accountId: 'x-flaky',
        error: expect.objectContaining({ name: 'StoreError' }),
      }),
    );
  });

  it('answers a batch whose every message fails with each as a batch item failure, not a failed invocation', async () => {
    // Prepare
    await connect(shop, token);
    const down = new Proxy(store, {
      get(target, property) {
        if (property === 'getAccount') {
          return async () => {
            throw new StoreError('GetItem on the registry failed: throttled');
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const first = work(shop);
    const second = work(shop);

    // Act
    const { result, lines } = await invoke([first, second], { store: down });

    // Assess
    expect(result).toEqual({
      batchItemFailures: [{ itemIdentifier: first.messageId }, { itemIdentifier: second.messageId }],
    });
    expect(jsonLines(lines)).toContainEqual(
      expect.objectContaining({ message: 'batch processed', records: 2, retry: 2, done: 0, dropped: 0 }),
    );
  });

  it("never uses credentials copied from another tenant's account: dropped, logged, nothing observed", async () => {
    // Prepare: beta's item holds acme's sealed token.
    await connect(shop, token);
    const intruder = { clientId: 'beta', accountId: 'x-shop' };
    await store.putAccount(account(intruder));
    const source = await db.client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: keyAttributes({ pk: 'CRED#acme#x-shop', sk: 'CRED#x' }),
      }),
    );
    await db.client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...source.Item, ...keyAttributes({ pk: 'CRED#beta#x-shop', sk: 'CRED#x' }) },
      }),
    );

    // Act
    const { result, lines } = await invoke([work(intruder)]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await store.getState(intruder)).toBeUndefined();
    expect(jsonLines(lines)).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'stored credentials do not open for this account; dropping its work',
        clientId: 'beta',
      }),
    );
    expectNoSecretIn(lines, token, `refresh-of-${token}`);
  });

  it('marks the account token_expired when the platform refuses its token, and does not retry', async () => {
    // Prepare
    const refused = 'revoked-token-SECRET-0123456789';
    await connect(shop, refused);

    // Act
    const { result, lines } = await invoke([work(shop)]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect((await store.getAccount(shop))?.status).toBe('token_expired');
    expectNoSecretIn(lines, refused, `refresh-of-${refused}`);
  });

  it('marks the account token_expired when it has no stored credentials, touching no state', async () => {
    // Prepare
    await store.putAccount(account(shop));

    // Act
    const { result } = await invoke([work(shop)]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect((await store.getAccount(shop))?.status).toBe('token_expired');
    expect(await store.getState(shop)).toBeUndefined();
  });

  it('does not bring back an account removed while its tick ran, nor overwrite one paused meanwhile', async () => {
    // Prepare: both accounts' tokens are refused; `account remove` deletes one record and the operator
    // pauses the other while their ticks run.
    const refused = 'revoked-token-SECRET-0123456789';
    const removed = { clientId: 'acme', accountId: 'x-removed' };
    const paused = { clientId: 'acme', accountId: 'x-paused' };
    await connect(removed, refused);
    const pausedRecord = await connect(paused, refused);
    const factory = platformFactory();
    const meanwhile: AccountWorkerDeps['platformFor'] = async (record, context) => {
      const platform = await factory(record, context);
      if (record.accountId === removed.accountId) await store.deleteAccount(record);
      else await store.putAccount({ ...pausedRecord, status: 'paused' });
      return platform;
    };

    // Act
    const { result, lines } = await invoke([work(removed), work(paused)], { platformFor: meanwhile });

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await store.getAccount(removed)).toBeUndefined();
    expect((await store.getAccount(paused))?.status).toBe('paused');
    expect(
      jsonLines(lines).filter(
        (log) => log.message === 'account changed or was removed meanwhile; left as it is',
      ),
    ).toHaveLength(2);
  });

  it("records the day's follower count for the digest chart, with only the DynamoDB actions its role grants", async () => {
    // Prepare
    const recording = recordingDynamoClient(db.endpoint);
    const samples = new DynamoDigestStore({ client: recording.client, tableName });
    await connect(shop, token);

    // Act
    await invoke([work(shop)], {
      store: new DynamoStore({ client: recording.client, tableName, clock }),
      samples,
    });

    // Assess
    expect(await samples.listFollowerSamples(shop, START - 86_400_000, START + 86_400_000)).toEqual([
      expect.objectContaining({ followers: 120 }),
    ]);
    expectWithinGrants(recording.calls, 'account-worker');
    expect(recording.calls.map((call) => call.action)).toContain('BatchWriteItem');
  });

  it('drops work for an account that is no longer registered', async () => {
    const { result, lines } = await invoke([work({ clientId: 'gone', accountId: 'x-gone' })]);

    expect(result).toEqual({ batchItemFailures: [] });
    expect(jsonLines(lines)).toContainEqual(
      expect.objectContaining({
        message: 'account is no longer registered; dropping its work',
        clientId: 'gone',
      }),
    );
  });
});
