/** The X API v2 sandbox: public API. */

export { SNOWFLAKE_EPOCH_MS, snowflakeTime } from '../ids.ts';
export {
  type EndpointStats,
  SandboxStats,
  type StatsSnapshot,
  type StatsTotals,
} from '../stats.ts';
export { TokenRegistry, type TokenResolver } from '../tokens.ts';
export {
  type CreateUserOptions,
  createWorld,
  type FollowCall,
  type FollowOutcome,
  type OwnerOptions,
  type ResolvedOwnerOptions,
  type SpamSignal,
  type UnfollowCall,
  type UnfollowOutcome,
  World,
  type WorldEvent,
  type WorldEventKind,
  type WorldOptions,
  type WorldPage,
  type WorldPageEntry,
  type WorldUser,
} from '../world.ts';
export { type ActiveFault, type XFaultKind, type XFaultSpec, XFaults } from './faults.ts';
export {
  FixedWindow,
  resolveLimits,
  type WindowState,
  X_DEFAULT_LIMITS,
  X_ENDPOINTS,
  type XEndpoint,
  type XRateLimits,
  type XRateLimitsOverrides,
} from './limits.ts';
export { type Cursor, decodeToken, encodeToken } from './pagination.ts';
export { startXSandbox, type XSandbox, type XSandboxOptions } from './server.ts';
export { renderUser, USER_FIELDS, type XUserObject, type XUserPublicMetrics } from './shapes.ts';
