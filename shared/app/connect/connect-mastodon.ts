import * as z from 'zod';
import { resolveObserveSettings } from '../../config/observe-settings.ts';
import { type AccountRecord, accountKey, normalizeInstanceUrl } from '../../domain/account.ts';
import {
  AuthError,
  ConfigError,
  MalformedResponseError,
  TransientPlatformError,
  ValidationError,
} from '../../domain/errors.ts';
import { UNKNOWN_PLATFORM_USER_ID } from '../../domain/tenants/tenant.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { RegistryStore } from '../../ports/store.ts';
import { requireClient } from '../tenants/registry.ts';
import { checkDeclaredHandle, chooseAccount } from './choose-account.ts';
import { type LoopbackReceiver, startLoopbackReceiver } from './loopback.ts';
import { OAuthGrantError } from './oauth-client.ts';
import { createPkce, createState } from './pkce.ts';
import type { CredentialVault } from './token-provider.ts';

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
  /** Starts the redirect receiver (default: a loopback server on 127.0.0.1, any free port). */
  receiver?: ((state: string) => Promise<LoopbackReceiver>) | undefined;
  /** For tests; default: the global fetch. */
  fetch?: typeof fetch | undefined;
  /** Per-request timeout of the calls to the instance (default 10 s). */
  requestTimeoutMs?: number | undefined;
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

const metadataSchema = z.object({
  authorization_endpoint: z.string().min(1),
  token_endpoint: z.string().min(1),
  code_challenge_methods_supported: z.array(z.string()).optional(),
});

const appSchema = z.object({
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
});

const tokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i, 'must be Bearer'),
  scope: z.string().optional(),
});

const credentialAccountSchema = z.object({
  id: z.string().min(1).max(200),
  username: z.string().min(1).max(200),
  acct: z.string().min(1).max(400),
  url: z.string().optional(),
});

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
  const receiver = await (
    deps.receiver ??
    ((s: string) => startLoopbackReceiver({ state: s, timeoutMs: input.timeoutMs, port: input.redirectPort }))
  )(state);
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
  deps: Pick<ConnectMastodonDeps, 'fetch' | 'requestTimeoutMs'>,
  input: {
    instanceUrl: string;
    redirectUri: string;
    state: string;
    appName?: string | undefined;
    website?: string | undefined;
  },
): Promise<{ authorizeUrl: string; grant: MastodonPendingGrant; pkce: boolean }> {
  const instanceUrl = normalizeInstanceUrl(input.instanceUrl, 'instance');
  const http = new InstanceHttp(instanceUrl, deps.fetch ?? fetch, deps.requestTimeoutMs ?? 10_000);
  const endpoints = await discover(http, instanceUrl);
  const pkce = endpoints.pkce ? createPkce() : undefined;
  const app = parseOrThrow(
    'apps',
    appSchema,
    await http.json('apps', `${instanceUrl}/api/v1/apps`, {
      method: 'POST',
      json: {
        client_name: input.appName ?? 'followback',
        redirect_uris: input.redirectUri,
        scopes: MASTODON_OAUTH_SCOPES.join(' '),
        ...(input.website === undefined ? {} : { website: input.website }),
      },
    }),
  );
  const authorize = new URL(endpoints.authorize);
  authorize.searchParams.set('response_type', 'code');
  authorize.searchParams.set('client_id', app.client_id);
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
      appClientId: app.client_id,
      appClientSecret: app.client_secret,
      ...(pkce === undefined ? {} : { codeVerifier: pkce.verifier }),
    },
  };
}

