/**
 * One platform factory for every composition (the local runtime, `followback run`, the AWS account
 * worker): an account record in, the adapter of its network out, with its credentials opened from
 * the vault under the account's own context (so one tenant's ciphertext never opens for another).
 *
 * - X: the OAuth access token from a provider that refreshes it under the account's lock and stores
 *   the rotated pair before using it (shared/app/connect/token-provider.ts).
 * - Bluesky: the stored session is resumed (no login); the adapter refreshes it when the PDS says it
 *   expired, and every new session (the refresh JWT rotates) is stored through the vault before the
 *   call that caused it returns. The stored app password logs in again when a session cannot be
 *   refreshed. A session stored meanwhile by someone else (a reconnect, another worker) wins: ours is
 *   kept in memory for this unit of work only.
 * - Mastodon: the access token from the vault (Mastodon tokens do not expire; a revoked one answers
 *   401, an AuthError, and the worker marks the account `token_expired`). The instance is the
 *   account's `instanceUrl`.
 *
 * Calling the factory is synchronous and lazy: credentials are read on the first request, and a
 * credential problem surfaces there. `open` does the same eagerly (credentials read, an X token
 * refreshed if it must be) so a worker learns of a credential problem before touching any state.
 */
import type { BlueskySession } from '../adapters/bluesky/bluesky-platform.ts';
import { BLUESKY_DEFAULT_SERVICE, BLUESKY_LIMITS } from '../adapters/bluesky/constants.ts';
import type { Credentials, StoredCredentials } from '../adapters/dynamo/credential-store.ts';
import { createMastodonPlatform } from '../adapters/mastodon/mastodon-platform.ts';
import { XPlatform } from '../adapters/x/x-platform.ts';
import { createTokenProvider } from '../app/connect/token-provider.ts';
import { type AccountRecord, type AccountRef, accountKey } from '../domain/account.ts';
import { AuthError, ConfigError, ConflictError } from '../domain/errors.ts';
import { UNKNOWN_PLATFORM_USER_ID } from '../domain/tenants/tenant.ts';
import type { Clock } from '../ports/clock.ts';
import type { AccessTokenProvider, CredentialVault } from '../ports/credentials.ts';
import type { RefreshLock } from '../ports/locks.ts';
import type { Logger } from '../ports/logger.ts';
import type { OAuthTokenClient } from '../ports/oauth.ts';
import type { Network, Platform, PlatformLimits } from '../ports/platform.ts';

export interface PlatformFactoryOptions {
  /** The accounts' sealed credentials (read, and written back after a refresh). */
  credentials: CredentialVault;
  /** The per-account lock an X token refresh runs under (`LOCK#refresh` in the account's partition). */
  lock: RefreshLock;
  clock: Clock;
  /** Default logger of the platforms (refreshes, stored sessions; never a secret). */
  logger?: Logger | undefined;
  /** Per-request timeout of platform calls (default: each adapter's, 10 s). */
  timeoutMs?: number | undefined;
  x: {
    /** X API base URL (X itself, the sandbox, an X-compatible endpoint). */
    apiBaseUrl: string;
    /** X's token endpoint; undefined: X tokens are used as stored until they expire. */
    oauthClient?: Pick<OAuthTokenClient, 'refresh'> | undefined;
    /**
     * The refresher of one account's tokens where it depends on the account's client (its own X
     * app: shared/app/connect/x-apps.ts `xTokenRefresherFor`); default `oauthClient`.
     */
    oauthClientFor?: ((account: AccountRecord) => Pick<OAuthTokenClient, 'refresh'> | undefined) | undefined;
  };
  bluesky?:
    | {
        /** The deployment's default PDS or entryway (`BLUESKY_SERVICE`, default https://bsky.social). */
        service?: string | undefined;
        /** Overrides the service per account (the local runtime: its sandbox). */
        serviceFor?: ((account: AccountRecord) => string | undefined) | undefined;
      }
    | undefined;
  mastodon?:
    | {
        /** Overrides the instance URL per account (the local runtime: its sandbox); default `instanceUrl`. */
        urlFor?: ((account: AccountRecord) => string | undefined) | undefined;
      }
    | undefined;
}

