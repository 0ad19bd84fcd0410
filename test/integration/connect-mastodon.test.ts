/**
 * `connect mastodon` and the Mastodon side of the platform factory, end to end against the Mastodon
 * sandbox: app registration, the authorize redirect to a loopback receiver (with PKCE where the
 * instance offers it), the code exchange, `verify_credentials`, the token sealed in the vault, and
 * the factory's platform reaching the instance with it through masto.
 */

import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MastodonOAuthOptions } from '../../sandbox/mastodon/oauth.ts';
import { type MastodonSandbox, startMastodonSandbox } from '../../sandbox/mastodon/server.ts';
import { SandboxStats } from '../../sandbox/stats.ts';
import { createWorld, type World, type WorldUser } from '../../sandbox/world.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoCredentialStore } from '../../shared/adapters/dynamo/credential-store.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { keyAttributes } from '../../shared/adapters/dynamo/table.ts';
import { MemoryLogger } from '../../shared/adapters/logger.ts';
import { createMastodonOAuth } from '../../shared/adapters/mastodon/mastodon-oauth.ts';
import { MemoryRefreshLock } from '../../shared/adapters/memory/refresh-lock.ts';
import { startLoopbackReceiver } from '../../shared/adapters/oauth/loopback-receiver.ts';
import { LocalVault } from '../../shared/adapters/vault/local-vault.ts';
import { connectMastodon, MASTODON_OAUTH_SCOPES } from '../../shared/app/connect/connect-mastodon.ts';
import { addAccount } from '../../shared/app/tenants/registry.ts';
import { normalizeInstanceUrl } from '../../shared/domain/account.ts';
import { AuthError, TransientPlatformError, ValidationError } from '../../shared/domain/errors.ts';
import { OAuthGrantError } from '../../shared/ports/oauth.ts';
import { VaultOpenError } from '../../shared/ports/vault.ts';
import { createPlatformFactory, type PlatformFactory } from '../../shared/runtime/platforms.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const db = useDynamoBackend(dynaliteBackend);

interface Setup {
  clock: VirtualClock;
  world: World;
  owner: WorldUser;
  other: WorldUser;
  sandbox: MastodonSandbox;
  tableName: string;
  store: DynamoStore;
  credentials: DynamoCredentialStore;
  lines: string[];
  factory: PlatformFactory;
  /** Every authorize URL and loopback redirect the "browser" saw. */
  visits: { authorize: URL; redirect?: URL; status?: number }[];
  connect(
    input?: Partial<Parameters<typeof connectMastodon>[1]>,
    consentAs?: string,
  ): ReturnType<typeof connectMastodon>;
}

let s: Setup;
let dir: string;
const closers: (() => Promise<void>)[] = [];

async function setup(oauth: MastodonOAuthOptions = {}): Promise<Setup> {
  const clock = new VirtualClock(START);
  const world = createWorld({ seed: 29, clock, orderNoise: 0 });
  const quiet = { followersPerDay: 0, unfollowsPerDay: 0, deletionsPerDay: 0 };
  const owner = world.addOwner({
    handle: 'acme_bakery',
    initialFollowers: 120,
    initialFollowing: 20,
    ...quiet,
  });
  const other = world.addOwner({ handle: 'beta_shop', initialFollowers: 30, initialFollowing: 5, ...quiet });
  const sandbox = await startMastodonSandbox({ world, clock, stats: new SandboxStats(), oauth });
  closers.push(() => sandbox.close());
  dir = await mkdtemp(join(tmpdir(), 'followback-masto-'));
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
  const visits: Setup['visits'] = [];
  return {
    clock,
    world,
    owner,
    other,
    sandbox,
    tableName,
    store,
    credentials,
    lines,
    visits,
    factory: createPlatformFactory({
      credentials,
      lock: new MemoryRefreshLock(),
      clock,
      logger,
      timeoutMs: 2_000,
      x: { apiBaseUrl: 'http://127.0.0.1:9' },
    }),
    connect: (input = {}, consentAs = owner.id) =>
      connectMastodon(
        {
          registry: store,
          credentials,
          clock,
          logger,
          receiver: startLoopbackReceiver,
          mastodon: createMastodonOAuth(),
        },
        {
          clientId: 'acme',
          instance: sandbox.baseUrl,
          timeoutMs: 5_000,
          onAuthorizeUrl(url) {
            const visit: Setup['visits'][number] = { authorize: new URL(url) };
            visits.push(visit);
            void playBrowser(url, consentAs, visit);
          },
          ...input,
        },
      ),
  };
}

