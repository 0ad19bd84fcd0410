/**
 * The account worker's platforms on AWS, kept apart from aws.ts: the network clients (Bluesky's
 * lexicons alone are ~1 MB) are bundled only into the function that calls the networks.
 */

import type { AccountRecord } from '../domain/account.ts';
import type { Clock } from '../ports/clock.ts';
import type { CredentialVault } from '../ports/credentials.ts';
import type { RefreshLock } from '../ports/locks.ts';
import type { Logger } from '../ports/logger.ts';
import type { Platform } from '../ports/platform.ts';
import type { TokenRefresher } from './aws.ts';
import { createPlatformFactory as createSharedPlatformFactory } from './platforms.ts';

/** What a worker needs to reach an account's network on its behalf. */
export interface PlatformFactoryDeps {
  /** X API base URL (X itself, the sandbox, an X-compatible endpoint). */
  xApiBaseUrl: string;
  /** The accounts' sealed credentials (read, and written back after a refresh). */
  credentials: CredentialVault;
  /** X's token endpoint; undefined: X tokens are used as stored until they expire. */
  xTokens?: TokenRefresher | undefined;
  /** The refresher of an account whose tokens come from its client's own X app (x-apps.ts). */
  xAppTokens?: ((account: AccountRecord) => TokenRefresher | undefined) | undefined;
  /** The per-account lock a refresh runs under (`LOCK#refresh` in the account's partition). */
  refreshLock: RefreshLock;
  clock: Clock;
  /** Per-request timeout of platform calls. */
  timeoutMs?: number | undefined;
  /** Bluesky's PDS or entryway for accounts that name none (`BLUESKY_SERVICE`). */
  blueskyService?: string | undefined;
}

/**
 * The platform of one account for one unit of work (one SQS message): its credentials opened, and
 * refreshed first if they are about to expire, before it is returned. So a credential problem
 * surfaces here, before any state is touched: AuthError (none stored, or a refresh the platform
 * refused: reconnect), VaultOpenError (sealed for someone else), TransientPlatformError (the token
 * endpoint is down, or another worker held the refresh lock too long), ConfigError (a network
 * without an adapter, or the app's client id refused).
 */
export type PlatformFactory = (account: AccountRecord, context: { logger: Logger }) => Promise<Platform>;

export function createPlatformFactory(deps: PlatformFactoryDeps): PlatformFactory {
  const platforms = createSharedPlatformFactory({
    credentials: deps.credentials,
    lock: deps.refreshLock,
    clock: deps.clock,
    timeoutMs: deps.timeoutMs,
    x: { apiBaseUrl: deps.xApiBaseUrl, oauthClient: deps.xTokens, oauthClientFor: deps.xAppTokens },
    bluesky: { service: deps.blueskyService },
  });
  return (account, { logger }) => platforms.open(account, { logger });
}
