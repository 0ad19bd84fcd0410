/** Connecting accounts (X and Mastodon: OAuth 2.0; Bluesky: an app password) and keeping their tokens fresh. */
export {
  type ConnectBlueskyDeps,
  type ConnectBlueskyInput,
  type ConnectBlueskyResult,
  connectBluesky,
} from './connect-bluesky.ts';
export {
  type ConnectMastodonDeps,
  type ConnectMastodonInput,
  type ConnectMastodonResult,
  connectMastodon,
  MASTODON_OAUTH_SCOPES,
} from './connect-mastodon.ts';
export { type ConnectXDeps, type ConnectXInput, type ConnectXResult, connectX } from './connect-x.ts';
export { ConnectTimeoutError, type LoopbackReceiver, startLoopbackReceiver } from './loopback.ts';
export {
  createXOAuthClient,
  OAuthGrantError,
  type OAuthTokenClient,
  type TokenSet,
  XOAuthClient,
  type XOAuthClientOptions,
} from './oauth-client.ts';
export { createPkce, createState, s256 } from './pkce.ts';
export { DynamoRefreshLock, MemoryRefreshLock, REFRESH_LOCK_SK, type RefreshLock } from './refresh-lock.ts';
export {
  type AccessTokenProvider,
  type CredentialVault,
  createTokenProvider,
  createXTokenProvider,
  type TokenProviderOptions,
} from './token-provider.ts';
