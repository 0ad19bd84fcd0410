import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorld, type World, type WorldUser } from '../../sandbox/world.ts';
import { startXSandbox, type XSandbox } from '../../sandbox/x/server.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoCredentialStore } from '../../shared/adapters/dynamo/credential-store.ts';
import { DynamoRefreshLock } from '../../shared/adapters/dynamo/refresh-lock.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { LocalVault } from '../../shared/adapters/vault/local-vault.ts';
import { XOAuthClient } from '../../shared/adapters/x/x-oauth-client.ts';
import { XPlatform } from '../../shared/adapters/x/x-platform.ts';
import type { ClientRecord } from '../../shared/domain/account.ts';
import { createTestTable, type useDynamoBackend } from '../support/backends.ts';

export const START = Date.UTC(2026, 0, 5, 9, 0, 0);
export const APP = { clientId: 'followback-test-app', clientSecret: 'client-secret-SECRET-x7' };

export const ACME: ClientRecord = {
  clientId: 'acme',
  name: 'Acme Bakery',
  timeZone: 'Europe/Berlin',
  digestEmails: ['owner@acme.example'],
  createdAt: START,
};

/** A world with one owner, its X sandbox with OAuth, a fresh table, the local vault and the stores. */
export interface ConnectWorld {
  clock: VirtualClock;
  world: World;
  owner: WorldUser;
  sandbox: XSandbox;
  store: DynamoStore;
  credentials: DynamoCredentialStore;
  lock: DynamoRefreshLock;
  oauth: XOAuthClient;
  me(accessToken: string): ReturnType<XPlatform['me']>;
  close(): Promise<void>;
}

export async function startConnectWorld(db: ReturnType<typeof useDynamoBackend>): Promise<ConnectWorld> {
  const clock = new VirtualClock(START);
  const world = createWorld({ seed: 7, clock, orderNoise: 0 });
  const owner = world.addOwner({
    handle: 'acmebakery',
    initialFollowers: 120,
    initialFollowing: 30,
    followersPerDay: 0,
    unfollowsPerDay: 0,
    deletionsPerDay: 0,
  });
  const sandbox = await startXSandbox({
    world,
    oauth: { clients: [{ ...APP, redirectUris: ['http://127.0.0.1/callback'] }], consentingUser: owner.id },
  });
  const dir = await mkdtemp(join(tmpdir(), 'followback-connect-'));
  const vault = await LocalVault.inDirectory(dir);
  const tableName = await createTestTable(db);
  const store = new DynamoStore({ client: db.client, tableName, clock });
  const credentials = new DynamoCredentialStore({ client: db.client, tableName, vault, clock });
  const lock = new DynamoRefreshLock({ client: db.client, tableName });
  const oauth = new XOAuthClient({
    ...APP,
    authorizeUrl: `${sandbox.baseUrl}/i/oauth2/authorize`,
    tokenUrl: `${sandbox.baseUrl}/2/oauth2/token`,
    clock,
  });
  return {
    clock,
    world,
    owner,
    sandbox,
    store,
    credentials,
    lock,
    oauth,
    me: (accessToken) => new XPlatform({ baseUrl: sandbox.baseUrl, accessToken }).me(),
    async close() {
      await sandbox.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Plays the owner's browser: opens the authorize URL (the sandbox consents and redirects), then
 * follows the redirect to the loopback server. Returns the loopback server's status.
 */
export async function approveInBrowser(authorizeUrl: string): Promise<{ redirect: URL; status: number }> {
  const answer = await fetch(authorizeUrl, { redirect: 'manual' });
  const location = answer.headers.get('location');
  if (answer.status !== 302 || location === null) {
    throw new Error(`authorize answered ${answer.status}: ${await answer.text()}`);
  }
  const redirect = new URL(location);
  const back = await fetch(redirect);
  await back.text();
  return { redirect, status: back.status };
}