export interface PlatformContext {
  /** Logger of this unit of work (a Lambda invocation's); default the factory's. */
  logger?: Logger | undefined;
}

export interface PlatformFactory {
  /** The account's platform; credentials are read on its first request. */
  (account: AccountRecord, context?: PlatformContext): Platform;
  /** The account's platform with its credentials opened first (AuthError, VaultOpenError, ... here). */
  open(account: AccountRecord, context?: PlatformContext): Promise<Platform>;
}

export function createPlatformFactory(options: PlatformFactoryOptions): PlatformFactory {
  const build = (account: AccountRecord, context: PlatformContext = {}): Built => {
    const logger = context.logger ?? options.logger;
    switch (account.network) {
      case 'x':
        return buildX(account, options, logger);
      case 'bluesky':
        return buildBluesky(account, options, logger);
      case 'mastodon':
        return buildMastodon(account, options, logger);
      default:
        throw new ConfigError(
          `network ${String((account as { network: unknown }).network)} has no adapter (account ${accountKey(account)})`,
          { details: { network: (account as { network: unknown }).network } },
        );
    }
  };
  const factory = ((account: AccountRecord, context?: PlatformContext) =>
    build(account, context).platform) as PlatformFactory;
  factory.open = async (account, context) => {
    const built = build(account, context);
    await built.ready();
    return built.platform;
  };
  return factory;
}

interface Built {
  platform: Platform;
  /** Opens the credentials (and refreshes an X token that must be). */
  ready(): Promise<unknown>;
}

function refOf(account: AccountRecord): AccountRef {
  return { clientId: account.clientId, accountId: account.accountId };
}

function buildX(account: AccountRecord, options: PlatformFactoryOptions, logger: Logger | undefined): Built {
  // One provider per platform: it keeps the token in memory while it is fresh and refreshes under
  // the account's lock when it is not (also during a long tick).
  const accessToken: AccessTokenProvider = createTokenProvider({
    credentials: options.credentials,
    ref: refOf(account),
    oauthClient: options.x.oauthClientFor?.(account) ?? options.x.oauthClient,
    clock: options.clock,
    lock: options.lock,
    logger,
    network: 'x',
  });
  return {
    platform: new XPlatform({
      baseUrl: options.x.apiBaseUrl,
      accessToken,
      clock: options.clock,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    }),
    ready: accessToken,
  };
}

function buildMastodon(
  account: AccountRecord,
  options: PlatformFactoryOptions,
  logger: Logger | undefined,
): Built {
  const url = options.mastodon?.urlFor?.(account) ?? account.instanceUrl;
  if (url === undefined) {
    throw new ConfigError(
      `${accountKey(account)} is a Mastodon account without an instance URL: connect it again`,
      {
        details: { ...refOf(account), network: 'mastodon' },
      },
    );
  }
  // No refresh on Mastodon: the provider reads the token once, keeps it, and says AuthError when none is stored.
  const accessToken = createTokenProvider({
    credentials: options.credentials,
    ref: refOf(account),
    clock: options.clock,
    lock: options.lock,
    logger,
    network: 'mastodon',
  });
  return {
    platform: createMastodonPlatform({
      url,
      accessToken,
      clock: options.clock,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    }),
    ready: accessToken,
  };
}

