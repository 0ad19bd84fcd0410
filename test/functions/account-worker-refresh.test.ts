import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AccountWorkerDeps, processAccountBatch } from '../../functions/handlers/account-worker.ts';
import { withObservability } from '../../functions/lib/middleware.ts';
import { createObservability } from '../../functions/lib/observability.ts';
import { accountWorkMessage } from '../../functions/lib/work-messages.ts';
import { createWorld, type WorldUser } from '../../sandbox/world.ts';
import { startXSandbox, type XSandbox } from '../../sandbox/x/server.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoCredentialStore } from '../../shared/adapters/dynamo/credential-store.ts';
import { DynamoRefreshLock, REFRESH_LOCK_SK } from '../../shared/adapters/dynamo/refresh-lock.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { keyAttributes } from '../../shared/adapters/dynamo/table.ts';
import { startLoopbackReceiver } from '../../shared/adapters/oauth/loopback-receiver.ts';
import { LocalVault } from '../../shared/adapters/vault/local-vault.ts';
import { XOAuthClient } from '../../shared/adapters/x/x-oauth-client.ts';
import { XPlatform } from '../../shared/adapters/x/x-platform.ts';
import { connectX } from '../../shared/app/connect/connect-x.ts';
import type { AccountRef } from '../../shared/domain/account.ts';
import { createXTokenRefresher } from '../../shared/runtime/aws.ts';
import { createPlatformFactory } from '../../shared/runtime/aws-platforms.ts';
import { ACME, APP, approveInBrowser, START } from '../integration/connect-support.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import {
  captureOutput,
  type DynamoCall,
  expectWithinGrants,
  jsonLines,
  lambdaContext,
  recordingDynamoClient,
  sqsRecord,
} from './support.ts';

const HOUR = 3_600_000;
const db = useDynamoBackend(dynaliteBackend);

let clock: VirtualClock;
let owner: WorldUser;
let sandbox: XSandbox;
let vaultDir: string;
let tableName: string;
let store: DynamoStore;
let credentials: DynamoCredentialStore;
let ref: AccountRef;
let calls: DynamoCall[];
let recordingClient: ReturnType<typeof recordingDynamoClient>['client'];
let messages = 0;

beforeEach(async () => {
  clock = new VirtualClock(START);
  const world = createWorld({ seed: 7, clock, orderNoise: 0 });
  owner = world.addOwner({
    handle: 'acmebakery',
    initialFollowers: 120,
    initialFollowing: 30,
    followersPerDay: 0,
    unfollowsPerDay: 0,
    deletionsPerDay: 0,
  });
  sandbox = await startXSandbox({
    world,
    oauth: { clients: [{ ...APP, redirectUris: ['http://127.0.0.1/callback'] }], consentingUser: owner.id },
  });
  vaultDir = await mkdtemp(join(tmpdir(), 'followback-refresh-'));
  const vault = await LocalVault.inDirectory(vaultDir);
  tableName = await createTestTable(db);
  // The worker's stores on a client that records what it calls (the test's own use db.client).
  const recording = recordingDynamoClient(db.endpoint);
  calls = recording.calls;
  recordingClient = recording.client;
  store = new DynamoStore({ client: recording.client, tableName, clock });
  credentials = new DynamoCredentialStore({ client: recording.client, tableName, vault, clock });

  // The owner connects the account (as `followback connect x` does): a 2-hour token and a refresh token.
  await store.putClient(ACME);
  const { account } = await connectX(
    {
      registry: store,
      credentials,
      oauth: oauthClient(`${sandbox.baseUrl}/2/oauth2/token`),
      me: (accessToken) => new XPlatform({ baseUrl: sandbox.baseUrl, accessToken }).me(),
      clock,
      receiver: startLoopbackReceiver,
    },
    { clientId: ACME.clientId, onAuthorizeUrl: (url) => void approveInBrowser(url) },
  );
  ref = { clientId: account.clientId, accountId: account.accountId };
  calls.length = 0;
});

afterEach(async () => {
  await sandbox.close();
  await rm(vaultDir, { recursive: true, force: true });
});

function oauthClient(tokenUrl: string): XOAuthClient {
  return new XOAuthClient({ ...APP, authorizeUrl: `${sandbox.baseUrl}/i/oauth2/authorize`, tokenUrl, clock });
}

/** The worker as deployed, its platform factory refreshing X tokens at `tokenUrl` (the sandbox's). */
function invoke(records: SQSRecord[], tokenUrl = `${sandbox.baseUrl}/2/oauth2/token`) {
  const observability = createObservability({ service: 'account-worker', stage: 'test', level: 'debug' });
  const deps: AccountWorkerDeps = {
    store,
    platformFor: createPlatformFactory({
      xApiBaseUrl: sandbox.baseUrl,
      credentials,
      // A confidential client, its secret read once when a refresh needs it.
      xTokens: createXTokenRefresher(
        { X_CLIENT_ID: APP.clientId, X_TOKEN_URL: tokenUrl },
        clock,
        async () => APP.clientSecret,
      ),
      refreshLock: new DynamoRefreshLock({ client: recordingClient, tableName }),
      clock,
      timeoutMs: 2_000,
    }),
    clock,
    logger: observability.logger,
    metrics: observability.metrics,
    timeMarginMs: 1_000,
  };
  const handler = withObservability(observability, (event: SQSEvent, context) =>
    processAccountBatch(event, context, deps),
  );
  return captureOutput(() => handler({ Records: records }, lambdaContext('account-worker', 60_000)));
}

