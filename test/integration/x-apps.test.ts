/**
 * One X app per client, end to end on the X sandbox: a client that brings its own (confidential)
 * app connects, reads and refreshes through it; a client without one through the deployment's; the
 * sandbox says which app (OAuth client id) it saw on each account's requests and refreshes.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorld } from '../../sandbox/world.ts';
import { startXSandbox, type XSandbox } from '../../sandbox/x/server.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoCredentialStore } from '../../shared/adapters/dynamo/credential-store.ts';
import { DynamoRefreshLock } from '../../shared/adapters/dynamo/refresh-lock.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { startLoopbackReceiver } from '../../shared/adapters/oauth/loopback-receiver.ts';
import { LocalVault } from '../../shared/adapters/vault/local-vault.ts';
import { xOAuthApps } from '../../shared/adapters/x/x-oauth-client.ts';
import { XPlatform } from '../../shared/adapters/x/x-platform.ts';
import { connectX } from '../../shared/app/connect/connect-x.ts';
import { createXTokenProvider } from '../../shared/app/connect/token-provider.ts';
import {
  setXAppSecret,
  X_APP_SECRET_ACCOUNT,
  type XAppDeps,
  xOAuthClientFor,
  xTokenRefresherFor,
} from '../../shared/app/connect/x-apps.ts';
import type { AccountRecord, ClientRecord } from '../../shared/domain/account.ts';
import { ConfigError, ValidationError } from '../../shared/domain/errors.ts';
import { appFollowBucketName, xReadPriceUsd } from '../../shared/domain/x-app.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { approveInBrowser, START } from './connect-support.ts';

const HOUR = 3_600_000;
const db = useDynamoBackend(dynaliteBackend);
const DEPLOYMENT = { clientId: 'followback-deployment', clientSecret: 'deployment-secret-D1' };
const ACME_APP = { clientId: 'acme-own-app', clientSecret: 'acme-secret-A9' };

function client(clientId: string, xApp?: ClientRecord['xApp']): ClientRecord {
  return { clientId, name: clientId, timeZone: 'Europe/Berlin', digestEmails: [], createdAt: START, xApp };
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function start() {
  const clock = new VirtualClock(START);
  const world = createWorld({ seed: 5, clock, orderNoise: 0 });
  const owners = ['acmebakery', 'boltcafe'].map((handle) =>
    world.addOwner({ handle, initialFollowers: 20, initialFollowing: 5, followersPerDay: 0 }),
  );
  const sandbox: XSandbox = await startXSandbox({
    world,
    oauth: {
      clients: [DEPLOYMENT, ACME_APP].map((app) => ({ ...app, redirectUris: ['http://127.0.0.1/callback'] })),
    },
  });
  const dir = await mkdtemp(join(tmpdir(), 'followback-x-apps-'));
  const vault = await LocalVault.inDirectory(dir);
  const tableName = await createTestTable(db);
  const store = new DynamoStore({ client: db.client, tableName, clock });
  const credentials = new DynamoCredentialStore({ client: db.client, tableName, vault, clock });
  const lock = new DynamoRefreshLock({ client: db.client, tableName });
  cleanup = async () => {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  };
  const deps: XAppDeps = {
    registry: store,
    credentials,
    deployment: { clientId: DEPLOYMENT.clientId, secret: async () => DEPLOYMENT.clientSecret },
    oauthApp: xOAuthApps({
      authorizeUrl: `${sandbox.baseUrl}/i/oauth2/authorize`,
      tokenUrl: `${sandbox.baseUrl}/2/oauth2/token`,
      clock,
    }),
  };
  const me = (accessToken: string) => new XPlatform({ baseUrl: sandbox.baseUrl, accessToken }).me();
  const connect = async (clientId: string, ownerIndex: number) => {
    sandbox.oauth.consentAs(owners[ownerIndex]!.id);
    const oauth = await xOAuthClientFor(deps, clientId);
    return (
      await connectX(
        { registry: store, credentials, oauth, me, clock, receiver: startLoopbackReceiver },
        { clientId, onAuthorizeUrl: (url) => void approveInBrowser(url) },
      )
    ).account;
  };
  const platformOf = (account: AccountRecord) =>
    new XPlatform({
      baseUrl: sandbox.baseUrl,
      clock,
      accessToken: createXTokenProvider({
        credentials,
        ref: account,
        oauthClient: xTokenRefresherFor(deps, account),
        clock,
        lock,
      }),
    });
  return { clock, sandbox, store, credentials, deps, owners, connect, platformOf };
}

describe('one X app per client', () => {
  it('serves each client’s accounts by its own app, or the deployment’s, and never another’s', async () => {
    // Prepare: acme brings a confidential app (its secret sealed by the vault); bolt does not
    const s = await start();
    await s.store.putClient(client('acme', { clientId: ACME_APP.clientId, confidential: true }));
    await s.store.putClient(client('bolt'));
    await setXAppSecret(s.deps, 'acme', ` ${ACME_APP.clientSecret}\n`);

    // Act: both connect, read, and read again after their tokens expired (a refresh each)
    const acme = await s.connect('acme', 0);
    const bolt = await s.connect('bolt', 1);
    for (const account of [acme, bolt]) await s.platformOf(account).me();
    s.clock.advance(3 * HOUR);
    for (const account of [acme, bolt]) {
      await s.platformOf(account).listFollowers(account.platformUserId, { pageSize: 10 });
    }

    // Assess
    const seen = (userId: string) => [
      ...new Set(
        s.sandbox.oauth.sightings.filter((x) => x.userId === userId).map((x) => `${x.kind}:${x.clientId}`),
      ),
    ];
    expect(acme.xAppClientId).toBe(ACME_APP.clientId);
    expect(bolt.xAppClientId).toBeUndefined();
    expect(seen(s.owners[0]!.id).sort()).toEqual(
      ['api', 'exchange', 'refresh'].map((kind) => `${kind}:${ACME_APP.clientId}`).sort(),
    );
    expect(seen(s.owners[1]!.id).sort()).toEqual(
      ['api', 'exchange', 'refresh'].map((kind) => `${kind}:${DEPLOYMENT.clientId}`).sort(),
    );
    expect(s.sandbox.oauth.counts.refused).toBe(0);
  });

  it('seals the app secret for its client only, and refuses a confidential app without one', async () => {
    // Prepare
    const s = await start();
    await s.store.putClient(client('acme', { clientId: ACME_APP.clientId, confidential: true }));
    await s.store.putClient(client('bolt'));

    // Act
    const missing = await xOAuthClientFor(s.deps, 'acme').catch((error: unknown) => error);
    const notOwn = await setXAppSecret(s.deps, 'bolt', 'x').catch((error: unknown) => error);
    await setXAppSecret(s.deps, 'acme', ACME_APP.clientSecret);
    const sealed = await s.credentials.get({ clientId: 'acme', accountId: X_APP_SECRET_ACCOUNT }, 'x');
    const elsewhere = await s.credentials.get({ clientId: 'bolt', accountId: X_APP_SECRET_ACCOUNT }, 'x');

    // Assess
    expect(missing).toBeInstanceOf(ConfigError);
    expect(String((missing as Error).message)).not.toContain(ACME_APP.clientSecret);
    expect(notOwn).toBeInstanceOf(ValidationError);
    expect(sealed?.credentials.accessToken).toBe(ACME_APP.clientSecret);
    expect(elsewhere).toBeUndefined();
  });

  it('refuses to connect a client that has its own app through the deployment’s', async () => {
    // Prepare
    const s = await start();
    await s.store.putClient(client('acme', { clientId: ACME_APP.clientId, confidential: true }));
    const deployment = await xOAuthClientFor(s.deps, 'bolt');

    // Act
    const refused = await connectX(
      {
        registry: s.store,
        credentials: s.credentials,
        oauth: deployment,
        me: async () => ({}) as never,
        clock: s.clock,
        receiver: startLoopbackReceiver,
      },
      { clientId: 'acme', onAuthorizeUrl: () => undefined },
    ).catch((error: unknown) => error);

    // Assess
    expect(refused).toBeInstanceOf(ValidationError);
    expect(s.sandbox.oauth.sightings).toEqual([]);
  });

  it('caps follows per app and prices owned reads at a tenth', () => {
    // Prepare
    const own = { network: 'x' as const, xAppClientId: ACME_APP.clientId };
    const shared = { network: 'x' as const, xAppClientId: undefined };

    // Act / Assess
    expect(appFollowBucketName(own)).not.toBe(appFollowBucketName(shared));
    expect(appFollowBucketName({ network: 'mastodon', xAppClientId: undefined })).toBe('follow-mastodon');
    expect(xReadPriceUsd({ accountId: 'x-acme' }, { ownedBy: 'x-acme' })).toBe(0.001);
    expect(xReadPriceUsd({ accountId: 'x-other' }, { ownedBy: 'x-acme' })).toBe(0.01);
    expect(xReadPriceUsd({ accountId: 'x-acme' }, undefined)).toBe(0.01);
  });
});
