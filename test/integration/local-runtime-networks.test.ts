/**
 * The local runtime with one client on three networks: the demo connects its Bluesky account with an
 * app password and its Mastodon account through the instance's OAuth flow, the same platform factory
 * as on AWS reaches each network's sandbox with that account's own credentials, a simulated day keeps
 * the invariants on every platform, and a second run continues with the stored session and token.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/adapters/logger.ts';
import type { AccountRecord } from '../../shared/domain/account.ts';
import { DEMO_ACCOUNT_IDS, DEMO_CLIENT_ID, seedDemo } from '../../shared/runtime/demo.ts';
import { type LocalRuntime, openLocalRuntime } from '../../shared/runtime/local.ts';
import { simulate } from '../../shared/runtime/simulate.ts';

let dir: string | undefined;
let runtime: LocalRuntime | undefined;

afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function open(): Promise<LocalRuntime> {
  dir ??= await mkdtemp(join(tmpdir(), 'followback-networks-'));
  runtime = await openLocalRuntime({ dir });
  return runtime;
}

function byNetwork(accounts: AccountRecord[], network: AccountRecord['network']): AccountRecord {
  const found = accounts.find((account) => account.network === network);
  if (!found) throw new Error(`no ${network} account`);
  return found;
}

function ownerOf(rt: LocalRuntime, account: AccountRecord): string {
  switch (account.network) {
    case 'x':
      return account.platformUserId;
    case 'bluesky':
      return rt.world.userIdForDid(account.platformUserId)!;
    case 'mastodon':
      return rt.mastodon.userIdOf(account.platformUserId)!;
  }
}

describe('local runtime on X, Bluesky and Mastodon', () => {
  it('connects the demo on all three networks, each through its own flow, and reaches each sandbox', async () => {
    // Prepare
    const rt = await open();

    // Act
    const { accounts } = await seedDemo(rt);
    const mes = await Promise.all(accounts.map((account) => rt.platformFor(account).me()));

    // Assess
    expect(accounts.map((a) => [a.accountId, a.network, a.status])).toEqual([
      [DEMO_ACCOUNT_IDS.shop, 'x', 'active'],
      [DEMO_ACCOUNT_IDS.chef, 'x', 'active'],
      [DEMO_ACCOUNT_IDS.bluesky, 'bluesky', 'active'],
      [DEMO_ACCOUNT_IDS.mastodon, 'mastodon', 'active'],
    ]);
    expect(mes.map((me) => me.id)).toEqual(accounts.map((a) => a.platformUserId));
    const bluesky = byNetwork(accounts, 'bluesky');
    const mastodon = byNetwork(accounts, 'mastodon');
    expect(bluesky.platformUserId).toMatch(/^did:plc:/);
    expect(mastodon.handle).toBe('bakery_masto@sandbox.social');
    expect(rt.world.user(ownerOf(rt, bluesky))?.username).toBe('bakery_bsky');
    expect(rt.world.user(ownerOf(rt, mastodon))?.username).toBe('bakery_masto');
    expect(rt.world.stats.endpoint('com.atproto.server.createSession').requests).toBe(1);
    expect(rt.mastodon.oauth.counts).toMatchObject({ appsRegistered: 1, authorized: 1, codeExchanges: 1 });
    expect((await rt.credentials.get(bluesky, 'bluesky'))?.credentials.appPassword).toBe(
      rt.bluesky.appPasswordFor(ownerOf(rt, bluesky)),
    );
    expect(
      rt.mastodon.oauth.scopesOf((await rt.credentials.get(mastodon, 'mastodon'))!.credentials.accessToken),
    ).toEqual(['read:accounts', 'read:follows', 'write:follows', 'read:notifications']);
  });

  it('runs a day on every network with no duplicate follow, no follow of a non-follower and no 429', async () => {
    // Prepare
    const rt = await open();
    const { accounts } = await seedDemo(rt);

    // Act
    const days = await simulate(
      {
        store: rt.store,
        clock: rt.clock,
        logger: silentLogger,
        platformFor: (account) => rt.platformFor(account),
        accounts: () => rt.store.listAccounts(DEMO_CLIENT_ID),
      },
      { days: 1 },
    );

    // Assess
    expect(days).toHaveLength(1);
    for (const account of accounts) {
      const owner = ownerOf(rt, account);
      const calls = rt.world.followCalls(owner);
      const made = calls.filter((call) => call.outcome === 'followed' || call.outcome === 'pending');
      if (account.network !== 'x' || account.accountId === DEMO_ACCOUNT_IDS.shop) {
        expect(made.length, `${account.accountId} follows back in auto mode`).toBeGreaterThan(0);
      }
      expect(new Set(made.map((call) => call.targetId)).size, `${account.accountId}: one follow each`).toBe(
        made.length,
      );
      expect(calls.filter((call) => call.outcome.startsWith('already_'))).toEqual([]);
      for (const call of made) expect(rt.world.followedAt(owner, call.targetId)).toBeDefined();
      const state = await rt.store.getState(account);
      expect(state?.state.observe.seq, `${account.accountId} observed`).toBeGreaterThan(0);
    }
    expect(rt.world.stats.snapshot().totals).toMatchObject({ rateLimited: 0, duplicateFollowCalls: 0 });
    expect(rt.mastodon.stats.snapshot().totals.rateLimited).toBe(0);
    expect(rt.world.stats.endpoint('app.bsky.graph.getFollowers').requests).toBeGreaterThan(0);
    expect(rt.world.stats.endpoint('com.atproto.repo.createRecord').requests).toBeGreaterThan(0);
    expect(rt.mastodon.stats.endpoint('followers').requests).toBeGreaterThan(0);
    expect(rt.mastodon.stats.endpoint('follow').requests).toBeGreaterThan(0);
    // The Bluesky session (2-hour access JWTs) was refreshed all day, from the stored refresh JWT.
    expect(rt.world.stats.endpoint('com.atproto.server.refreshSession').requests).toBeGreaterThan(5);
    expect(rt.world.stats.endpoint('com.atproto.server.createSession').requests).toBe(1);
  }, 60_000);

  it('continues in a second run with the stored Bluesky session and the replayed Mastodon token', async () => {
    // Prepare: a first run of half a day
    let rt = await open();
    const { accounts } = await seedDemo(rt);
    await simulate(
      {
        store: rt.store,
        clock: rt.clock,
        logger: silentLogger,
        platformFor: (account) => rt.platformFor(account),
        accounts: () => rt.store.listAccounts(DEMO_CLIENT_ID),
      },
      { days: 1, tickMs: 6 * 3_600_000 },
    );
    const mastodon = byNetwork(accounts, 'mastodon');
    const token = (await rt.credentials.get(mastodon, 'mastodon'))!.credentials.accessToken;
    await rt.close();
    runtime = undefined;

    // Act
    rt = await open();
    const again = await seedDemo(rt);
    const mes = await Promise.all(again.accounts.map((account) => rt.platformFor(account).me()));
    rt.clock.set(rt.clock.now() + 3 * 3_600_000);
    const bluesky = byNetwork(again.accounts, 'bluesky');
    const later = await rt.platformFor(bluesky).listFollowers(bluesky.platformUserId, { pageSize: 10 });

    // Assess
    expect(rt.fresh).toBe(false);
    expect(again.accounts).toEqual(accounts);
    expect(mes.map((me) => me.id)).toEqual(accounts.map((a) => a.platformUserId));
    expect((await rt.credentials.get(mastodon, 'mastodon'))!.credentials.accessToken).toBe(token);
    expect(rt.world.tokens.resolve(token)).toBe(ownerOf(rt, mastodon));
    expect(later.users).toHaveLength(10);
    expect(rt.world.stats.endpoint('com.atproto.server.createSession').requests).toBe(0);
    expect(rt.mastodon.oauth.counts.codeExchanges).toBe(0);
  }, 60_000);

  it('gives a state of the X-only demo its Bluesky and Mastodon accounts on the next run', async () => {
    // Prepare: a demo state that has only the X accounts (an earlier version's)
    let rt = await open();
    const { accounts } = await seedDemo(rt);
    for (const account of accounts.filter((a) => a.network !== 'x')) {
      await rt.credentials.deleteAccount(account);
      await rt.store.deleteAccount(account);
    }
    await rt.close();
    runtime = undefined;

    // Act
    rt = await open();
    const again = await seedDemo(rt);

    // Assess: the same owners connected again, none added twice
    expect(again.accounts.map((a) => a.accountId)).toEqual(accounts.map((a) => a.accountId));
    expect(again.accounts.map((a) => a.platformUserId)).toEqual(accounts.map((a) => a.platformUserId));
    expect(rt.world.ownerIds()).toHaveLength(4);
    const mastodon = byNetwork(again.accounts, 'mastodon');
    expect((await rt.platformFor(mastodon).me()).id).toBe(mastodon.platformUserId);
  }, 60_000);
});
