import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { serveConsoleRequest as serve } from '../../functions/handlers/console.ts';

const serveConsoleRequest = async (...args: Parameters<typeof serve>) =>
  (await serve(...args)) as Exclude<LambdaFunctionURLResult, string>;

import { systemClock } from '../../shared/adapters/clock.ts';
import { silentLogger } from '../../shared/adapters/logger.ts';
import type { WebDeps } from '../../shared/adapters/web/console-handler.ts';
import { LocalConsoleAuth } from '../../shared/adapters/web/local-auth.ts';

function event(
  method: string,
  path: string,
  extra: Partial<LambdaFunctionURLEvent> = {},
): LambdaFunctionURLEvent {
  const [rawPath, rawQueryString = ''] = path.split('?') as [string, string?];
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: { host: 'console.lambda-url.eu-west-1.on.aws' },
    requestContext: { http: { method }, domainName: 'console.lambda-url.eu-west-1.on.aws' },
    isBase64Encoded: false,
    ...extra,
  } as unknown as LambdaFunctionURLEvent;
}

function depsWith(auth: LocalConsoleAuth, seen: string[]) {
  return {
    logger: silentLogger,
    web: async (baseUrl: string) => {
      seen.push(baseUrl);
      return {
        agency: { name: 'Agency' },
        auth,
        invites: { baseUrl, clock: systemClock },
        csrfKey: 'k'.repeat(32),
        auditRetentionDays: 400,
      } as unknown as WebDeps;
    },
  };
}

describe('the console Function URL handler', () => {
  it('answers the sign-in with Set-Cookie values in the result cookies, for the Host it was called on', async () => {
    // Prepare
    const auth = new LocalConsoleAuth({ clock: systemClock });
    const seen: string[] = [];

    // Act
    const result = await serveConsoleRequest(event('GET', auth.issueSignInPath()), depsWith(auth, seen));

    // Assess
    expect(seen).toEqual(['https://console.lambda-url.eu-west-1.on.aws']);
    expect(result.statusCode).toBe(303);
    expect(result.cookies?.[0]).toMatch(/^fb_console=[\w-]+; HttpOnly; Secure; SameSite=Strict/);
  });

  it('reads the session from the event cookies and a base64 form body, and refuses a POST without the CSRF token', async () => {
    // Prepare
    const auth = new LocalConsoleAuth({ clock: systemClock });
    const signedIn = await serveConsoleRequest(event('GET', auth.issueSignInPath()), depsWith(auth, []));
    const sessionCookie = signedIn.cookies![0]!.split(';')[0]!;
    const csrf = (await auth.session({ fb_console: sessionCookie.split('=')[1]! }))!.csrf;
    const post = (body: string) =>
      event('POST', '/console/signout', {
        cookies: [sessionCookie],
        body: Buffer.from(body).toString('base64'),
        isBase64Encoded: true,
      });

    // Act
    const refused = await serveConsoleRequest(post('csrf=wrong'), depsWith(auth, []));
    const signedOut = await serveConsoleRequest(post(`csrf=${encodeURIComponent(csrf)}`), depsWith(auth, []));

    // Assess
    expect(refused.statusCode).toBe(403);
    expect(signedOut.statusCode).toBe(303);
    expect(signedOut.cookies?.[0]).toMatch(/^fb_console=; .*Max-Age=0/);
  });

  it('answers 503 and changes nothing when its dependencies cannot be wired', async () => {
    // Act
    const result = await serveConsoleRequest(event('GET', '/console'), {
      logger: silentLogger,
      web: async () => {
        throw new Error('secret unavailable');
      },
    });

    // Assess
    expect(result.statusCode).toBe(503);
  });
});
