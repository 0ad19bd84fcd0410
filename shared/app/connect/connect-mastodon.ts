import { resolveObserveSettings } from '../../config/observe-settings.ts';
import { type AccountRecord, accountKey, normalizeInstanceUrl } from '../../domain/account.ts';
import { ValidationError } from '../../domain/errors.ts';
import { UNKNOWN_PLATFORM_USER_ID } from '../../domain/tenants/tenant.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CredentialVault } from '../../ports/credentials.ts';
import type { Logger } from '../../ports/logger.ts';
import type { MastodonCredentialAccount, MastodonOAuth } from '../../ports/mastodon-oauth.ts';
import type { RedirectReceiverFactory } from '../../ports/oauth.ts';
import type { RegistryStore } from '../../ports/store.ts';
import { requireClient } from '../tenants/registry.ts';
import { checkDeclaredHandle, chooseAccount } from './choose-account.ts';
import { createPkce, createState } from './pkce.ts';

/**
 * `followback connect mastodon --client acme --instance example.social`: the instance's OAuth 2.0
 * Authorization Code flow with a loopback redirect.
 *
 * 1. the instance's metadata (`/.well-known/oauth-authorization-server`, Mastodon 4.3+) says whether
 *    it takes PKCE (S256) and where its endpoints are; without it, `/oauth/authorize` and
 *    `/oauth/token` without PKCE (older instances);
 * 2. a loopback server on 127.0.0.1 (a free port) and a random state;
 * 3. an app is registered on the instance (`POST /api/v1/apps`) with that redirect URI and the
 *    scopes followback needs (`read:accounts read:follows write:follows read:notifications`): each instance has its own
 *    apps, and the redirect's port is new every time;
 * 4. the authorize URL goes to the operator; the owner approves on the instance, which redirects to
 *    the loopback server with the code;
 * 5. the code is exchanged at the token endpoint (with the app's secret, and the PKCE verifier);
 * 6. `verify_credentials` with the token says who approved: the account id on the instance and its
 *    handle (`user@instance`);
 * 7. the token is sealed and stored (vault context {clientId, accountId, purpose credentials:mastodon}),
 *    then the account record is created or updated with its instance URL.
 *
 * Mastodon tokens do not expire and have no refresh token: a revoked one answers 401, an AuthError,
 * and the account worker marks the account `token_expired` (connect it again).
 *
 * Refused: an unknown client; an account on another network or another instance; an account
 * connected to another user than the one who approved; a user already connected as another account
 * of the deployment; a grant without the scopes followback needs; plain http to anything but this
 * machine. Tokens, codes and the app's secret never reach a log line or an error.
 */
export interface ConnectMastodonDeps {
  registry: RegistryStore;
  credentials: Pick<CredentialVault, 'put'>;
  clock: Clock;
  logger?: Logger | undefined;
  /** Starts the redirect receiver (the loopback server on 127.0.0.1: adapters/oauth/loopback-receiver.ts). */
  receiver: RedirectReceiverFactory;
  /** The instance's OAuth endpoints (adapters/mastodon/mastodon-oauth.ts `createMastodonOAuth`). */
  mastodon: MastodonOAuth;
}

export interface ConnectMastodonInput {
  clientId: string;
  /** The instance: `example.social` or `https://example.social` (http only for loopback). */
  instance: string;
  /** Default: the client's account of this user on this instance, else `mastodon-<user>-<instance>`. */
  accountId?: string | undefined;
  /** Called with the URL the owner must open (print it; open a browser). */
  onAuthorizeUrl(url: string): void | Promise<void>;
  /** How long to wait for the redirect (default 5 minutes). */
  timeoutMs?: number | undefined;
  /** Port of the loopback redirect (default 0: any free port). */
  redirectPort?: number | undefined;
  /** The app's name on the instance, shown to the owner (default `followback`). */
  appName?: string | undefined;
  website?: string | undefined;
}

export interface ConnectMastodonResult {
  account: AccountRecord;
  created: boolean;
  /** Scopes the instance granted. */
  scopes: string[];
  /** Whether the flow used PKCE (the instance advertised S256). */
  pkce: boolean;
  /** The handle the account was declared or stored with, when the network now calls it otherwise. */
  renamedFrom?: string;
}

/** What followback asks for: read the profile and the lists, read relationships, follow. */
export const MASTODON_OAUTH_SCOPES: readonly string[] = [
  'read:accounts',
  'read:follows',
  'write:follows',
  // The notifications of type follow: the change feed that finds new followers within a tick.
  'read:notifications',
];

