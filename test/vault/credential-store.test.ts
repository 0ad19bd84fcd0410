import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import {
  credentialKey,
  DynamoCredentialStore,
  legacyCredentialKey,
} from '../../shared/adapters/dynamo/credential-store.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { keyAttributes } from '../../shared/adapters/dynamo/table.ts';
import { KmsVault } from '../../shared/adapters/vault/kms-vault.ts';
import { LocalVault } from '../../shared/adapters/vault/local-vault.ts';
import type { AccountRecord, AccountRef } from '../../shared/domain/account.ts';
import { ConflictError } from '../../shared/domain/errors.ts';
import { type Vault, VaultOpenError } from '../../shared/ports/vault.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { type KmsTarget, kmsBackends } from './kms-backends.ts';

const START = Date.UTC(2026, 0, 5, 9);
const acmeShop: AccountRef = { clientId: 'acme', accountId: 'x-shop' };
const acmeBlog: AccountRef = { clientId: 'acme', accountId: 'x-blog' };
const betaShop: AccountRef = { clientId: 'beta', accountId: 'x-shop' };
const acmeTokens = { accessToken: 'acme-access-SECRET-1', refreshToken: 'acme-refresh-SECRET-1' };

function account(ref: AccountRef): AccountRecord {
  return {
    ...ref,
    network: 'x',
    platformUserId: '1',
    handle: ref.accountId,
    status: 'active',
    observe: {
      detectionDelayHours: 6,
      readBudgetUsdPerMonth: 10,
      readRequestsPerDay: 100,
      usdPerUserRead: 0.01,
      fullScanMinDays: 7,
      headScanKnownRun: 3,
    },
    createdAt: START,
  };
}

const db = useDynamoBackend(dynaliteBackend);

interface VaultCase {
  name: string;
  start(): Promise<{ vault: Vault; stop(): Promise<void> }>;
}