/** The owner's browser: the consent page's link for `who`, then the redirect to the loopback receiver. */
async function playBrowser(url: string, who: string, visit: Setup['visits'][number]): Promise<void> {
  const consent = new URL(url);
  consent.searchParams.set('sandbox_consent', who);
  const answer = await fetch(consent, { redirect: 'manual' });
  await answer.arrayBuffer();
  const location = answer.headers.get('location');
  if (location === null) return;
  visit.redirect = new URL(location);
  const back = await fetch(location);
  await back.arrayBuffer();
  visit.status = back.status;
}

beforeEach(async () => {
  s = await setup();
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await rm(dir, { recursive: true, force: true });
});

describe('connect mastodon', () => {
  it('registers an app, approves with PKCE through the loopback redirect, and stores the token sealed', async () => {
    // Act
    const result = await s.connect();

    // Assess: the app, the authorize request, the account and the token
    const [app] = s.sandbox.oauth.apps();
    const asked = s.visits[0]!.authorize;
    expect(s.sandbox.oauth.apps()).toHaveLength(1);
    expect(app).toMatchObject({ name: 'followback', scopes: [...MASTODON_OAUTH_SCOPES] });
    expect(app!.redirectUris).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)]);
    expect(`${asked.origin}${asked.pathname}`).toBe(`${s.sandbox.baseUrl}/oauth/authorize`);
    expect(Object.fromEntries(asked.searchParams)).toEqual({
      response_type: 'code',
      client_id: app!.clientId,
      redirect_uri: app!.redirectUris[0],
      scope: 'read:accounts read:follows write:follows read:notifications',
      state: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/),
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
    });
    expect(s.visits[0]!.status).toBe(200);
    expect(result).toMatchObject({ created: true, pkce: true, scopes: [...MASTODON_OAUTH_SCOPES] });
    expect(result.account).toMatchObject({
      clientId: 'acme',
      accountId: 'mastodon-acme_bakery-sandbox.social',
      network: 'mastodon',
      platformUserId: s.sandbox.idOf(s.owner.id),
      handle: 'acme_bakery@sandbox.social',
      instanceUrl: s.sandbox.baseUrl,
      status: 'active',
      policy: { timeZone: 'Europe/Berlin' },
    });
    expect(await s.store.getAccount(result.account)).toEqual(result.account);
    const stored = (await s.credentials.get(result.account, 'mastodon'))!.credentials;
    expect(stored).toEqual({
      accessToken: expect.any(String),
      scope: 'read:accounts read:follows write:follows read:notifications',
    });
    expect(s.world.tokens.resolve(stored.accessToken)).toBe(s.owner.id);
    expect(s.sandbox.oauth.scopesOf(stored.accessToken)).toEqual([...MASTODON_OAUTH_SCOPES]);
  });

  it('connects without PKCE on an instance that does not offer it (before Mastodon 4.3)', async () => {
    // Prepare
    s = await setup({ pkce: false });

    // Act
    const result = await s.connect();

    // Assess
    expect(result.pkce).toBe(false);
    expect(s.visits[0]!.authorize.searchParams.has('code_challenge')).toBe(false);
    expect(result.account.platformUserId).toBe(s.sandbox.idOf(s.owner.id));
  });

  it('binds the code to its PKCE verifier: the code alone does not buy a token', async () => {
    // Prepare: a flow whose code is intercepted on its way to the receiver
    let code = '';
    const connecting = connectMastodon(
      {
        registry: s.store,
        credentials: s.credentials,
        clock: s.clock,
        receiver: startLoopbackReceiver,
        mastodon: createMastodonOAuth(),
      },
      {
        clientId: 'acme',
        instance: s.sandbox.baseUrl,
        timeoutMs: 2_000,
        async onAuthorizeUrl(url) {
          const consent = new URL(url);
          consent.searchParams.set('sandbox_consent', s.owner.id);
          const answer = await fetch(consent, { redirect: 'manual' });
          code = new URL(answer.headers.get('location')!).searchParams.get('code')!;
          throw new Error('the redirect never reached the receiver');
        },
      },
    );
    await expect(connecting).rejects.toThrow('the redirect never reached the receiver');
    const [app] = s.sandbox.oauth.apps();

    // Act: the thief has the app's id and secret too, but not the verifier
    const stolen = await fetch(`${s.sandbox.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        client_id: app!.clientId,
        client_secret: app!.clientSecret,
        redirect_uri: app!.redirectUris[0]!,
      }).toString(),
    });

    // Assess
    expect(code).not.toBe('');
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await s.store.listAccounts('acme')).toEqual([]);
  });

  it('gets a token that may do no more than its scopes allow', async () => {
    // Prepare: an app that asks to read accounts only, approved by hand
    const base = s.sandbox.baseUrl;
    const redirect = 'http://127.0.0.1:1/callback';
    const app = (await (
      await fetch(`${base}/api/v1/apps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'reader', redirect_uris: redirect, scopes: 'read:accounts' }),
      })
    ).json()) as { client_id: string; client_secret: string };
    const authorize = new URL(`${base}/oauth/authorize`);
    for (const [key, value] of Object.entries({
      response_type: 'code',
      client_id: app.client_id,
      redirect_uri: redirect,
      scope: 'read:accounts',
      state: 'st',
      sandbox_consent: s.owner.id,
    }))
      authorize.searchParams.set(key, value);
    const approved = await fetch(authorize, { redirect: 'manual' });
    const code = new URL(approved.headers.get('location')!).searchParams.get('code')!;
    const { access_token: token } = (await (
      await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          client_id: app.client_id,
          client_secret: app.client_secret,
          redirect_uri: redirect,
        }).toString(),
      })
    ).json()) as { access_token: string };
    const target = s.sandbox.idOf(s.other.id);
    const call = (method: string, path: string) =>
      fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

    // Act
    const me = await call('GET', '/api/v1/accounts/verify_credentials');
    const follow = await call('POST', `/api/v1/accounts/${target}/follow`);
    const relationships = await call('GET', `/api/v1/accounts/relationships?id[]=${target}`);

    // Assess
    expect(me.status).toBe(200);
    expect(follow.status).toBe(403);
    expect(await follow.json()).toEqual({ error: 'This action is outside the authorized scopes' });
    expect(relationships.status).toBe(403);
    expect(s.world.isFollowing(s.owner.id, s.other.id)).toBe(false);
  });

  it('never redirects to a URI the app did not register, nor for an unknown app', async () => {
    // Prepare
    const app = (await (
      await fetch(`${s.sandbox.baseUrl}/api/v1/apps`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_name: 'followback',
          redirect_uris: 'http://127.0.0.1:1/callback',
          scopes: 'read:accounts',
        }).toString(),
      })
    ).json()) as { client_id: string };
    const authorize = (clientId: string, redirect: string) => {
      const url = new URL(`${s.sandbox.baseUrl}/oauth/authorize`);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: redirect,
        scope: 'read:accounts',
        state: 'st',
        sandbox_consent: s.owner.id,
      }).toString();
      return fetch(url, { redirect: 'manual' });
    };

    // Act
    const elsewhere = await authorize(app.client_id, 'https://evil.example/callback');
    const unknown = await authorize('no-such-app', 'http://127.0.0.1:1/callback');
    const registered = await authorize(app.client_id, 'http://127.0.0.1:1/callback');

    // Assess
    expect([elsewhere.status, unknown.status]).toEqual([400, 400]);
    expect(elsewhere.headers.get('location')).toBeNull();
    expect(unknown.headers.get('location')).toBeNull();
    expect(registered.status).toBe(302);
    expect(registered.headers.get('location')).toMatch(
      /^http:\/\/127\.0\.0\.1:1\/callback\?code=.+&state=st$/,
    );
  });

  it('stops with the grant error when the owner denies, storing nothing', async () => {
    // Act
    const connecting = s.connect({}, 'deny');

    // Assess
    await expect(connecting).rejects.toBeInstanceOf(OAuthGrantError);
    await expect(connecting).rejects.toThrow(/access_denied/);
    expect(await s.store.listAccounts('acme')).toEqual([]);
  });

  it('fills in an account declared on this instance; refuses one declared on another instance', async () => {
    // Prepare
    const declared = await addAccount({ store: s.store, clock: s.clock }, 'acme', {
      accountId: 'masto',
      network: 'mastodon',
      handle: 'acme_bakery',
      instance: s.sandbox.baseUrl,
      policy: { promise: { withinHours: 48 } },
    });
    await addAccount({ store: s.store, clock: s.clock }, 'acme', {
      accountId: 'elsewhere',
      network: 'mastodon',
      handle: 'acme_bakery@example.social',
      instance: 'example.social',
    });

    // Act
    const result = await s.connect();
    const wrongInstance = s.connect({ accountId: 'elsewhere' });

    // Assess
    expect(declared.instanceUrl).toBe(s.sandbox.baseUrl);
    expect(result.account).toMatchObject({
      accountId: 'masto',
      platformUserId: s.sandbox.idOf(s.owner.id),
      handle: 'acme_bakery@sandbox.social',
      status: 'active',
      policy: { promise: { withinHours: 48 }, timeZone: 'Europe/Berlin' },
      createdAt: declared.createdAt,
    });
    await expect(wrongInstance).rejects.toThrow(/acme\/elsewhere is on https:\/\/example\.social/);
    expect(s.sandbox.oauth.apps()).toHaveLength(1);
  });

  it('refuses an account connected to another user, and a user who is another account already', async () => {
    // Prepare
    await s.connect({ accountId: 'masto' });
    await s.store.putClient({ ...(await s.store.getClient('acme'))!, clientId: 'beta' });

    // Act
    const wrongUser = s.connect({ accountId: 'masto' }, s.other.id);
    const twice = s.connect({ clientId: 'beta' });

    // Assess
    await expect(wrongUser).rejects.toThrow(
      /acme\/masto is @acme_bakery@sandbox.social .* but @beta_shop@sandbox.social/,
    );
    await expect(twice).rejects.toThrow(/already the account acme\/masto/);
    expect(await s.store.listAccounts('beta')).toEqual([]);
  });

  it('refuses plain http to another machine before any request', async () => {
    // Act
    const connecting = s.connect({ instance: 'http://example.social' });

    // Assess
    await expect(connecting).rejects.toBeInstanceOf(ValidationError);
    await expect(connecting).rejects.toThrow(/must use https/);
    expect(s.sandbox.oauth.apps()).toEqual([]);
  });
});

