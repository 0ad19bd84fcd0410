import { AuthError, FollowbackError } from '../domain/errors.ts';

/**
 * The OAuth ports: a token endpoint (code exchange and refresh), the authorize URL of an app, and
 * the receiver of the redirect that brings the code back. Adapters: X's token client
 * (adapters/x/x-oauth-client.ts), Mastodon's instance client (adapters/mastodon/mastodon-oauth.ts),
 * the loopback redirect server (runtime/loopback.ts). Tokens never appear in an error or a log line.
 */

/** A token endpoint's answer, as followback keeps it. */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string | undefined;
  /** Epoch ms when the access token expires, from `expires_in`. */
  expiresAt?: number | undefined;
  /** Space-separated scopes granted. */
  scope?: string | undefined;
}

/** What the connect and refresh use cases need from a token endpoint. */
export interface OAuthTokenClient {
  exchangeCode(input: { code: string; redirectUri: string; codeVerifier: string }): Promise<TokenSet>;
  /** One refresh. X rotates: the answer's refresh token replaces the one sent, which is then dead. */
  refresh(refreshToken: string): Promise<TokenSet>;
}

/** An OAuth app with PKCE: its token endpoint and the URL the owner opens to approve it. */
export interface OAuthApp extends OAuthTokenClient {
  /** The app's OAuth 2.0 Client ID. */
  readonly clientId?: string | undefined;
  authorizeUrl(input: {
    redirectUri: string;
    state: string;
    codeChallenge: string;
    scopes: readonly string[];
  }): string;
}

/**
 * The token endpoint refused the grant (an unknown, used, expired or revoked code or refresh token,
 * a wrong PKCE verifier, the user said no). For a refresh this means the account must be connected
 * again, so it is an AuthError: the account worker marks the account `token_expired`.
 */
export class OAuthGrantError extends AuthError {
  override readonly name = 'OAuthGrantError';
  readonly error: string;

  constructor(
    error: string,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options);
    this.error = error;
  }
}

/**
 * The redirect target of a native app's OAuth flow (RFC 8252 7.3), for one redirect. It takes only
 * a redirect carrying the flow's `state`; anything else is refused and the wait goes on.
 */
export interface LoopbackReceiver {
  /** e.g. http://127.0.0.1:49152/callback */
  redirectUri: string;
  /** The authorization code, once the browser comes back with it (rejects on error or timeout). */
  code: Promise<string>;
  close(): Promise<void>;
}

export interface RedirectReceiverOptions {
  /** The `state` sent in the authorize URL. */
  state: string;
  /** 0 or undefined: a free port. */
  port?: number | undefined;
  /** How long to wait for the owner (default 5 minutes). */
  timeoutMs?: number | undefined;
}

/** Starts a receiver for one flow (the loopback server: runtime/loopback.ts `startLoopbackReceiver`). */
export type RedirectReceiverFactory = (options: RedirectReceiverOptions) => Promise<LoopbackReceiver>;

/** Nobody came back to the loopback redirect in time. */
export class ConnectTimeoutError extends FollowbackError {
  override readonly name = 'ConnectTimeoutError';
}
