/**
 * The Mastodon OAuth adapter on masto: what each answer of an instance becomes, against a scripted
 * instance on loopback (the refusals and failures the Mastodon sandbox does not play). The errors are
 * the port's (shared/ports/mastodon-oauth.ts); none carries a token, a code or the app's secret.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMastodonOAuth } from '../../shared/adapters/mastodon/mastodon-oauth.ts';
import {
  AuthError,
  ConfigError,
  MalformedResponseError,
  TransientPlatformError,
  ValidationError,
} from '../../shared/domain/errors.ts';
import { OAuthGrantError } from '../../shared/ports/oauth.ts';

const SECRET = 'app-secret-SECRET-7';
const CODE = 'the-code-CODE-9';
const REDIRECT = 'http://127.0.0.1:43123/callback';

interface Seen {
  method: string | undefined;
  path: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
}

type Answer = (res: ServerResponse) => void;

const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** An instance on loopback answering each request with the next of `answers`. */
async function instance(answers: Answer[]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      seen.push({
        method: req.method,
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        body,
      });
      answers.shift()?.(res);
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
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A loopback URL nobody listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const json =
  (status: number, body: unknown, type = 'application/json; charset=utf-8', headers = {}) =>
  (res: ServerResponse) => {
    res.writeHead(status, { 'content-type': type, ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

const oauth = createMastodonOAuth({ timeoutMs: 300 });

function exchange(url: string, codeVerifier?: string) {
  return oauth.exchangeCode(url, {
    tokenEndpoint: `${url}/oauth/token`,
    code: CODE,
    clientId: 'client-1',
    clientSecret: SECRET,
    redirectUri: REDIRECT,
    scope: 'read:accounts',
    codeVerifier,
  });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

/** An error's own text and details, as a log line would show them. */
function shown(error: unknown): string {
  const e = error as Error & { details?: unknown; cause?: unknown };
  return JSON.stringify({ message: e.message, details: e.details, cause: String(e.cause ?? '') });
}

describe('the Mastodon OAuth adapter', () => {
  it('registers an app, exchanges the code with its verifier, and asks who approved', async () => {
    // Prepare
    const { url, seen } = await instance([
      json(200, { id: '1', name: 'followback', client_id: 'client-1', client_secret: SECRET }),
      json(200, { access_token: 'AT-1', token_type: 'Bearer', scope: 'read:accounts', created_at: 1 }),
      json(200, { id: '42', username: 'acme', acct: 'acme', url: `${'https://x.example'}/@acme` }),
    ]);

    // Act
    const app = await oauth.registerApp(url, {
      clientName: 'followback',
      redirectUri: REDIRECT,
      scopes: 'read:accounts',
      website: 'https://followback.example',
    });
    const token = await exchange(url, 'verifier-V');
    const me = await oauth.verifyCredentials(url, token.accessToken);

    // Assess
    expect(app).toEqual({ clientId: 'client-1', clientSecret: SECRET });
    expect(token).toEqual({ accessToken: 'AT-1', scope: 'read:accounts' });
    expect(me).toEqual({ id: '42', username: 'acme', acct: 'acme', url: 'https://x.example/@acme' });
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'POST /api/v1/apps',
      'POST /oauth/token',
      'GET /api/v1/accounts/verify_credentials',
    ]);
    expect(JSON.parse(seen[0]!.body)).toEqual({
      client_name: 'followback',
      redirect_uris: REDIRECT,
      scopes: 'read:accounts',
      website: 'https://followback.example',
    });
    expect(JSON.parse(seen[1]!.body)).toEqual({
      grant_type: 'authorization_code',
      code: CODE,
      client_id: 'client-1',
      client_secret: SECRET,
      redirect_uri: REDIRECT,
      scope: 'read:accounts',
      code_verifier: 'verifier-V',
    });
    expect(seen[2]!.authorization).toBe('Bearer AT-1');
  });

  it('makes a refused code the grant error (an AuthError), and a refused app a ConfigError', async () => {
    // Prepare
    const { url } = await instance([
      json(400, {
        error: 'invalid_grant',
        error_description: 'The provided authorization grant is invalid.',
      }),
      json(401, { error: 'invalid_client', error_description: 'Client authentication failed.' }),
    ]);

    // Act
    const grant = await failure(exchange(url));
    const client = await failure(exchange(url));

    // Assess
    expect(grant).toBeInstanceOf(OAuthGrantError);
    expect(grant).toBeInstanceOf(AuthError);
    expect((grant as OAuthGrantError).error).toBe('invalid_grant');
    expect(grant.message).toBe(
      `${url} refused oauth/token: invalid_grant (The provided authorization grant is invalid.)`,
    );
    expect(client).toBeInstanceOf(ConfigError);
    for (const error of [grant, client]) {
      expect(shown(error)).not.toContain(SECRET);
      expect(shown(error)).not.toContain(CODE);
    }
  });

  it('makes a refused token at verify_credentials an AuthError, and a refused registration a ValidationError', async () => {
    // Prepare
    const { url } = await instance([
      json(401, { error: 'The access token is invalid' }),
      json(403, { error: 'This action is outside the authorized scopes' }),
      json(422, { error: 'Validation failed: Redirect URI must be an absolute URI.' }),
    ]);

    // Act
    const invalid = await failure(oauth.verifyCredentials(url, 'AT-revoked'));
    const scoped = await failure(oauth.verifyCredentials(url, 'AT-scoped'));
    const refused = await failure(
      oauth.registerApp(url, { clientName: 'followback', redirectUri: 'nope', scopes: 'read' }),
    );

    // Assess
    expect(invalid).toBeInstanceOf(AuthError);
    expect(scoped).toBeInstanceOf(AuthError);
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused.message).toMatch(/refused apps: Validation failed: Redirect URI/);
    expect(shown(invalid) + shown(scoped)).not.toMatch(/AT-revoked|AT-scoped/);
  });

  it.each([
    ['a 503', json(503, { error: 'unavailable' })],
    [
      'a 429',
      json(429, { error: 'Too many requests' }, 'application/json', { 'x-ratelimit-remaining': '0' }),
    ],
    ['a proxy page (502 in HTML)', json(502, '<html>Bad Gateway</html>', 'text/html')],
    ['a plain-text 500', json(500, 'oops', 'text/plain')],
  ])('makes %s at the token endpoint transient, not a grant error', async (_name, answer) => {
    // Prepare
    const { url } = await instance([answer]);

    // Act
    const failed = await failure(exchange(url));

    // Assess
    expect(failed).toBeInstanceOf(TransientPlatformError);
    expect(failed).not.toBeInstanceOf(AuthError);
    expect(shown(failed)).not.toContain(SECRET);
  });

  it('makes a silent instance, an unreachable one and a redirect transient, following no redirect', async () => {
    // Prepare
    const { url: elsewhere, seen: followed } = await instance([json(200, { access_token: 'AT-stolen' })]);
    const { url, seen } = await instance([
      () => undefined,
      (res) => {
        res.writeHead(307, { location: `${elsewhere}/oauth/token` });
        res.end();
      },
    ]);

    // Act
    const silent = await failure(exchange(url));
    const redirected = await failure(exchange(url));
    const unreachable = await failure(exchange(await closedPort()));

    // Assess
    expect(silent).toBeInstanceOf(TransientPlatformError);
    expect(silent.message).toMatch(/timed out/);
    expect(redirected).toBeInstanceOf(TransientPlatformError);
    expect(unreachable).toBeInstanceOf(TransientPlatformError);
    expect(unreachable.message).toMatch(/ECONNREFUSED/);
    expect(seen).toHaveLength(2);
    expect(followed).toHaveLength(0);
  });

  it.each([
    ['no token type', { access_token: 'AT-secret' }, /tokenType/],
    ['a MAC token', { access_token: 'AT-secret', token_type: 'mac' }, /tokenType/],
    ['no access token', { token_type: 'Bearer' }, /accessToken/],
  ])(
    'refuses a token answer with %s as malformed, naming the field and not the value',
    async (_name, body, field) => {
      // Prepare
      const { url } = await instance([json(200, body)]);

      // Act
      const failed = await failure(exchange(url));

      // Assess
      expect(failed).toBeInstanceOf(MalformedResponseError);
      expect(failed.message).toMatch(field);
      expect(shown(failed)).not.toContain('AT-secret');
    },
  );

  it('refuses a registration without a secret, and a 200 that is not JSON, as malformed', async () => {
    // Prepare
    const { url } = await instance([
      json(200, { id: '1', name: 'followback', client_id: 'client-1' }),
      json(200, '{"access_token": "AT-', 'application/json'),
    ]);

    // Act
    const noSecret = await failure(
      oauth.registerApp(url, { clientName: 'followback', redirectUri: REDIRECT, scopes: 'read' }),
    );
    const cut = await failure(exchange(url));

    // Assess
    expect(noSecret).toBeInstanceOf(MalformedResponseError);
    expect(noSecret.message).toMatch(/clientSecret/);
    expect(cut).toBeInstanceOf(MalformedResponseError);
    expect(shown(cut)).not.toContain('AT-');
  });

  it('takes the metadata only for its own origin and token path; otherwise the defaults, without PKCE', async () => {
    // Prepare
    const metadata = (url: string, token: string, authorize = `${url}/oauth/authorize`) =>
      json(200, {
        issuer: `${url}/`,
        authorization_endpoint: authorize,
        token_endpoint: token,
        code_challenge_methods_supported: ['S256'],
      });
    const answers: Answer[] = [];
    const { url, seen } = await instance(answers);
    answers.push(
      metadata(url, `${url}/oauth/token`),
      metadata(url, 'https://evil.example/oauth/token'),
      metadata(url, `${url}/oauth/token`, 'https://evil.example/oauth/authorize'),
      metadata(url, `${url}/api/oauth/token`),
      json(404, 'Not Found', 'text/plain'),
    );

    // Act
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await oauth.discover(url));

    // Assess
    const defaults = { authorize: `${url}/oauth/authorize`, token: `${url}/oauth/token` };
    expect(results).toEqual([
      { ...defaults, pkce: true },
      { ...defaults, pkce: false },
      { ...defaults, pkce: false },
      { ...defaults, pkce: false },
      { ...defaults, pkce: false },
    ]);
    expect(seen.every((s) => s.path === '/.well-known/oauth-authorization-server')).toBe(true);
  });

  it('refuses a token endpoint masto cannot reach before sending the code anywhere', async () => {
    // Prepare
    const { url, seen } = await instance([json(200, { access_token: 'AT-1', token_type: 'Bearer' })]);

    // Act
    const refused = await failure(
      oauth.exchangeCode(url, {
        tokenEndpoint: `${url}/other/token`,
        code: CODE,
        clientId: 'client-1',
        clientSecret: SECRET,
        redirectUri: REDIRECT,
        scope: 'read',
      }),
    );

    // Assess
    expect(refused).toBeInstanceOf(ValidationError);
    expect(seen).toHaveLength(0);
  });
});
