/**
 * X's OAuth 2.0 (Authorization Code with PKCE) in the sandbox, so the whole connect flow and token
 * refresh run locally:
 *
 * - `GET /i/oauth2/authorize` (on x.com for the real X): checks the request and, the sandbox being no
 *   browser, answers at once when someone consents: a 302 to `redirect_uri` with `code` and `state`.
 *   Who consents: the `sandbox_consent` query parameter (a user id, `@handle`, or `deny`), else the
 *   configured `consentingUser` (`XOAuthOptions.consentingUser`, or `sandbox.oauth.consentAs(...)`).
 *   With neither, it answers a small HTML page listing the world's owners, each a link that consents
 *   as that owner (so a person with a real browser can click through it), and a "deny" link.
 *   An unknown client or a redirect URI the client did not register is answered with a 400 page and
 *   never redirected to (RFC 6749 4.1.2.1); other errors redirect with `error` and `state`.
 * - `POST /2/oauth2/token` (form encoded): `authorization_code` (single use, 30 s, bound to the client,
 *   the redirect URI and the PKCE challenge; S256 or plain) and `refresh_token` with rotation: every
 *   refresh returns a new refresh token and retires the one used; presenting a retired refresh token
 *   again voids the whole grant (all its access and refresh tokens), as X does. A reused code voids
 *   the tokens issued for it too. Confidential clients authenticate with HTTP Basic (a `client_id`
 *   in the body too must name the same client); public clients send `client_id` in the body. Errors: 400/401 `{ error, error_description }` (never the token).
 * - Access tokens expire after `accessTokenLifetimeMs` (X: 2 hours) on the sandbox clock and then
 *   answer 401, like revoked ones. An access token stays valid until it expires after the grant is
 *   refreshed (a rotated refresh token is what dies); a voided grant kills them all at once.
 * - API calls made with an OAuth token need the scopes X's OpenAPI description lists for the
 *   endpoint (`tweet.read users.read`, plus `follows.read` / `follows.write`), else 403. Tokens the
 *   world issues directly (`world.issueToken`) carry every scope.
 *
 * Grants live in memory only: the local demo keeps issuing world tokens, which its journal replays.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { defined } from '../../shared/domain/invariant.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import {
  AuthorizationCodes,
  consentOf,
  consentPage,
  escapeHtml,
  isPkceChallenge,
  type OAuthReply,
  page,
  redirectBack,
  sendOAuthReply,
} from '../common/oauth.ts';
import type { SandboxStats } from '../stats.ts';
import type { TokenResolver } from '../tokens.ts';
import type { World, WorldUser } from '../world.ts';
import type { XEndpoint } from './limits.ts';

export const SANDBOX_AUTHORIZE_PATH = '/i/oauth2/authorize';
export const SANDBOX_TOKEN_PATH = '/2/oauth2/token';
export const SANDBOX_REVOKE_PATH = '/2/oauth2/revoke';
/** The query parameter that consents (a user id or @handle) or refuses (`deny`) without a page. */
export { challengeOf, SANDBOX_CONSENT_PARAM } from '../common/oauth.ts';

/** X's access token lifetime. */
/** The app that tokens issued outside OAuth (the world's registry) belong to. */
export const DEFAULT_X_APP = 'default';

export const X_ACCESS_TOKEN_LIFETIME_MS = 2 * 60 * 60_000;
/** X's authorization code lifetime. */
export const X_CODE_LIFETIME_MS = 30_000;

/** The scopes X knows (a subset of the OpenAPI list: those any followback request could ask for). */
export const X_KNOWN_SCOPES: readonly string[] = [
  'tweet.read',
  'tweet.write',
  'users.read',
  'follows.read',
  'follows.write',
  'offline.access',
  'like.read',
  'like.write',
  'list.read',
  'list.write',
  'block.read',
  'block.write',
  'mute.read',
  'mute.write',
  'bookmark.read',
  'bookmark.write',
  'space.read',
  'dm.read',
  'dm.write',
  'media.write',
];

