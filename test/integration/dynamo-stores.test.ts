/** The per-port DynamoDB stores share one table: each works on its own, and DynamoStore composes them. */
import { describe, expect, it } from 'vitest';
import { createDynamoStores, DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import type { AccountRecord, AccountRef } from '../../shared/domain/account.ts';
import { emptyObserveState } from '../../shared/domain/account-state.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';

const t0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const ref: AccountRef = { clientId: 'c1', accountId: 'a1' };

function account(): AccountRecord {
  return {
    ...ref,
    network: 'x',
    platformUserId: '1790000000000000001',
    handle: '@a1',
    status: 'active',
    observe: {
      detectionDelayHours: 6,
      readBudgetUsdPerMonth: 5,
      readRequestsPerDay: 100,
      usdPerUserRead: 0.01,
      fullScanMinDays: 30,
      headScanKnownRun: 5,
    },
    policy: { mode: 'approve', denyList: [], quietHours: { from: 22, to: 7 } },
    createdAt: t0,
  };
}

describe('the DynamoDB stores, one per port', () => {
  const db = useDynamoBackend(dynaliteBackend);

  it('reads through the composed store what each port store wrote, and purges it all', async () => {
    // Prepare
    const tableName = await createTestTable(db);
    const clock = { now: () => t0 };
    const stores = createDynamoStores({ client: db.client, tableName, clock });
    const composed = new DynamoStore({ client: db.client, tableName, clock });

    // Act
    await stores.registry.putAccount(account());
    await stores.state.putState(ref, { observe: emptyObserveState() }, 0);
    await stores.graph.putScanPage(ref, 'scan1', 0, new Uint8Array([1, 2, 3]));
    await stores.buckets.putBucket({ scope: 'account', ref, name: 'follows' }, { tokens: 3 }, 0);

    // Assess
    expect((await composed.getAccount(ref))?.handle).toBe('@a1');
    expect((await composed.getState(ref))?.version).toBe(1);
    expect(await composed.getScanPages(ref, 'scan1', 1)).toEqual([new Uint8Array([1, 2, 3])]);
    expect(await composed.getBucket({ scope: 'account', ref, name: 'follows' })).toEqual({
      state: { tokens: 3 },
      version: 1,
    });
    // The state, the scan page and the bucket live in the account's partition; the record does not.
    expect(await stores.registry.purgeAccountData(ref)).toBe(3);
    expect(await stores.state.getState(ref)).toBeUndefined();
    expect(await stores.buckets.getBucket({ scope: 'account', ref, name: 'follows' })).toBeUndefined();
    expect((await stores.registry.getAccount(ref))?.accountId).toBe('a1');
  });
});
