/** The Bluesky (XRPC) sandbox: public API. */
export { type ActiveFault, type FaultKind, type FaultSpec, SandboxFaults } from '../common/faults.ts';
export { cidOf, derivedFollowKey, FOLLOW_COLLECTION, followUri, handleFor, TID_PATTERN, tid } from './ids.ts';
export { BLUESKY_DEFAULT_LIMITS, type BlueskyLimits, resolveBlueskyLimits } from './limits.ts';
export {
  BLUESKY_METHODS,
  type BlueskyFaultSpec,
  type BlueskyMethod,
  type BlueskySandbox,
  type BlueskySandboxOptions,
  type FollowRecord,
  startBlueskySandbox,
} from './server.ts';
export { appPasswordFor, SessionIssuer, type SessionOptions, type SessionTokens } from './sessions.ts';
export { blueskyHandle, type ProfileView, type ProfileViewDetailed } from './shapes.ts';