export async function connectMastodon(
  deps: ConnectMastodonDeps,
  input: ConnectMastodonInput,
): Promise<ConnectMastodonResult> {
  await requireClient(deps.registry, input.clientId);
  const instanceUrl = normalizeInstanceUrl(input.instance, 'instance');
  if (input.accountId !== undefined) {
    const named = await deps.registry.getAccount({ clientId: input.clientId, accountId: input.accountId });
    if (named !== undefined && named.network !== 'mastodon') {
      throw new ValidationError(`${accountKey(named)} is a ${named.network} account, not a Mastodon account`);
    }
    if (named?.instanceUrl !== undefined && named.instanceUrl !== instanceUrl) {
      throw new ValidationError(
        `${accountKey(named)} is on ${named.instanceUrl}, not ${instanceUrl}: connect it with --instance ${new URL(named.instanceUrl).host}`,
      );
    }
  }
  const state = createState();
  const receiver = await deps.receiver({ state, timeoutMs: input.timeoutMs, port: input.redirectPort });
  let code: string;
  let grant: MastodonPendingGrant;
  try {
    const begun = await beginMastodonGrant(deps, {
      instanceUrl,
      redirectUri: receiver.redirectUri,
      state,
      appName: input.appName,
      website: input.website,
    });
    grant = begun.grant;
    await input.onAuthorizeUrl(begun.authorizeUrl);
    code = await receiver.code;
  } finally {
    await receiver.close();
  }
  return finishMastodonGrant(deps, input, grant, code);
}

/**
 * What a Mastodon authorization needs to be finished when the owner comes back: the instance, its
 * token endpoint, the app registered for this redirect, and the PKCE verifier. Secret (the app's
 * secret and the verifier): a remote connect keeps it sealed by the vault while it waits.
 */
export interface MastodonPendingGrant {
  instanceUrl: string;
  tokenEndpoint: string;
  redirectUri: string;
  appClientId: string;
  appClientSecret: string;
  codeVerifier?: string | undefined;
}

/** Steps 1, 3 and 4: discovery, the app for `redirectUri`, and the URL the owner must open. */
export async function beginMastodonGrant(
  deps: Pick<ConnectMastodonDeps, 'mastodon'>,
  input: {
    instanceUrl: string;
    redirectUri: string;
    state: string;
    appName?: string | undefined;
    website?: string | undefined;
  },
): Promise<{ authorizeUrl: string; grant: MastodonPendingGrant; pkce: boolean }> {
  const instanceUrl = normalizeInstanceUrl(input.instanceUrl, 'instance');
  const endpoints = await deps.mastodon.discover(instanceUrl);
  const pkce = endpoints.pkce ? createPkce() : undefined;
  const app = await deps.mastodon.registerApp(instanceUrl, {
    clientName: input.appName ?? 'followback',
    redirectUri: input.redirectUri,
    scopes: MASTODON_OAUTH_SCOPES.join(' '),
    website: input.website,
  });
  const authorize = new URL(endpoints.authorize);
  authorize.searchParams.set('response_type', 'code');
  authorize.searchParams.set('client_id', app.clientId);
  authorize.searchParams.set('redirect_uri', input.redirectUri);
  authorize.searchParams.set('scope', MASTODON_OAUTH_SCOPES.join(' '));
  authorize.searchParams.set('state', input.state);
  if (pkce) {
    authorize.searchParams.set('code_challenge', pkce.challenge);
    authorize.searchParams.set('code_challenge_method', pkce.method);
  }
  return {
    authorizeUrl: authorize.toString(),
    pkce: pkce !== undefined,
    grant: {
      instanceUrl,
      tokenEndpoint: endpoints.token,
      redirectUri: input.redirectUri,
      appClientId: app.clientId,
      appClientSecret: app.clientSecret,
      ...(pkce === undefined ? {} : { codeVerifier: pkce.verifier }),
    },
  };
}

