/** Connecting accounts (OAuth 2.0 with PKCE) and keeping their tokens fresh. */
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