/** Scopes each endpoint needs (X API v2 OpenAPI, `OAuth2UserToken` security). */
export const X_ENDPOINT_SCOPES: Readonly<Record<XEndpoint, readonly string[]>> = {
  me: ['tweet.read', 'users.read'],
  users: ['tweet.read', 'users.read'],
  user: ['tweet.read', 'users.read'],
  followers: ['tweet.read', 'users.read', 'follows.read'],
  following: ['tweet.read', 'users.read', 'follows.read'],
  follow: ['tweet.read', 'users.read', 'follows.write'],
  unfollow: ['tweet.read', 'users.read', 'follows.write'],
};

export interface XOAuthClientRegistration {
  clientId: string;
  /** Set for a confidential client: the token endpoint then requires HTTP Basic with it. */
  clientSecret?: string | undefined;
  /**
   * Registered callback URLs. A loopback `http://127.0.0.1/...` or `http://localhost/...` entry
   * matches any port (RFC 8252 7.3). Default: any loopback http URL.
   */
  redirectUris?: readonly string[] | undefined;
}

export interface XOAuthOptions {
  /** Registered apps. Default: none, and any `client_id` is accepted as a public client. */
  clients?: readonly XOAuthClientRegistration[] | undefined;
  /** Who approves an authorize request without a page: a user id or `@handle`. */
  consentingUser?: string | undefined;
  accessTokenLifetimeMs?: number | undefined;
  codeLifetimeMs?: number | undefined;
}

/** Which app (OAuth client id) the sandbox saw acting for which user: for tests of app isolation. */
export interface ClientSighting {
  kind: 'exchange' | 'refresh' | 'api';
  clientId: string;
  userId: string;
}

export interface OAuthCounts {
  /** Authorize requests answered with a code. */
  authorized: number;
  /** Successful code exchanges. */
  codeExchanges: number;
  /** Successful refreshes (each rotates the refresh token). */
  refreshes: number;
  /** Retired refresh tokens (or used codes) presented again: each voided a grant. */
  reuseDetected: number;
  /** Token endpoint calls refused (any reason). */
  refused: number;
}

/** What the sandbox knows about a token, for tests. */
export interface TokenInfo {
  kind: 'access' | 'refresh';
  grantId: string;
  userId: string;
  scopes: string[];
  /** Access: not expired and grant alive. Refresh: the grant's current refresh token, grant alive. */
  valid: boolean;
  grantRevoked: boolean;
  expiresAt?: number | undefined;
}

interface Grant {
  id: string;
  clientId: string;
  userId: string;
  scopes: string[];
  revoked: boolean;
  accessTokens: Set<string>;
  refreshToken: string | undefined;
}

interface AccessRecord {
  grantId: string;
  expiresAt: number;
}

/** An API bearer token resolver that also knows OAuth scopes. */
export interface ScopedTokenResolver extends TokenResolver {
  /** The scopes the token is missing for `endpoint` (empty when it may call it). */
  missingScopes(token: string, endpoint: XEndpoint): string[];
}

type Reply = OAuthReply;

const FORM_TYPE = /^application\/x-www-form-urlencoded\b/i;

export class XOAuthServer implements ScopedTokenResolver {
  readonly counts: OAuthCounts = {
    authorized: 0,
    codeExchanges: 0,
    refreshes: 0,
    reuseDetected: 0,
    refused: 0,
  };
  readonly #world: World;
  readonly #clock: Clock;
  readonly #fallback: TokenResolver;
  readonly #clients: Map<string, XOAuthClientRegistration> | undefined;
  readonly #accessLifetimeMs: number;
  readonly #codes: AuthorizationCodes;
  readonly #grants = new Map<string, Grant>();
  readonly #access = new Map<string, AccessRecord>();
  /** Every refresh token ever issued, current or retired, to its grant. */
  readonly #refresh = new Map<string, string>();
  #consentingUser: string | undefined;
  #grantSeq = 0;

