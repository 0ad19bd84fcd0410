import { resolveObserveSettings } from '../../config/observe-settings.ts';
import { X_OAUTH_SCOPES } from '../../config/x-oauth.ts';
import { type AccountRecord, accountKey } from '../../domain/account.ts';
import { ValidationError } from '../../domain/errors.ts';
import { UNKNOWN_PLATFORM_USER_ID } from '../../domain/tenants/tenant.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CredentialVault } from '../../ports/credentials.ts';
import type { Logger } from '../../ports/logger.ts';
import type { OAuthApp, RedirectReceiverFactory, TokenSet } from '../../ports/oauth.ts';
import type { PlatformUser } from '../../ports/platform.ts';
import type { RegistryStore } from '../../ports/store.ts';
import { requireClient } from '../tenants/registry.ts';
import { checkDeclaredHandle, chooseAccount } from './choose-account.ts';
import { createPkce, createState } from './pkce.ts';

/**
 * `followback connect x --client acme`: X's OAuth 2.0 Authorization Code flow with PKCE and a
 * loopback redirect.
 *
 * 1. a PKCE pair (S256) and a random state; a loopback server on 127.0.0.1, on a free port;
 * 2. the authorize URL goes to the operator (printed, and a browser opened if wanted); the owner
 *    approves on X, which redirects to the loopback server with the code and the state;
 * 3. the code is exchanged at the token endpoint (with the verifier);
 * 4. `GET /2/users/me` with the new token says who approved: the platform user id and handle;
 * 5. the tokens are sealed and stored (vault context {clientId, accountId, purpose credentials:x});
 * 6. the account record is created, or updated with the id and handle (a paused account stays
 *    paused; one waiting for connection or with an expired token becomes active).
 *
 * Refused: an unknown client; an account on another network; an account connected to another X
 * user than the one who approved (someone signed in as the wrong user); an X user who is already
 * another account of the deployment; a grant without the scopes followback needs.
 */
export interface ConnectXDeps {
  registry: RegistryStore;
  credentials: Pick<CredentialVault, 'put'>;
  /** The OAuth client of the X app the client's accounts use (x-apps.ts: `xOAuthClientFor`). */
  oauth: OAuthApp;
  /** `GET /2/users/me` with the given access token. */
  me(accessToken: string): Promise<PlatformUser>;
  clock: Clock;
  logger?: Logger | undefined;
  /** Starts the redirect receiver (the loopback server on 127.0.0.1: adapters/oauth/loopback-receiver.ts). */
  receiver: RedirectReceiverFactory;
}

export interface ConnectXInput {
  clientId: string;
  /** The account to connect; default: the client's X account of the approving user, else `x-<handle>`. */
  accountId?: string | undefined;
  /** Called with the URL the owner must open (print it; open a browser). */
  onAuthorizeUrl(url: string): void | Promise<void>;
  /** How long to wait for the redirect (default 5 minutes). */
  timeoutMs?: number | undefined;
  /**
   * Port of the loopback redirect (default 0: any free port). Set it when the X app's registered
   * callback URL names a port: `http://127.0.0.1:<port>/callback`.
   */
  redirectPort?: number | undefined;
  scopes?: readonly string[] | undefined;
}

export interface ConnectXResult {
  account: AccountRecord;
  created: boolean;
  /** Scopes X granted. */
  scopes: string[];
  /** The handle the account was declared or stored with, when the network now calls it otherwise. */
  renamedFrom?: string;
}

/** Scopes without which followback cannot work. */
const REQUIRED_SCOPES = ['tweet.read', 'users.read', 'follows.read', 'follows.write'];

export async function connectX(deps: ConnectXDeps, input: ConnectXInput): Promise<ConnectXResult> {
  const client = await requireClient(deps.registry, input.clientId);
  // A client with its own X app connects through it, and only through it.
  const ownApp = client.xApp?.clientId;
  if (ownApp !== undefined && deps.oauth.clientId !== ownApp) {
    throw new ValidationError(`client ${input.clientId} has an X app of its own: connect through it`, {
      details: { clientId: input.clientId },
    });
  }
  if (input.accountId !== undefined) {
    const named = await deps.registry.getAccount({ clientId: input.clientId, accountId: input.accountId });
    if (named !== undefined && named.network !== 'x') {
      throw new ValidationError(`${accountKey(named)} is a ${named.network} account, not an X account`);
    }
  }
  const scopes = input.scopes ?? X_OAUTH_SCOPES;
  const pkce = createPkce();
  const state = createState();
  const receiver = await deps.receiver({ state, timeoutMs: input.timeoutMs, port: input.redirectPort });
  let tokens: TokenSet;
  try {
    const url = deps.oauth.authorizeUrl({
      redirectUri: receiver.redirectUri,
      state,
      codeChallenge: pkce.challenge,
      scopes,
    });
    await input.onAuthorizeUrl(url);
    const code = await receiver.code;
    tokens = await deps.oauth.exchangeCode({
      code,
      redirectUri: receiver.redirectUri,
      codeVerifier: pkce.verifier,
    });
  } finally {
    await receiver.close();
  }
  return recordXConnection(deps, { ...input, xAppClientId: ownApp }, tokens, scopes);
}

