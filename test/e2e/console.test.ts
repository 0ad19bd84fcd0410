/**
 * The agency console and remote onboarding end to end, in headless Chromium, on the local runtime
 * (dynalite, the X, Bluesky and Mastodon sandboxes): the operator signs in with the one-time link
 * and makes an invite; the client, in a browser of their own, connects X and Mastodon through the
 * sandboxes' OAuth and Bluesky with an app password; after two simulated days the operator sees the
 * three accounts, approves candidates across accounts, reviews and exports one-sided follows,
 * unfollows two on Bluesky; the audit log shows each action; a reused invite is refused.
 * Screenshots of each page go to test-artifacts/console/.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorldUser } from '../../sandbox/world.ts';
import { blueskyLogin } from '../../shared/adapters/bluesky/bluesky-login.ts';
import { systemClock } from '../../shared/adapters/clock.ts';
import { DynamoConsoleStore } from '../../shared/adapters/dynamo/console-store.ts';
import { DynamoDigestStore } from '../../shared/adapters/dynamo/digest-store.ts';
import { silentLogger } from '../../shared/adapters/logger.ts';
import { createMastodonOAuth } from '../../shared/adapters/mastodon/mastodon-oauth.ts';
import { LocalConsoleAuth } from '../../shared/adapters/web/local-auth.ts';
import { XPlatform } from '../../shared/adapters/x/x-platform.ts';
import { type HeadlessChromium, launchChromium, wholePage } from '../../shared/runtime/chromium.ts';
import { startWebServer, type WebServer, wireWeb } from '../../shared/runtime/console-server.ts';
import { type LocalRuntime, openLocalRuntime } from '../../shared/runtime/local.ts';
import { simulate } from '../../shared/runtime/simulate.ts';

const ARTIFACTS = resolve('test-artifacts/console');
const KEY = 'console-e2e-signing-key-0123456789abcdef';
const CLIENT = 'acme';

describe('the console and client invites in headless Chromium', () => {
  let dir: string;
  let runtime: LocalRuntime;
  let server: WebServer;
  let auth: LocalConsoleAuth;
  let operatorBrowser: HeadlessChromium | undefined;
  let clientBrowser: HeadlessChromium | undefined;
  let owners: { x: WorldUser; bluesky: WorldUser; mastodon: WorldUser };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'followback-console-'));
    runtime = await openLocalRuntime({ dir, seed: 4242 });
    const grow = { followersPerDay: 20, unfollowsPerDay: 1 };
    owners = {
      x: runtime.world.addOwner({
        handle: 'acme_x',
        name: 'Acme Bakery',
        initialFollowers: 80,
        initialFollowing: 60,
        ...grow,
      }),
      bluesky: runtime.world.addOwner({
        handle: 'acme_bsky',
        name: 'Acme Bakery',
        initialFollowers: 70,
        initialFollowing: 60,
        ...grow,
      }),
      mastodon: runtime.world.addOwner({
        handle: 'acme_masto',
        name: 'Acme Bakery',
        initialFollowers: 60,
        initialFollowing: 50,
        ...grow,
      }),
    };
    await runtime.store.putClient({
      clientId: CLIENT,
      name: 'Acme Bakery',
      timeZone: 'Europe/Berlin',
      digestEmails: ['owner@acme.example'],
      createdAt: runtime.clock.now(),
    });
    auth = new LocalConsoleAuth({ clock: systemClock, user: 'ops@agency.example' });
    server = await startWebServer({
      port: 0,
      deps: (baseUrl) =>
        wireWeb(
          {
            store: runtime.store,
            digests: new DynamoDigestStore({
              client: runtime.dynamo.client,
              tableName: runtime.dynamo.tableName,
            }),
            table: { client: runtime.dynamo.client, tableName: runtime.dynamo.tableName },
            clock: runtime.clock,
            keys: KEY,
            vault: runtime.vault,
            credentials: runtime.credentials,
            agency: { name: 'Northwind Social' },
            auth,
            platformFor: (account) => runtime.platformFor(account),
            x: {
              oauth: runtime.oauthClient,
              me: (accessToken) => new XPlatform({ baseUrl: runtime.sandbox.baseUrl, accessToken }).me(),
            },
            mastodon: createMastodonOAuth(),
            bluesky: { service: runtime.bluesky.baseUrl, login: blueskyLogin({ clock: runtime.clock }) },
            unfollowPauseMs: 0,
            logger: silentLogger,
          },
          baseUrl,
        ),
    });
    operatorBrowser = await launchChromium();
    clientBrowser = await launchChromium({ viewport: { width: 900, height: 900 } });
  }, 60_000);

  afterAll(async () => {
    await operatorBrowser?.close();
    await clientBrowser?.close();
    await server?.close();
    await runtime?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function shot(page: Page, name: string): Promise<void> {
    await wholePage(page, join(ARTIFACTS, `${name}.png`));
  }

  it('onboards a client remotely on three networks and runs the console end to end', async () => {
    if (operatorBrowser === undefined || clientBrowser === undefined)
      throw new Error('Chromium did not start');
    const operator = await operatorBrowser.context.newPage();
    const client = await clientBrowser.context.newPage();

    // Act 1: the operator signs in with the one-time link; a second use of the link is refused
    const signIn = `${server.url}${auth.issueSignInPath()}`;
    await operator.goto(signIn);
    expect(new URL(operator.url()).pathname).toBe('/console');
    const cookies = await operatorBrowser.context.cookies();
    expect(cookies.find((c) => c.name === 'fb_console')).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
    });
    const again = await clientBrowser.context.newPage();
    expect((await again.goto(signIn))?.status()).toBe(403);
    await again.close();
    await shot(operator, '01-clients-empty');

    // Act 2: the client's branding (a bad colour is refused), then an invite for the client
    await operator.click(`[data-client="${CLIENT}"] a`);
    const brand = async (accent: string) => {
      await operator
        .locator('[data-form="branding"]')
        .evaluate((f) => f.closest('details')?.setAttribute('open', ''));
      await operator.fill('[data-form="branding"] input[name=displayName]', 'Acme Bakery & Café');
      await operator.fill('[data-form="branding"] input[name=accent]', accent);
      await operator.click('[data-form="branding"] button');
    };
    await brand('orange');
    expect(await operator.textContent('[data-error]')).toContain('accent');
    await brand('#b45309');
    expect(await operator.textContent('[data-flash]')).toContain('Branding saved');
    await operator.click('[data-form="invite"] button');
    const inviteUrl = (await operator.textContent('[data-invite-url]'))?.trim() ?? '';
    expect(inviteUrl.startsWith(`${server.url}/invite/${CLIENT}?i=`)).toBe(true);
    await shot(operator, '02-client-invite');

    // Act 3: the client opens it, in a browser of their own, and connects X through the sandbox's OAuth
    const opened = await client.goto(inviteUrl);
    expect(opened?.status()).toBe(200);
    expect(await client.textContent('[data-agency]')).toContain('Northwind Social');
    expect(await client.textContent('[data-client-name]')).toBe('Acme Bakery & Café');
    // A string: the function runs in the page, which Node's type library knows nothing about.
    const accent = String(
      await client.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--accent')"),
    );
    expect(accent.trim()).toBe('#b45309');
    await shot(client, '03-invite');
    await client.click('[data-network="x"] button');
    await client.click('text=Authorize as @acme_x');
    await client.waitForSelector('[data-connected="x"]');
    await shot(client, '04-invite-connected');

    // Assess: the invite is spent; opening it again is refused and changes nothing
    const reused = await client.goto(inviteUrl);
    expect(reused?.status()).toBe(410);
    expect(await client.textContent('h1')).toContain('already used');
    await shot(client, '05-invite-reused');

    // Act 4: two more invites (one per network) for Mastodon and Bluesky
    const newInvite = async (network: string) => {
      await operator.goto(`${server.url}/console/clients/${CLIENT}`);
      await operator.selectOption('[data-form="invite"] select', network);
      await operator.click('[data-form="invite"] button');
      return (await operator.textContent('[data-invite-url]'))?.trim() ?? '';
    };
    await client.goto(await newInvite('mastodon'));
    expect(await client.locator('[data-network]').count()).toBe(1);
    await client.fill('[data-network="mastodon"] input[name=instance]', runtime.mastodon.baseUrl);
    await client.click('[data-network="mastodon"] button');
    await client.click('text=Authorize as @acme_masto');
    await client.waitForSelector('[data-connected="mastodon"]');

    await client.goto(await newInvite('bluesky'));
    await client.fill('input[name=identifier]', runtime.bluesky.handleOf(owners.bluesky.id));
    await client.fill('input[name=appPassword]', 'abcd-efgh-ijkl-mnop');
    await client.click('[data-network="bluesky"] button');
    expect(await client.textContent('[data-error]')).toContain('did not accept');
    await client.fill('input[name=identifier]', runtime.bluesky.handleOf(owners.bluesky.id));
    await client.fill('input[name=appPassword]', runtime.bluesky.appPasswordFor(owners.bluesky.id));
    await client.click('[data-network="bluesky"] button');
    await client.waitForSelector('[data-connected="bluesky"]');

    // Assess: three accounts with their real handles, credentials sealed
    const accounts = await runtime.store.listAccounts(CLIENT);
    expect(accounts.map((a) => [a.network, a.status]).sort()).toEqual([
      ['bluesky', 'active'],
      ['mastodon', 'active'],
      ['x', 'active'],
    ]);
    expect(accounts.find((a) => a.network === 'x')?.handle).toBe('acme_x');
    for (const account of accounts) {
      expect(await runtime.credentials.get(account, account.network)).toBeDefined();
    }

    // Act 5: the operator puts Mastodon in approve mode (the settings form), then two days pass
    await operator.goto(`${server.url}/console/clients/${CLIENT}`);
    const masto = accounts.find((a) => a.network === 'mastodon')!;
    const settings = operator.locator(`[data-account="${masto.accountId}"]`);
    await settings.locator('summary').click();
    await settings.locator('select[name=mode]').selectOption('approve');
    await settings.locator('input[name=withinHours]').fill('9999');
    await settings.locator('button').click();
    expect(await operator.textContent('[data-error]')).toContain('withinHours');
    const settings2 = operator.locator(`[data-account="${masto.accountId}"]`);
    await settings2.locator('summary').click();
    await settings2.locator('select[name=mode]').selectOption('approve');
    await settings2.locator('button').click();
    expect(await operator.textContent('[data-flash]')).toContain('policy.mode');
    await simulate(
      {
        store: runtime.store,
        clock: runtime.clock,
        logger: silentLogger,
        platformFor: (account) => runtime.platformFor(account),
        accounts: () => runtime.store.listAccounts(CLIENT),
        samples: new DynamoDigestStore({
          client: runtime.dynamo.client,
          tableName: runtime.dynamo.tableName,
        }),
      },
      { days: 2 },
    );

    // Act 6: the operator sees the three accounts and approves candidates across accounts
    await operator.goto(`${server.url}/console`);
    await shot(operator, '06-clients');
    await operator.goto(`${server.url}/console/clients/${CLIENT}`);
    expect(await operator.locator('[data-account]').count()).toBe(3);
    const candidateRows = operator.locator('[data-candidate]');
    const waiting = await candidateRows.count();
    expect(waiting).toBeGreaterThan(1);
    const networksWaiting = new Set(
      await candidateRows.evaluateAll((rows) =>
        rows.map((r) => (r as unknown as { dataset: { candidate: string } }).dataset.candidate.split(':')[0]),
      ),
    );
    expect(networksWaiting.size).toBe(2);
    await shot(operator, '07-client');
    const ticked = await operator.locator('[data-candidate] input:checked').count();
    await operator.click('[data-form="decide"] button[value="approve"]');
    expect(await operator.textContent('[data-flash]')).toContain(
      `${ticked} candidate(s) approved across 2 account(s)`,
    );

    // Act 7: one-sided follows on Bluesky: the list, a search, the CSV, two unfollows
    const bsky = accounts.find((a) => a.network === 'bluesky')!;
    await operator.goto(`${server.url}/console/clients/${CLIENT}/accounts/${bsky.accountId}/one-sided`);
    const total = Number((await operator.textContent('[data-total]'))?.replace(/\D/g, ''));
    const worldOneSided = runtime.world
      .followingIds(owners.bluesky.id)
      .filter((id) => !runtime.world.isFollower(owners.bluesky.id, id));
    expect(total).toBeGreaterThan(2);
    // The list is the latest observation, which may trail the world by the changes since the last scan.
    expect(Math.abs(total - worldOneSided.length)).toBeLessThanOrEqual(3);
    await shot(operator, '08-one-sided');
    const [download] = await Promise.all([
      operator.waitForEvent('download'),
      operator.click('[data-link="csv"]'),
    ]);
    const csvPath = join(ARTIFACTS, 'one-sided.csv');
    await download.saveAs(csvPath);
    const csv = (await import('node:fs/promises')).readFile(csvPath, 'utf8');
    expect((await csv).trim().split(/\r\n/).length).toBe(total + 1);
    const rows = operator.locator('[data-one-sided]');
    const chosen = await rows.evaluateAll((r) =>
      r.slice(0, 2).map((row) => (row as unknown as { dataset: { oneSided: string } }).dataset.oneSided),
    );
    for (const id of chosen) await operator.check(`[data-one-sided="${id}"] input[type=checkbox]`);
    await operator.click('#unfollow-batch button');
    expect(await operator.textContent('[data-flash]')).toContain('2 unfollowed');
    expect(Number((await operator.textContent('[data-total]'))?.replace(/\D/g, ''))).toBe(total - 2);
    for (const did of chosen) {
      const userId = runtime.world.userIdForDid(did)!;
      expect(runtime.world.isFollowing(owners.bluesky.id, userId)).toBe(false);
    }
    expect(runtime.world.unfollowCalls(owners.bluesky.id)).toHaveLength(2);
    // The chosen unfollows are in the account's queue, done, with who chose them.
    expect(await operator.textContent('[data-unfollow-queue] [data-done]')).toBe('2');
    for (const id of chosen) {
      expect(await operator.getAttribute(`[data-unfollow="${id}"]`, 'data-unfollow-state')).toBe('done');
    }
    await shot(operator, '08b-unfollow-queue');

    // Act 8: the audit log shows each action, with who
    await operator.goto(`${server.url}/console/clients/${CLIENT}/audit`);
    const actions = await operator
      .locator('[data-audit]')
      .evaluateAll((r) => r.map((row) => (row as unknown as { dataset: { audit: string } }).dataset.audit));
    expect(new Set(actions)).toEqual(new Set(['invite', 'connect', 'settings', 'approve', 'unfollow']));
    expect(actions.filter((a) => a === 'connect')).toHaveLength(3);
    expect(await operator.textContent('[data-audit-log]')).toContain('console: ops@agency.example');
    await shot(operator, '09-audit');
    const stored = await new DynamoConsoleStore({
      client: runtime.dynamo.client,
      tableName: runtime.dynamo.tableName,
    }).listAudit(CLIENT);
    expect(stored.find((e) => e.action === 'unfollow')?.targets?.sort()).toEqual([...chosen].sort());
  }, 240_000);
});