function buildBluesky(
  account: AccountRecord,
  options: PlatformFactoryOptions,
  logger: Logger | undefined,
): Built {
  const ref = refOf(account);
  const who = accountKey(account);
  const log = logger?.child({ clientId: ref.clientId, accountId: ref.accountId, network: 'bluesky' });
  const service =
    options.bluesky?.serviceFor?.(account) ??
    account.instanceUrl ??
    options.bluesky?.service ??
    BLUESKY_DEFAULT_SERVICE;

  const open = async (): Promise<Platform> => {
    const stored = await options.credentials.get(ref, 'bluesky');
    if (stored === undefined) {
      throw new AuthError(`${who} has no stored bluesky credentials: connect the account`, {
        details: { ...ref, network: 'bluesky' },
      });
    }
    const creds = stored.credentials;
    if (
      creds.did !== undefined &&
      account.platformUserId !== UNKNOWN_PLATFORM_USER_ID &&
      creds.did !== account.platformUserId
    ) {
      throw new AuthError(
        `${who}: the stored Bluesky session is another account's: connect the account again`,
        {
          details: { ...ref, network: 'bluesky' },
        },
      );
    }
    const session: BlueskySession | undefined =
      creds.refreshToken !== undefined && creds.did !== undefined
        ? {
            did: creds.did,
            handle: creds.handle ?? account.handle,
            accessJwt: creds.accessToken,
            refreshJwt: creds.refreshToken,
          }
        : undefined;
    const identifier = creds.did ?? creds.identifier;
    const password = creds.appPassword;
    if (session === undefined && (identifier === undefined || password === undefined)) {
      throw new AuthError(
        `${who}: the stored Bluesky credentials hold neither a session nor an app password`,
        {
          details: { ...ref, network: 'bluesky' },
        },
      );
    }
    let known: StoredCredentials = stored;
    const onSession = async (next: BlueskySession | undefined): Promise<void> => {
      if (next === undefined) {
        log?.debug('the Bluesky session ended; the next call logs in again with the app password');
        return;
      }
      const updated: Credentials = {
        ...known.credentials,
        accessToken: next.accessJwt,
        refreshToken: next.refreshJwt,
        did: next.did,
        handle: next.handle,
      };
      try {
        const version = await options.credentials.put(ref, 'bluesky', updated, known.version);
        known = { credentials: updated, version, updatedAt: options.clock.now() };
        log?.info('Bluesky session stored', { version });
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        // Stored meanwhile (a reconnect, another worker's refresh): that one stays; ours serves this
        // platform until it ends, and the next store builds on the newer version.
        const latest = await options.credentials.get(ref, 'bluesky');
        if (latest !== undefined) known = latest;
        log?.warn('Bluesky session not stored: the stored credentials changed meanwhile', {
          version: known.version,
        });
      }
    };
    // Loaded on first use: a worker that serves no Bluesky account never evaluates its XRPC client.
    const { createBlueskyPlatform } = await import('../adapters/bluesky/bluesky-platform.ts');
    return createBlueskyPlatform({
      service,
      ...(session === undefined ? {} : { session }),
      ...(identifier === undefined || password === undefined ? {} : { identifier, password }),
      onSession,
      clock: options.clock,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
  };

  let opened: Promise<Platform> | undefined;
  const get = (): Promise<Platform> => {
    opened ??= open().catch((error: unknown) => {
      opened = undefined;
      throw error;
    });
    return opened;
  };
  return { platform: deferred('bluesky', BLUESKY_LIMITS, get), ready: get };
}

/** A platform whose adapter is made on first use (its credentials are read then). */
function deferred(network: Network, limits: PlatformLimits, get: () => Promise<Platform>): Platform {
  const platform: Platform = {
    network,
    limits,
    me: async () => (await get()).me(),
    listFollowers: async (userId, request) => (await get()).listFollowers(userId, request),
    listFollowing: async (userId, request) => (await get()).listFollowing(userId, request),
    follow: async (source, target) => (await get()).follow(source, target),
    unfollow: async (source, target) => (await get()).unfollow(source, target),
    lookupUsers: async (userIds) => (await get()).lookupUsers(userIds),
  };
  if (network !== 'x') {
    platform.relationships = async (source, targets) => {
      const inner = await get();
      if (!inner.relationships) throw new ConfigError(`the ${network} adapter has no relationships lookup`);
      return inner.relationships(source, targets);
    };
  }
  return platform;
}
