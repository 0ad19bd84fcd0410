/**
 * The X token client on twitter-api-v2: what each answer of a token endpoint becomes. Against the X
 * sandbox (X's own refusals) and a scripted token endpoint on loopback (the failures the sandbox does
 * not play: X's `invalid_grant`, 5xx, 429, unreadable answers, a silent socket). The errors are the
 * port's (shared/ports/oauth.ts): a refused grant is an AuthError, a failure worth retrying is
 * transient, and none carries a token or the app's secret.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorld } from '../../sandbox/world.ts';
import { startXSandbox, type XSandbox } from '../../sandbox/x/server.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { XOAuthClient } from '../../shared/adapters/x/x-oauth-client.ts';
import {
  AuthError,
  ConfigError,
  MalformedResponseError,
  TransientPlatformError,
} from '../../shared/domain/errors.ts';
import { OAuthGrantError } from '../../shared/ports/oauth.ts';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const APP = { clientId: 'followback-app', clientSecret: 'app-secret-SECRET-42' };
const PUBLIC_APP = { clientId: 'followback-public' };
const REDIRECT = 'http://127.0.0.1:43123/callback';
const SCOPES = ['tweet.read', 'users.read', 'follows.read', 'follows.write', 'offline.access'];

const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Every error's own text and details, as a log line would show them. */
function shown(error: unknown): string {
  const e = error as Error & { details?: unknown; cause?: unknown };
  return JSON.stringify({ message: e.message, details: e.details, cause: String(e.cause ?? '') });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('against the X sandbox', () => {
  async function sandbox(): Promise<{ clock: VirtualClock; sandbox: XSandbox; client: XOAuthClient }> {
    const clock = new VirtualClock(START);
    const world = createWorld({ seed: 3, clock, orderNoise: 0 });
    const owner = world.addOwner({
      handle: 'shop',
      initialFollowers: 10,
      initialFollowing: 2,
      followersPerDay: 0,
      unfollowsPerDay: 0,
      deletionsPerDay: 0,
    });
    const x = await startXSandbox({
      world,
      oauth: {
        clients: [
          { ...APP, redirectUris: ['http://127.0.0.1/callback'] },
          { ...PUBLIC_APP, redirectUris: ['http://127.0.0.1/callback'] },
        ],
        consentingUser: owner.id,
      },
    });
    closers.push(() => x.close());
    const client = new XOAuthClient({
      ...APP,
      authorizeUrl: `${x.baseUrl}/i/oauth2/authorize`,
      tokenUrl: `${x.baseUrl}/2/oauth2/token`,
      clock,
    });
    return { clock, sandbox: x, client };
  }

  /** Plays the browser: approves `client`'s authorize URL and returns the code and its verifier. */
  async function approve(client: XOAuthClient): Promise<{ code: string; verifier: string }> {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const url = client.authorizeUrl({
      redirectUri: REDIRECT,
      state: 'st',
      codeChallenge: challenge,
      scopes: SCOPES,
    });
    const response = await fetch(url, { redirect: 'manual' });
    const code = new URL(response.headers.get('location') ?? '').searchParams.get('code');
    if (code === null) throw new Error(`no code: ${response.status}`);
    return { code, verifier };
  }

  it('exchanges a code and refreshes, the old refresh token then dead (an AuthError)', async () => {
    // Prepare
    const { clock, client } = await sandbox();
    const { code, verifier } = await approve(client);

    // Act
    const first = await client.exchangeCode({ code, redirectUri: REDIRECT, codeVerifier: verifier });
    const second = await client.refresh(first.refreshToken!);
    const reused = await failure(client.refresh(first.refreshToken!));

    // Assess
    expect(first).toMatchObject({ accessToken: expect.any(String), scope: SCOPES.join(' ') });
    expect(first.expiresAt).toBeGreaterThan(clock.now());
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(reused).toBeInstanceOf(OAuthGrantError);
    expect(reused).toBeInstanceOf(AuthError);
    expect((reused as OAuthGrantError).error).toBe('invalid_request');
    expect(shown(reused)).not.toContain(first.refreshToken);
  });

  it('refuses a code with the wrong verifier as a grant error, naming no code', async () => {
    // Prepare
    const { client } = await sandbox();
    const { code } = await approve(client);

    // Act
    const refused = await failure(
      client.exchangeCode({ code, redirectUri: REDIRECT, codeVerifier: 'x'.repeat(43) }),
    );

    // Assess
    expect(refused).toBeInstanceOf(OAuthGrantError);
    expect(refused.message).toMatch(/code_verifier/);
    expect(shown(refused)).not.toContain(code);
  });

  it('says ConfigError for a wrong client secret, and a public client is refused nothing for lack of one', async () => {
    // Prepare
    const { sandbox: x, client } = await sandbox();
    const { code, verifier } = await approve(client);
    const wrong = new XOAuthClient({
      ...APP,
      clientSecret: 'not-the-secret',
      authorizeUrl: `${x.baseUrl}/i/oauth2/authorize`,
      tokenUrl: `${x.baseUrl}/2/oauth2/token`,
    });
    const open = new XOAuthClient({
      ...PUBLIC_APP,
      authorizeUrl: `${x.baseUrl}/i/oauth2/authorize`,
      tokenUrl: `${x.baseUrl}/2/oauth2/token`,
    });
    const publicCode = await approve(open);

    // Act
    const refused = await failure(
      wrong.exchangeCode({ code, redirectUri: REDIRECT, codeVerifier: verifier }),
    );
    const granted = await open.exchangeCode({
      code: publicCode.code,
      redirectUri: REDIRECT,
      codeVerifier: publicCode.verifier,
    });

    // Assess
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused.message).toMatch(/unauthorized_client.*X_CLIENT_SECRET/);
    expect(shown(refused)).not.toContain('not-the-secret');
    expect(granted.accessToken).toMatch(/./);
  });
});

