import type { XOAuthEnv } from '../../config/x-oauth.ts';
import * as z from '../../config/zod.ts';
import { ConfigError, MalformedResponseError, TransientPlatformError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import { type OAuthApp, OAuthGrantError, type TokenSet } from '../../ports/oauth.ts';
import { systemClock } from '../clock.ts';

/**
 * The OAuth 2.0 client side of X's Authorization Code flow with PKCE: the authorize URL, the code
 * exchange and the refresh, on the token endpoint. Tokens never appear in an error or a log line:
 * errors carry the endpoint's `error` code and description, and the HTTP status.
 */

export interface XOAuthClientOptions {
  clientId: string;
  /** A confidential client's secret (HTTP Basic on the token endpoint); absent: a public client. */
  clientSecret?: string | undefined;
  authorizeUrl: string;
  tokenUrl: string;
  clock?: Clock | undefined;
  timeoutMs?: number | undefined;
  /** For tests; default: the global fetch. */
  fetch?: typeof fetch | undefined;
}

const tokenAnswerSchema = z.object({
  token_type: z.string().check(z.regex(/^bearer$/i, 'must be bearer')),
  access_token: z.string().check(z.minLength(1)),
  expires_in: z.optional(z.number().check(z.int(), z.positive())),
  refresh_token: z.optional(z.string().check(z.minLength(1))),
  scope: z.optional(z.string()),
});

const errorAnswerSchema = z.object({
  error: z.string().check(z.maxLength(100)),
  error_description: z.optional(z.string()),
});

export class XOAuthClient implements OAuthApp {
  readonly clientId: string;
  readonly #secret: string | undefined;
  readonly #authorizeUrl: URL;
  readonly #tokenUrl: string;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: XOAuthClientOptions) {
    this.clientId = options.clientId;
    this.#secret = options.clientSecret;
    this.#authorizeUrl = new URL(options.authorizeUrl);
    this.#tokenUrl = options.tokenUrl;
    this.#clock = options.clock ?? systemClock;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The URL the account's owner opens to approve the app. */
  authorizeUrl(input: {
    redirectUri: string;
    state: string;
    codeChallenge: string;
    scopes: readonly string[];
  }): string {
    const url = new URL(this.#authorizeUrl.toString());
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.clientId);
    url.searchParams.set('redirect_uri', input.redirectUri);
    url.searchParams.set('scope', input.scopes.join(' '));
    url.searchParams.set('state', input.state);
    url.searchParams.set('code_challenge', input.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
    return url.toString();
  }

  exchangeCode(input: { code: string; redirectUri: string; codeVerifier: string }): Promise<TokenSet> {
    return this.#token('authorization code exchange', {
      grant_type: 'authorization_code',
      code: input.code,
      redirect_uri: input.redirectUri,
      code_verifier: input.codeVerifier,
    });
  }

  refresh(refreshToken: string): Promise<TokenSet> {
    return this.#token('token refresh', { grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  async #token(what: string, params: Record<string, string>): Promise<TokenSet> {
    const form = new URLSearchParams(params);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    // X wants client_id in the body; a confidential client adds HTTP Basic (as twitter-api-v2 does).
    form.set('client_id', this.clientId);
    if (this.#secret !== undefined) {
      // RFC 6749 2.3.1: both parts form-encoded, then Basic.
      const pair = `${encodeURIComponent(this.clientId)}:${encodeURIComponent(this.#secret)}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    }
    const details = { endpoint: 'oauth2/token', grantType: params.grant_type };
    let response: Response;
    try {
      response = await this.#fetch(this.#tokenUrl, {
        method: 'POST',
        headers,
        body: form.toString(),
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      throw new TransientPlatformError(`X ${what} failed: ${(error as Error).name}`, {
        cause: summarize(error),
        details,
      });
    }
    const text = await response.text().catch(() => '');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.status === 429 || response.status >= 500) {
      throw new TransientPlatformError(`X ${what} failed: HTTP ${response.status}`, {
        details: { ...details, status: response.status },
      });
    }
    if (!response.ok) {
      const answer = errorAnswerSchema.safeParse(json);
      const code = answer.success ? answer.data.error : `http_${response.status}`;
      const description = answer.success ? (answer.data.error_description ?? '').slice(0, 200) : '';
      const message = `X refused the ${what}: ${code}${description ? ` (${description})` : ''}`;
      if (response.status === 401 || code === 'unauthorized_client' || code === 'invalid_client') {
        throw new ConfigError(`${message}; check X_CLIENT_ID and X_CLIENT_SECRET`, {
          details: { ...details, status: response.status, error: code },
        });
      }
      throw new OAuthGrantError(code, message, {
        details: { ...details, status: response.status, error: code },
      });
    }
    const parsed = tokenAnswerSchema.safeParse(json);
    if (!parsed.success) {
      // Name the fields, never the values.
      const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(body)').join(', ');
      throw new MalformedResponseError(`X ${what}: unexpected answer at ${fields}`, { details });
    }
    const answer = parsed.data;
    return {
      accessToken: answer.access_token,
      refreshToken: answer.refresh_token,
      expiresAt: answer.expires_in === undefined ? undefined : this.#clock.now() + answer.expires_in * 1000,
      scope: answer.scope,
    };
  }
}

/** A fetch failure without anything a request carried (bodies hold codes and tokens). */
function summarize(error: unknown): Error {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const summary = new Error(cause?.code ?? (error as Error).message ?? String(error));
  summary.name = (error as Error).name ?? 'Error';
  return summary;
}

/** The X app's OAuth client from its validated settings (shared/config/x-oauth.ts). */
export function createXOAuthClient(
  env: Pick<XOAuthEnv, 'X_CLIENT_ID' | 'X_CLIENT_SECRET' | 'X_AUTHORIZE_URL' | 'X_TOKEN_URL'>,
  clock?: Clock,
): XOAuthClient {
  return new XOAuthClient({
    clientId: env.X_CLIENT_ID,
    clientSecret: env.X_CLIENT_SECRET,
    authorizeUrl: env.X_AUTHORIZE_URL,
    tokenUrl: env.X_TOKEN_URL,
    clock,
  });
}

/** X's authorize and token endpoints (X's own, or the sandbox's) and how long a token call may take. */
export interface XOAuthEndpoints {
  authorizeUrl: string;
  tokenUrl: string;
  clock: Clock;
  timeoutMs?: number | undefined;
}

/**
 * A maker of OAuth clients on these endpoints, one per X app (the deployment's, or a client's own):
 * what the X app use cases (shared/app/connect/x-apps.ts) are given to reach the token endpoint.
 */
export function xOAuthApps(
  endpoints: XOAuthEndpoints,
): (app: { clientId: string; clientSecret?: string | undefined }) => XOAuthClient {
  return (app) =>
    new XOAuthClient({
      authorizeUrl: endpoints.authorizeUrl,
      tokenUrl: endpoints.tokenUrl,
      clock: endpoints.clock,
      timeoutMs: endpoints.timeoutMs,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
    });
}