/** Steps 5–7: the code exchanged, who approved, the token and the account stored. */
export async function finishMastodonGrant(
  deps: Omit<ConnectMastodonDeps, 'receiver'>,
  input: { clientId: string; accountId?: string | undefined },
  grant: MastodonPendingGrant,
  code: string,
): Promise<ConnectMastodonResult> {
  const client = await requireClient(deps.registry, input.clientId);
  const instanceUrl = grant.instanceUrl;
  const token = await deps.mastodon.exchangeCode(instanceUrl, {
    tokenEndpoint: grant.tokenEndpoint,
    code,
    clientId: grant.appClientId,
    clientSecret: grant.appClientSecret,
    redirectUri: grant.redirectUri,
    scope: MASTODON_OAUTH_SCOPES.join(' '),
    codeVerifier: grant.codeVerifier,
  });
  const accessToken = token.accessToken;
  const granted = (token.scope ?? MASTODON_OAUTH_SCOPES.join(' ')).split(/[\s+]+/).filter(Boolean);
  const pkce = grant.codeVerifier;

  const missing = MASTODON_OAUTH_SCOPES.filter((scope) => !scopeGranted(granted, scope));
  if (missing.length > 0) {
    throw new ValidationError(
      `the instance granted no ${missing.join(', ')}: followback cannot work without them; connect again`,
      { details: { missing } },
    );
  }
  const me = await deps.mastodon.verifyCredentials(instanceUrl, accessToken);
  const handle = fullHandle(me, instanceUrl);
  const [user = ''] = handle.split('@'); // split yields at least one part
  const username = user.toLowerCase();
  const ref = await chooseAccount(deps.registry, input, 'mastodon', handle, {
    isUser: (a) =>
      a.platformUserId === me.id && (a.instanceUrl === undefined || a.instanceUrl === instanceUrl),
    awaits: (a) => {
      if (a.instanceUrl !== undefined && a.instanceUrl !== instanceUrl) return false;
      const declared = a.handle.replace(/^@/, '').toLowerCase();
      return declared === handle.toLowerCase() || declared === username;
    },
  });
  const existing = await deps.registry.getAccount(ref);
  if (
    existing !== undefined &&
    existing.platformUserId !== UNKNOWN_PLATFORM_USER_ID &&
    (existing.platformUserId !== me.id || (existing.instanceUrl ?? instanceUrl) !== instanceUrl)
  ) {
    throw new ValidationError(
      `${accountKey(ref)} is @${existing.handle} (${existing.platformUserId}) but @${handle} (${me.id}) approved: sign in to the instance as @${existing.handle} and connect again`,
      { details: { ...ref } },
    );
  }
  for (const other of await deps.registry.listAccounts()) {
    if (
      other.network === 'mastodon' &&
      other.platformUserId === me.id &&
      other.instanceUrl === instanceUrl &&
      accountKey(other) !== accountKey(ref)
    ) {
      throw new ValidationError(`@${handle} is already the account ${accountKey(other)}`, {
        details: { ...ref, other: accountKey(other) },
      });
    }
  }

  const { renamedFrom } = checkDeclaredHandle(
    ref,
    existing,
    { handle, instanceUrl },
    new URL(instanceUrl).host,
  );
  // The token first: an account record never says "active" for a token that was not stored.
  await deps.credentials.put(ref, 'mastodon', { accessToken, scope: granted.join(' ') });
  const now = deps.clock.now();
  const account: AccountRecord =
    existing === undefined
      ? {
          ...ref,
          network: 'mastodon',
          platformUserId: me.id,
          handle,
          status: 'active',
          observe: resolveObserveSettings('mastodon'),
          policy: { timeZone: client.timeZone },
          createdAt: now,
          instanceUrl,
        }
      : {
          ...existing,
          platformUserId: me.id,
          handle,
          instanceUrl,
          status: existing.status === 'paused' ? 'paused' : 'active',
        };
  await deps.registry.putAccount(account);
  deps.logger?.info('account connected', {
    ...ref,
    network: 'mastodon',
    instanceUrl,
    platformUserId: me.id,
    handle,
    pkce: pkce !== undefined,
    created: existing === undefined,
  });
  return {
    account,
    created: existing === undefined,
    scopes: granted,
    pkce: pkce !== undefined,
    ...(renamedFrom === undefined ? {} : { renamedFrom }),
  };
}

/** `read` covers `read:*`, `write` covers `write:*`, the legacy `follow` covers the follow parts. */
function scopeGranted(granted: readonly string[], needed: string): boolean {
  if (granted.includes(needed)) return true;
  const [top = needed] = needed.split(':'); // split yields at least one part
  if (granted.includes(top)) return true;
  return (needed === 'read:follows' || needed === 'write:follows') && granted.includes('follow');
}

/** `user@instance`: the acct of a local account has no domain; the profile URL (or the instance) gives it. */
function fullHandle(me: MastodonCredentialAccount, instanceUrl: string): string {
  if (me.acct.includes('@')) return me.acct;
  let domain = new URL(instanceUrl).hostname;
  if (me.url !== undefined) {
    try {
      const profile = new URL(me.url);
      if (profile.protocol === 'https:' && profile.hostname.includes('.')) domain = profile.hostname;
    } catch {
      // Keep the instance's host name.
    }
  }
  return `${me.username}@${domain}`;
}