  constructor(world: World, clock: Clock, fallback: TokenResolver, options: XOAuthOptions = {}) {
    this.#world = world;
    this.#clock = clock;
    this.#fallback = fallback;
    this.#clients =
      options.clients === undefined ? undefined : new Map(options.clients.map((c) => [c.clientId, c]));
    this.#accessLifetimeMs = options.accessTokenLifetimeMs ?? X_ACCESS_TOKEN_LIFETIME_MS;
    this.#codes = new AuthorizationCodes(clock, options.codeLifetimeMs ?? X_CODE_LIFETIME_MS, () =>
      newSecret('sbxc'),
    );
    this.#consentingUser = options.consentingUser;
  }

  /** From now on authorize requests are approved as this user (id or @handle); undefined: show the page. */
  consentAs(user: string | undefined): void {
    this.#consentingUser = user;
  }

  /** Registers (or replaces) an app. */
  registerClient(client: XOAuthClientRegistration): void {
    if (this.#clients === undefined) {
      throw new Error('this sandbox accepts any client_id; start it with `oauth.clients` to register apps');
    }
    this.#clients.set(client.clientId, client);
  }

  // ------------------------------------------------------------------------------------------
  // Bearer tokens for the API

  /** Every code exchange, refresh and API call made with a token of this server, in order. */
  readonly sightings: ClientSighting[] = [];

  /** Records the app behind an API call's token (the X server calls it for each request). */
  sawApiCall(token: string): void {
    const access = this.#access.get(token);
    const grant = access === undefined ? undefined : this.#grants.get(access.grantId);
    if (grant) this.sightings.push({ kind: 'api', clientId: grant.clientId, userId: grant.userId });
  }

  resolve(token: string): string | undefined {
    const access = this.#access.get(token);
    if (access === undefined) return this.#fallback.resolve(token);
    const grant = this.#grants.get(access.grantId);
    if (!grant || grant.revoked || access.expiresAt <= this.#clock.now()) return undefined;
    return grant.userId;
  }

  /**
   * The app (OAuth client id) a token was issued to; tokens from the world's registry belong to the
   * deployment's default app. X bills reads per app.
   */
  appOf(token: string): string {
    const access = this.#access.get(token);
    const grant = access === undefined ? undefined : this.#grants.get(access.grantId);
    return grant?.clientId ?? DEFAULT_X_APP;
  }

  missingScopes(token: string, endpoint: XEndpoint): string[] {
    const access = this.#access.get(token);
    if (access === undefined) return [];
    const granted = new Set(this.#grants.get(access.grantId)?.scopes ?? []);
    return X_ENDPOINT_SCOPES[endpoint].filter((scope) => !granted.has(scope));
  }

  /** The grant a token was issued under (tokens are only issued under a grant the sandbox keeps). */
  #grantOf(grantId: string): Grant {
    return defined(this.#grants.get(grantId), `grant ${grantId} of an issued token`);
  }

  /** What the sandbox knows about a token (access or refresh), or undefined if it never issued it. */
  inspect(token: string): TokenInfo | undefined {
    const now = this.#clock.now();
    const access = this.#access.get(token);
    if (access !== undefined) {
      const grant = this.#grantOf(access.grantId);
      return {
        kind: 'access',
        grantId: grant.id,
        userId: grant.userId,
        scopes: [...grant.scopes],
        valid: !grant.revoked && access.expiresAt > now,
        grantRevoked: grant.revoked,
        expiresAt: access.expiresAt,
      };
    }
    const grantId = this.#refresh.get(token);
    if (grantId === undefined) return undefined;
    const grant = this.#grantOf(grantId);
    return {
      kind: 'refresh',
      grantId,
      userId: grant.userId,
      scopes: [...grant.scopes],
      valid: !grant.revoked && grant.refreshToken === token,
      grantRevoked: grant.revoked,
    };
  }

  /** The grant's current refresh token (undefined once voided or without offline.access). */
  currentRefreshToken(grantId: string): string | undefined {
    const grant = this.#grants.get(grantId);
    return grant && !grant.revoked ? grant.refreshToken : undefined;
  }

  /** Voids a grant: every access and refresh token of it stops working. */
  revokeGrant(grantId: string): boolean {
    const grant = this.#grants.get(grantId);
    if (!grant || grant.revoked) return false;
    grant.revoked = true;
    grant.refreshToken = undefined;
    return true;
  }

  // ------------------------------------------------------------------------------------------
  // HTTP

  /** Whether `path` is one of the OAuth endpoints this serves. */
  handles(path: string): boolean {
    return path === SANDBOX_AUTHORIZE_PATH || path === SANDBOX_TOKEN_PATH || path === SANDBOX_REVOKE_PATH;
  }

  serve(req: IncomingMessage, res: ServerResponse, url: URL, body: string, stats: SandboxStats): void {
    const method = req.method ?? 'GET';
    let reply: Reply;
    let endpoint: string;
    if (url.pathname === SANDBOX_AUTHORIZE_PATH) {
      endpoint = 'oauth2/authorize';
      reply = method === 'GET' ? this.#authorize(url) : { status: 405, body: page('Method Not Allowed', '') };
    } else {
      endpoint = url.pathname === SANDBOX_TOKEN_PATH ? 'oauth2/token' : 'oauth2/revoke';
      reply =
        method !== 'POST'
          ? oauthError(405, 'invalid_request', 'Use POST.')
          : !FORM_TYPE.test(req.headers['content-type'] ?? '')
            ? oauthError(400, 'invalid_request', 'The body must be application/x-www-form-urlencoded.')
            : url.pathname === SANDBOX_TOKEN_PATH
              ? this.#token(req, new URLSearchParams(body))
              : this.#revoke(req, new URLSearchParams(body));
      if ('status' in reply && reply.status >= 400) this.counts.refused++;
    }
    sendOAuthReply(res, stats, endpoint, reply, { pragma: 'no-cache' });
  }

  #authorize(url: URL): Reply {
    const q = url.searchParams;
    const clientId = q.get('client_id') ?? '';
    const redirectUri = q.get('redirect_uri') ?? '';
    const client = this.#client(clientId);
    if (client === undefined) {
      return { status: 400, body: page('Something went wrong', 'This app (client_id) is not registered.') };
    }
    if (!redirectAllowed(client, redirectUri)) {
      return {
        status: 400,
        body: page('Something went wrong', 'The redirect_uri is not one this app registered.'),
      };
    }
    const state = q.get('state');
    const back = (params: Record<string, string>): Reply => redirectBack(redirectUri, state, params);
    const invalid = (description: string) =>
      back({ error: 'invalid_request', error_description: description });
    if (q.get('response_type') !== 'code') return invalid('response_type must be code');
    if (state === null || state === '' || state.length > 500) {
      return invalid('state is required (at most 500 characters)');
    }
    const challenge = q.get('code_challenge') ?? '';
    const method = q.get('code_challenge_method') ?? 'plain';
    if (method !== 'S256' && method !== 'plain')
      return invalid('code_challenge_method must be S256 or plain');
    if (!isPkceChallenge(challenge)) return invalid('code_challenge is missing or malformed');
    const scopes = (q.get('scope') ?? '').split(/[ +]/).filter(Boolean);
    if (scopes.length === 0) return back({ error: 'invalid_scope', error_description: 'scope is required' });
    const unknown = scopes.filter((scope) => !X_KNOWN_SCOPES.includes(scope));
    if (unknown.length > 0) {
      return back({ error: 'invalid_scope', error_description: `unknown scope ${unknown.join(' ')}` });
    }

    const consent = consentOf(q, this.#consentingUser);
    if (consent === undefined) {
      const intro = `An app asks for: ${escapeHtml(q.get('scope') ?? '')}`;
      const body = consentPage({
        world: this.#world,
        url,
        title: 'Authorize app (X sandbox)',
        intro,
        username: (user) => user.username,
        refuse: 'Cancel',
      });
      return { status: 200, body };
    }
    if (consent === 'deny') {
      return back({ error: 'access_denied', error_description: 'The user denied the request.' });
    }
    const user = this.#findUser(consent);
    if (user === undefined) {
      return { status: 400, body: page('Something went wrong', 'No such user in the sandbox world.') };
    }
    const code = this.#codes.issue({ clientId, redirectUri, challenge, method, scopes, userId: user.id });
    this.counts.authorized++;
    return back({ code });
  }

  #token(req: IncomingMessage, form: URLSearchParams): Reply {
    const auth = this.#authenticate(req, form);
    if ('status' in auth) return auth;
    const client = auth.client;
    switch (form.get('grant_type')) {
      case 'authorization_code':
        return this.#exchangeCode(client, form);
      case 'refresh_token':
        return this.#refreshGrant(client, form);
      default:
        return oauthError(
          400,
          'unsupported_grant_type',
          'grant_type must be authorization_code or refresh_token.',
        );
    }
  }

  #exchangeCode(client: XOAuthClientRegistration, form: URLSearchParams): Reply {
    const redeemed = this.#codes.redeem(
      form.get('code') ?? '',
      client.clientId,
      form.get('redirect_uri') ?? '',
      form.get('code_verifier') ?? '',
    );
    switch (redeemed.outcome) {
      case 'reused':
        // A code presented twice: void what it granted (RFC 6749 4.1.2).
        this.counts.reuseDetected++;
        if (redeemed.record.grantId !== undefined) this.revokeGrant(redeemed.record.grantId);
        return oauthError(400, 'invalid_request', 'Value passed for the authorization code was invalid.');
      case 'unknown':
      case 'expired':
        return oauthError(400, 'invalid_request', 'Value passed for the authorization code was invalid.');
      case 'redirect_uri':
        return oauthError(400, 'invalid_request', 'redirect_uri does not match the authorize request.');
      case 'verifier':
        return oauthError(400, 'invalid_request', 'Value passed for the code_verifier was invalid.');
    }
    const { record } = redeemed;
    const grant: Grant = {
      id: `grant-${++this.#grantSeq}`,
      clientId: client.clientId,
      userId: record.userId,
      scopes: record.scopes,
      revoked: false,
      accessTokens: new Set(),
      refreshToken: undefined,
    };
    this.#grants.set(grant.id, grant);
    record.grantId = grant.id;
    this.counts.codeExchanges++;
    this.sightings.push({ kind: 'exchange', clientId: client.clientId, userId: grant.userId });
    return { status: 200, body: this.#issue(grant) };
  }

  #refreshGrant(client: XOAuthClientRegistration, form: URLSearchParams): Reply {
    const token = form.get('refresh_token') ?? '';
    const grantId = this.#refresh.get(token);
    const grant = grantId === undefined ? undefined : this.#grants.get(grantId);
    if (grant === undefined || grant.clientId !== client.clientId || grant.revoked) {
      return oauthError(400, 'invalid_request', 'Value passed for the token was invalid.');
    }
    if (grant.refreshToken !== token) {
      // A retired refresh token came back: someone kept a copy. Void the whole grant.
      this.counts.reuseDetected++;
      this.revokeGrant(grant.id);
      return oauthError(400, 'invalid_request', 'Value passed for the token was invalid.');
    }
    this.counts.refreshes++;
    this.sightings.push({ kind: 'refresh', clientId: client.clientId, userId: grant.userId });
    return { status: 200, body: this.#issue(grant) };
  }

  #revoke(req: IncomingMessage, form: URLSearchParams): Reply {
    const auth = this.#authenticate(req, form);
    if ('status' in auth) return auth;
    const token = form.get('token') ?? '';
    const grantId = this.#access.get(token)?.grantId ?? this.#refresh.get(token);
    const grant = grantId === undefined ? undefined : this.#grants.get(grantId);
    if (grant && grant.clientId === auth.client.clientId) {
      const access = this.#access.get(token);
      if (access) access.expiresAt = 0;
      else this.revokeGrant(grant.id);
    }
    return { status: 200, body: { revoked: true } };
  }

  #issue(grant: Grant): Record<string, unknown> {
    const accessToken = newSecret('sbxa');
    this.#access.set(accessToken, {
      grantId: grant.id,
      expiresAt: this.#clock.now() + this.#accessLifetimeMs,
    });
    grant.accessTokens.add(accessToken);
    const body: Record<string, unknown> = {
      token_type: 'bearer',
      expires_in: Math.floor(this.#accessLifetimeMs / 1000),
      access_token: accessToken,
      scope: grant.scopes.join(' '),
    };
    if (grant.scopes.includes('offline.access')) {
      const refreshToken = newSecret('sbxr');
      grant.refreshToken = refreshToken;
      this.#refresh.set(refreshToken, grant.id);
      body.refresh_token = refreshToken;
    }
    return body;
  }

  /** Basic auth for confidential clients, `client_id` in the body for public ones. */
  #authenticate(
    req: IncomingMessage,
    form: URLSearchParams,
  ): { client: XOAuthClientRegistration } | Extract<Reply, { status: number }> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const [, basic] = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) ?? [];
      const decoded = basic === undefined ? '' : Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return oauthError(401, 'unauthorized_client', 'Missing valid authorization header');
      const id = safeDecode(decoded.slice(0, colon));
      const secret = safeDecode(decoded.slice(colon + 1));
      const client = this.#client(id);
      if (client === undefined || client.clientSecret === undefined || client.clientSecret !== secret) {
        return oauthError(401, 'unauthorized_client', 'Missing valid authorization header');
      }
      const named = form.get('client_id');
      if (named !== null && named !== id) {
        return oauthError(400, 'invalid_request', 'client_id does not match the authorization header.');
      }
      return { client };
    }
    const client = this.#client(form.get('client_id') ?? '');
    if (client === undefined)
      return oauthError(400, 'invalid_request', 'Missing required parameter [client_id].');
    if (client.clientSecret !== undefined) {
      return oauthError(401, 'unauthorized_client', 'Missing valid authorization header');
    }
    return { client };
  }

  #client(clientId: string): XOAuthClientRegistration | undefined {
    if (clientId === '' || clientId.length > 200) return undefined;
    if (this.#clients === undefined) return { clientId };
    return this.#clients.get(clientId);
  }

  #findUser(who: string): WorldUser | undefined {
    if (who.startsWith('@')) {
      const handle = who.slice(1).toLowerCase();
      for (const id of this.#world.ownerIds()) {
        const user = this.#world.user(id);
        if (user && user.username.toLowerCase() === handle) return user;
      }
      return undefined;
    }
    const user = this.#world.user(who);
    return user && !user.deleted && !user.suspended ? user : undefined;
  }
}

/** A registered redirect URI matches exactly, or a loopback one matches any port (RFC 8252 7.3). */
function redirectAllowed(client: XOAuthClientRegistration, redirectUri: string): boolean {
  let target: URL;
  try {
    target = new URL(redirectUri);
  } catch {
    return false;
  }
  if (target.hash !== '') return false;
  const loopback = (url: URL) =>
    url.protocol === 'http:' &&
    (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]');
  if (client.redirectUris === undefined) return loopback(target);
  return client.redirectUris.some((registered) => {
    if (registered === redirectUri) return true;
    let url: URL;
    try {
      url = new URL(registered);
    } catch {
      return false;
    }
    return (
      loopback(url) &&
      loopback(target) &&
      url.hostname === target.hostname &&
      url.pathname === target.pathname &&
      url.search === target.search
    );
  });
}

function oauthError(status: number, error: string, description: string): Extract<Reply, { status: number }> {
  return { status, body: { error, error_description: description } };
}

function newSecret(prefix: string): string {
  return `${prefix}-${randomBytes(24).toString('base64url')}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
