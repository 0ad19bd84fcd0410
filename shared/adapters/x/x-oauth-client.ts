import {
  ApiPartialResponseError,
  ApiRequestError,
  ApiResponseError,
  type IParsedOAuth2TokenResult,
  type ITwitterApiClientPlugin,
  TwitterApi,
  TwitterApiPluginResponseOverride,
} from 'twitter-api-v2';
import type { XOAuthEnv } from '../../config/x-oauth.ts';
import * as z from '../../config/zod.ts';
import { ConfigError, MalformedResponseError, TransientPlatformError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import { type OAuthApp, OAuthGrantError, type TokenSet } from '../../ports/oauth.ts';
import { systemClock } from '../clock.ts';
import { otherFailure } from '../platform-errors.ts';
import { parseBaseUrl, tokenEndpointPlugin } from './x-endpoint.ts';

/**
 * The OAuth 2.0 client side of X's Authorization Code flow with PKCE: the authorize URL, and the
 * code exchange and the refresh on twitter-api-v2 (`loginWithOAuth2`, `refreshOAuth2Token`; a
 * confidential client authenticates with HTTP Basic, a public one with `client_id`), sent to the
 * configured token endpoint. Tokens never appear in an error or a log line: errors carry the
 * endpoint's `error` code and description, and the HTTP status, never the library's request (its
 * headers hold the app's secret).
 */

export interface XOAuthClientOptions {
  clientId: string;
  /** A confidential client's secret (HTTP Basic on the token endpoint); absent: a public client. */
  clientSecret?: string | undefined;
  authorizeUrl: string;
  tokenUrl: string;
  clock?: Clock | undefined;
  timeoutMs?: number | undefined;
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
  readonly #authorizeUrl: URL;
  readonly #api: TwitterApi;
  readonly #clock: Clock;

  constructor(options: XOAuthClientOptions) {
    this.clientId = options.clientId;
    this.#authorizeUrl = new URL(options.authorizeUrl);
    this.#clock = options.clock ?? systemClock;
    const tokenUrl = parseBaseUrl(options.tokenUrl, 'X_TOKEN_URL');
    this.#api = new TwitterApi(
      options.clientSecret === undefined
        ? { clientId: options.clientId }
        : { clientId: options.clientId, clientSecret: options.clientSecret },
      {
        plugins: [tokenEndpointPlugin(tokenUrl, options.timeoutMs ?? 10_000), tokenAnswerCheck],
        compression: 'identity',
      },
    );
  }

  /** The URL the account's owner opens to approve the app. */
  authorizeUrl(input: {
    redirectUri: string;
    state: string;
    codeChallenge: string;
    scopes: readonly string[];
  }): string {
    // Not twitter-api-v2's generateOAuth2AuthLink: it makes its own verifier (the use case owns the
    // PKCE pair), writes the method `s256` where RFC 7636 says `S256`, and always points at x.com.
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
    return this.#token('authorization code exchange', 'authorization_code', () =>
      this.#api.loginWithOAuth2({
        code: input.code,
        redirectUri: input.redirectUri,
        codeVerifier: input.codeVerifier,
      }),
    );
  }

  refresh(refreshToken: string): Promise<TokenSet> {
    return this.#token('token refresh', 'refresh_token', () => this.#api.refreshOAuth2Token(refreshToken));
  }

  async #token(
    what: string,
    grantType: string,
    call: () => Promise<IParsedOAuth2TokenResult>,
  ): Promise<TokenSet> {
    const details = { endpoint: 'oauth2/token', grantType };
    let answer: IParsedOAuth2TokenResult;
    try {
      answer = await call();
    } catch (error) {
      throw tokenError(what, details, error);
    }
    return {
      accessToken: answer.accessToken,
      refreshToken: answer.refreshToken,
      expiresAt: answer.expiresIn === undefined ? undefined : this.#clock.now() + answer.expiresIn * 1000,
      scope: answer.scope.length === 0 ? undefined : answer.scope.join(' '),
    };
  }
}

/**
 * Checks a token endpoint's answer before twitter-api-v2 reads it (the library takes it on trust and
 * fails on a missing `scope`): a bad one is a MalformedResponseError naming the fields, never the
 * values.
 */
const tokenAnswerCheck: ITwitterApiClientPlugin = {
  onAfterRequest({ response }) {
    const parsed = tokenAnswerSchema.safeParse(response.data);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(body)').join(', ');
      throw new MalformedResponseError(`unexpected answer at ${fields}`);
    }
    return new TwitterApiPluginResponseOverride({ ...response, data: { scope: '', ...parsed.data } });
  },
};

/** The port's error for a failed token call: a refusal, a misconfigured app, or a retryable failure. */
function tokenError(what: string, details: { endpoint: string; grantType: string }, error: unknown): Error {
  if (error instanceof MalformedResponseError) {
    return new MalformedResponseError(`X ${what}: ${error.message}`, { details });
  }
  const status =
    error instanceof ApiResponseError
      ? error.code
      : error instanceof ApiPartialResponseError
        ? error.response.statusCode
        : undefined;
  if (status !== undefined && (status === 429 || status >= 500)) {
    return new TransientPlatformError(`X ${what} failed: HTTP ${status}`, {
      details: { ...details, status },
    });
  }
  if (error instanceof ApiResponseError) {
    const answer = errorAnswerSchema.safeParse(error.data);
    const code = answer.success ? answer.data.error : `http_${error.code}`;
    const description = answer.success ? (answer.data.error_description ?? '').slice(0, 200) : '';
    const message = `X refused the ${what}: ${code}${description ? ` (${description})` : ''}`;
    const refusal = { ...details, status: error.code, error: code };
    if (error.code === 401 || code === 'unauthorized_client' || code === 'invalid_client') {
      return new ConfigError(`${message}; check X_CLIENT_ID and X_CLIENT_SECRET`, { details: refusal });
    }
    return new OAuthGrantError(code, message, { details: refusal });
  }
  if (error instanceof ApiPartialResponseError) {
    return new MalformedResponseError(`X ${what}: the answer could not be read`, {
      details: { ...details, status },
    });
  }
  if (error instanceof ApiRequestError) {
    // twitter-api-v2 1.29 keeps the socket's error as `_options.error` while its `requestError`
    // getter reads `_options.requestError` (always undefined).
    const socketError =
      error.requestError ?? (error as unknown as { _options?: { error?: Error } })._options?.error;
    const cause = summarize(socketError);
    return new TransientPlatformError(`X ${what} failed: ${cause.message}`, { cause, details });
  }
  // No request's failure (a fault of this code or the library's): the Error as it is.
  return otherFailure(`X ${what}`, error);
}

/** A request failure without anything the request carried (its headers and body hold secrets). */
function summarize(error: Error | undefined): Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  const summary = new Error(typeof code === 'string' ? code : (error?.message ?? 'request failed'));
  summary.name = error?.name ?? 'Error';
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
