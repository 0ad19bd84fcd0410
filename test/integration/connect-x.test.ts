import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLoopbackReceiver } from '../../shared/adapters/oauth/loopback-receiver.ts';
import { connectX } from '../../shared/app/connect/connect-x.ts';
import { addAccount } from '../../shared/app/tenants/registry.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { OAuthGrantError } from '../../shared/ports/oauth.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { ACME, approveInBrowser, type ConnectWorld, startConnectWorld } from './connect-support.ts';

const db = useDynamoBackend(dynaliteBackend);
let w: ConnectWorld;

beforeEach(async () => {
  w = await startConnectWorld(db);
  await w.store.putClient(ACME);
});

afterEach(async () => {
  await w.close();
});

function deps() {
  return {
    registry: w.store,
    credentials: w.credentials,
    oauth: w.oauth,
    me: w.me,
    clock: w.clock,
    receiver: startLoopbackReceiver,
  };
}

describe('connect x', () => {
  it('connects an account through the whole PKCE flow and stores its tokens sealed', async () => {
    // Prepare
    let authorizeUrl = '';
    let browser: Promise<{ redirect: URL; status: number }> | undefined;

    // Act: the test plays the owner's browser on the printed URL
    const result = await connectX(deps(), {
      clientId: 'acme',
      onAuthorizeUrl(url) {
        authorizeUrl = url;
        browser = approveInBrowser(url);
      },
    });

    // Assess: the authorize request X needs, a loopback redirect, the account and sealed tokens
    const asked = new URL(authorizeUrl);
    expect(`${asked.origin}${asked.pathname}`).toBe(`${w.sandbox.baseUrl}/i/oauth2/authorize`);
    expect(Object.fromEntries(asked.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'followback-test-app',
      scope: 'tweet.read users.read follows.read follows.write offline.access',
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      state: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/),
      redirect_uri: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/callback$/),
    });
    expect((await browser)?.status).toBe(200);
    expect(result.created).toBe(true);
    expect(result.account).toMatchObject({
      clientId: 'acme',
      accountId: 'x-acmebakery',
      network: 'x',
      platformUserId: w.owner.id,
      handle: 'acmebakery',
      status: 'active',
      policy: { timeZone: 'Europe/Berlin' },
    });
    expect(await w.store.getAccount(result.account)).toEqual(result.account);
    const stored = await w.credentials.get(result.account, 'x');
    expect(w.sandbox.oauth.inspect(stored!.credentials.accessToken)).toMatchObject({
      kind: 'access',
      valid: true,
      userId: w.owner.id,
    });
    expect(w.sandbox.oauth.inspect(stored!.credentials.refreshToken!)).toMatchObject({
      kind: 'refresh',
      valid: true,
    });
    expect(stored!.credentials.expiresAt).toBe(w.clock.now() + 2 * 3_600_000);
  });

  it('fills in an account declared before it was connected, keeping its settings; a paused one stays paused', async () => {
    // Prepare
    const declared = await addAccount({ store: w.store, clock: w.clock }, 'acme', {
      accountId: 'shop',
      network: 'x',
      handle: 'AcmeBakery',
      paused: true,
      policy: { promise: { withinHours: 48 } },
    });

    // Act
    const result = await connectX(deps(), {
      clientId: 'acme',
      onAuthorizeUrl: (url) => void approveInBrowser(url),
    });

    // Assess
    expect(declared.status).toBe('paused');
    expect(result.created).toBe(false);
    expect(result.account).toMatchObject({
      accountId: 'shop',
      platformUserId: w.owner.id,
      handle: 'acmebakery',
      status: 'paused',
      policy: { promise: { withinHours: 48 }, timeZone: 'Europe/Berlin' },
      createdAt: declared.createdAt,
    });
  });

  it('refuses to connect an account to another X user than the one it is, and stores nothing', async () => {
    // Prepare
    await addAccount({ store: w.store, clock: w.clock }, 'acme', {
      accountId: 'x-other',
      network: 'x',
      handle: 'other',
      platformUserId: '42',
    });

    // Act
    const connecting = connectX(deps(), {
      clientId: 'acme',
      accountId: 'x-other',
      onAuthorizeUrl: (url) => void approveInBrowser(url),
    });

    // Assess
    await expect(connecting).rejects.toThrow(ValidationError);
    await expect(connecting).rejects.toThrow(/is X user @other \(42\) but @acmebakery/);
    expect(await w.credentials.get({ clientId: 'acme', accountId: 'x-other' }, 'x')).toBeUndefined();
    expect((await w.store.getAccount({ clientId: 'acme', accountId: 'x-other' }))?.platformUserId).toBe('42');
  });

  it('refuses an X user that is already another account of the deployment', async () => {
    // Prepare
    await w.store.putClient({ ...ACME, clientId: 'beta' });
    await connectX(deps(), { clientId: 'acme', onAuthorizeUrl: (url) => void approveInBrowser(url) });

    // Act
    const again = connectX(deps(), { clientId: 'beta', onAuthorizeUrl: (url) => void approveInBrowser(url) });

    // Assess
    await expect(again).rejects.toThrow(/already the account acme\/x-acmebakery/);
    expect(await w.store.listAccounts('beta')).toEqual([]);
  });

  it('stops with the grant error when the owner denies, storing nothing', async () => {
    // Prepare
    w.sandbox.oauth.consentAs('deny');

    // Act
    const connecting = connectX(deps(), {
      clientId: 'acme',
      onAuthorizeUrl: (url) => void approveInBrowser(url),
    });

    // Assess
    await expect(connecting).rejects.toBeInstanceOf(OAuthGrantError);
    await expect(connecting).rejects.toThrow(/access_denied/);
    expect(await w.store.listAccounts('acme')).toEqual([]);
  });

  it('refuses an unknown client before any authorization', async () => {
    // Prepare
    let asked = false;

    // Act
    const connecting = connectX(deps(), {
      clientId: 'nobody',
      onAuthorizeUrl: () => {
        asked = true;
      },
    });

    // Assess
    await expect(connecting).rejects.toThrow('there is no client nobody');
    expect(asked).toBe(false);
  });
});

describe('loopback redirect receiver', () => {
  it('refuses a redirect with a foreign state and keeps waiting for the real one', async () => {
    // Prepare
    const receiver = await startLoopbackReceiver({ state: 'the-real-state', timeoutMs: 5_000 });

    try {
      // Act
      const forged = await fetch(`${receiver.redirectUri}?code=evil&state=guessed-state`);
      const otherPath = await fetch(
        new URL('/elsewhere?code=evil&state=the-real-state', receiver.redirectUri),
      );
      const real = await fetch(`${receiver.redirectUri}?code=good&state=the-real-state`);

      // Assess
      expect(forged.status).toBe(400);
      expect(otherPath.status).toBe(404);
      expect(real.status).toBe(200);
      expect(await receiver.code).toBe('good');
    } finally {
      await receiver.close();
    }
  });

  it('listens on 127.0.0.1 on a free port and gives up after its timeout', async () => {
    // Prepare
    const a = await startLoopbackReceiver({ state: 's', timeoutMs: 50 });
    const b = await startLoopbackReceiver({ state: 's', timeoutMs: 50 });

    try {
      // Act
      const waiting = a.code;

      // Assess
      expect(new URL(a.redirectUri).hostname).toBe('127.0.0.1');
      expect(new URL(a.redirectUri).port).not.toBe(new URL(b.redirectUri).port);
      await expect(waiting).rejects.toThrow(/nobody came back/);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