describe('instance addresses', () => {
  it.each([
    ['example.social', 'https://example.social'],
    ['https://Example.Social/', 'https://example.social'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://localhost:3000/', 'http://localhost:3000'],
  ])('reads %s as %s', (raw, origin) => {
    // Act
    const url = normalizeInstanceUrl(raw);

    // Assess
    expect(url).toBe(origin);
  });

  it.each([
    ['http://example.social', /must use https/],
    ['ftp://example.social', /must be an https URL/],
    ['https://user:pw@example.social', /without credentials/],
    ['https://example.social/@me', /without a path/],
    ['', /must be a host name/],
  ])('refuses %s', (raw, message) => {
    // Act
    const reading = () => normalizeInstanceUrl(raw);

    // Assess
    expect(reading).toThrow(message);
  });
});

describe('Mastodon platforms from the factory', () => {
  it('reaches the instance with the stored token and reads the lists', async () => {
    // Prepare
    const { account } = await s.connect();

    // Act
    const platform = await s.factory.open(account);
    const me = await platform.me();
    const page = await platform.listFollowers(account.platformUserId, { pageSize: 40 });
    const relations = await platform.relationships!(account.platformUserId, [page.users[0]!.id]);

    // Assess
    expect(platform.network).toBe('mastodon');
    expect(me.id).toBe(account.platformUserId);
    expect(page.users).toHaveLength(40);
    expect(relations.get(page.users[0]!.id)?.followedBy).toBe(true);
  });

  it('says AuthError when the instance revoked the token (the worker marks the account token_expired)', async () => {
    // Prepare
    const { account } = await s.connect();
    const token = (await s.credentials.get(account, 'mastodon'))!.credentials.accessToken;
    s.world.tokens.revoke(token);

    // Act
    const reading = s.factory(account).listFollowers(account.platformUserId, { pageSize: 10 });

    // Assess
    await expect(reading).rejects.toBeInstanceOf(AuthError);
  });

  it('goes to the account instance, or where the composition says', async () => {
    // Prepare: the account says another instance; a composition (the local runtime) overrides it
    const { account } = await s.connect();
    const moved = { ...account, instanceUrl: 'http://127.0.0.1:9' };
    const overriding = createPlatformFactory({
      credentials: s.credentials,
      lock: new MemoryRefreshLock(),
      clock: s.clock,
      timeoutMs: 2_000,
      x: { apiBaseUrl: 'http://127.0.0.1:9' },
      mastodon: { urlFor: () => s.sandbox.baseUrl },
    });

    // Act
    const unreachable = await s
      .factory(moved)
      .me()
      .catch((error: unknown) => error);
    const reached = await overriding(moved).me();

    // Assess
    expect(unreachable).toBeInstanceOf(TransientPlatformError);
    expect(reached.id).toBe(account.platformUserId);
  });

  it("does not open one account's sealed token for another account", async () => {
    // Prepare: acme's credential item copied onto beta's account
    const { account } = await s.connect();
    const beta = { ...account, clientId: 'beta' };
    const source = await db.client.send(
      new GetItemCommand({
        TableName: s.tableName,
        Key: keyAttributes({ pk: `CRED#acme#${account.accountId}`, sk: 'CRED#mastodon' }),
      }),
    );
    await db.client.send(
      new PutItemCommand({
        TableName: s.tableName,
        Item: {
          ...source.Item,
          ...keyAttributes({ pk: `CRED#beta#${account.accountId}`, sk: 'CRED#mastodon' }),
        },
      }),
    );

    // Act
    const opening = s.factory.open(beta);

    // Assess
    await expect(opening).rejects.toBeInstanceOf(VaultOpenError);
    await expect(opening).rejects.toThrow(`beta/${account.accountId}`);
  });

  it('logs no token, app secret or authorization code', async () => {
    // Prepare
    const { account } = await s.connect();
    await s.factory(account).me();

    // Act
    const token = (await s.credentials.get(account, 'mastodon'))!.credentials.accessToken;
    const [app] = s.sandbox.oauth.apps();
    const code = s.visits[0]!.redirect!.searchParams.get('code')!;
    const log = s.lines.join('\n');

    // Assess
    expect(log).toContain('"message":"account connected"');
    for (const secret of [token, app!.clientSecret, code]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(log.includes(secret), 'a secret in the logs').toBe(false);
    }
  });
});

describe('followback connect mastodon', () => {
  it('prints the authorize URL, waits for the approval, connects, and logs no token or app secret', async () => {
    // Prepare
    const bin = join(import.meta.dirname, '../../bin/followback.mjs');
    const state = join(dir, 'state');
    await promisify(execFile)(process.execPath, [
      bin,
      ...['client', 'add', 'acme', '--time-zone', 'UTC', '--local', '--dir', state],
    ]);
    const child = spawn(
      process.execPath,
      [
        bin,
        'connect',
        'mastodon',
        '--client',
        'acme',
        '--instance',
        s.sandbox.baseUrl,
        '--no-browser',
      ].concat(['--local', '--dir', state]),
      { env: { ...process.env, LOG_LEVEL: 'debug' } },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no authorize URL in: ${stdout}${stderr}`)), 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        const line = stdout.split('\n').find((l) => l.startsWith('http'));
        if (line) {
          clearTimeout(timer);
          resolve(line.trim());
        }
      });
    });

    // Act: the owner approves in the browser
    const visit: Setup['visits'][number] = { authorize: new URL(url) };
    await playBrowser(url, s.owner.id, visit);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    // Assess
    expect(visit.status).toBe(200);
    expect(code).toBe(0);
    expect(stdout).toContain(
      `connected @acme_bakery@sandbox.social (Mastodon account ${s.sandbox.idOf(s.owner.id)}) as acme/mastodon-acme_bakery-sandbox.social (new account)`,
    );
    const [app] = s.sandbox.oauth.apps();
    expect(s.sandbox.oauth.counts.codeExchanges).toBe(1);
    const output = `${stdout}${stderr}`;
    expect(output).toContain('"message":"account connected"');
    for (const secret of [app!.clientSecret, visit.redirect!.searchParams.get('code')!]) {
      expect(output.includes(secret), 'a secret in the output').toBe(false);
    }
    expect(output).not.toMatch(/sbx-/);
  }, 60_000);
});
