import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { XOAuthOptions } from '../../sandbox/x/oauth.ts';
import { type Harness, HOUR, MINUTE, startHarness } from './helpers.ts';

const APP = {
  clientId: 'followback-app',
  clientSecret: 'app-secret-SECRET',
  redirectUris: ['http://127.0.0.1/callback'],
};
const PUBLIC_APP = { clientId: 'followback-public' };
const SCOPES = 'tweet.read users.read follows.read follows.write offline.access';
const REDIRECT = 'http://127.0.0.1:43123/callback';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(oauth: Partial<XOAuthOptions> = {}): Promise<Harness> {
  harness = await startHarness({ server: { oauth: { clients: [APP, PUBLIC_APP], ...oauth } } });
  return harness;
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(h: Harness, params: Record<string, string>): string {
  const url = new URL(`${h.sandbox.baseUrl}/i/oauth2/authorize`);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

function authorizeParams(challenge: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    response_type: 'code',
    client_id: APP.clientId,
    redirect_uri: REDIRECT,
    scope: SCOPES,
    state: 'state-123',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
}

/** Plays the browser: the authorize request, answered by a redirect to the loopback URI. */
async function authorize(
  h: Harness,
  params: Record<string, string>,
): Promise<{ status: number; location: URL | undefined; text: string }> {
  const response = await fetch(authorizeUrl(h, params), { redirect: 'manual' });
  const location = response.headers.get('location');
  return {
    status: response.status,
    location: location ? new URL(location) : undefined,
    text: await response.text(),
  };
}

async function token(
  h: Harness,
  form: Record<string, string>,
  auth: { id: string; secret: string } | null = { id: APP.clientId, secret: APP.clientSecret },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.id}:${auth.secret}`).toString('base64')}`;
  const response = await fetch(`${h.sandbox.baseUrl}/2/oauth2/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The whole flow up to a token answer, consenting as the harness's owner. */
async function connect(h: Harness, scope = SCOPES): Promise<Record<string, unknown>> {
  const { verifier, challenge } = pkce();
  const { location } = await authorize(h, authorizeParams(challenge, { scope }));
  const answer = await token(h, {
    grant_type: 'authorization_code',
    code: location!.searchParams.get('code')!,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  expect(answer.status).toBe(200);
  return answer.body;
}

async function refresh(h: Harness, refreshToken: string) {
  return token(h, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

describe('X sandbox OAuth 2.0 authorize endpoint', () => {
  it('redirects to the loopback URI with a code and the state when the configured user consents', async () => {
    // Prepare
    const h = await start();
    h.sandbox.oauth.consentAs(h.owner.id);

    // Act
    const answer = await authorize(h, authorizeParams(pkce().challenge));

    // Assess: a loopback redirect on the port asked for, even though the app registered none
    expect(answer.status).toBe(302);
    expect(`${answer.location!.origin}${answer.location!.pathname}`).toBe('http://127.0.0.1:43123/callback');
    expect(answer.location!.searchParams.get('state')).toBe('state-123');
    expect(answer.location!.searchParams.get('code')).toMatch(/^sbxc-/);
  });

  it('shows a page of owners to consent as when nobody is configured, whose links consent', async () => {
    // Prepare
    const h = await start();

    // Act
    const page = await authorize(h, authorizeParams(pkce().challenge));
    const link = /href="([^"]*sandbox_consent=[0-9]+[^"]*)"/.exec(page.text)?.[1]?.replace(/&amp;/g, '&');
    const followed = await fetch(`${h.sandbox.baseUrl}${link}`, { redirect: 'manual' });

    // Assess
    expect(page.status).toBe(200);
    expect(page.text).toContain(`Authorize as @${h.owner.username}`);
    expect(followed.status).toBe(302);
    expect(new URL(followed.headers.get('location')!).searchParams.get('code')).toMatch(/^sbxc-/);
  });

  it('answers 400 and never redirects for an unknown client or an unregistered redirect URI', async () => {
    // Prepare
    const h = await start({ consentingUser: '@shop' });
    const { challenge } = pkce();

    // Act
    const unknownClient = await authorize(h, authorizeParams(challenge, { client_id: 'someone-else' }));
    const foreignRedirect = await authorize(
      h,
      authorizeParams(challenge, { redirect_uri: 'https://evil.example/cb' }),
    );
    const otherPath = await authorize(
      h,
      authorizeParams(challenge, { redirect_uri: 'http://127.0.0.1:43123/other' }),
    );

    // Assess
    for (const answer of [unknownClient, foreignRedirect, otherPath]) {
      expect(answer.status).toBe(400);
      expect(answer.location).toBeUndefined();
    }
  });

  it('redirects with an error and the state when the user denies or the request is incomplete', async () => {
    // Prepare
    const h = await start({ consentingUser: 'deny' });
    const { challenge } = pkce();

    // Act
    const denied = await authorize(h, authorizeParams(challenge));
    const noChallenge = await authorize(h, authorizeParams('', { state: 's2' }));
    const badScope = await authorize(h, authorizeParams(challenge, { scope: 'users.read everything.write' }));

    // Assess
    expect(denied.location!.searchParams.get('error')).toBe('access_denied');
    expect(denied.location!.searchParams.get('state')).toBe('state-123');
    expect(noChallenge.location!.searchParams.get('error')).toBe('invalid_request');
    expect(noChallenge.location!.searchParams.get('state')).toBe('s2');
    expect(badScope.location!.searchParams.get('error')).toBe('invalid_scope');
    expect(h.sandbox.oauth.counts.authorized).toBe(0);
  });
});

describe('X sandbox OAuth 2.0 token endpoint', () => {
  it('exchanges a code for tokens that act for the consenting user, with X’s answer shape', async () => {
    // Prepare
    const h = await start({ consentingUser: '@shop' });

    // Act
    const body = await connect(h);
    const me = await h.get('/2/users/me', body.access_token as string);

    // Assess
    expect(body).toEqual({
      token_type: 'bearer',
      expires_in: 7200,
      access_token: expect.stringMatching(/^sbxa-/),
      refresh_token: expect.stringMatching(/^sbxr-/),
      scope: SCOPES,
    });
    expect(me.status).toBe(200);
    expect(me.body.data.id).toBe(h.owner.id);
  });

  it('takes a code once: a second exchange is refused and voids the tokens of the first', async () => {
    // Prepare
    const h = await start({ consentingUser: '@shop' });
    const { verifier, challenge } = pkce();
    const { location } = await authorize(h, authorizeParams(challenge));
    const form = {
      grant_type: 'authorization_code',
      code: location!.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    };
    const first = await token(h, form);

    // Act
    const second = await token(h, form);

    // Assess
    expect(first.status).toBe(200);
    expect(second).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: expect.any(String) },
    });
    expect((await h.get('/2/users/me', first.body.access_token as string)).status).toBe(401);
    expect((await refresh(h, first.body.refresh_token as string)).status).toBe(400);
  });

  it('refuses a code with the wrong PKCE verifier, another redirect URI, or after 30 seconds', async () => {
    // Prepare
    const h = await start({ consentingUser: '@shop' });
    const codeFor = async () => {
      const pair = pkce();
      const { location } = await authorize(h, authorizeParams(pair.challenge));
      return { ...pair, code: location!.searchParams.get('code')! };
    };
    const a = await codeFor();
    const b = await codeFor();
    const c = await codeFor();

    // Act
    const wrongVerifier = await token(h, {
      grant_type: 'authorization_code',
      code: a.code,
      redirect_uri: REDIRECT,
      code_verifier: pkce().verifier,
    });
    const wrongRedirect = await token(h, {
      grant_type: 'authorization_code',
      code: b.code,
      redirect_uri: 'http://127.0.0.1:1/callback',
      code_verifier: b.verifier,
    });
    h.clock.advance(31_000);
    const late = await token(h, {
      grant_type: 'authorization_code',
      code: c.code,
      redirect_uri: REDIRECT,
      code_verifier: c.verifier,
    });

    // Assess
    expect([wrongVerifier.status, wrongRedirect.status, late.status]).toEqual([400, 400, 400]);
    expect(h.sandbox.oauth.counts.codeExchanges).toBe(0);
  });

  it('authenticates a confidential client by HTTP Basic and a public one by client_id', async () => {
    // Prepare
    const h = await start({ consentingUser: '@shop' });
    const { verifier, challenge } = pkce();
    const { location } = await authorize(h, authorizeParams(challenge));
    const form = {
      grant_type: 'authorization_code',
      code: location!.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    };

    // Act
    const wrongSecret = await token(h, form, { id: APP.clientId, secret: 'guess' });
    const noSecret = await token(h, { ...form, client_id: APP.clientId }, null);
    const asPublic = await token(h, { ...form, client_id: PUBLIC_APP.clientId }, null);
    const right = await token(h, form);

    // Assess: the code belongs to its client; the public one cannot take it
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.error).toBe('unauthorized_client');
    expect(noSecret.status).toBe(401);
    expect(asPublic.status).toBe(400);
    expect(right.status).toBe(200);
  });

  it('rotates the refresh token on every refresh; the access token of each refresh works', async () => {
    // Prepare
    const h = await start({ consentingUser: '@shop' });
    const first = await connect(h);

    // Act
    const second = await refresh(h, first.refresh_token as string);
    const third = await refresh(h, second.body.refresh_token as string);

    // Assess
    expect(second.status).toBe(200);
    expect(third.status).toBe(200);
    expect(new Set([first.refresh_token, second.body.refresh_token, third.body.refresh_token]).size).toBe(3);
    expect((await h.get('/2/users/me', third.body.access_token as string)).status).toBe(200);
    expect(h.sandbox.oauth.inspect(first.refresh_token as string)?.valid).toBe(false);
    expect(h.sandbox.oauth.inspect(third.body.refresh_token as string)?.valid).toBe(true);
    expect(h.sandbox.oauth.counts.refreshes).toBe(2);
  });

  it('voids the whole grant when a rotated-out refresh token comes back, as X does', async () => {
    // Prepare
    const h = await start({ consentingUser: '@shop' });
    const first = await connect(h);
    const second = await refresh(h, first.refresh_token as string);

    // Act: someone presents the first refresh token again
    const reuse = await refresh(h, first.refresh_token as string);

    // Assess: refused, and every token of the grant, the newest too, is dead
    expect(reuse.status).toBe(400);
    expect((await refresh(h, second.body.refresh_token as string)).status).toBe(400);
    expect((await h.get('/2/users/me', second.body.access_token as string)).status).toBe(401);
    expect((await h.get('/2/users/me', first.access_token as string)).status).toBe(401);
    expect(h.sandbox.oauth.counts.reuseDetected).toBe(1);
  });

  it('lets access tokens expire after their lifetime (two hours by default), then answers 401', async () => {
    // Prepare
    const h = await start({ consentingUser: '@shop' });
    const body = await connect(h);

    // Act
    h.clock.advance(2 * HOUR - MINUTE);
    const before = await h.get('/2/users/me', body.access_token as string);
    h.clock.advance(MINUTE);
    const after = await h.get('/2/users/me', body.access_token as string);

    // Assess
    expect(before.status).toBe(200);
    expect(after.status).toBe(401);
  });

  it('gives no refresh token without offline.access, and refuses endpoints the scopes do not cover', async () => {
    // Prepare
    const h = await start({ consentingUser: '@shop' });
    const body = await connect(h, 'tweet.read users.read follows.read');
    const target = h.world.createUser().id;

    // Act
    const list = await h.get(`/2/users/${h.owner.id}/followers`, body.access_token as string);
    const follow = await h.post(
      `/2/users/${h.owner.id}/following`,
      { target_user_id: target },
      body.access_token as string,
    );

    // Assess
    expect(body.refresh_token).toBeUndefined();
    expect(list.status).toBe(200);
    expect(follow.status).toBe(403);
    expect(h.world.isFollowing(h.owner.id, target)).toBe(false);
  });
});
