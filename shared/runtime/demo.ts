import { decideApprovals, listCandidates } from '../app/engine/approve.ts';
import { resolveObserveSettings } from '../config/observe-settings.ts';
import type { AccountRecord, ClientRecord } from '../domain/account.ts';
import type { LocalRuntime } from './local.ts';

export const DEMO_CLIENT_ID = 'demo';

/**
 * The demo client of `npm start`: a bakery with two X accounts on the sandbox, one in `auto` mode
 * (acknowledged, as the sandbox is no real X) and one in `approve` mode whose candidates the demo
 * approves once a day. The read budget is generous so the week shows full scans (and so lost
 * followers) as well as head scans.
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
  const shop = runtime.world.addOwner({
    handle: 'demobakery',
    name: 'Demo Bakery',
    initialFollowers: 1_500,
    initialFollowing: 400,
    followersPerDay: 40,
    unfollowsPerDay: 4,
  });
  const chef = runtime.world.addOwner({
    handle: 'demochef',
    name: 'Demo Bakery Chef',
    initialFollowers: 600,
    initialFollowing: 150,
    followersPerDay: 15,
    unfollowsPerDay: 1,
  });
  const observe = resolveObserveSettings('x', { readBudgetUsdPerMonth: 150, fullScanMinDays: 3 });
  const accounts: AccountRecord[] = [
    {
      clientId: DEMO_CLIENT_ID,
      accountId: 'x-demobakery',
      network: 'x',
      platformUserId: shop.id,
      handle: shop.username,
      status: 'active',
      observe,
      // On the sandbox only: X's rules forbid automatic follow-back on the real X (see README).
      policy: { mode: 'auto', acknowledgeXAutomationPolicy: true, timeZone: client.timeZone },
      createdAt: now,
    },
    {
      clientId: DEMO_CLIENT_ID,
      accountId: 'x-demochef',
      network: 'x',
      platformUserId: chef.id,
      handle: chef.username,
      status: 'active',
      observe,
      policy: { mode: 'approve', timeZone: client.timeZone },
      createdAt: now,
    },
  ];
  await runtime.store.putClient(client);
  for (const account of accounts) {
    await runtime.store.putAccount(account);
    runtime.connect(account, runtime.world.issueToken(account.platformUserId));
  }
  await runtime.save();
  return { client, accounts };
}

/**
 * The demo's daily round of approvals, through the same use case a person's CLI or approval page
 * calls: candidates without spam signals are approved, the others skipped.
 */
export async function approveDemoCandidates(
  runtime: LocalRuntime,
  accounts: readonly AccountRecord[],
): Promise<{ approved: number; skipped: number }> {
  let approved = 0;
  let skipped = 0;
  for (const account of accounts) {
    if ((account.policy as { mode?: string } | undefined)?.mode !== 'approve') continue;
    const candidates = await listCandidates(runtime.store, account);
    const result = await decideApprovals(
      account,
      {
        approve: candidates.filter((task) => task.signals.length === 0).map((task) => task.targetId),
        skip: candidates.filter((task) => task.signals.length > 0).map((task) => task.targetId),
      },
      { tasks: runtime.store, state: runtime.store, clock: runtime.clock },
    );
    approved += result.approved.length;
    skipped += result.skipped.length;
  }
  return { approved, skipped };
}