const vaults: VaultCase[] = [
  {
    name: 'the local AES-GCM vault',
    async start() {
      const dir = await mkdtemp(join(tmpdir(), 'followback-cred-'));
      return {
        vault: await LocalVault.inDirectory(dir),
        stop: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  ...kmsBackends.map(
    (backend): VaultCase => ({
      name: `the KMS vault on ${backend.name}`,
      async start() {
        const target: KmsTarget = await backend.start();
        return { vault: new KmsVault({ client: target.client, keyId: target.keyId }), stop: target.stop };
      },
    }),
  ),
];

describe.each(vaults)('credential store with $name', (vaultCase) => {
  let vault: Vault;
  let stopVault: () => Promise<void>;
  let tableName: string;
  let credentials: DynamoCredentialStore;

  beforeAll(async () => {
    const started = await vaultCase.start();
    vault = started.vault;
    stopVault = started.stop;
    tableName = await createTestTable(db);
    credentials = new DynamoCredentialStore({
      client: db.client,
      tableName,
      vault,
      clock: new VirtualClock(START),
    });
  });
  afterAll(async () => {
    await stopVault();
  });

  it('returns the stored credentials, and keeps no plaintext in the item', async () => {
    // Act
    const version = await credentials.put(acmeShop, 'x', acmeTokens);
    const stored = await credentials.get(acmeShop, 'x');

    // Assess
    expect(stored).toEqual({ credentials: acmeTokens, version, updatedAt: START });
    const raw = await db.client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: keyAttributes({ pk: 'CRED#acme#x-shop', sk: 'CRED#x' }),
      }),
    );
    const rawText = JSON.stringify(raw.Item, (_k, v) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
    );
    expect(rawText).not.toContain('SECRET');
    expect(raw.Item?.scheme?.S).toBe(vault.scheme);
  });

  it.each([
    ["another tenant's account", betaShop, 'x'],
    ['another account of the same tenant', acmeBlog, 'x'],
    ['another network of the same account', acmeShop, 'bluesky'],
  ] as const)('refuses a ciphertext copied onto %s with VaultOpenError', async (_label, target, network) => {
    // Prepare
    await credentials.put(acmeShop, 'x', acmeTokens);
    const source = await db.client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: keyAttributes({ pk: 'CRED#acme#x-shop', sk: 'CRED#x' }),
      }),
    );
    const copy = {
      ...source.Item,
      ...keyAttributes({ pk: `CRED#${target.clientId}#${target.accountId}`, sk: `CRED#${network}` }),
    };
    await db.client.send(new PutItemCommand({ TableName: tableName, Item: copy }));

    // Act
    const reading = credentials.get(target, network);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(VaultOpenError);
    await expect(reading).rejects.toThrow(`${target.clientId}/${target.accountId}`);
    await expect(reading).rejects.not.toThrow(/SECRET/);
  });

  it('replaces a refreshed pair only once when two workers race with the same version', async () => {
    // Prepare
    const ref = { clientId: 'acme', accountId: 'x-race' };
    const v1 = await credentials.put(ref, 'x', acmeTokens);

    // Act
    const first = await credentials.put(ref, 'x', { accessToken: 'new-1', refreshToken: 'r-1' }, v1);
    const second = credentials.put(ref, 'x', { accessToken: 'new-2', refreshToken: 'r-2' }, v1);

    // Assess
    await expect(second).rejects.toBeInstanceOf(ConflictError);
    expect((await credentials.get(ref, 'x'))?.credentials.accessToken).toBe('new-1');
    expect(first).toBe(v1 + 1);
  });

  it("removes every token of a client's accounts when the client is removed, and no other client's", async () => {
    // Prepare
    const registry = new DynamoStore({ client: db.client, tableName });
    const gamma1 = { clientId: 'gamma', accountId: 'x-one' };
    const gamma2 = { clientId: 'gamma', accountId: 'x-two' };
    const delta = { clientId: 'delta', accountId: 'x-one' };
    for (const ref of [gamma1, gamma2, delta]) {
      await registry.putAccount(account(ref));
      await credentials.put(ref, 'x', { accessToken: `${ref.clientId}-token` });
    }
    await credentials.put(gamma2, 'mastodon', { accessToken: 'gamma-mastodon' });

    // Act
    const removed = await credentials.deleteClient('gamma');

    // Assess
    expect(removed).toBe(3);
    expect(await credentials.get(gamma1, 'x')).toBeUndefined();
    expect(await credentials.get(gamma2, 'x')).toBeUndefined();
    expect(await credentials.get(gamma2, 'mastodon')).toBeUndefined();
    expect((await credentials.get(delta, 'x'))?.credentials.accessToken).toBe('delta-token');
  });

  it('keeps credentials out of the account partition, which the approval function may read', async () => {
    // Prepare
    const ref = { clientId: 'epsilon', accountId: 'x-one' };
    const registry = new DynamoStore({ client: db.client, tableName });
    await credentials.put(ref, 'x', { accessToken: 'epsilon-token' });

    // Act
    const inAccountPartition = await registry.purgeAccountData(ref);

    // Assess: purging the account's data removes them too
    expect(inAccountPartition).toBe(1);
    expect(await credentials.get(ref, 'x')).toBeUndefined();
  });

  it('reads credentials an older version kept in the account partition, and moves them once', async () => {
    // Prepare: the old item layout, written by the previous version of put
    const ref = { clientId: 'zeta', accountId: 'x-one' };
    const version = await credentials.put(ref, 'x', { accessToken: 'zeta-token' });
    const moved = await db.client.send(
      new GetItemCommand({ TableName: tableName, Key: keyAttributes(credentialKey(ref, 'x')) }),
    );
    await db.client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...moved.Item!, ...keyAttributes(legacyCredentialKey(ref, 'x')) },
      }),
    );
    await credentials.delete(ref, 'x');
    await db.client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { ...moved.Item!, ...keyAttributes(legacyCredentialKey(ref, 'x')) },
      }),
    );

    // Act
    const first = await credentials.get(ref, 'x');
    const refreshed = await credentials.put(ref, 'x', { accessToken: 'zeta-token-2' }, version);
    const legacy = await db.client.send(
      new GetItemCommand({ TableName: tableName, Key: keyAttributes(legacyCredentialKey(ref, 'x')) }),
    );

    // Assess
    expect(first).toMatchObject({ credentials: { accessToken: 'zeta-token' }, version });
    expect(refreshed).toBe(version + 1);
    expect(legacy.Item).toBeUndefined();
    expect((await credentials.get(ref, 'x'))?.credentials.accessToken).toBe('zeta-token-2');
  });

  it('refuses credentials without an access token, naming the field', async () => {
    const writing = credentials.put(acmeShop, 'x', { accessToken: '' });

    await expect(writing).rejects.toThrow(/accessToken/);
  });
});
