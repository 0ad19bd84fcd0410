import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDigestStore } from '../../shared/adapters/dynamo/digest-store.ts';
import { CorruptItemError } from '../../shared/adapters/dynamo/errors.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { ConflictError } from '../../shared/domain/errors.ts';
import type { ApprovalUse, DigestRun } from '../../shared/ports/digest-store.ts';
import { createTestTable, dynamoBackends, useDynamoBackend } from '../support/backends.ts';

const ref = { clientId: 'acme', accountId: 'x-shop' };
const run: DigestRun = {
  state: 'claimed',
  kind: 'digest',
  periodStart: Date.UTC(2026, 2, 2),
  periodEnd: Date.UTC(2026, 2, 9),
  messageId: 'digest.acme.2026-03-02@agency.example',
  holder: 'w1',
  leaseUntil: Date.UTC(2026, 2, 9, 1),
  attempts: 0,
  claimedAt: Date.UTC(2026, 2, 9),
  updatedAt: Date.UTC(2026, 2, 9),
};
const use: ApprovalUse = {
  accountId: 'x-shop',
  action: 'approve',
  targetIds: ['1', '2'],
  state: 'consumed',
  usedAt: Date.UTC(2026, 2, 9),
  expiresAt: Date.UTC(2026, 2, 17),
};

describe.each(dynamoBackends)('digest store on $name', (backend) => {
  const db = useDynamoBackend(backend);

  async function stores() {
    const tableName = await createTestTable(db);
    return {
      tableName,
      digests: new DynamoDigestStore({ client: db.client, tableName }),
      store: new DynamoStore({ client: db.client, tableName }),
    };
  }

  it('creates a digest run once and moves it only from the version it read', async () => {
    // Prepare
    const { digests } = await stores();
    const key = { scope: 'client', clientId: 'acme', periodKey: '2026-03-02' } as const;
    // Act
    const v1 = await digests.putRun(key, run, 0);
    const duplicate = await digests.putRun(key, { ...run, holder: 'w2' }, 0).catch((error: unknown) => error);
    const v2 = await digests.putRun(key, { ...run, state: 'sending', attempts: 1 }, v1);
    const stale = await digests.putRun(key, { ...run, state: 'sent' }, v1).catch((error: unknown) => error);
    // Assess
    expect(duplicate).toBeInstanceOf(ConflictError);
    expect(stale).toBeInstanceOf(ConflictError);
    expect(await digests.getRun(key)).toEqual({
      run: { ...run, state: 'sending', attempts: 1 },
      version: v2,
    });
    expect(await digests.getRun({ scope: 'agency', periodKey: '2026-03-02' })).toBeUndefined();
  });

  it('marks a token used once', async () => {
    // Prepare
    const { digests } = await stores();
    // Act
    const first = await digests.createApprovalUse('acme', 'token-id-0123456789', use);
    const second = await digests.createApprovalUse('acme', 'token-id-0123456789', { ...use, action: 'skip' });
    const otherTenant = await digests.createApprovalUse('rival', 'token-id-0123456789', use);
    // Assess
    expect([first, second, otherTenant]).toEqual([true, false, true]);
    expect((await digests.getApprovalUse('acme', 'token-id-0123456789'))?.use.action).toBe('approve');
  });

  it('keeps the latest follower sample of a day and lists samples by time', async () => {
    // Prepare
    const { digests } = await stores();
    const day = Date.UTC(2026, 2, 8);
    // Act
    await digests.putFollowerSample(ref, { at: day + 5_000, followers: 105 });
    await digests.putFollowerSample(ref, { at: day + 1_000, followers: 101 });
    await digests.putFollowerSample(ref, { at: day - 86_400_000, followers: 90, following: 12 });
    // Assess
    expect(await digests.listFollowerSamples(ref, day - 86_400_000, day + 86_400_000)).toEqual([
      { at: day - 86_400_000, followers: 90, following: 12 },
      { at: day + 5_000, followers: 105 },
    ]);
    expect(await digests.listFollowerSamples(ref, day, day + 5_000)).toEqual([]);
  });

  it('sets the opt-out on an existing client only, leaving its other fields alone', async () => {
    // Prepare
    const { digests, store } = await stores();
    const client = {
      clientId: 'acme',
      name: 'Acme',
      timeZone: 'Asia/Tokyo',
      digestEmails: ['a@acme.example'],
      createdAt: 1,
      digestHour: 9,
    };
    await store.putClient(client);
    // Act
    const existing = await digests.setDigestOptOut('acme', true, 42);
    const missing = await digests.setDigestOptOut('ghost', true, 42);
    const optedOut = await store.getClient('acme');
    await digests.setDigestOptOut('acme', false, 43);
    // Assess
    expect([existing, missing]).toEqual([true, false]);
    expect(optedOut).toEqual({ ...client, digestOptOut: true, digestOptOutAt: 42 });
    expect(await store.getClient('acme')).toEqual({ ...client, digestOptOut: false });
    expect(await store.getClient('ghost')).toBeUndefined();
  });

  it('reports a damaged run item instead of guessing', async () => {
    // Prepare
    const { digests, tableName } = await stores();
    await db.client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'CLIENT#acme' },
          sk: { S: 'DIGEST#2026-03-02' },
          run: { S: '{"state":"sent"}' },
          version: { N: '1' },
        },
      }),
    );
    // Act / Assess
    await expect(
      digests.getRun({ scope: 'client', clientId: 'acme', periodKey: '2026-03-02' }),
    ).rejects.toThrow(CorruptItemError);
  });
});
