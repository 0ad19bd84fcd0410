/** The Mastodon sandbox: public API. */
export { type ActiveFault, type FaultKind, type FaultSpec, SandboxFaults } from '../common/faults.ts';
export { fromFlake, type MastodonIdStyle, toFlake } from './ids.ts';
export { MASTODON_DEFAULT_LIMITS, type MastodonLimits, resolveMastodonLimits } from './limits.ts';
export {
  MASTODON_ENDPOINTS,
  type MastodonEndpoint,
  type MastodonFaultSpec,
  type MastodonSandbox,
  type MastodonSandboxOptions,
  startMastodonSandbox,
} from './server.ts';
export { homeDomain, mastodonUsername, noteHtml, renderAccount, renderRelationship } from './shapes.ts';