function work(): SQSRecord {
  messages += 1;
  return sqsRecord(
    `refresh-msg-${messages}`,
    accountWorkMessage(ref.clientId, ref.accountId, clock.now()),
    'account-work',
  );
}

async function stored() {
  return (await credentials.get(ref, 'x'))!;
}

async function refreshLockItem() {
  const out = await db.client.send(
    new GetItemCommand({
      TableName: tableName,
      Key: keyAttributes({ pk: `ACCT#${ref.clientId}#${ref.accountId}`, sk: REFRESH_LOCK_SK }),
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

describe('account worker: X tokens', () => {
  it('refreshes an expired token at the token endpoint, stores the new pair, and runs the tick with it', async () => {
    // Prepare
    const before = await stored();
    clock.advance(2 * HOUR + 60_000);

    // Act
    const { result, lines } = await invoke([work()]);

    // Assess: one refresh; the stored pair is the grant's newest; the tick observed with it
    expect(result).toEqual({ batchItemFailures: [] });
    const after = await stored();
    expect(sandbox.oauth.counts.refreshes).toBe(1);
    expect(sandbox.oauth.counts.reuseDetected).toBe(0);
    expect(after.version).toBe(before.version + 1);
    expect(after.credentials.accessToken).not.toBe(before.credentials.accessToken);
    const grant = sandbox.oauth.inspect(after.credentials.accessToken)!;
    expect(grant.valid).toBe(true);
    expect(after.credentials.refreshToken).toBe(sandbox.oauth.currentRefreshToken(grant.grantId));
    expect(after.credentials.expiresAt).toBe(clock.now() + 2 * HOUR);
    expect((await store.getState(ref))?.state.observe.graphs.followers.count).toBe(120);
    expect((await store.getAccount(ref))?.status).toBe('active');
    expect(await refreshLockItem()).toBeUndefined();
    for (const line of lines) {
      for (const secret of [
        before.credentials.accessToken,
        before.credentials.refreshToken!,
        after.credentials.accessToken,
        after.credentials.refreshToken!,
        APP.clientSecret,
      ]) {
        expect(line).not.toContain(secret);
      }
    }
    expect(jsonLines(lines)).toContainEqual(
      expect.objectContaining({ message: 'access token refreshed and stored' }),
    );
    expectWithinGrants(calls, 'account-worker');
  });

  it('uses a fresh token as stored, without calling the token endpoint', async () => {
    // Prepare
    const before = await stored();
    clock.advance(HOUR);

    // Act
    const { result } = await invoke([work()]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sandbox.oauth.counts.refreshes).toBe(0);
    expect((await stored()).version).toBe(before.version);
    expect((await store.getState(ref))?.state.observe.seq).toBeGreaterThan(0);
  });

  it('refreshes once for the same account delivered twice in one batch', async () => {
    // Prepare
    clock.advance(2 * HOUR + 60_000);

    // Act
    const { result } = await invoke([work(), work()]);

    // Assess: one rotation, no reuse (which would void the grant)
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sandbox.oauth.counts.refreshes).toBe(1);
    expect(sandbox.oauth.counts.reuseDetected).toBe(0);
    const grant = sandbox.oauth.inspect((await stored()).credentials.accessToken)!;
    expect(grant).toMatchObject({ valid: true, grantRevoked: false });
  });

  it('marks the account token_expired when X refuses the refresh, touching no state', async () => {
    // Prepare: the owner revoked the app
    const grantId = sandbox.oauth.inspect((await stored()).credentials.accessToken)!.grantId;
    sandbox.oauth.revokeGrant(grantId);
    clock.advance(2 * HOUR + 60_000);

    // Act
    const { result, lines } = await invoke([work()]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect((await store.getAccount(ref))?.status).toBe('token_expired');
    expect(await store.getState(ref)).toBeUndefined();
    expect(await refreshLockItem()).toBeUndefined();
    expect(jsonLines(lines)).toContainEqual(
      expect.objectContaining({
        message: 'credentials missing or refused; the account must be reconnected',
        errorName: 'OAuthGrantError',
      }),
    );
  });

  it('retries the message when the token endpoint cannot be reached, leaving the account and its tokens as they were', async () => {
    // Prepare: nothing listens on port 1
    const before = await stored();
    clock.advance(2 * HOUR + 60_000);
    const message = work();

    // Act
    const { result } = await invoke([message], 'http://127.0.0.1:1/2/oauth2/token');

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: message.messageId }] });
    expect((await store.getAccount(ref))?.status).toBe('active');
    expect(await stored()).toEqual(before);
    expect(await store.getState(ref)).toBeUndefined();
    expect(await refreshLockItem()).toBeUndefined();
  });
});
