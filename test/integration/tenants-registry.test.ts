import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoCredentialStore } from '../../shared/adapters/dynamo/credential-store.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { LocalVault } from '../../shared/adapters/vault/local-vault.ts';
import {
  addAccount,
  addClient,
  removeAccount,
  removeClient,
  type TenantDeps,
  TenantExistsError,
  TenantNotFoundError,
  updateAccount,
  updateClient,
} from '../../shared/app/tenants/registry.ts';
import { TenantSpecError } from '../../shared/config/tenants.ts';
import { emptyObserveState } from '../../shared/domain/account-state.ts';
import { UNKNOWN_PLATFORM_USER_ID } from '../../shared/domain/tenants/tenant.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';

const START = Date.UTC(2026, 0, 5, 9);
const db = useDynamoBackend(dynaliteBackend);
let dir: string;
let vault: LocalVault;
let store: DynamoStore;
let credentials: DynamoCredentialStore;
let deps: TenantDeps;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'followback-tenants-'));
  vault = await LocalVault.inDirectory(dir);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  const clock = new VirtualClock(START);
  const tableName = await createTestTable(db);
  store = new DynamoStore({ client: db.client, tableName, clock });
  credentials = new DynamoCredentialStore({ client: db.client, tableName, vault, clock });
  deps = { store, clock };
});

const acme = { name: 'Acme Bakery', timeZone: 'Europe/Berlin', digest: { emails: ['owner@acme.example'] } };

