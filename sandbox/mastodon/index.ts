/** The Mastodon sandbox: public API. */
export { type ActiveFault, type FaultKind, type FaultSpec, SandboxFaults } from '../common/faults.ts';
export { fromFlake, type MastodonIdStyle, toFlake } from './ids.ts';
export { MASTODON_DEFAULT_LIMITS, type MastodonLimits, resolveMastodonLimits } from './limits.ts';
export {
  MASTODON_APPS_PATH,
  MASTODON_AUTHORIZE_PATH,
  MASTODON_CONSENT_PARAM,
  MASTODON_METADATA_PATH,
  MASTODON_SCOPES,
  MASTODON_TOKEN_PATH,
  type MastodonApp,
  type MastodonOAuthOptions,
  MastodonOAuthServer,
  scopeCovers,
} from './oauth.ts';
export {
  MASTODON_ENDPOINT_SCOPES,
  MASTODON_ENDPOINTS,
  type MastodonEndpoint,
  type MastodonFaultSpec,
  type MastodonSandbox,
  type MastodonSandboxOptions,
  startMastodonSandbox,
} from './server.ts';
export { homeDomain, mastodonUsername, noteHtml, renderAccount, renderRelationship } from './shapes.ts';
