import { resolveObserveSettings } from '../../config/observe-settings.ts';
import { type AccountRecord, accountKey, normalizeInstanceUrl } from '../../domain/account.ts';
import { AuthError, ValidationError } from '../../domain/errors.ts';
import { UNKNOWN_PLATFORM_USER_ID } from '../../domain/tenants/tenant.ts';
import { BLUESKY_DEFAULT_SERVICE, type BlueskyLogin } from '../../ports/bluesky-session.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CredentialVault } from '../../ports/credentials.ts';
import type { Logger } from '../../ports/logger.ts';
import type { RegistryStore } from '../../ports/store.ts';
import { requireClient } from '../tenants/registry.ts';
import { checkDeclaredHandle, chooseAccount } from './choose-account.ts';

/**
 * `followback connect bluesky --client acme --handle shop.bsky.social`: Bluesky has no OAuth for
 * apps like this one yet; the owner makes an app password (Settings → Privacy and security → App
 * passwords) and gives it once.
 *
 * 1. log in on the PDS (com.atproto.server.createSession) with the handle (or DID, or email) and the
 *    app password; the profile of the session's DID says who it is;
 * 2. the identifier, the app password and the session (access and refresh JWT) are sealed and stored
 *    together (vault context {clientId, accountId, purpose credentials:bluesky}): the platform
 *    factory resumes the session, stores every refreshed one (the refresh JWT rotates), and logs in
 *    again with the app password when the session cannot be refreshed;
 * 3. the account record is created or updated (platform user id: the DID; a PDS other than the
 *    default service is kept as its `instanceUrl`).
 *
 * Refused: an unknown client; a password not shaped like an app password (the account password must
 * not be given to any app: it cannot be revoked on its own); an account on another network; an
 * account connected to another DID; a DID already connected as another account of the deployment.
 * A wrong identifier or password is an AuthError. The password and the session never reach a log
 * line or an error.
 */
export interface ConnectBlueskyDeps {
  registry: RegistryStore;
  credentials: Pick<CredentialVault, 'put'>;
  clock: Clock;
  logger?: Logger | undefined;
  /**
   * Logs in and reads the owner's profile (the Bluesky adapter: adapters/bluesky/bluesky-login.ts
   * `blueskyLogin`). Returns the session to store.
   */
  login: BlueskyLogin;
}

export interface ConnectBlueskyInput {
  clientId: string;
  /** Handle (`shop.bsky.social`), DID or email. */
  identifier: string;
  /** An app password (`xxxx-xxxx-xxxx-xxxx`). */
  appPassword: string;
  /** The PDS or entryway (default https://bsky.social). */
  service?: string | undefined;
  /** Default: the client's Bluesky account of this DID, or one awaiting this handle, else `bluesky-<handle>`. */
  accountId?: string | undefined;
}

export interface ConnectBlueskyResult {
  account: AccountRecord;
  created: boolean;
  /** The handle the account was declared or stored with, when the network now calls it otherwise. */
  renamedFrom?: string;
}

/** Bluesky's app passwords: four groups of four lower-case letters or digits. */
const APP_PASSWORD = /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/;

export async function connectBluesky(
  deps: ConnectBlueskyDeps,
  input: ConnectBlueskyInput,
): Promise<ConnectBlueskyResult> {
  const client = await requireClient(deps.registry, input.clientId);
  const service = normalizeInstanceUrl(input.service ?? BLUESKY_DEFAULT_SERVICE, 'service');
  const identifier = input.identifier.trim().replace(/^@/, '');
  if (identifier === '' || identifier.length > 512) {
    throw new ValidationError('the Bluesky handle (or DID, or email) is required');
  }
  const appPassword = input.appPassword.trim();
  if (!APP_PASSWORD.test(appPassword)) {
    throw new ValidationError(
      'that is not an app password (xxxx-xxxx-xxxx-xxxx): make one in Bluesky under Settings → Privacy and security → App passwords; never give an app the account password',
    );
  }
  if (input.accountId !== undefined) {
    const named = await deps.registry.getAccount({ clientId: input.clientId, accountId: input.accountId });
    if (named !== undefined && named.network !== 'bluesky') {
      throw new ValidationError(`${accountKey(named)} is a ${named.network} account, not a Bluesky account`);
    }
  }

  const { session, user } = await deps.login({ service, identifier, password: appPassword });
  if (session.did !== user.id) {
    throw new AuthError('the Bluesky session and the profile name different accounts', {
      details: { service },
    });
  }
  const ref = await chooseAccount(deps.registry, input, 'bluesky', user.handle, {
    isUser: (a) => a.platformUserId === user.id,
    awaits: (a) => a.handle.replace(/^@/, '').toLowerCase() === user.handle.toLowerCase(),
  });
  const existing = await deps.registry.getAccount(ref);
  if (
    existing !== undefined &&
    existing.platformUserId !== UNKNOWN_PLATFORM_USER_ID &&
    existing.platformUserId !== user.id
  ) {
    throw new ValidationError(
      `${accountKey(ref)} is @${existing.handle} (${existing.platformUserId}) but the app password is @${user.handle}'s (${user.id}): use an app password of @${existing.handle}`,
      { details: { ...ref } },
    );
  }
  for (const other of await deps.registry.listAccounts()) {
    if (
      other.network === 'bluesky' &&
      other.platformUserId === user.id &&
      accountKey(other) !== accountKey(ref)
    ) {
      throw new ValidationError(
        `Bluesky account @${user.handle} is already the account ${accountKey(other)}`,
        {
          details: { ...ref, other: accountKey(other) },
        },
      );
    }
  }

  const instanceUrl = service === BLUESKY_DEFAULT_SERVICE ? undefined : service;
  const { renamedFrom } = checkDeclaredHandle(ref, existing, { handle: user.handle }, 'Bluesky');
  // Credentials first: an account record never says "active" for credentials that were not stored.
  await deps.credentials.put(ref, 'bluesky', {
    accessToken: session.accessJwt,
    refreshToken: session.refreshJwt,
    identifier,
    appPassword,
    did: session.did,
    handle: session.handle,
  });
  const now = deps.clock.now();
  const account: AccountRecord =
    existing === undefined
      ? {
          ...ref,
          network: 'bluesky',
          platformUserId: user.id,
          handle: user.handle,
          status: 'active',
          observe: resolveObserveSettings('bluesky'),
          policy: { timeZone: client.timeZone },
          createdAt: now,
          ...(instanceUrl === undefined ? {} : { instanceUrl }),
        }
      : {
          ...withoutInstance(existing),
          platformUserId: user.id,
          handle: user.handle,
          status: existing.status === 'paused' ? 'paused' : 'active',
          ...(instanceUrl === undefined ? {} : { instanceUrl }),
        };
  await deps.registry.putAccount(account);
  deps.logger?.info('account connected', {
    ...ref,
    network: 'bluesky',
    platformUserId: user.id,
    handle: user.handle,
    ...(instanceUrl === undefined ? {} : { instanceUrl }),
    created: existing === undefined,
  });
  return { account, created: existing === undefined, ...(renamedFrom === undefined ? {} : { renamedFrom }) };
}

function withoutInstance(account: AccountRecord): AccountRecord {
  const { instanceUrl: _dropped, ...rest } = account;
  return rest;
}
