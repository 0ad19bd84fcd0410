import { MASTODON_CONSENT_PARAM } from '../../sandbox/mastodon/oauth.ts';
import type { WorldUser } from '../../sandbox/world.ts';
import { blueskyLogin } from '../adapters/bluesky/bluesky-login.ts';
import { createMastodonOAuth } from '../adapters/mastodon/mastodon-oauth.ts';
import { startLoopbackReceiver } from '../adapters/oauth/loopback-receiver.ts';
import { connectBluesky } from '../app/connect/connect-bluesky.ts';
import { connectMastodon } from '../app/connect/connect-mastodon.ts';
import { decideApprovals, listCandidates } from '../app/engine/approve.ts';
import { resolveObserveSettings } from '../config/observe-settings.ts';
import type { AccountRecord, ClientRecord } from '../domain/account.ts';
import { ConfigError } from '../domain/errors.ts';
import type { Network } from '../ports/platform.ts';
import type { LocalRuntime } from './local.ts';

export const DEMO_CLIENT_ID = 'demo';

/** The demo's accounts: two on X, one on Bluesky, one on Mastodon. */
export const DEMO_ACCOUNT_IDS = {
  shop: 'x-demobakery',
  chef: 'x-demochef',
  bluesky: 'bluesky-bakery',
  mastodon: 'mastodon-bakery',
} as const;

const NETWORK_ORDER: Record<Network, number> = { x: 0, bluesky: 1, mastodon: 2 };

/**
 * The demo client of `npm start`: a bakery with two X accounts on the sandbox, one in `auto` mode
 * (acknowledged, as the sandbox is no real X) and one in `approve` mode whose candidates the demo
 * approves once a day; beside them a Bluesky and a Mastodon account in their networks' default
 * `auto` mode. The X read budget is generous so the week shows full scans (and so lost followers) as
 * well as head scans; reads are free on Bluesky and Mastodon.
 *
 * The Bluesky and Mastodon accounts are connected the way a person connects them: Bluesky with an
 * app password (`connectBluesky`, createSession on the sandbox), Mastodon through the instance's
 * OAuth flow (`connectMastodon`: app registration, authorize with PKCE, a loopback redirect, the
 * code exchange), the demo playing the owner's browser on the sandbox's consent link.
 *
 * A state of an earlier version (the X accounts only) gains the missing accounts on the next run.
 */
export async function seedDemo(
  runtime: LocalRuntime,
): Promise<{ client: ClientRecord; accounts: AccountRecord[] }> {
  let client = await runtime.store.getClient(DEMO_CLIENT_ID);
  const fresh = client === undefined;
  if (client === undefined) {
    client = {
      clientId: DEMO_CLIENT_ID,
      name: 'Demo Bakery',
      timeZone: 'Europe/Berlin',
      digestEmails: ['owner@demo-bakery.example'],
      createdAt: runtime.clock.now(),
    };
    await runtime.store.putClient(client);
  }
  const have = new Set((await runtime.store.listAccounts(DEMO_CLIENT_ID)).map((a) => a.accountId));
  let added = false;
  if (!have.has(DEMO_ACCOUNT_IDS.shop) && !have.has(DEMO_ACCOUNT_IDS.chef)) {
    await seedXAccounts(runtime, client);
    added = true;
  }
  if (!have.has(DEMO_ACCOUNT_IDS.bluesky)) {
    await seedBlueskyAccount(runtime, client);
    added = true;
  }
  if (!have.has(DEMO_ACCOUNT_IDS.mastodon)) {
    await seedMastodonAccount(runtime, client);
    added = true;
  }
  if (fresh || added) await runtime.save();
  const accounts = (await runtime.store.listAccounts(DEMO_CLIENT_ID)).sort(
    (a, b) => NETWORK_ORDER[a.network] - NETWORK_ORDER[b.network] || a.createdAt - b.createdAt,
  );
  return { client, accounts };
}

