/**
 * Remote onboarding: an operator makes an invite for a client; the client opens it in their own
 * browser and connects an account, on the same connect use cases as `followback connect`.
 *
 * - X and Mastodon: OAuth 2.0 with PKCE and the deployment's hosted callback (`<baseUrl>/oauth/callback`:
 *   a Function URL route on AWS, the loopback console locally). Starting stores the grant's secrets
 *   (PKCE verifier, the Mastodon app's secret) sealed by the vault on the invite, with a random
 *   `state` bound to the invite (`<clientId>~<inviteId>~<random>`); the callback must bring that
 *   exact state back, within 15 minutes, for an invite that is still open.
 * - Bluesky: the app password is given on the invite page, passed straight to `connectBluesky`
 *   (which seals it with the session), never logged, never stored anywhere else.
 *
 * An invite connects one account: it is spent with a conditional write before the credentials are
 * stored (two tabs racing: one wins, the other is told the invite was used), and re-opened if the
 * connect fails, so a typo in a password does not waste it. Expired, spent, revoked, tampered and
 * other-client invites change nothing and say why.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { X_OAUTH_SCOPES } from '../../config/x-oauth.ts';
import type { AccountRecord, ClientRecord } from '../../domain/account.ts';
import type { ApprovalKeys } from '../../domain/approval/token.ts';
import { ConfigError, ConflictError, FollowbackError, ValidationError } from '../../domain/errors.ts';
import {
  INVITE_TTL_MS,
  type InviteRecord,
  type InviteRefusal,
  inviteUsable,
  newInviteId,
  PENDING_GRANT_TTL_MS,
  signInviteToken,
  verifyInviteToken,
} from '../../domain/invites/invite.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Actor, AuditStore, InviteStore, StoredInvite } from '../../ports/console.ts';
import type { CredentialVault } from '../../ports/credentials.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Network } from '../../ports/platform.ts';
import type { RegistryStore } from '../../ports/store.ts';
import type { Vault } from '../../ports/vault.ts';
import { type ConnectBlueskyDeps, connectBluesky } from '../connect/connect-bluesky.ts';
import {
  beginMastodonGrant,
  type ConnectMastodonDeps,
  finishMastodonGrant,
  type MastodonPendingGrant,
} from '../connect/connect-mastodon.ts';
import { type ConnectXDeps, recordXConnection } from '../connect/connect-x.ts';
import { createPkce } from '../connect/pkce.ts';
import { requireClient } from '../tenants/registry.ts';

export const INVITE_ROUTE = '/invite';
export const OAUTH_CALLBACK_PATH = '/oauth/callback';

export interface InviteDeps {
  registry: RegistryStore;
  invites: InviteStore;
  audit: AuditStore;
  /** The deployment's approval keys sign invites too (under a label of their own). */
  keys: ApprovalKeys;
  clock: Clock;
  /** Seals a waiting grant's secrets. */
  vault: Vault;
  credentials: Pick<CredentialVault, 'put'>;
  /** The public base URL: invite links and the OAuth callback. */
  baseUrl: string;
  x?: Pick<ConnectXDeps, 'oauth' | 'me'> | undefined;
  /** The Mastodon instances' OAuth endpoints (adapters/mastodon/mastodon-oauth.ts). */
  mastodon?: ConnectMastodonDeps['mastodon'] | undefined;
  bluesky?: { service?: string | undefined; login: ConnectBlueskyDeps['login'] } | undefined;
  logger?: Logger | undefined;
}

/** An invite that does nothing, and why. */
export class InviteRefusedError extends FollowbackError {
  override readonly name = 'InviteRefusedError';
  readonly reason: InviteRefusal;
  constructor(reason: InviteRefusal, message = `invite refused: ${reason}`) {
    super(message, { details: { reason } });
    this.reason = reason;
  }
}

export function invitePath(clientId: string, token: string): string {
  return `${INVITE_ROUTE}/${encodeURIComponent(clientId)}?i=${encodeURIComponent(token)}`;
}