describe('tenant registry', () => {
  it('adds a client with its digest schedule, and refuses the same id twice', async () => {
    // Act
    const client = await addClient(deps, 'acme', {
      ...acme,
      digest: { ...acme.digest, day: 'fri', hour: 17 },
    });
    const again = await addClient(deps, 'acme', acme).catch((error: unknown) => error);

    // Assess
    expect(await store.getClient('acme')).toEqual({
      clientId: 'acme',
      name: 'Acme Bakery',
      timeZone: 'Europe/Berlin',
      digestEmails: ['owner@acme.example'],
      digestWeekday: 5,
      digestHour: 17,
      createdAt: START,
    });
    expect(client).toMatchObject({ digestWeekday: 5, digestHour: 17 });
    expect(again).toBeInstanceOf(TenantExistsError);
  });

  it('refuses a bad client naming each field, and writes nothing', async () => {
    // Act
    const adding = addClient(deps, 'acme', {
      timeZone: 'Mars/Olympus',
      digest: { emails: ['nope'], hour: 24 },
    });

    // Assess
    await expect(adding).rejects.toBeInstanceOf(TenantSpecError);
    await expect(adding).rejects.toThrow(/timeZone: must be an IANA time zone/);
    await expect(adding).rejects.toThrow(/digest\.emails\.0: must be an email address/);
    await expect(adding).rejects.toThrow(/digest\.hour/);
    expect(await store.listClients()).toEqual([]);
  });

  it('adds an account waiting for connection, with the client time zone in its policy', async () => {
    // Prepare
    await addClient(deps, 'acme', acme);

    // Act
    const account = await addAccount(deps, 'acme', {
      network: 'x',
      handle: '@AcmeBakery',
      policy: { mode: 'approve' },
    });

    // Assess
    expect(account).toMatchObject({
      clientId: 'acme',
      accountId: 'x-acmebakery',
      handle: 'AcmeBakery',
      platformUserId: UNKNOWN_PLATFORM_USER_ID,
      status: 'not_connected',
      policy: { mode: 'approve', timeZone: 'Europe/Berlin' },
      observe: { detectionDelayHours: 1, usdPerUserRead: 0.01 },
    });
    expect(await store.getAccount(account)).toEqual(account);
  });

  it('refuses an account of an unknown client, a bad policy, or the same platform user twice', async () => {
    // Prepare
    await addClient(deps, 'acme', acme);
    await addClient(deps, 'beta', { timeZone: 'UTC' });
    await addAccount(deps, 'acme', { network: 'x', handle: 'acme', platformUserId: '1001' });

    // Act
    const noClient = await addAccount(deps, 'nobody', { network: 'x', handle: 'x' }).catch(
      (error: unknown) => error,
    );
    const autoOnX = await addAccount(deps, 'acme', {
      network: 'x',
      handle: 'shop',
      policy: { mode: 'auto', caps: { perDay: 450 } },
    }).catch((error: unknown) => error as Error);
    const twin = await addAccount(deps, 'beta', {
      network: 'x',
      handle: 'acme2',
      platformUserId: '1001',
    }).catch((error: unknown) => error as Error);

    // Assess
    expect(noClient).toBeInstanceOf(TenantNotFoundError);
    expect(autoOnX).toBeInstanceOf(TenantSpecError);
    expect((autoOnX as Error).message).toMatch(
      /policy\.mode: 'auto' on X needs acknowledgeXAutomationPolicy/,
    );
    expect((autoOnX as Error).message).toMatch(/policy\.caps\.perDay: 450 is above X's limit/);
    expect((twin as Error).message).toMatch(/x user 1001 is already the account acme\/x-acme/);
    expect((await store.listAccounts()).map((a) => a.accountId)).toEqual(['x-acme']);
  });

  it('updates an account field by field, merging policy overrides, and pauses and unpauses it', async () => {
    // Prepare
    await addClient(deps, 'acme', acme);
    const ref = { clientId: 'acme', accountId: 'x-acme' };
    await addAccount(deps, 'acme', {
      network: 'x',
      handle: 'acme',
      platformUserId: '1001',
      policy: { promise: { withinHours: 48 } },
    });
    await store.putAccount({ ...(await store.getAccount(ref))!, status: 'active' });

    // Act
    const changed = await updateAccount(deps, ref, {
      policy: { promise: { notBeforeHours: 4 } },
      observe: { detectionDelayHours: 12 },
    });
    const paused = await updateAccount(deps, ref, { paused: true });
    const resumed = await updateAccount(deps, ref, { paused: false });
    const same = await updateAccount(deps, ref, {});

    // Assess
    expect(changed.changes.map((c) => c.path)).toEqual([
      'observe.detectionDelayHours',
      'policy.promise.notBeforeHours',
    ]);
    expect(changed.account.policy).toEqual({
      timeZone: 'Europe/Berlin',
      promise: { withinHours: 48, notBeforeHours: 4 },
    });
    expect(paused.account.status).toBe('paused');
    expect(resumed.account.status).toBe('active');
    expect(same.changes).toEqual([]);
  });

  it('refuses to change a connected account into another platform user or network', async () => {
    // Prepare
    await addClient(deps, 'acme', acme);
    const ref = { clientId: 'acme', accountId: 'x-acme' };
    await addAccount(deps, 'acme', { network: 'x', handle: 'acme', platformUserId: '1001' });

    // Act
    const updating = updateAccount(deps, ref, { platformUserId: '2002' });

    // Assess
    await expect(updating).rejects.toThrow(/platformUserId: is 2002 but the connected account is 1001/);
    expect((await store.getAccount(ref))?.platformUserId).toBe('1001');
  });

  it("moves accounts that follow the client's time zone with it, and leaves those with their own", async () => {
    // Prepare
    await addClient(deps, 'acme', acme);
    await addAccount(deps, 'acme', { network: 'x', handle: 'follows' });
    await addAccount(deps, 'acme', { network: 'x', handle: 'own', policy: { timeZone: 'Asia/Tokyo' } });

    // Act
    const result = await updateClient(deps, 'acme', {
      timeZone: 'America/New_York',
      digestEmails: ['new@acme.example'],
    });

    // Assess
    expect(result.changes.map((c) => c.path)).toEqual(['digestEmails', 'timeZone']);
    expect(result.accountsUpdated).toEqual(['x-follows']);
    expect((await store.getAccount({ clientId: 'acme', accountId: 'x-follows' }))?.policy?.timeZone).toBe(
      'America/New_York',
    );
    expect((await store.getAccount({ clientId: 'acme', accountId: 'x-own' }))?.policy?.timeZone).toBe(
      'Asia/Tokyo',
    );
  });

  it('removes an account with its data and its tokens, and nothing of the others', async () => {
    // Prepare
    await addClient(deps, 'acme', acme);
    const shop = await addAccount(deps, 'acme', { network: 'x', handle: 'shop' });
    const blog = await addAccount(deps, 'acme', { network: 'x', handle: 'blog' });
    for (const account of [shop, blog]) {
      await credentials.put(account, 'x', {
        accessToken: `access-of-${account.accountId}`,
        refreshToken: 'r',
      });
      await store.putState(account, { observe: emptyObserveState() }, 0);
    }

    // Act
    const result = await removeAccount(deps, shop);

    // Assess
    expect(result.items).toBe(2);
    expect(await store.getAccount(shop)).toBeUndefined();
    expect(await store.getState(shop)).toBeUndefined();
    expect(await credentials.get(shop, 'x')).toBeUndefined();
    expect((await credentials.get(blog, 'x'))?.credentials.accessToken).toBe('access-of-x-blog');
    expect(await store.getState(blog)).toBeDefined();
  });

  it('removes a client with its accounts, their data and their tokens', async () => {
    // Prepare
    await addClient(deps, 'acme', acme);
    await addClient(deps, 'beta', { timeZone: 'UTC' });
    const accounts = [
      await addAccount(deps, 'acme', { network: 'x', handle: 'shop' }),
      await addAccount(deps, 'acme', { network: 'mastodon', handle: 'shop@mastodon.example' }),
      await addAccount(deps, 'beta', { network: 'x', handle: 'beta' }),
    ];
    for (const account of accounts) {
      await credentials.put(account, account.network, { accessToken: `access-of-${account.accountId}` });
    }

    // Act
    const result = await removeClient(deps, 'acme');

    // Assess
    expect(result.accounts.sort()).toEqual(['mastodon-shop-mastodon.example', 'x-shop']);
    expect(await store.getClient('acme')).toBeUndefined();
    expect(await store.listAccounts('acme')).toEqual([]);
    expect(await credentials.get(accounts[0]!, 'x')).toBeUndefined();
    expect(await credentials.get(accounts[1]!, 'mastodon')).toBeUndefined();
    expect((await credentials.get(accounts[2]!, 'x'))?.credentials.accessToken).toBe('access-of-x-beta');
    expect(await store.getClient('beta')).toBeDefined();
  });
});
