import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLoopbackReceiver } from '../../shared/adapters/oauth/loopback-receiver.ts';
import { XOAuthClient } from '../../shared/adapters/x/x-oauth-client.ts';
import { XPlatform } from '../../shared/adapters/x/x-platform.ts';
import { connectX } from '../../shared/app/connect/connect-x.ts';
import { createXTokenProvider } from '../../shared/app/connect/token-provider.ts';
import type { AccountRef } from '../../shared/domain/account.ts';
import { AuthError, TransientPlatformError } from '../../shared/domain/errors.ts';
import type { CredentialVault } from '../../shared/ports/credentials.ts';
import { OAuthGrantError } from '../../shared/ports/oauth.ts';
import { dynaliteBackend, useDynamoBackend } from '../support/backends.ts';
import { ACME, approveInBrowser, type ConnectWorld, startConnectWorld } from './connect-support.ts';

const HOUR = 3_600_000;
const db = useDynamoBackend(dynaliteBackend);
let w: ConnectWorld;
let ref: AccountRef;

beforeEach(async () => {
  w = await startConnectWorld(db);
  await w.store.putClient(ACME);
  const { account } = await connectX(
    {
      registry: w.store,
      credentials: w.credentials,
      oauth: w.oauth,
      me: w.me,
      clock: w.clock,
      receiver: startLoopbackReceiver,
    },
    { clientId: 'acme', onAuthorizeUrl: (url) => void approveInBrowser(url) },
  );
  ref = { clientId: account.clientId, accountId: account.accountId };
});

afterEach(async () => {
  await w.close();
});

function provider(options: { credentials?: CredentialVault; holder?: string; waitMs?: number } = {}) {
  return createXTokenProvider({
    credentials: options.credentials ?? w.credentials,
    ref,
    oauthClient: w.oauth,
    clock: w.clock,
    lock: w.lock,
    holder: options.holder,
    waitMs: options.waitMs,
  });
}

async function stored() {
  return (await w.credentials.get(ref, 'x'))!;
}

