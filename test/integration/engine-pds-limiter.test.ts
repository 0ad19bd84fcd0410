/**
 * Bluesky's PDS counts requests per client IP (3,000 per 5 minutes), so every account of one
 * deployment on one PDS host shares that window: the follow limiters say so with a deployment-wide
 * bucket per PDS host, on the real DynamoDB store (dynalite).
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import {
  blockUntil,
  loadFollowLimiters,
  pdsHostBucketName,
  takeFollow,
} from '../../shared/app/engine/limits.ts';
import { resolvePolicy } from '../../shared/config/policy.ts';
import type { AccountRecord } from '../../shared/domain/account.ts';
import { pdsHostLimiterConfig } from '../../shared/domain/engine/policy.ts';
import { createTestTable, dynaliteBackend, useDynamoBackend } from '../support/backends.ts';

const db = useDynamoBackend(dynaliteBackend);
const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;

function account(clientId: string, network: AccountRecord['network'], instanceUrl?: string): AccountRecord {
  return {
    clientId,
    accountId: `${network}-${clientId}`,
    network,
    platformUserId: `did:plc:${clientId}`,
    handle: `${clientId}.bsky.social`,
    status: 'active',
    createdAt: START,
    ...(instanceUrl === undefined ? {} : { instanceUrl }),
  } as AccountRecord;
}

const ROOMY = resolvePolicy('bluesky', {
  caps: { per15Minutes: 400, perDay: 1_000, pacePerHour: 100_000, paceBurst: 400 },
});

async function followsUntilRefused(store: DynamoStore, of: AccountRecord, now: number, max: number) {
  const limiters = await loadFollowLimiters(store, of, ROOMY, null);
  for (let made = 0; made < max; made += 1) {
    const outcome = await takeFollow(store, limiters, now);
    if (!outcome.ok) return { made, availableAt: outcome.availableAt };
  }
  return { made: max, availableAt: undefined };
}

describe('the deployment-wide window of a Bluesky PDS host', () => {
  it('is shared by every account of the deployment on that host, and by no other', async () => {
    // Prepare
    const store = new DynamoStore({
      client: db.client,
      tableName: await createTestTable(db),
      clock: new VirtualClock(START),
    });
    const perHost = pdsHostLimiterConfig().windows[0]!.limit;

    // Act: one account spends most of it, a second on the same host the rest; a third elsewhere
    const first = await followsUntilRefused(store, account('acme', 'bluesky'), START, 400);
    const second = await followsUntilRefused(store, account('bakery', 'bluesky'), START, 400);
    const elsewhere = await followsUntilRefused(
      store,
      account('cafe', 'bluesky', 'https://pds.example.com'),
      START,
      400,
    );

    // Assess
    expect(perHost).toBe(500);
    expect(first.made).toBe(400);
    expect(second.made).toBe(100);
    // free again when the window (5 minutes, counted in 1-minute slots) has moved on
    expect(second.availableAt).toBeLessThanOrEqual(START + 6 * MINUTE);
    expect(elsewhere.made).toBe(400);
    expect(pdsHostBucketName(account('x', 'bluesky', 'https://PDS.example.com'))).toBe(
      'follow-bluesky-pds:pds.example.com',
    );
  });

  it('holds every account on the host after a 429 of the per-IP window, but not after one of write points', async () => {
    // Prepare
    const store = new DynamoStore({
      client: db.client,
      tableName: await createTestTable(db),
      clock: new VirtualClock(START),
    });
    const acme = await loadFollowLimiters(store, account('acme', 'bluesky'), ROOMY, null);
    const bakery = account('bakery', 'bluesky');
    const cafe = account('cafe', 'bluesky', 'https://pds.example.com');
    const cafeLimiters = await loadFollowLimiters(store, cafe, ROOMY, null);

    // Act
    await blockUntil(store, cafeLimiters, START + 60 * MINUTE, { policy: '5000;w=3600' });
    await blockUntil(store, acme, START + 4 * MINUTE, { policy: '3000;w=300' });
    const bakeryNow = await followsUntilRefused(store, bakery, START + MINUTE, 1);
    const bakeryLater = await followsUntilRefused(store, bakery, START + 4 * MINUTE + 1, 1);
    const otherOnCafeHost = await followsUntilRefused(
      store,
      account('deli', 'bluesky', 'https://pds.example.com'),
      START + MINUTE,
      1,
    );

    // Assess
    expect(bakeryNow.made).toBe(0);
    expect(bakeryLater.made).toBe(1);
    expect(otherOnCafeHost.made).toBe(1);
  });

  it('leaves other networks alone', async () => {
    // Prepare
    const store = new DynamoStore({
      client: db.client,
      tableName: await createTestTable(db),
      clock: new VirtualClock(START),
    });

    // Act
    const limiters = await loadFollowLimiters(
      store,
      account('acme', 'mastodon', 'https://example.social'),
      resolvePolicy('mastodon'),
      null,
    );

    // Assess
    expect(limiters.map((limiter) => limiter.key.scope)).toEqual(['account']);
  });
});