export function callbackUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${OAUTH_CALLBACK_PATH}`;
}

export interface CreatedInvite {
  invite: InviteRecord;
  url: string;
}

export async function createInvite(
  deps: Pick<InviteDeps, 'registry' | 'invites' | 'audit' | 'keys' | 'clock' | 'baseUrl'>,
  actor: Actor,
  input: { clientId: string; network?: Network | undefined; ttlMs?: number | undefined },
): Promise<CreatedInvite> {
  const client = await requireClient(deps.registry, input.clientId);
  if (input.network !== undefined && !['x', 'bluesky', 'mastodon'].includes(input.network)) {
    throw new ValidationError(`network must be x, bluesky or mastodon, got ${String(input.network)}`);
  }
  const ttl = input.ttlMs ?? INVITE_TTL_MS;
  if (!Number.isFinite(ttl) || ttl < 60_000 || ttl > 30 * 86_400_000) {
    throw new ValidationError('an invite lives from one minute to 30 days');
  }
  const now = deps.clock.now();
  const invite: InviteRecord = {
    inviteId: newInviteId(),
    clientId: client.clientId,
    ...(input.network === undefined ? {} : { network: input.network }),
    createdAt: now,
    expiresAt: now + ttl,
    createdBy: `${actor.kind}:${actor.id}`,
    status: 'open',
  };
  await deps.invites.putInvite(invite, 0);
  await deps.audit.appendAudit({
    at: now,
    clientId: client.clientId,
    ...(input.network === undefined ? {} : { network: input.network }),
    actor,
    action: 'invite',
    detail: `invite ${invite.inviteId} made${input.network === undefined ? '' : ` for ${input.network}`}, valid until ${new Date(invite.expiresAt).toISOString()}`,
  });
  const token = signInviteToken(deps.keys, {
    clientId: client.clientId,
    inviteId: invite.inviteId,
    network: input.network,
    expiresAt: invite.expiresAt,
  });
  return { invite, url: `${deps.baseUrl.replace(/\/+$/, '')}${invitePath(client.clientId, token)}` };
}

export interface OpenedInvite {
  client: ClientRecord;
  stored: StoredInvite;
  /** The networks the client may pick. */
  networks: Network[];
}

/** Checks an invite link (signature, tenant, expiry, the stored record); changes nothing. */
export async function openInvite(
  deps: Pick<InviteDeps, 'registry' | 'invites' | 'keys' | 'clock'>,
  clientId: string,
  token: string,
): Promise<OpenedInvite> {
  const now = deps.clock.now();
  const verified = verifyInviteToken(deps.keys, token, { clientId, now });
  if (!verified.ok) throw new InviteRefusedError(verified.reason);
  const stored = await deps.invites.getInvite(clientId, verified.payload.inviteId);
  const refusal = inviteUsable(stored?.invite, now);
  if (refusal !== undefined || stored === undefined) throw new InviteRefusedError(refusal ?? 'unknown');
  const client = await deps.registry.getClient(clientId);
  if (client === undefined) throw new InviteRefusedError('unknown');
  const networks: Network[] =
    stored.invite.network === undefined ? ['x', 'bluesky', 'mastodon'] : [stored.invite.network];
  return { client, stored, networks };
}

interface SealedGrant {
  x?: { codeVerifier: string; redirectUri: string };
  mastodon?: MastodonPendingGrant;
}

function grantContext(invite: InviteRecord) {
  return { clientId: invite.clientId, accountId: `invite-${invite.inviteId}`, purpose: 'invite-grant' };
}

/**
 * Starts X's or Mastodon's authorization from an open invite: returns the URL to send the
 * client's browser to. The grant's secrets are sealed on the invite with a fresh state.
 */
export async function startInviteAuthorization(
  deps: InviteDeps,
  clientId: string,
  token: string,
  input: { network: 'x' | 'mastodon'; instance?: string | undefined },
): Promise<{ authorizeUrl: string }> {
  const opened = await openInvite(deps, clientId, token);
  if (!opened.networks.includes(input.network)) {
    throw new ValidationError(`this invite is for ${opened.networks.join(', ')}, not ${input.network}`);
  }
  const invite = opened.stored.invite;
  const state = `${invite.clientId}~${invite.inviteId}~${randomBytes(18).toString('base64url')}`;
  const redirectUri = callbackUrl(deps.baseUrl);
  let authorizeUrl: string;
  let secrets: SealedGrant;
  if (input.network === 'x') {
    if (deps.x === undefined) throw new ValidationError('this deployment has no X app configured');
    const pkce = createPkce();
    authorizeUrl = deps.x.oauth.authorizeUrl({
      redirectUri,
      state,
      codeChallenge: pkce.challenge,
      scopes: X_OAUTH_SCOPES,
    });
    secrets = { x: { codeVerifier: pkce.verifier, redirectUri } };
  } else {
    const instance = (input.instance ?? '').trim();
    if (instance === '') throw new ValidationError('instance: say which Mastodon server the account is on');
    const begun = await beginMastodonGrant(
      { mastodon: mastodonOf(deps) },
      {
        instanceUrl: instance,
        redirectUri,
        state,
        appName: 'followback',
      },
    );
    authorizeUrl = begun.authorizeUrl;
    secrets = { mastodon: begun.grant };
  }
  const sealed = await deps.vault.seal(JSON.stringify(secrets), grantContext(invite));
  const next: InviteRecord = {
    ...invite,
    pending: {
      network: input.network,
      state,
      startedAt: deps.clock.now(),
      sealed: Buffer.from(sealed).toString('base64'),
    },
  };
  try {
    await deps.invites.putInvite(next, opened.stored.version);
  } catch (error) {
    if (error instanceof ConflictError)
      throw new InviteRefusedError('spent', 'the invite changed meanwhile; open it again');
    throw error;
  }
  return { authorizeUrl };
}

export interface ConnectedByInvite {
  client: ClientRecord;
  account: AccountRecord;
  created: boolean;
}

/**
 * The hosted callback: the network sent the client's browser back with `code` and `state` (or an
 * `error`). The state names the invite; it must be the one the invite waits for.
 */
export async function finishInviteAuthorization(
  deps: InviteDeps,
  query: { state?: string | undefined; code?: string | undefined; error?: string | undefined },
): Promise<ConnectedByInvite> {
  const state = query.state ?? '';
  const [clientId, inviteId, nonce, ...rest] = state.split('~');
  if (!clientId || !inviteId || !nonce || rest.length > 0 || state.length > 512) {
    throw new InviteRefusedError('malformed', 'the callback carries no state of a followback invite');
  }
  const stored = await deps.invites.getInvite(clientId, inviteId).catch((error) => {
    if (error instanceof ValidationError) return undefined;
    throw error;
  });
  const now = deps.clock.now();
  const refusal = inviteUsable(stored?.invite, now);
  if (refusal !== undefined || stored === undefined) throw new InviteRefusedError(refusal ?? 'unknown');
  const pending = stored.invite.pending;
  if (pending === undefined || !sameText(pending.state, state)) {
    throw new InviteRefusedError('tampered', 'the callback state is not the one this invite waits for');
  }
  if (now - pending.startedAt > PENDING_GRANT_TTL_MS) {
    throw new InviteRefusedError('expired', 'the sign-in took too long; open the invite and start again');
  }
  if (query.error !== undefined || query.code === undefined || query.code === '') {
    // The client said no (or the network failed): the invite stays open, the grant is dropped.
    const { pending: _dropped, ...open } = stored.invite;
    await deps.invites.putInvite(open, stored.version).catch(() => undefined);
    throw new ValidationError(
      query.error === 'access_denied'
        ? 'the sign-in was cancelled; nothing was connected'
        : 'the network sent no authorization code; nothing was connected',
    );
  }
  const secrets = JSON.parse(
    await deps.vault.open(Buffer.from(pending.sealed, 'base64'), grantContext(stored.invite)),
  ) as SealedGrant;
  const code = query.code;
  return spend(deps, stored, async (client) => {
    if (pending.network === 'x') {
      if (deps.x === undefined || secrets.x === undefined) throw new ValidationError('no X app configured');
      const tokens = await deps.x.oauth.exchangeCode({
        code,
        redirectUri: secrets.x.redirectUri,
        codeVerifier: secrets.x.codeVerifier,
      });
      const result = await recordXConnection(
        {
          registry: deps.registry,
          credentials: deps.credentials,
          me: deps.x.me,
          clock: deps.clock,
          logger: deps.logger,
        },
        { clientId: client.clientId },
        tokens,
      );
      return { account: result.account, created: result.created };
    }
    if (secrets.mastodon === undefined) throw new ValidationError('the waiting grant is not a Mastodon one');
    const result = await finishMastodonGrant(
      {
        registry: deps.registry,
        credentials: deps.credentials,
        clock: deps.clock,
        logger: deps.logger,
        mastodon: mastodonOf(deps),
      },
      { clientId: client.clientId },
      secrets.mastodon,
      code,
    );
    return { account: result.account, created: result.created };
  });
}

/** Bluesky from the invite page: the app password goes straight to the connect use case. */
export async function connectBlueskyByInvite(
  deps: InviteDeps,
  clientId: string,
  token: string,
  input: { identifier: string; appPassword: string },
): Promise<ConnectedByInvite> {
  const opened = await openInvite(deps, clientId, token);
  if (!opened.networks.includes('bluesky')) {
    throw new ValidationError(`this invite is for ${opened.networks.join(', ')}, not Bluesky`);
  }
  const bluesky = deps.bluesky;
  if (bluesky === undefined) {
    throw new ConfigError('this deployment has no Bluesky login wired (InviteDeps.bluesky)');
  }
  return spend(deps, opened.stored, async (client) => {
    const result = await connectBluesky(
      {
        registry: deps.registry,
        credentials: deps.credentials,
        clock: deps.clock,
        logger: deps.logger,
        login: bluesky.login,
      },
      {
        clientId: client.clientId,
        identifier: input.identifier,
        appPassword: input.appPassword,
        ...(bluesky.service === undefined ? {} : { service: bluesky.service }),
      },
    );
    return { account: result.account, created: result.created };
  });
}

/** The Mastodon OAuth port the composition root wired (a deployment without it cannot connect Mastodon). */
function mastodonOf(deps: Pick<InviteDeps, 'mastodon'>): NonNullable<InviteDeps['mastodon']> {
  if (deps.mastodon === undefined) {
    throw new ConfigError('this deployment has no Mastodon OAuth client wired (InviteDeps.mastodon)');
  }
  return deps.mastodon;
}

/**
 * Spends the invite (conditional on the version read), connects, records the account on it and
 * audits; a failed connect re-opens the invite.
 */
async function spend(
  deps: InviteDeps,
  stored: StoredInvite,
  connect: (client: ClientRecord) => Promise<{ account: AccountRecord; created: boolean }>,
): Promise<ConnectedByInvite> {
  const client = await requireClient(deps.registry, stored.invite.clientId);
  const { pending: _pending, ...rest } = stored.invite;
  const now = deps.clock.now();
  const spent: InviteRecord = { ...rest, status: 'spent', spentAt: now };
  let version: number;
  try {
    version = await deps.invites.putInvite(spent, stored.version);
  } catch (error) {
    if (error instanceof ConflictError) throw new InviteRefusedError('spent');
    throw error;
  }
  let connected: { account: AccountRecord; created: boolean };
  try {
    connected = await connect(client);
  } catch (error) {
    await deps.invites.putInvite({ ...rest, status: 'open' }, version).catch(() => undefined);
    throw error;
  }
  await deps.invites
    .putInvite(
      { ...spent, accountId: connected.account.accountId, handle: connected.account.handle },
      version,
    )
    .catch(() => undefined);
  await deps.audit.appendAudit({
    at: now,
    clientId: client.clientId,
    accountId: connected.account.accountId,
    network: connected.account.network,
    actor: { kind: 'invite', id: stored.invite.inviteId },
    action: 'connect',
    detail: `${connected.account.network} account @${connected.account.handle} connected through invite ${stored.invite.inviteId}`,
  });
  deps.logger?.info('account connected through an invite', {
    clientId: client.clientId,
    accountId: connected.account.accountId,
    network: connected.account.network,
    inviteId: stored.invite.inviteId,
  });
  return { client, ...connected };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
