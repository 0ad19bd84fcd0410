/**
 * The console's sign-in on AWS: Amazon Cognito's managed login with the Authorization Code flow and
 * PKCE (a public app client, no secret), the tokens verified with AWS's own `aws-jwt-verify`.
 *
 * - An anonymous browser is sent to `<domain>/oauth2/authorize` with a fresh state and S256
 *   challenge; the state and verifier wait in a short-lived HttpOnly, Secure, SameSite=Lax cookie
 *   (Lax: it must come back on Cognito's redirect), path `/console/auth`.
 * - Cognito redirects to `/console/auth?code&state`: the state must equal the cookie's, the code is
 *   exchanged at `<domain>/oauth2/token` with the verifier, and the ID token is verified (signature
 *   by the pool's JWKS, issuer, audience = the app client, token use `id`, expiry).
 * - The session cookie holds the ID token (HttpOnly, Secure, SameSite=Lax, until the token
 *   expires); every request verifies it again. Its CSRF token is an HMAC of the token's subject and
 *   issue time under the deployment's key, so it changes with every sign-in and is never stored.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { createPkce } from '../../app/connect/pkce.ts';
import type { Clock } from '../../ports/clock.ts';
import { type ConsoleAuth, type ConsoleSession, clearCookie, cookie, type SignInOutcome } from './auth.ts';
import { sameToken } from './local-auth.ts';

export const COGNITO_SESSION_COOKIE = 'fb_session';
const LOGIN_COOKIE = 'fb_login';
export const CONSOLE_AUTH_PATH = '/console/auth';

export interface VerifiedIdToken {
  sub: string;
  email?: string | undefined;
  iat: number;
  exp: number;
}

export interface CognitoAuthOptions {
  userPoolId: string;
  clientId: string;
  /** The managed login domain, e.g. `https://followback-prod.auth.eu-west-1.amazoncognito.com`. */
  domain: string;
  /** The console's public base URL (its Function URL). */
  baseUrl: string;
  /** Keys the CSRF tokens. */
  csrfKey: string | Uint8Array;
  clock: Clock;
  /** Default: aws-jwt-verify's CognitoJwtVerifier (JWKS fetched once per container and cached). */
  verify?: ((token: string) => Promise<VerifiedIdToken>) | undefined;
  fetch?: typeof fetch | undefined;
  /** The pool's JWKS, when known (tests; otherwise fetched from the pool on first use). */
  jwks?: Parameters<ReturnType<typeof CognitoJwtVerifier.create>['cacheJwks']>[0] | undefined;
}

export class CognitoConsoleAuth implements ConsoleAuth {
  readonly #options: CognitoAuthOptions;
  readonly #verify: (token: string) => Promise<VerifiedIdToken>;
  readonly #fetch: typeof fetch;

  constructor(options: CognitoAuthOptions) {
    this.#options = {
      ...options,
      domain: options.domain.replace(/\/+$/, ''),
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    };
    if (options.verify !== undefined) {
      this.#verify = options.verify;
    } else {
      const verifier = CognitoJwtVerifier.create({
        userPoolId: options.userPoolId,
        clientId: options.clientId,
        tokenUse: 'id',
      });
      if (options.jwks !== undefined) verifier.cacheJwks(options.jwks);
      this.#verify = async (token) => (await verifier.verify(token)) as unknown as VerifiedIdToken;
    }
    this.#fetch = options.fetch ?? fetch;
  }

  get #redirectUri(): string {
    return `${this.#options.baseUrl}${CONSOLE_AUTH_PATH}`;
  }

  #csrf(token: VerifiedIdToken): string {
    return createHmac('sha256', this.#options.csrfKey)
      .update(`console-csrf|${token.sub}|${token.iat}`)
      .digest('base64url');
  }

  async session(cookies: Readonly<Record<string, string>>): Promise<ConsoleSession | undefined> {
    const token = cookies[COGNITO_SESSION_COOKIE];
    if (token === undefined || token.length > 8192) return undefined;
    try {
      const verified = await this.#verify(token);
      return { user: verified.email ?? verified.sub, csrf: this.#csrf(verified) };
    } catch {
      return undefined;
    }
  }

  async loginRedirect(): Promise<{ url: string; cookies: string[] }> {
    const state = randomBytes(18).toString('base64url');
    const pkce = createPkce();
    const url = new URL(`${this.#options.domain}/oauth2/authorize`);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.#options.clientId);
    url.searchParams.set('redirect_uri', this.#redirectUri);
    url.searchParams.set('scope', 'openid email');
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', pkce.challenge);
    url.searchParams.set('code_challenge_method', 'S256');
    return {
      url: url.toString(),
      cookies: [
        cookie(LOGIN_COOKIE, `${state}.${pkce.verifier}`, {
          sameSite: 'Lax',
          path: CONSOLE_AUTH_PATH,
          maxAgeSeconds: 600,
        }),
      ],
    };
  }

  async signIn(query: URLSearchParams, cookies: Readonly<Record<string, string>>): Promise<SignInOutcome> {
    const [state, verifier] = (cookies[LOGIN_COOKIE] ?? '').split('.');
    const refused = (message: string): SignInOutcome => ({ ok: false, status: 403, message });
    if (!state || !verifier || !sameToken(query.get('state') ?? '', state)) {
      return refused(
        'This sign-in did not start here (or took too long). Open the console again to sign in.',
      );
    }
    const code = query.get('code');
    if (code === null || code === '')
      return refused('Cognito sent no authorization code. Open the console again to sign in.');
    const answer = await this.#fetch(`${this.#options.domain}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: this.#options.clientId,
        code,
        redirect_uri: this.#redirectUri,
        code_verifier: verifier,
      }).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    if (!answer.ok)
      return refused(`Cognito refused the sign-in (HTTP ${answer.status}). Open the console again.`);
    const body = (await answer.json().catch(() => ({}))) as { id_token?: unknown };
    if (typeof body.id_token !== 'string') return refused('Cognito sent no ID token.');
    let verified: VerifiedIdToken;
    try {
      verified = await this.#verify(body.id_token);
    } catch {
      return refused('The ID token did not verify.');
    }
    const maxAge = verified.exp - Math.floor(this.#options.clock.now() / 1000);
    return {
      ok: true,
      redirect: '/console',
      cookies: [
        cookie(COGNITO_SESSION_COOKIE, body.id_token, { sameSite: 'Lax', maxAgeSeconds: maxAge }),
        clearCookie(LOGIN_COOKIE, { sameSite: 'Lax', path: CONSOLE_AUTH_PATH }),
      ],
    };
  }

  async signOut(): Promise<{ cookies: string[]; redirect: string }> {
    const url = new URL(`${this.#options.domain}/logout`);
    url.searchParams.set('client_id', this.#options.clientId);
    url.searchParams.set('logout_uri', `${this.#options.baseUrl}/console`);
    return { cookies: [clearCookie(COGNITO_SESSION_COOKIE, { sameSite: 'Lax' })], redirect: url.toString() };
  }
}
