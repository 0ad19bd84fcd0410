import { resolveObserveSettings } from '../config/observe-settings.ts';
import type { AccountRecord, ClientRecord } from '../domain/account.ts';
import type { LocalRuntime } from './local.ts';

export const DEMO_CLIENT_ID = 'demo';

/**
 * The demo client of `npm start`: a bakery with an X account on the sandbox. Its read budget is
 * generous so the week shows full scans (and so lost followers) as well as head scans.
 */
export async function seedDemo(
  runtime: LocalRuntime,
): Promise<{ client: ClientRecord; accounts: AccountRecord[] }> {
  const existing = await runtime.store.getClient(DEMO_CLIENT_ID);
  if (existing) {
    return { client: existing, accounts: await runtime.store.listAccounts(DEMO_CLIENT_ID) };
  }
  const now = runtime.clock.now();
  const client: ClientRecord = {
    clientId: DEMO_CLIENT_ID,
    name: 'Demo Bakery',
    timeZone: 'Europe/Berlin',
    digestEmails: ['owner@demo-bakery.example'],
    createdAt: now,
  };
  const owner = runtime.world.addOwner({
    handle: 'demobakery',
    name: 'Demo Bakery',
    initialFollowers: 1_500,
    initialFollowing: 400,
    followersPerDay: 40,
    unfollowsPerDay: 4,
  });
  const account: AccountRecord = {
    clientId: DEMO_CLIENT_ID,
    accountId: 'x-demobakery',
    network: 'x',
    platformUserId: owner.id,
    handle: owner.username,
    status: 'active',
    observe: resolveObserveSettings('x', { readBudgetUsdPerMonth: 150, fullScanMinDays: 3 }),
    createdAt: now,
  };
  await runtime.store.putClient(client);
  await runtime.store.putAccount(account);
  runtime.connect(account, runtime.world.issueToken(owner.id));
  await runtime.save();
  return { client, accounts: [account] };
}