/**
 * Steps 4–6 of the flow, after the code was exchanged: who approved, and the tokens and the
 * account stored. Also the end of a remote connect (shared/app/invites), whose redirect comes to
 * the deployment's hosted callback instead of the loopback server.
 */
export async function recordXConnection(
  deps: Pick<ConnectXDeps, 'registry' | 'credentials' | 'me' | 'clock' | 'logger'>,
  input: {
    clientId: string;
    accountId?: string | undefined;
    /** The client's own X app that issued the tokens; undefined: the deployment's. */
    xAppClientId?: string | undefined;
  },
  tokens: TokenSet,
  scopes: readonly string[] = X_OAUTH_SCOPES,
): Promise<ConnectXResult> {
  const client = await requireClient(deps.registry, input.clientId);
  const granted = (tokens.scope ?? scopes.join(' ')).split(/\s+/).filter(Boolean);
  const missing = REQUIRED_SCOPES.filter((scope) => !granted.includes(scope));
  if (missing.length > 0) {
    throw new ValidationError(
      `X granted no ${missing.join(', ')}: followback cannot work without them; connect again`,
      {
        details: { missing },
      },
    );
  }
  const user = await deps.me(tokens.accessToken);
  const ref = await chooseAccount(deps.registry, input, 'x', user.handle, {
    isUser: (a) => a.platformUserId === user.id,
    awaits: (a) => a.handle.toLowerCase() === user.handle.toLowerCase(),
  });
  const existing = await deps.registry.getAccount(ref);
  if (
    existing !== undefined &&
    existing.platformUserId !== UNKNOWN_PLATFORM_USER_ID &&
    existing.platformUserId !== user.id
  ) {
    throw new ValidationError(
      `${accountKey(ref)} is X user @${existing.handle} (${existing.platformUserId}) but @${user.handle} (${user.id}) approved: sign in to X as @${existing.handle} and connect again`,
      { details: { ...ref } },
    );
  }
  for (const other of await deps.registry.listAccounts()) {
    if (other.network === 'x' && other.platformUserId === user.id && accountKey(other) !== accountKey(ref)) {
      throw new ValidationError(`X user @${user.handle} is already the account ${accountKey(other)}`, {
        details: { ...ref, other: accountKey(other) },
      });
    }
  }
  const { renamedFrom } = checkDeclaredHandle(ref, existing, { handle: user.handle }, 'X');
  const now = deps.clock.now();
  // Tokens first: an account record never says "active" for tokens that were not stored.
  await deps.credentials.put(ref, 'x', {
    accessToken: tokens.accessToken,
    ...(tokens.refreshToken === undefined ? {} : { refreshToken: tokens.refreshToken }),
    ...(tokens.expiresAt === undefined ? {} : { expiresAt: tokens.expiresAt }),
    scope: granted.join(' '),
  });
  const account: AccountRecord =
    existing === undefined
      ? {
          ...ref,
          network: 'x',
          platformUserId: user.id,
          handle: user.handle,
          status: 'active',
          observe: resolveObserveSettings('x'),
          policy: { timeZone: client.timeZone },
          createdAt: now,
          xAppClientId: input.xAppClientId,
        }
      : {
          ...existing,
          platformUserId: user.id,
          handle: user.handle,
          status: existing.status === 'paused' ? 'paused' : 'active',
          xAppClientId: input.xAppClientId,
        };
  await deps.registry.putAccount(account);
  deps.logger?.info('account connected', {
    ...ref,
    network: 'x',
    platformUserId: user.id,
    handle: user.handle,
    created: existing === undefined,
  });
  return {
    account,
    created: existing === undefined,
    scopes: granted,
    ...(renamedFrom === undefined ? {} : { renamedFrom }),
  };
}
