import type { AccountRecord, ClientRecord } from '../../domain/account.ts';
import { AuthError, ConfigError, ValidationError } from '../../domain/errors.ts';
import type { CredentialVault } from '../../ports/credentials.ts';
import type { OAuthApp, OAuthTokenClient } from '../../ports/oauth.ts';
import type { RegistryStore } from '../../ports/store.ts';

/**
 * One X app per client, where an agency wants it: a client's accounts connect and refresh through
 * the client's own X developer app (`xApp` in clients.yaml: its Client ID; a confidential app's
 * secret sealed by the vault like the tokens), the rest through the deployment's.
 *
 * The secret is kept in the client's credential partition under a reserved account id (`_x-app`,
 * which no tenant id can be: they start with a letter or digit), sealed with the vault context
 * {clientId, accountId: '_x-app', purpose: 'credentials:x'}: it opens for that client only. It is
 * read when a token call needs it, never logged, never put in an error.
 *
 * Which app serves an account is decided by the account's own client record (and checked against
 * the app that issued the account's tokens, `xAppClientId`): never another client's.
 */
export const X_APP_SECRET_ACCOUNT = '_x-app';

/** The deployment's X app: its Client ID and, for a confidential client, a way to read its secret. */
export interface DeploymentXApp {
  clientId: string;
  secret?: (() => Promise<string>) | undefined;
}

/** Makes the OAuth client of one X app on X's endpoints (adapters/x/x-oauth-client.ts `xOAuthApps`). */
export type XOAuthAppFactory = (app: { clientId: string; clientSecret?: string | undefined }) => OAuthApp;

export interface XAppDeps {
  registry: Pick<RegistryStore, 'getClient'>;
  credentials: CredentialVault;
  deployment: DeploymentXApp;
  oauthApp: XOAuthAppFactory;
}

/** Seals and stores a client's X app secret (read from a prompt or stdin by `followback x-app secret`). */
export async function setXAppSecret(
  deps: Pick<XAppDeps, 'registry' | 'credentials'>,
  clientId: string,
  secret: string,
): Promise<void> {
  const client = await deps.registry.getClient(clientId);
  if (client === undefined) throw new ValidationError(`no client ${clientId}`);
  if (client.xApp === undefined) {
    throw new ValidationError(`client ${clientId} names no X app of its own (xApp in clients.yaml)`);
  }
  const trimmed = secret.trim();
  if (trimmed.length === 0 || trimmed.length > 500 || /\s/.test(trimmed)) {
    throw new ValidationError('the client secret must be one word of 1 to 500 characters');
  }
  await deps.credentials.put({ clientId, accountId: X_APP_SECRET_ACCOUNT }, 'x', { accessToken: trimmed });
}

/** The OAuth client of the X app that serves `clientId`'s accounts (connect, refresh). */
export async function xOAuthClientFor(deps: XAppDeps, clientId: string): Promise<OAuthApp> {
  const client = await deps.registry.getClient(clientId);
  return oauthClientOf(deps, clientId, client);
}

/**
 * The refresher of one account's X tokens: the app that issued them, which must still be the one
 * its client names (an account connected through another app must be connected again).
 */
export function xTokenRefresherFor(
  deps: XAppDeps,
  account: Pick<AccountRecord, 'clientId' | 'accountId' | 'xAppClientId'>,
): Pick<OAuthTokenClient, 'refresh'> {
  let opened: Promise<OAuthApp> | undefined;
  const open = async () => {
    const client = await deps.registry.getClient(account.clientId);
    const named = client?.xApp?.clientId;
    if (named !== account.xAppClientId) {
      throw new AuthError(
        `${account.clientId}/${account.accountId}: its tokens come from ${account.xAppClientId === undefined ? "the deployment's X app" : 'another X app'} than its client names now: connect it again`,
        { details: { clientId: account.clientId, accountId: account.accountId } },
      );
    }
    return oauthClientOf(deps, account.clientId, client);
  };
  return {
    refresh: async (refreshToken) => {
      opened ??= open().catch((error: unknown) => {
        opened = undefined;
        throw error;
      });
      return (await opened).refresh(refreshToken);
    },
  };
}

async function oauthClientOf(
  deps: XAppDeps,
  clientId: string,
  client: ClientRecord | undefined,
): Promise<OAuthApp> {
  const app = client?.xApp;
  if (app === undefined) {
    const secret = deps.deployment.secret === undefined ? undefined : await deps.deployment.secret();
    return deps.oauthApp({ clientId: deps.deployment.clientId, clientSecret: secret });
  }
  let secret: string | undefined;
  if (app.confidential) {
    const stored = await deps.credentials.get({ clientId, accountId: X_APP_SECRET_ACCOUNT }, 'x');
    if (stored === undefined) {
      throw new ConfigError(
        `client ${clientId}'s X app is confidential and has no secret yet: followback x-app secret --client ${clientId}`,
        { details: { clientId } },
      );
    }
    secret = stored.credentials.accessToken;
  }
  return deps.oauthApp({ clientId: app.clientId, clientSecret: secret });
}
