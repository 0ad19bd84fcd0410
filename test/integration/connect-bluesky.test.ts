/**
 * `connect bluesky` and the Bluesky side of the platform factory, end to end against the Bluesky
 * sandbox through @atcute/client: an app password logs in, the session is sealed with it in the vault,
 * the factory resumes it, every refreshed session is stored before the call that refreshed returns,
 * a dead session falls back to the app password, and nothing secret reaches a log.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BlueskySandbox, startBlueskySandbox } from '../../sandbox/bluesky/server.ts';
import { createWorld, type World, type WorldUser } from '../../sandbox/world.ts';
import { blueskyLogin } from '../../shared/adapters/bluesky/bluesky-login.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { type Credentials, DynamoCredentialStore } from '../../shared/adapters/dynamo/credential-store.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { keyAttributes } from '../../shared/adapters/dynamo/table.ts';
import { MemoryLogger } from '../../shared/adapters/logger.ts';
import { MemoryRefreshLock } from '../../shared/adapters/memory/refresh-lock.ts';
import { LocalVault } from '../../shared/adapters/vault/local-vault.ts';
import { connectBluesky } from '../../shared/app/connect/connect-bluesky.ts';
import { planFromFile } from '../../shared/app/tenants/apply.ts';
import { addAccount } from '../../shared/app/tenants/registry.ts';
import type { AccountRef } from '../../shared/domain/account.ts';
import { AuthError, ValidationError } from '../../shared/domain/errors.ts';
import type { CredentialVault } from '../../shared/ports/credentials.ts';
import { VaultOpenError } from '../../shared/ports/vault.ts';
import { startLocalDynamo } from '../../shared/runtime/local-dynamo.ts';
import { createPlatformFactory, type PlatformFactory } from '../../shared/runtime/platforms.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const db = useDynamoBackend(dynaliteBackend);

interface Setup {
  clock: VirtualClock;
  world: World;
  owner: WorldUser;
  other: WorldUser;
  sandbox: BlueskySandbox;
  tableName: string;
  store: DynamoStore;
  credentials: DynamoCredentialStore;
  lines: string[];
  logger: MemoryLogger;
  factory(vault?: CredentialVault): PlatformFactory;
  connect(input?: Partial<Parameters<typeof connectBluesky>[1]>): ReturnType<typeof connectBluesky>;
  createSessions(): number;
  refreshSessions(): number;
}

let s: Setup;
let dir: string;

beforeEach(async () => {
  const clock = new VirtualClock(START);
  const world = createWorld({ seed: 23, clock, orderNoise: 0 });
  const quiet = { followersPerDay: 0, unfollowsPerDay: 0, deletionsPerDay: 0 };
  const owner = world.addOwner({
    handle: 'acme_bakery',
    initialFollowers: 150,
    initialFollowing: 20,
    ...quiet,
  });
  const other = world.addOwner({ handle: 'beta_shop', initialFollowers: 40, initialFollowing: 5, ...quiet });
  const sandbox = await startBlueskySandbox({ world, clock });
  dir = await mkdtemp(join(tmpdir(), 'followback-bsky-'));
  const vault = await LocalVault.inDirectory(dir);
  const tableName = await createTestTable(db);
  const store = new DynamoStore({ client: db.client, tableName, clock });
  const credentials = new DynamoCredentialStore({ client: db.client, tableName, vault, clock });
  const lines: string[] = [];
  const logger = new MemoryLogger(lines, 'debug');
  await store.putClient({
    clientId: 'acme',
    name: 'Acme Bakery',
    timeZone: 'Europe/Berlin',
    digestEmails: ['owner@acme.example'],
    createdAt: START,
  });
  s = {
    clock,
    world,
    owner,
    other,
    sandbox,
    tableName,
    store,
    credentials,
    lines,
    logger,
    factory: (creds = credentials) =>
      createPlatformFactory({
        credentials: creds,
        lock: new MemoryRefreshLock(),
        clock,
        logger,
        timeoutMs: 2_000,
        x: { apiBaseUrl: 'http://127.0.0.1:9' },
        bluesky: { service: 'https://bsky.invalid', serviceFor: () => sandbox.baseUrl },
      }),
    connect: (input = {}) =>
      connectBluesky(
        { registry: store, credentials, clock, logger, login: blueskyLogin({ clock }) },
        {
          clientId: 'acme',
          service: sandbox.baseUrl,
          identifier: sandbox.handleOf(owner.id),
          appPassword: sandbox.appPasswordFor(owner.id),
          ...input,
        },
      ),
    createSessions: () => sandbox.stats.endpoint('com.atproto.server.createSession').requests,
    refreshSessions: () => sandbox.stats.endpoint('com.atproto.server.refreshSession').requests,
  };
});

afterEach(async () => {
  await s.sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

describe('connect bluesky', () => {
  it('logs in with the app password, seals it with the session, and creates the account by DID', async () => {
    // Act
    const result = await s.connect();

    // Assess
    const did = s.sandbox.didOf(s.owner.id);
    expect(result.created).toBe(true);
    expect(result.account).toMatchObject({
      clientId: 'acme',
      accountId: 'bluesky-acme-bakery.bsky.social',
      network: 'bluesky',
      platformUserId: did,
      handle: 'acme-bakery.bsky.social',
      status: 'active',
      instanceUrl: s.sandbox.baseUrl,
      policy: { timeZone: 'Europe/Berlin' },
    });
    expect(await s.store.getAccount(result.account)).toEqual(result.account);
    const stored = (await s.credentials.get(result.account, 'bluesky'))!.credentials;
    expect(stored).toMatchObject({
      identifier: 'acme-bakery.bsky.social',
      appPassword: s.sandbox.appPasswordFor(s.owner.id),
      did,
      handle: 'acme-bakery.bsky.social',
    });
    expect(s.sandbox.sessions.verify(stored.accessToken, 'com.atproto.appPass')).toMatchObject({
      ok: true,
      did,
    });
    expect(s.sandbox.sessions.verify(stored.refreshToken!, 'com.atproto.refresh')).toMatchObject({
      ok: true,
    });
    expect(s.createSessions()).toBe(1);
  });

  it('fills in an account declared before it was connected, keeping its settings', async () => {
    // Prepare
    const declared = await addAccount({ store: s.store, clock: s.clock }, 'acme', {
      accountId: 'bsky',
      network: 'bluesky',
      handle: '@acme-bakery.bsky.social',
      policy: { promise: { withinHours: 48 } },
    });

    // Act
    const result = await s.connect();

    // Assess
    expect(declared.status).toBe('not_connected');
    expect(result.created).toBe(false);
    expect(result.account).toMatchObject({
      accountId: 'bsky',
      platformUserId: s.sandbox.didOf(s.owner.id),
      status: 'active',
      policy: { promise: { withinHours: 48 }, timeZone: 'Europe/Berlin' },
      createdAt: declared.createdAt,
    });
  });

  it('refuses a wrong app password with an AuthError, storing nothing', async () => {
    // Act
    const connecting = s.connect({ appPassword: 'aaaa-bbbb-cccc-dddd' });

    // Assess
    await expect(connecting).rejects.toBeInstanceOf(AuthError);
    expect(await s.store.listAccounts('acme')).toEqual([]);
  });

  it('refuses what is not an app password before sending it anywhere', async () => {
    // Act
    const connecting = s.connect({ appPassword: 'my-main-password-123' });

    // Assess
    await expect(connecting).rejects.toBeInstanceOf(ValidationError);
    await expect(connecting).rejects.toThrow(/not an app password/);
    await expect(connecting).rejects.not.toThrow(/my-main-password/);
    expect(s.createSessions()).toBe(0);
  });

  it("refuses an account connected to another DID, and a DID that is another client's account", async () => {
    // Prepare
    await s.connect({ accountId: 'bsky' });
    await s.store.putClient({ ...(await s.store.getClient('acme'))!, clientId: 'beta' });

    // Act
    const wrongUser = s.connect({
      accountId: 'bsky',
      identifier: s.sandbox.handleOf(s.other.id),
      appPassword: s.sandbox.appPasswordFor(s.other.id),
    });
    const twice = s.connect({ clientId: 'beta' });

    // Assess
    await expect(wrongUser).rejects.toThrow(
      /acme\/bsky is @acme-bakery.bsky.social .* but the app password is @beta-shop/,
    );
    await expect(twice).rejects.toThrow(/already the account acme\/bsky/);
    expect(await s.store.listAccounts('beta')).toEqual([]);
    const kept = await s.credentials.get({ clientId: 'acme', accountId: 'bsky' }, 'bluesky');
    expect(kept?.credentials.did).toBe(s.sandbox.didOf(s.owner.id));
  });

  it('refuses another handle signing in to an account declared for one, storing nothing', async () => {
    // Prepare: declared as @acme-bakery, not connected
    await addAccount({ store: s.store, clock: s.clock }, 'acme', {
      accountId: 'bsky',
      network: 'bluesky',
      handle: 'acme-bakery.bsky.social',
    });

    // Act: the app password is @beta-shop's
    const connecting = s.connect({
      accountId: 'bsky',
      identifier: s.sandbox.handleOf(s.other.id),
      appPassword: s.sandbox.appPasswordFor(s.other.id),
    });

    // Assess
    await expect(connecting).rejects.toMatchObject({
      name: 'HandleMismatchError',
      message:
        'acme/bsky is declared as @acme-bakery.bsky.social, but @beta-shop.bsky.social signed in on Bluesky: nothing was stored',
      details: { hint: expect.stringContaining('sign in as @acme-bakery.bsky.social') },
    });
    expect(await s.credentials.get({ clientId: 'acme', accountId: 'bsky' }, 'bluesky')).toBeUndefined();
    expect(await s.store.getAccount({ clientId: 'acme', accountId: 'bsky' })).toMatchObject({
      handle: 'acme-bakery.bsky.social',
      status: 'not_connected',
    });
  });

  it('takes a handle renamed on the network for a connected account, says so, and apply keeps it', async () => {
    // Prepare: connected while the account was called @acme-old.bsky.social
    const first = await s.connect({ accountId: 'bsky' });
    await s.store.putAccount({ ...first.account, handle: 'acme-old.bsky.social' });
    const file = `version: 1
clients:
  acme:
    timeZone: Europe/Berlin
    accounts:
      bsky: { network: bluesky, handle: acme-old.bsky.social, instance: "${s.sandbox.baseUrl}" }
`;

    // Act
    const again = await s.connect({ accountId: 'bsky' });
    const stale = await planFromFile({ store: s.store, clock: s.clock }, file).catch((e: unknown) => e);
    const updated = await planFromFile(
      { store: s.store, clock: s.clock },
      file.replace('acme-old', 'ACME-bakery'),
    );

    // Assess
    expect(again).toMatchObject({
      renamedFrom: 'acme-old.bsky.social',
      account: { handle: 'acme-bakery.bsky.social' },
    });
    expect(String(stale)).toContain(
      'clients.acme.accounts.bsky.handle: is acme-old.bsky.social but the connected account is @acme-bakery.bsky.social',
    );
    expect(updated.steps.filter((step) => step.kind === 'account')).toEqual([]);
  });

  it('refuses a plain-http service that is not on this machine', async () => {
    // Act
    const connecting = s.connect({ service: 'http://pds.example.com' });

    // Assess
    await expect(connecting).rejects.toThrow(/service must use https/);
    expect(s.createSessions()).toBe(0);
  });
});

describe('Bluesky platforms from the factory', () => {
  it('resumes the stored session without logging in and reads the lists', async () => {
    // Prepare
    const { account } = await s.connect();

    // Act
    const platform = s.factory()(account);
    const me = await platform.me();
    const page = await platform.listFollowers(account.platformUserId, { pageSize: 50 });

    // Assess
    expect(platform.network).toBe('bluesky');
    expect(typeof platform.relationships).toBe('function');
    expect(me.id).toBe(account.platformUserId);
    expect(page.users).toHaveLength(50);
    expect(s.createSessions()).toBe(1);
  });

  it('stores the rotated session before the call that refreshed it returns, and the next worker resumes it', async () => {
    // Prepare: a vault whose writes take a while, recording what it stored
    const { account } = await s.connect();
    const stores: Credentials[] = [];
    const slow: CredentialVault = {
      get: (ref, network) => s.credentials.get(ref, network),
      async put(ref, network, value, expected) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        const version = await s.credentials.put(ref, network, value, expected);
        stores.push(value);
        return version;
      },
    };
    const platform = s.factory(slow)(account);
    await platform.me();
    const before = (await s.credentials.get(account, 'bluesky'))!;

    // Act: the access JWT expires after two hours; the next call refreshes it, twice over
    s.clock.advance(2 * HOUR + MINUTE);
    await platform.listFollowers(account.platformUserId, { pageSize: 5 });
    const first = (await s.credentials.get(account, 'bluesky'))!;
    s.clock.advance(2 * HOUR + MINUTE);
    await platform.listFollowing(account.platformUserId, { pageSize: 5 });
    const second = (await s.credentials.get(account, 'bluesky'))!;
    const resumed = await s.factory().open(account);
    const me = await resumed.me();

    // Assess: each refresh stored before returning, each one from the stored token, no new login
    expect(stores).toHaveLength(2);
    expect(s.refreshSessions()).toBe(2);
    expect(first.version).toBe(before.version + 1);
    expect(second.version).toBe(before.version + 2);
    expect(first.credentials.refreshToken).not.toBe(before.credentials.refreshToken);
    expect(second.credentials.refreshToken).not.toBe(first.credentials.refreshToken);
    expect(second.credentials.appPassword).toBe(s.sandbox.appPasswordFor(s.owner.id));
    expect(s.sandbox.sessions.verify(before.credentials.refreshToken!, 'com.atproto.refresh')).toEqual({
      ok: false,
      error: 'ExpiredToken',
    });
    expect(me.id).toBe(account.platformUserId);
    expect(s.createSessions()).toBe(1);
    expect(s.refreshSessions()).toBe(2);
  });

  it('lets a session another worker stored meanwhile win, and carries on with its own', async () => {
    // Prepare: two workers resume the same stored session
    const { account } = await s.connect();
    const one = s.factory()(account);
    const two = s.factory()(account);
    await one.me();
    await two.me();
    s.clock.advance(2 * HOUR + MINUTE);

    // Act: both refresh from the same stored refresh JWT
    await one.listFollowers(account.platformUserId, { pageSize: 5 });
    const afterOne = (await s.credentials.get(account, 'bluesky'))!;
    await two.listFollowers(account.platformUserId, { pageSize: 5 });
    const afterTwo = (await s.credentials.get(account, 'bluesky'))!;
    const third = await s.factory().open(account);

    // Assess
    expect(afterTwo).toEqual(afterOne);
    expect(s.lines.some((line) => line.includes('Bluesky session not stored'))).toBe(true);
    expect((await third.me()).id).toBe(account.platformUserId);
    expect(s.createSessions()).toBe(1);
  });

  it('logs in again with the stored app password when the session is dead, and stores the new one', async () => {
    // Prepare
    const { account } = await s.connect();
    const before = (await s.credentials.get(account, 'bluesky'))!;
    s.sandbox.sessions.revokeAll(account.platformUserId);
    s.clock.advance(2_000);

    // Act
    const me = await s.factory()(account).me();

    // Assess
    const after = (await s.credentials.get(account, 'bluesky'))!;
    expect(me.id).toBe(account.platformUserId);
    expect(s.createSessions()).toBe(2);
    expect(after.credentials.refreshToken).not.toBe(before.credentials.refreshToken);
    expect(s.sandbox.sessions.verify(after.credentials.accessToken, 'com.atproto.appPass')).toMatchObject({
      ok: true,
    });
  });

  it('says AuthError for an account without stored credentials, before any request', async () => {
    // Prepare
    const { account } = await s.connect();
    await s.credentials.delete(account, 'bluesky');

    // Act
    const opening = s.factory().open(account);

    // Assess
    await expect(opening).rejects.toBeInstanceOf(AuthError);
    await expect(opening).rejects.toThrow(/has no stored bluesky credentials/);
    expect(s.sandbox.stats.endpoint('app.bsky.actor.getProfile').requests).toBe(1);
  });

  it("does not open one account's sealed session for another account", async () => {
    // Prepare: acme's credential item copied onto beta's account
    const { account } = await s.connect();
    await s.store.putClient({ ...(await s.store.getClient('acme'))!, clientId: 'beta' });
    const beta: AccountRef = { clientId: 'beta', accountId: account.accountId };
    await s.store.putAccount({ ...account, ...beta });
    const source = await db.client.send(
      new GetItemCommand({
        TableName: s.tableName,
        Key: keyAttributes({ pk: `CRED#acme#${account.accountId}`, sk: 'CRED#bluesky' }),
      }),
    );
    await db.client.send(
      new PutItemCommand({
        TableName: s.tableName,
        Item: {
          ...source.Item,
          ...keyAttributes({ pk: `CRED#beta#${account.accountId}`, sk: 'CRED#bluesky' }),
        },
      }),
    );

    // Act
    const opening = s.factory().open({ ...account, ...beta });

    // Assess
    await expect(opening).rejects.toBeInstanceOf(VaultOpenError);
    await expect(opening).rejects.toThrow(`beta/${account.accountId}`);
  });

  it('logs no app password, access or refresh JWT through connect, refreshes and a new login', async () => {
    // Prepare
    const { account } = await s.connect();
    const platform = s.factory()(account);
    await platform.me();
    s.clock.advance(2 * HOUR + MINUTE);
    await platform.listFollowers(account.platformUserId, { pageSize: 5 });
    s.sandbox.sessions.revokeAll(account.platformUserId);
    s.clock.advance(2_000);
    await s.factory()(account).me();
    const secrets = new Set<string>([s.sandbox.appPasswordFor(s.owner.id)]);

    // Act
    const stored = (await s.credentials.get(account, 'bluesky'))!.credentials;
    secrets.add(stored.accessToken);
    secrets.add(stored.refreshToken!);
    const log = s.lines.join('\n');

    // Assess
    expect(s.lines.some((line) => line.includes('"message":"account connected"'))).toBe(true);
    expect(s.lines.filter((line) => line.includes('Bluesky session stored')).length).toBeGreaterThanOrEqual(
      2,
    );
    for (const secret of secrets) expect(log.includes(secret), 'a secret in the logs').toBe(false);
    expect(log).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });
});

describe('followback connect bluesky', () => {
  const bin = join(import.meta.dirname, '../../bin/followback.mjs');

  function cli(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [bin, ...args],
        { env: { ...process.env, LOG_LEVEL: 'debug' }, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (stdin !== undefined) child.stdin!.end(stdin);
      else child.stdin!.end();
    });
  }

  it('reads the app password from stdin, never from the command line, and logs no secret', async () => {
    // Prepare
    const state = join(dir, 'state');
    await promisify(execFile)(process.execPath, [
      bin,
      ...['client', 'add', 'acme', '--time-zone', 'UTC', '--local', '--dir', state],
    ]);
    const password = s.sandbox.appPasswordFor(s.owner.id);
    const args = ['connect', 'bluesky', '--client', 'acme', '--handle', s.sandbox.handleOf(s.owner.id)];
    const where = ['--service', s.sandbox.baseUrl, '--local', '--dir', state];

    // Act
    const withoutStdin = await cli([...args, ...where]);
    const connected = await cli([...args, ...where, '--password-stdin'], `${password}\n`);

    // Assess
    expect(withoutStdin.code).toBe(1);
    expect(withoutStdin.stderr).toContain('pipe it in with --password-stdin');
    expect(connected.code).toBe(0);
    expect(connected.stdout).toContain(
      `connected @acme-bakery.bsky.social (Bluesky account ${s.sandbox.didOf(s.owner.id)}) as acme/bluesky-acme-bakery.bsky.social (new account)`,
    );
    expect(connected.stderr).toContain('"message":"account connected"');
    const dynamo = await startLocalDynamo({ path: join(state, 'dynamo') });
    try {
      const credentials = new DynamoCredentialStore({
        client: dynamo.client,
        tableName: dynamo.tableName,
        vault: await LocalVault.inDirectory(state),
      });
      const stored = (await credentials.get(
        { clientId: 'acme', accountId: 'bluesky-acme-bakery.bsky.social' },
        'bluesky',
      ))!.credentials;
      expect(stored.appPassword).toBe(password);
      for (const secret of [password, stored.accessToken, stored.refreshToken!]) {
        expect(`${connected.stdout}${connected.stderr}`.includes(secret), 'a secret in the output').toBe(
          false,
        );
      }
    } finally {
      await dynamo.close();
    }
  }, 60_000);
});
