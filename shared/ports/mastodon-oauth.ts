/**
 * The Mastodon OAuth port: what connecting an account on a Mastodon-API instance needs from the
 * instance (adapter: adapters/mastodon/mastodon-oauth.ts). Answers are checked against their wire
 * shapes there; errors name the endpoint and the instance's error code, never a token, a code or the
 * app's secret: TransientPlatformError (429, 5xx, a network failure), OAuthGrantError (the token
 * endpoint refused the code), ConfigError (the token endpoint refused the app), AuthError (401/403
 * elsewhere), ValidationError (any other refusal), MalformedResponseError (an unexpected answer).
 * A refusal answered in something other than JSON (a proxy's page) is transient: the client library
 * (masto) does not keep its status.
 */

/** The instance's authorize and token endpoints (its own origin only), and whether it takes PKCE (S256). */
export interface MastodonEndpoints {
  authorize: string;
  token: string;
  pkce: boolean;
}

/** An app registered on the instance (`POST /api/v1/apps`). Secret: the client secret. */
export interface MastodonApp {
  clientId: string;
  clientSecret: string;
}

/** Who approved (`verify_credentials`). */
export interface MastodonCredentialAccount {
  id: string;
  username: string;
  /** `user` for a local account, `user@domain` otherwise. */
  acct: string;
  url?: string | undefined;
}

export interface MastodonOAuth {
  /**
   * The endpoints from `/.well-known/oauth-authorization-server` (Mastodon 4.3+); without usable
   * metadata (another origin, or a token endpoint other than the instance's `/oauth/token`),
   * `/oauth/authorize` and `/oauth/token` without PKCE.
   */
  discover(instanceUrl: string): Promise<MastodonEndpoints>;
  registerApp(
    instanceUrl: string,
    input: { clientName: string; redirectUri: string; scopes: string; website?: string | undefined },
  ): Promise<MastodonApp>;
  /**
   * The authorization code exchanged at the token endpoint (one `discover` returned: the instance's
   * `/oauth/token`; any other is a ValidationError, nothing sent): the access token and the scopes granted.
   */
  exchangeCode(
    instanceUrl: string,
    input: {
      tokenEndpoint: string;
      code: string;
      clientId: string;
      clientSecret: string;
      redirectUri: string;
      scope: string;
      codeVerifier?: string | undefined;
    },
  ): Promise<{ accessToken: string; scope?: string | undefined }>;
  verifyCredentials(instanceUrl: string, accessToken: string): Promise<MastodonCredentialAccount>;
}