describe('against a scripted token endpoint', () => {
  interface Seen {
    contentType: string | undefined;
    authorization: string | undefined;
    form: URLSearchParams;
  }

  /** A token endpoint on loopback answering each request with the next of `answers`. */
  async function endpoint(
    answers: ((res: ServerResponse) => void)[],
  ): Promise<{ client: (app?: { clientId: string; clientSecret?: string }) => XOAuthClient; seen: Seen[] }> {
    const seen: Seen[] = [];
    const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        seen.push({
          contentType: req.headers['content-type'],
          authorization: req.headers.authorization,
          form: new URLSearchParams(body),
        });
        const answer = answers.shift();
        if (answer) answer(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      seen,
      client: (app = APP) =>
        new XOAuthClient({
          ...app,
          authorizeUrl: `${base}/i/oauth2/authorize`,
          tokenUrl: `${base}/oauth/x/token`,
          clock: new VirtualClock(START),
          timeoutMs: 300,
        }),
    };
  }

  const json =
    (status: number, body: unknown, type = 'application/json') =>
    (res: ServerResponse) => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };

  it('sends a form to the configured URL, the secret only in the Basic header', async () => {
    // Prepare
    const { client, seen } = await endpoint([
      json(200, { token_type: 'bearer', access_token: 'AT-1', refresh_token: 'RT-2', expires_in: 7200 }),
      json(200, { token_type: 'bearer', access_token: 'AT-3', scope: 'users.read' }),
    ]);

    // Act
    const confidential = await client().refresh('RT-1');
    const open = await client(PUBLIC_APP).refresh('RT-2');

    // Assess
    expect(confidential).toEqual({
      accessToken: 'AT-1',
      refreshToken: 'RT-2',
      expiresAt: START + 7_200_000,
      scope: undefined,
    });
    expect(open).toEqual({
      accessToken: 'AT-3',
      refreshToken: undefined,
      expiresAt: undefined,
      scope: 'users.read',
    });
    expect(seen[0]!.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(seen[0]!.form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'RT-1',
      client_id: APP.clientId,
    });
    const basic = Buffer.from(`${APP.clientId}:${APP.clientSecret}`).toString('base64');
    expect(seen[0]!.authorization).toBe(`Basic ${basic}`);
    expect(seen[1]!.authorization).toBeUndefined();
    expect(seen[1]!.form.get('client_id')).toBe(PUBLIC_APP.clientId);
  });

  it('makes a 400 invalid_grant on refresh the auth error, its description kept and the token not', async () => {
    // Prepare
    const { client } = await endpoint([
      json(400, { error: 'invalid_grant', error_description: 'Value passed for the token was invalid.' }),
    ]);

    // Act
    const refused = await failure(client().refresh('RT-secret-value'));

    // Assess
    expect(refused).toBeInstanceOf(OAuthGrantError);
    expect(refused).toBeInstanceOf(AuthError);
    expect((refused as OAuthGrantError).error).toBe('invalid_grant');
    expect(refused.message).toBe(
      'X refused the token refresh: invalid_grant (Value passed for the token was invalid.)',
    );
    expect((refused as OAuthGrantError).details).toMatchObject({ status: 400, grantType: 'refresh_token' });
    expect(shown(refused)).not.toContain('RT-secret-value');
  });

  it('makes a refusal without an OAuth body a grant error named by its status', async () => {
    // Prepare
    const { client } = await endpoint([json(403, '<html>no</html>', 'text/html')]);

    // Act
    const refused = await failure(client().refresh('RT-1'));

    // Assess
    expect(refused).toBeInstanceOf(OAuthGrantError);
    expect((refused as OAuthGrantError).error).toBe('http_403');
  });

  it('makes a 401 or invalid_client a ConfigError, never naming the secret', async () => {
    // Prepare
    const { client } = await endpoint([
      json(401, { error: 'unauthorized_client', error_description: 'Missing valid authorization header' }),
      json(400, { error: 'invalid_client' }),
    ]);

    // Act
    const unauthorized = await failure(client().refresh('RT-1'));
    const invalid = await failure(
      client().exchangeCode({ code: 'C', redirectUri: REDIRECT, codeVerifier: 'v' }),
    );

    // Assess
    expect(unauthorized).toBeInstanceOf(ConfigError);
    expect(invalid).toBeInstanceOf(ConfigError);
    expect(invalid.message).toMatch(/authorization code exchange: invalid_client/);
    expect(shown(unauthorized) + shown(invalid)).not.toContain(APP.clientSecret);
  });

  it.each([
    ['a 503', json(503, { error: 'temporarily_unavailable' })],
    ['a 500 in HTML', json(500, '<html>oops</html>', 'text/html')],
    ['a 502 whose JSON is cut', json(502, '{"error":', 'application/json')],
    ['a 429', json(429, { title: 'Too Many Requests' })],
  ])('makes %s transient (retried later), not an auth error', async (_name, answer) => {
    // Prepare
    const { client } = await endpoint([answer]);

    // Act
    const failed = await failure(client().refresh('RT-1'));

    // Assess
    expect(failed).toBeInstanceOf(TransientPlatformError);
    expect(failed).not.toBeInstanceOf(AuthError);
    expect(failed.message).toMatch(/^X token refresh failed: HTTP (5\d\d|429)$/);
  });

  it('makes a silent endpoint and an unreachable one transient, the cause naming no secret', async () => {
    // Prepare
    const { client } = await endpoint([() => undefined]);
    const unreachable = new XOAuthClient({
      ...APP,
      authorizeUrl: 'http://127.0.0.1:9/i/oauth2/authorize',
      tokenUrl: 'http://127.0.0.1:9/2/oauth2/token',
      timeoutMs: 1_000,
    });

    // Act
    const silent = await failure(client().refresh('RT-silent'));
    const refused = await failure(unreachable.refresh('RT-unreachable'));

    // Assess
    expect(silent).toBeInstanceOf(TransientPlatformError);
    expect(refused).toBeInstanceOf(TransientPlatformError);
    expect(refused.message).toBe('X token refresh failed: ECONNREFUSED');
    const text = shown(silent) + shown(refused);
    for (const secret of ['RT-silent', 'RT-unreachable', APP.clientSecret])
      expect(text).not.toContain(secret);
  });

  it.each([
    ['no token type', { access_token: 'AT-secret' }, /token_type/],
    ['a MAC token', { token_type: 'mac', access_token: 'AT-secret' }, /token_type/],
    ['an empty access token', { token_type: 'bearer', access_token: '' }, /access_token/],
    [
      'a negative lifetime',
      { token_type: 'bearer', access_token: 'AT-secret', expires_in: -1 },
      /expires_in/,
    ],
  ])(
    'refuses an answer with %s as malformed, naming the field and not the value',
    async (_name, body, field) => {
      // Prepare
      const { client } = await endpoint([json(200, body)]);

      // Act
      const failed = await failure(client().refresh('RT-1'));

      // Assess
      expect(failed).toBeInstanceOf(MalformedResponseError);
      expect(failed.message).toMatch(field);
      expect(shown(failed)).not.toContain('AT-secret');
    },
  );

  it('refuses a 200 that is not JSON as malformed', async () => {
    // Prepare
    const { client } = await endpoint([json(200, '{"access_token": "AT-', 'application/json')]);

    // Act
    const failed = await failure(client().refresh('RT-1'));

    // Assess
    expect(failed).toBeInstanceOf(MalformedResponseError);
    expect(shown(failed)).not.toContain('AT-');
  });
});