async function seedXAccounts(runtime: LocalRuntime, client: ClientRecord): Promise<void> {
  const now = runtime.clock.now();
  const shop =
    ownerByHandle(runtime, 'demobakery') ??
    runtime.world.addOwner({
      handle: 'demobakery',
      name: 'Demo Bakery',
      initialFollowers: 1_500,
      initialFollowing: 400,
      followersPerDay: 40,
      unfollowsPerDay: 4,
    });
  const chef =
    ownerByHandle(runtime, 'demochef') ??
    runtime.world.addOwner({
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
      accountId: DEMO_ACCOUNT_IDS.shop,
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
      accountId: DEMO_ACCOUNT_IDS.chef,
      network: 'x',
      platformUserId: chef.id,
      handle: chef.username,
      status: 'active',
      observe,
      policy: { mode: 'approve', timeZone: client.timeZone },
      createdAt: now,
    },
  ];
  for (const account of accounts) {
    await runtime.store.putAccount(account);
    runtime.connect(account, runtime.world.issueToken(account.platformUserId));
  }
}

/** The Bluesky account, connected with its app password as `followback connect bluesky` does. */
async function seedBlueskyAccount(runtime: LocalRuntime, client: ClientRecord): Promise<void> {
  const owner =
    ownerByHandle(runtime, 'bakery_bsky') ??
    runtime.world.addOwner({
      handle: 'bakery_bsky',
      name: 'Demo Bakery',
      initialFollowers: 800,
      initialFollowing: 200,
      followersPerDay: 20,
      unfollowsPerDay: 2,
    });
  await connectBluesky(
    {
      registry: runtime.store,
      credentials: runtime.credentials,
      clock: runtime.clock,
      login: blueskyLogin({ clock: runtime.clock }),
    },
    {
      clientId: client.clientId,
      accountId: DEMO_ACCOUNT_IDS.bluesky,
      service: runtime.bluesky.baseUrl,
      identifier: runtime.bluesky.handleOf(owner.id),
      appPassword: runtime.bluesky.appPasswordFor(owner.id),
    },
  );
}

/** The Mastodon account, connected through the instance's OAuth flow as `followback connect mastodon` does. */
async function seedMastodonAccount(runtime: LocalRuntime, client: ClientRecord): Promise<void> {
  const owner =
    ownerByHandle(runtime, 'bakery_masto') ??
    runtime.world.addOwner({
      handle: 'bakery_masto',
      name: 'Demo Bakery',
      initialFollowers: 500,
      initialFollowing: 120,
      followersPerDay: 12,
      unfollowsPerDay: 1,
    });
  let browserFailed: (error: unknown) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => {
    browserFailed = reject;
  });
  failure.catch(() => undefined);
  await Promise.race([
    connectMastodon(
      {
        registry: runtime.store,
        credentials: runtime.credentials,
        clock: runtime.clock,
        receiver: startLoopbackReceiver,
        mastodon: createMastodonOAuth(),
      },
      {
        clientId: client.clientId,
        accountId: DEMO_ACCOUNT_IDS.mastodon,
        instance: runtime.mastodon.baseUrl,
        timeoutMs: 30_000,
        onAuthorizeUrl(url) {
          // Not awaited: the flow waits for the redirect the browser is about to make.
          approveAs(url, owner.id).catch(browserFailed);
        },
      },
    ),
    failure,
  ]);
}

/**
 * Plays the owner's browser on the sandbox: opens the authorize URL with the consent page's choice
 * of this owner (the link a person would click), then follows the redirect to the loopback receiver.
 */
async function approveAs(authorizeUrl: string, ownerId: string): Promise<void> {
  const consent = new URL(authorizeUrl);
  consent.searchParams.set(MASTODON_CONSENT_PARAM, ownerId);
  const answer = await fetch(consent, { redirect: 'manual' });
  await answer.arrayBuffer();
  const location = answer.headers.get('location');
  if (answer.status !== 302 || location === null) {
    throw new ConfigError(`the Mastodon sandbox did not approve the demo's connect (HTTP ${answer.status})`);
  }
  const back = await fetch(location);
  await back.arrayBuffer();
}

function ownerByHandle(runtime: LocalRuntime, handle: string): WorldUser | undefined {
  for (const id of runtime.world.ownerIds()) {
    const user = runtime.world.user(id);
    if (user?.username === handle) return user;
  }
  return undefined;
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