/** Steps 5–7: the code exchanged, who approved, the token and the account stored. */
export async function finishMastodonGrant(
  deps: ConnectMastodonDeps,
  input: { clientId: string; accountId?: string | undefined },
  grant: MastodonPendingGrant,
  code: string,
): Promise<ConnectMastodonResult> {
  const client = await requireClient(deps.registry, input.clientId);
  const instanceUrl = grant.instanceUrl;
  const http = new InstanceHttp(instanceUrl, deps.fetch ?? fetch, deps.requestTimeoutMs ?? 10_000);
  const answer = await http.json('oauth/token', grant.tokenEndpoint, {
    method: 'POST',
    form: {
      grant_type: 'authorization_code',
      code,
      client_id: grant.appClientId,
      client_secret: grant.appClientSecret,
      redirect_uri: grant.redirectUri,
      scope: MASTODON_OAUTH_SCOPES.join(' '),
      ...(grant.codeVerifier === undefined ? {} : { code_verifier: grant.codeVerifier }),
    },
  });
  const token = parseOrThrow('oauth/token', tokenSchema, answer);
  const accessToken = token.access_token;
  const granted = (token.scope ?? MASTODON_OAUTH_SCOPES.join(' ')).split(/[\s+]+/).filter(Boolean);
  const pkce = grant.codeVerifier;

  const missing = MASTODON_OAUTH_SCOPES.filter((scope) => !scopeGranted(granted, scope));
  if (missing.length > 0) {
    throw new ValidationError(
      `the instance granted no ${missing.join(', ')}: followback cannot work without them; connect again`,
      { details: { missing } },
    );
  }
  const me = parseOrThrow(
    'accounts/verify_credentials',
    credentialAccountSchema,
    await http.json('accounts/verify_credentials', `${instanceUrl}/api/v1/accounts/verify_credentials`, {
      method: 'GET',
      token: accessToken,
    }),
  );
  const handle = fullHandle(me, instanceUrl);
  const username = handle.split('@')[0]!.toLowerCase();
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

/** The instance's authorize and token endpoints, and whether it takes PKCE. */
async function discover(
  http: InstanceHttp,
  instanceUrl: string,
): Promise<{ authorize: string; token: string; pkce: boolean }> {
  const fallback = {
    authorize: `${instanceUrl}/oauth/authorize`,
    token: `${instanceUrl}/oauth/token`,
    pkce: false,
  };
  const answer = await http.optionalJson(
    'oauth metadata',
    `${instanceUrl}/.well-known/oauth-authorization-server`,
  );
  const metadata = metadataSchema.safeParse(answer);
  if (!metadata.success) return fallback;
  const sameOrigin = (raw: string) => {
    try {
      return new URL(raw).origin === instanceUrl;
    } catch {
      return false;
    }
  };
  const { authorization_endpoint: authorize, token_endpoint: token } = metadata.data;
  // The endpoints must be the instance's own: a token or a code never goes anywhere else.
  if (!sameOrigin(authorize) || !sameOrigin(token)) return fallback;
  return {
    authorize,
    token,
    pkce: metadata.data.code_challenge_methods_supported?.includes('S256') ?? false,
  };
}

/** `read` covers `read:*`, `write` covers `write:*`, the legacy `follow` covers the follow parts. */
function scopeGranted(granted: readonly string[], needed: string): boolean {
  if (granted.includes(needed)) return true;
  const top = needed.split(':')[0]!;
  if (granted.includes(top)) return true;
  return (needed === 'read:follows' || needed === 'write:follows') && granted.includes('follow');
}

/** `user@instance`: the acct of a local account has no domain; the profile URL (or the instance) gives it. */
function fullHandle(me: z.infer<typeof credentialAccountSchema>, instanceUrl: string): string {
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

function parseOrThrow<S extends z.ZodType>(endpoint: string, schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    // Name the fields, never the values (an answer may hold a token).
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(body)').join(', ');
    throw new MalformedResponseError(`Mastodon ${endpoint}: unexpected answer at ${fields}`, {
      details: { endpoint },
    });
  }
  return parsed.data;
}

const errorSchema = z.object({ error: z.string().max(300), error_description: z.string().optional() });

/** A request to the instance: a JSON or form body, with the user's token when it acts for them. */
interface InstanceRequest {
  method: 'GET' | 'POST';
  json?: Record<string, unknown>;
  form?: Record<string, string>;
  token?: string;
}

/** JSON requests to one instance; errors name the endpoint and the instance's error, never a secret. */
class InstanceHttp {
  readonly #instance: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(instance: string, fetchImpl: typeof fetch, timeoutMs: number) {
    this.#instance = instance;
    this.#fetch = fetchImpl;
    this.#timeoutMs = timeoutMs;
  }

  /** The JSON of a 200 answer, or undefined for anything else (a missing optional endpoint). */
  async optionalJson(endpoint: string, url: string): Promise<unknown> {
    const response = await this.#send(endpoint, url, { method: 'GET' });
    if (!response.ok) return undefined;
    return response.json().catch(() => undefined);
  }

  async json(endpoint: string, url: string, request: InstanceRequest): Promise<unknown> {
    const response = await this.#send(endpoint, url, request);
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const details = { endpoint, instance: this.#instance, status: response.status };
    if (response.status === 429 || response.status >= 500) {
      throw new TransientPlatformError(`Mastodon ${endpoint} failed: HTTP ${response.status}`, { details });
    }
    if (!response.ok) {
      const error = errorSchema.safeParse(body);
      const code = error.success ? error.data.error.slice(0, 200) : `HTTP ${response.status}`;
      const description = error.success ? (error.data.error_description ?? '').slice(0, 200) : '';
      const message = `${this.#instance} refused ${endpoint}: ${code}${description ? ` (${description})` : ''}`;
      if (endpoint === 'oauth/token') {
        if (response.status === 401) throw new ConfigError(message, { details });
        throw new OAuthGrantError(error.success ? error.data.error : `http_${response.status}`, message, {
          details,
        });
      }
      if (response.status === 401 || response.status === 403) throw new AuthError(message, { details });
      throw new ValidationError(message, { details });
    }
    if (body === undefined) {
      throw new MalformedResponseError(`Mastodon ${endpoint}: the answer is not JSON`, { details });
    }
    return body;
  }

  async #send(endpoint: string, url: string, request: InstanceRequest): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: string | null = null;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(request.form).toString();
    }
    if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
    try {
      return await this.#fetch(url, {
        method: request.method,
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      throw new TransientPlatformError(
        `Mastodon ${endpoint} on ${this.#instance} failed: ${cause?.code ?? (error as Error).name}`,
        { details: { endpoint, instance: this.#instance } },
      );
    }
  }
}
