import { createSign, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { parseCookies } from '../../shared/adapters/web/auth.ts';
import { COGNITO_SESSION_COOKIE, CognitoConsoleAuth } from '../../shared/adapters/web/cognito-auth.ts';

const POOL = 'eu-west-1_TestPool1';
const CLIENT = 'console-client-id';
const ISSUER = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;
// aws-jwt-verify checks expiry against the wall clock.
const NOW = Date.now();
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' } as Record<
  string,
  string
>;

function idToken(claims: Record<string, unknown>): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${b64({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${b64({
    sub: 'user-1',
    email: 'ops@agency.example',
    iss: ISSUER,
    aud: CLIENT,
    token_use: 'id',
    auth_time: Math.floor(NOW / 1000),
    iat: Math.floor(NOW / 1000),
    exp: Math.floor(NOW / 1000) + 3600,
    ...claims,
  })}`;
  const signature = createSign('RSA-SHA256').update(body).sign(privateKey).toString('base64url');
  return `${body}.${signature}`;
}

function auth(tokenAnswer: () => Response) {
  const calls: URLSearchParams[] = [];
  const instance = new CognitoConsoleAuth({
    userPoolId: POOL,
    clientId: CLIENT,
    domain: 'https://followback-test.auth.eu-west-1.amazoncognito.com',
    baseUrl: 'https://console.example',
    csrfKey: 'csrf-key-0123456789abcdef0123456789abcdef',
    clock: new VirtualClock(NOW),
    jwks: { keys: [jwk as never] },
    fetch: (async (_url: string, init: RequestInit) => {
      calls.push(new URLSearchParams(String(init.body)));
      return tokenAnswer();
    }) as typeof fetch,
  });
  return { instance, calls };
}

describe('Cognito sign-in for the console', () => {
  it('signs in through managed login with PKCE and keeps a verified ID token in an HttpOnly cookie', async () => {
    // Prepare
    const token = idToken({});
    const { instance, calls } = auth(() =>
      Response.json({ id_token: token, access_token: 'a', token_type: 'Bearer' }),
    );

    // Act
    const login = await instance.loginRedirect();
    const url = new URL(login.url);
    const loginCookies = parseCookies(login.cookies.map((c) => c.split(';')[0]).join('; '));
    const outcome = await instance.signIn(
      new URLSearchParams({ code: 'the-code', state: url.searchParams.get('state') ?? '' }),
      loginCookies,
    );
    const session = await instance.session({ [COGNITO_SESSION_COOKIE]: token });

    // Assess
    expect(url.origin + url.pathname).toBe(
      'https://followback-test.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
    );
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe('https://console.example/console/auth');
    expect(login.cookies[0]).toMatch(/HttpOnly; Secure; SameSite=Lax; Path=\/console\/auth/);
    expect(outcome.ok).toBe(true);
    expect(calls[0]?.get('code_verifier')).toBe(loginCookies.fb_login?.split('.')[1]);
    if (outcome.ok) expect(outcome.cookies[0]).toMatch(/^fb_session=.*; HttpOnly; Secure; SameSite=Lax/);
    expect(session?.user).toBe('ops@agency.example');
    expect(session?.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a callback whose state is not the one it sent, and asks Cognito nothing', async () => {
    // Prepare
    const { instance, calls } = auth(() => Response.json({ id_token: idToken({}) }));
    const login = await instance.loginRedirect();
    const loginCookies = parseCookies(login.cookies.map((c) => c.split(';')[0]).join('; '));

    // Act
    const outcome = await instance.signIn(new URLSearchParams({ code: 'c', state: 'forged' }), loginCookies);

    // Assess
    expect(outcome.ok).toBe(false);
    expect(calls).toHaveLength(0);
  });

  it('has no session for a token of another app client, another pool, an expired one or a forged one', async () => {
    // Prepare
    const { instance } = auth(() => Response.json({}));
    const good = idToken({});
    const forged = `${good.split('.').slice(0, 2).join('.')}.${Buffer.from('nope').toString('base64url')}`;

    // Act
    const sessions = await Promise.all(
      [
        idToken({ aud: 'another-client' }),
        idToken({ iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other' }),
        idToken({ exp: Math.floor(Date.now() / 1000) - 60 }),
        idToken({ token_use: 'access' }),
        forged,
      ].map((token) => instance.session({ [COGNITO_SESSION_COOKIE]: token })),
    );

    // Assess
    expect(sessions).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});
