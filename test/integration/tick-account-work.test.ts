/**
 * The account-work policy (shared/app/account-work.ts) where no Lambda runs it: the local runtime's
 * ticks (`npm start`, shared/runtime/simulate.ts) mark an account whose access the network refuses
 * `token_expired` and go on with the others, as the AWS account worker does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/adapters/logger.ts';
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
  dir = await mkdtemp(join(tmpdir(), 'followback-account-work-'));
  runtime = await openLocalRuntime({ dir });
  return runtime;
}

function ticksOf(rt: LocalRuntime, hours: number) {
  return simulate(
    {
      store: rt.store,
      clock: rt.clock,
      logger: silentLogger,
      platformFor: (account) => rt.platforms.open(account),
      accounts: () => rt.store.listAccounts(DEMO_CLIENT_ID),
    },
    { days: hours / 24 },
  );
}

describe('account work in the local runtime', () => {
  it('marks an account whose token the network refuses token_expired and keeps ticking the others', async () => {
    // Prepare: the Mastodon account's token was revoked on the instance
    const rt = await open();
    const { accounts } = await seedDemo(rt);
    const mastodon = accounts.find((account) => account.network === 'mastodon')!;
    const stored = (await rt.credentials.get(mastodon, 'mastodon'))!;
    await rt.credentials.put(
      mastodon,
      'mastodon',
      { ...stored.credentials, accessToken: 'revoked-token-0123456789' },
      stored.version,
    );

    // Act
    const days = await ticksOf(rt, 1);

    // Assess
    expect(days).toHaveLength(1);
    expect((await rt.store.getAccount(mastodon))?.status).toBe('token_expired');
    const shop = (await rt.store.getAccount({ clientId: DEMO_CLIENT_ID, accountId: DEMO_ACCOUNT_IDS.shop }))!;
    expect(shop.status).toBe('active');
    expect((await rt.store.getState(shop))?.state.observe.seq).toBeGreaterThan(0);
  }, 60_000);

  it('marks an account with no stored credentials token_expired, touching none of its state', async () => {
    // Prepare: the Bluesky account's credentials are gone
    const rt = await open();
    const { accounts } = await seedDemo(rt);
    const bluesky = accounts.find((account) => account.network === 'bluesky')!;
    await rt.credentials.delete(bluesky, 'bluesky');

    // Act
    await ticksOf(rt, 1);

    // Assess
    expect((await rt.store.getAccount(bluesky))?.status).toBe('token_expired');
    expect(await rt.store.getState(bluesky)).toBeUndefined();
  }, 60_000);
});
