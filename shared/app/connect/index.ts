/**
 * Connecting accounts (X and Mastodon: OAuth 2.0; Bluesky: an app password) and keeping their
 * tokens fresh. The use cases take their ports as arguments (shared/ports: credentials, locks,
 * oauth, mastodon-oauth, bluesky-session); the adapters live in shared/adapters (x/x-oauth-client,
 * mastodon/mastodon-oauth, bluesky/bluesky-login, oauth/loopback-receiver, dynamo|memory/refresh-lock).
 */
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
export { createPkce, createState, s256 } from './pkce.ts';
export {
  type AccessTokenProvider,
  type CredentialVault,
  createTokenProvider,
  createXTokenProvider,
  type TokenProviderOptions,
} from './token-provider.ts';