describe('X token provider', () => {
  it('returns the stored access token without calling the token endpoint while it is fresh', async () => {
    // Prepare
    const before = await stored();
    w.clock.advance(HOUR);

    // Act
    const token = await provider()();

    // Assess
    expect(token).toBe(before.credentials.accessToken);
    expect(w.sandbox.oauth.counts.refreshes).toBe(0);
  });

  it('refreshes a token about to expire, storing the new pair before returning it', async () => {
    // Prepare
    const before = await stored();
    w.clock.advance(2 * HOUR - 60_000);
    const seenAtReturn: string[] = [];
    const get = provider();

    // Act
    const token = await get();
    seenAtReturn.push((await stored()).credentials.accessToken);

    // Assess: one refresh; what it returned was already stored; the stored pair is the grant's newest
    const after = await stored();
    expect(w.sandbox.oauth.counts.refreshes).toBe(1);
    expect(token).not.toBe(before.credentials.accessToken);
    expect(seenAtReturn).toEqual([token]);
    expect(after.version).toBe(before.version + 1);
    const grant = w.sandbox.oauth.inspect(token)!.grantId;
    expect(after.credentials.refreshToken).toBe(w.sandbox.oauth.currentRefreshToken(grant));
    expect(w.sandbox.oauth.inspect(before.credentials.refreshToken!)?.valid).toBe(false);
    expect(after.credentials.expiresAt).toBe(w.clock.now() + 2 * HOUR);
  });

  it('lets two workers refreshing at once make one refresh call, and both get the new token', async () => {
    // Prepare
    w.clock.advance(2 * HOUR + 60_000);
    const workerA = provider({ holder: 'worker-a' });
    const workerB = provider({ holder: 'worker-b' });

    // Act
    const [a, b] = await Promise.all([workerA(), workerB()]);

    // Assess: one rotation, no reuse, the grant alive, both on the stored token
    expect(w.sandbox.oauth.counts.refreshes).toBe(1);
    expect(w.sandbox.oauth.counts.reuseDetected).toBe(0);
    expect(a).toBe(b);
    expect((await stored()).credentials.accessToken).toBe(a);
    expect(w.sandbox.oauth.inspect(a)).toMatchObject({ valid: true, grantRevoked: false });
  });

  it('keeps the account working across many expiries through the real X client', async () => {
    // Prepare
    const platform = new XPlatform({ baseUrl: w.sandbox.baseUrl, accessToken: provider() });

    // Act: a page of followers every 90 minutes for a day
    const pages = [];
    for (let i = 0; i < 16; i++) {
      pages.push(await platform.listFollowers(w.owner.id, { pageSize: 10 }));
      w.clock.advance(90 * 60_000);
    }

    // Assess
    expect(pages.every((page) => page.users.length === 10)).toBe(true);
    // Tokens live 2 hours and are refreshed 5 minutes early: every other call (at 3 h, 6 h, ... 21 h).
    expect(w.sandbox.oauth.counts.refreshes).toBe(7);
    expect(w.sandbox.oauth.counts.reuseDetected).toBe(0);
  });

  it('after a crash between the token answer and the write, the next refresh voids the grant and the account must be reconnected', async () => {
    // Prepare: a worker whose write of the new pair never happens (it crashed right after X answered)
    w.clock.advance(2 * HOUR);
    const crashing: CredentialVault = {
      get: (r, n) => w.credentials.get(r, n),
      put: async () => {
        throw new Error('process killed');
      },
    };
    await expect(provider({ credentials: crashing, holder: 'crashed' })()).rejects.toThrow('process killed');
    w.clock.advance(61_000); // its lock lease ends

    // Act: the next worker presents the stored, rotated-out refresh token
    const next = provider({ holder: 'next' })();

    // Assess: X (the sandbox) voids the grant; the error is an AuthError, so the worker marks the
    // account token_expired and it must be connected again
    await expect(next).rejects.toBeInstanceOf(OAuthGrantError);
    await expect(next).rejects.toBeInstanceOf(AuthError);
    expect(w.sandbox.oauth.counts.reuseDetected).toBe(1);
    expect(w.sandbox.oauth.inspect((await stored()).credentials.refreshToken!)?.grantRevoked).toBe(true);
  });

  it('waits for a lock held by another worker, gives up as a transient failure, and takes it over when its lease ends', async () => {
    // Prepare
    w.clock.advance(2 * HOUR);
    await w.lock.acquire(ref, 'stuck-worker', w.clock.now(), 60_000);

    // Act
    const waiting = provider({ holder: 'patient', waitMs: 100 })();
    await expect(waiting).rejects.toBeInstanceOf(TransientPlatformError);
    w.clock.advance(60_000);
    const token = await provider({ holder: 'patient' })();

    // Assess
    expect(w.sandbox.oauth.counts.refreshes).toBe(1);
    expect((await stored()).credentials.accessToken).toBe(token);
  });

  it('reports an unreachable token endpoint as transient and a revoked grant as an AuthError', async () => {
    // Prepare
    w.clock.advance(2 * HOUR);
    const unreachable = new XOAuthClient({
      clientId: 'followback-test-app',
      authorizeUrl: 'http://127.0.0.1:9/i/oauth2/authorize',
      tokenUrl: 'http://127.0.0.1:9/2/oauth2/token',
      clock: w.clock,
      timeoutMs: 1_000,
    });
    const down = createXTokenProvider({
      credentials: w.credentials,
      ref,
      oauthClient: unreachable,
      clock: w.clock,
      lock: w.lock,
    });

    // Act
    const first = down();
    await expect(first).rejects.toBeInstanceOf(TransientPlatformError);
    w.sandbox.oauth.revokeGrant(w.sandbox.oauth.inspect((await stored()).credentials.accessToken)!.grantId);
    const second = provider()();

    // Assess
    await expect(second).rejects.toBeInstanceOf(AuthError);
    expect(w.sandbox.oauth.counts.refreshes).toBe(0);
  });

  it('says a never-connected account has no credentials (AuthError)', async () => {
    // Prepare
    const other = { clientId: 'acme', accountId: 'x-never' };

    // Act
    const getting = createXTokenProvider({
      credentials: w.credentials,
      ref: other,
      oauthClient: w.oauth,
      clock: w.clock,
      lock: w.lock,
    })();

    // Assess
    await expect(getting).rejects.toThrow(/has no stored x credentials/);
  });
});
