import { randomUUID } from 'node:crypto';
import { type AccountRef, accountKey } from '../../domain/account.ts';
import { AuthError, ConflictError, TransientPlatformError } from '../../domain/errors.ts';
import type { Network } from '../../domain/network.ts';
import type { Clock } from '../../ports/clock.ts';
import type {
  AccessTokenProvider,
  Credentials,
  CredentialVault,
  StoredCredentials,
} from '../../ports/credentials.ts';
import type { RefreshLock } from '../../ports/locks.ts';
import type { Logger } from '../../ports/logger.ts';
import type { OAuthTokenClient } from '../../ports/oauth.ts';

export type { AccessTokenProvider, CredentialVault };

export interface TokenProviderOptions {
  /** Sealed credentials (the vault opens them with the account's context). */
  credentials: CredentialVault;
  ref: AccountRef;
  /** The token endpoint; undefined: tokens are used as stored and never refreshed. */
  oauthClient?: Pick<OAuthTokenClient, 'refresh'> | undefined;
  clock: Clock;
  lock: RefreshLock;
  logger?: Logger | undefined;
  /** Default 'x'. */
  network?: Network | undefined;
  /** Refresh this long before the access token expires (default 5 minutes). */
  refreshMarginMs?: number | undefined;
  /** Lease of the refresh lock (default 60 s: well above the token call's timeout). */
  leaseMs?: number | undefined;
  /** How long (wall time) to wait for another holder's refresh before giving up (default 20 s). */
  waitMs?: number | undefined;
  /** Names this provider in the lock (default: a random id). */
  holder?: string | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/**
 * The access token of one account, refreshed under a per-account lock (X rotates refresh tokens and
 * voids the whole grant when a used one comes back, so two refreshes from the same pair must never
 * happen):
 *
 * 1. a token not near expiry is returned as stored (and kept in memory for this provider's life);
 * 2. otherwise take the account's refresh lock; if another holder has it, wait, re-reading the
 *    stored pair until the holder has stored a fresh one (then use it, with no call of our own);
 * 3. inside the lock re-read the stored pair (another worker may have refreshed already: use it);
 * 4. call the token endpoint with the stored refresh token;
 * 5. store the new pair, conditional on the version read in step 3, before using it;
 * 6. give the lock back and return the new access token.
 *
 * A crash between 4 and 5 loses the new pair: the stored refresh token is then the rotated-out one,
 * the next refresh presents it, X voids the grant, and the account must be connected again
 * (OAuthGrantError, an AuthError: the worker marks it `token_expired`). The window is one DynamoDB
 * write; nothing else happens between the answer and the write.
 *
 * A refused refresh (revoked, voided, expired grant) is an AuthError; a token endpoint that is down,
 * or a lock held past `waitMs`, is a TransientPlatformError (try again later). Tokens never reach a
 * log line or an error.
 */
export function createTokenProvider(options: TokenProviderOptions): AccessTokenProvider {
  const network = options.network ?? 'x';
  const { credentials, ref, clock, lock } = options;
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  const leaseMs = options.leaseMs ?? 60_000;
  const waitMs = options.waitMs ?? 20_000;
  const holder = options.holder ?? randomUUID();
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const log = options.logger?.child({ clientId: ref.clientId, accountId: ref.accountId, network });
  const who = accountKey(ref);

  const fresh = (stored: StoredCredentials) => {
    const expiresAt = stored.credentials.expiresAt;
    return expiresAt === undefined || expiresAt - margin > clock.now();
  };
  const expired = (stored: StoredCredentials) => {
    const expiresAt = stored.credentials.expiresAt;
    return expiresAt !== undefined && expiresAt <= clock.now();
  };
  const read = async (): Promise<StoredCredentials> => {
    const stored = await credentials.get(ref, network);
    if (stored === undefined) {
      throw new AuthError(`${who} has no stored ${network} credentials: connect the account`, {
        details: { ...ref, network },
      });
    }
    return stored;
  };

  let cached: StoredCredentials | undefined;
  let inflight: Promise<string> | undefined;

  const obtain = async (): Promise<string> => {
    const stored = await read();
    if (fresh(stored)) {
      cached = stored;
      return stored.credentials.accessToken;
    }
    if (stored.credentials.refreshToken === undefined || options.oauthClient === undefined) {
      return usableWithoutRefresh(stored);
    }
    return refreshUnderLock(stored);
  };

  const refreshUnderLock = async (seen: StoredCredentials): Promise<string> => {
    const deadline = Date.now() + waitMs;
    let delay = 25;
    while (!(await lock.acquire(ref, holder, clock.now(), leaseMs))) {
      log?.debug('token refresh: another holder has the lock; waiting');
      await sleep(delay);
      delay = Math.min(delay * 2, 1_000);
      const current = await read();
      if (current.version !== seen.version && fresh(current)) {
        cached = current;
        return current.credentials.accessToken;
      }
      if (Date.now() >= deadline) {
        throw new TransientPlatformError(
          `${who}: another worker has been refreshing the ${network} token for too long`,
          {
            details: { ...ref, network },
          },
        );
      }
    }
    try {
      const current = await read();
      if (fresh(current)) {
        // Someone refreshed (or reconnected) while we waited for the lock.
        cached = current;
        return current.credentials.accessToken;
      }
      const refreshToken = current.credentials.refreshToken;
      if (refreshToken === undefined || options.oauthClient === undefined) {
        return usableWithoutRefresh(current);
      }
      log?.info('refreshing the access token', { version: current.version });
      const answer = await options.oauthClient.refresh(refreshToken);
      const pair: Credentials = {
        accessToken: answer.accessToken,
        // X always rotates; a platform that does not keeps the one it has.
        refreshToken: answer.refreshToken ?? refreshToken,
        ...(answer.expiresAt === undefined ? {} : { expiresAt: answer.expiresAt }),
        ...((answer.scope ?? current.credentials.scope)
          ? { scope: answer.scope ?? current.credentials.scope }
          : {}),
      };
      let version: number;
      try {
        version = await credentials.put(ref, network, pair, current.version);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        // Written meanwhile (a reconnect, or a holder whose lease ran out): the stored pair wins.
        log?.warn('token refresh: the stored credentials changed during the refresh; using the stored ones');
        const winner = await read();
        if (!fresh(winner)) {
          throw new TransientPlatformError(`${who}: the ${network} credentials changed during a refresh`, {
            details: { ...ref, network },
          });
        }
        cached = winner;
        return winner.credentials.accessToken;
      }
      cached = { credentials: pair, version, updatedAt: clock.now() };
      log?.info('access token refreshed and stored', { version });
      return pair.accessToken;
    } finally {
      await lock.release(ref, holder).catch((error: unknown) => {
        log?.warn('token refresh: could not release the lock (its lease will end it)', {
          error: (error as Error).name,
        });
      });
    }
  };

  /** A token that cannot be refreshed works until it expires; then the account must be reconnected. */
  const usableWithoutRefresh = (stored: StoredCredentials): string => {
    if (!expired(stored)) return stored.credentials.accessToken;
    throw new AuthError(
      `${who}: the ${network} access token expired and cannot be refreshed: connect the account again`,
      {
        details: { ...ref, network },
      },
    );
  };

  return async () => {
    if (cached !== undefined && fresh(cached)) return cached.credentials.accessToken;
    inflight ??= obtain().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
}

/** `createTokenProvider` for X (the name the AWS composition imports). */
export function createXTokenProvider(options: Omit<TokenProviderOptions, 'network'>): AccessTokenProvider {
  return createTokenProvider({ ...options, network: 'x' });
}
