/**
 * Mastodon's OAuth 2.0 in the sandbox (Doorkeeper's endpoints as Mastodon configures them), so
 * `followback connect mastodon` runs end to end locally:
 *
 * - `POST /api/v1/apps` (JSON or form): registers an app (`client_name`, `redirect_uris` as a string
 *   of lines or an array, `scopes`, `website`) and answers the Application entity with `client_id`
 *   and `client_secret`. A redirect URI that is not an absolute URI is a 422.
 * - `GET /.well-known/oauth-authorization-server` (Mastodon 4.3+): the server metadata (RFC 8414),
 *   advertising PKCE with S256. `pkce: false` plays an older instance: 404 here, and a
 *   `code_challenge` is ignored at authorize and never checked at the token endpoint.
 * - `GET /oauth/authorize`: checks the app, the redirect URI (registered exactly), the scopes (a
 *   subset of the app's) and PKCE (S256 only), then, the sandbox being no browser, answers at once
 *   when someone consents: a 302 to `redirect_uri` with `code` and `state`. Who consents: the
 *   `sandbox_consent` query parameter (an owner's world id, `@handle`, or `deny`), else the
 *   configured `consentingUser`; with neither, a small HTML page lists the world's owners as links
 *   (a person with a real browser clicks one). An unknown app or an unregistered redirect URI is
 *   answered with a 400 page and never redirected to (RFC 6749 4.1.2.1).
 * - `POST /oauth/token` (form or JSON): `authorization_code` with `client_id` and `client_secret` (in
 *   the body or HTTP Basic), the same `redirect_uri`, and the `code_verifier` when the code was
 *   issued with a challenge. A code is single-use and lives 10 minutes. The answer is
 *   `{ access_token, token_type: "Bearer", scope, created_at }`: Mastodon tokens do not expire and
 *   there is no refresh token.
 *
 * Access tokens are the world's (`world.issueToken`, journaled), so a persisted local world replays
 * them and a token stored by a connect keeps working in the next run. The scopes of tokens issued
 * here are remembered in memory and enforced by the API (403 "This action is outside the
 * authorized scopes"); a token this process did not issue (a replayed or a directly issued one)
 * carries every scope. Apps and codes live in memory only.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
  SANDBOX_CONSENT_PARAM,
  sendOAuthReply,
} from '../common/oauth.ts';
import type { SandboxStats } from '../stats.ts';
import type { World, WorldUser } from '../world.ts';
import { mastodonUsername } from './shapes.ts';

export const MASTODON_APPS_PATH = '/api/v1/apps';
export const MASTODON_AUTHORIZE_PATH = '/oauth/authorize';
export const MASTODON_TOKEN_PATH = '/oauth/token';
export const MASTODON_METADATA_PATH = '/.well-known/oauth-authorization-server';
/** The query parameter that consents (an owner's world id or @handle) or refuses (`deny`). */
export const MASTODON_CONSENT_PARAM = SANDBOX_CONSENT_PARAM;
/** Doorkeeper's default as Mastodon sets it. */
export const MASTODON_CODE_LIFETIME_MS = 10 * 60_000;

/** Scopes Mastodon knows (4.3): the top-level ones and their granular parts followback could ask for. */
export const MASTODON_SCOPES: readonly string[] = [
  'read',
  'write',
  'follow',
  'push',
  'profile',
  'read:accounts',
  'read:blocks',
  'read:bookmarks',
  'read:favourites',
  'read:filters',
  'read:follows',
  'read:lists',
  'read:mutes',
  'read:notifications',
  'read:search',
  'read:statuses',
  'write:accounts',
  'write:blocks',
  'write:bookmarks',
  'write:conversations',
  'write:favourites',
  'write:filters',
  'write:follows',
  'write:lists',
  'write:media',
  'write:mutes',
  'write:notifications',
  'write:reports',
  'write:statuses',
];

/** What the legacy `follow` scope stands for. */
const FOLLOW_SCOPE_COVERS = new Set([
  'read:blocks',
  'write:blocks',
  'read:follows',
  'write:follows',
  'read:mutes',
  'write:mutes',
]);

export interface MastodonOAuthOptions {
  /** Who approves an authorize request without a page: an owner's world id or `@handle`. */
  consentingUser?: string | undefined;
  /** Whether the instance supports PKCE and publishes its metadata (Mastodon 4.3+). Default true. */
  pkce?: boolean | undefined;
  codeLifetimeMs?: number | undefined;
}

export interface MastodonOAuthCounts {
  appsRegistered: number;
  /** Authorize requests answered with a code. */
  authorized: number;
  codeExchanges: number;
  /** Token endpoint calls refused (any reason). */
  refused: number;
}

export interface MastodonApp {
  id: string;
  name: string;
  website: string | null;
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  scopes: string[];
}

type Reply = OAuthReply;

/** Whether `granted` scopes allow what `needed` names (`read` covers `read:*`, `follow` the follow parts). */
export function scopeCovers(granted: readonly string[], needed: string): boolean {
  if (granted.includes(needed)) return true;
  const [top = needed] = needed.split(':'); // split yields at least one part
  if (top !== needed && granted.includes(top)) return true;
  return FOLLOW_SCOPE_COVERS.has(needed) && granted.includes('follow');
}

export class MastodonOAuthServer {
  readonly counts: MastodonOAuthCounts = { appsRegistered: 0, authorized: 0, codeExchanges: 0, refused: 0 };
  readonly pkce: boolean;
  readonly #world: World;
  readonly #clock: Clock;
  readonly #apps = new Map<string, MastodonApp>();
  readonly #codes: AuthorizationCodes;
  /** Scopes of the access tokens issued here. */
  readonly #tokenScopes = new Map<string, string[]>();
  #consentingUser: string | undefined;
  #appSeq = 0;

  constructor(world: World, clock: Clock, options: MastodonOAuthOptions = {}) {
    this.#world = world;
    this.#clock = clock;
    this.pkce = options.pkce ?? true;
    this.#codes = new AuthorizationCodes(clock, options.codeLifetimeMs ?? MASTODON_CODE_LIFETIME_MS, secret);
    this.#consentingUser = options.consentingUser;
  }

  /** From now on authorize requests are approved as this owner (id or @handle); undefined: show the page. */
  consentAs(user: string | undefined): void {
    this.#consentingUser = user;
  }

  /** The apps registered so far (tests). */
  apps(): MastodonApp[] {
    return [...this.#apps.values()].map((app) => ({ ...app }));
  }

  /** Gives a token issued elsewhere (`world.issueToken`) only these scopes. */
  grant(token: string, scopes: readonly string[]): void {
    this.#tokenScopes.set(token, [...scopes]);
  }

  /** The scopes a token carries: those granted here, or every scope for a token issued elsewhere. */
  scopesOf(token: string): readonly string[] | undefined {
    return this.#tokenScopes.get(token);
  }

  /** Whether the token may call an endpoint that needs one of `needed` (any of them is enough). */
  allows(token: string, needed: readonly string[]): boolean {
    const granted = this.#tokenScopes.get(token);
    if (granted === undefined || needed.length === 0) return true;
    return needed.some((scope) => scopeCovers(granted, scope));
  }

  handles(method: string, path: string): boolean {
    return (
      (method === 'POST' && path === MASTODON_APPS_PATH) ||
      path === MASTODON_AUTHORIZE_PATH ||
      path === MASTODON_TOKEN_PATH ||
      path === MASTODON_METADATA_PATH
    );
  }

  serve(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: string,
    baseUrl: string,
    stats: SandboxStats,
  ): void {
    const method = req.method ?? 'GET';
    let endpoint: string;
    let reply: Reply;
    switch (url.pathname) {
      case MASTODON_APPS_PATH:
        endpoint = 'apps';
        reply = this.#registerApp(parseInput(req, body));
        break;
      case MASTODON_METADATA_PATH:
        endpoint = 'oauth/metadata';
        reply =
          method !== 'GET'
            ? { status: 405, body: { error: 'Method not allowed' } }
            : this.pkce
              ? { status: 200, body: this.#metadata(baseUrl) }
              : { status: 404, body: { error: 'Not Found' } };
        break;
      case MASTODON_AUTHORIZE_PATH:
        endpoint = 'oauth/authorize';
        reply =
          method === 'GET' ? this.#authorize(url) : { status: 405, body: page('Method Not Allowed', '') };
        break;
      default:
        endpoint = 'oauth/token';
        reply =
          method === 'POST'
            ? this.#token(req, parseInput(req, body))
            : { status: 405, body: { error: 'Method not allowed' } };
        if ('status' in reply && reply.status >= 400) this.counts.refused++;
    }
    sendOAuthReply(res, stats, endpoint, reply);
  }

  #metadata(baseUrl: string): Record<string, unknown> {
    return {
      issuer: `${baseUrl}/`,
      service_documentation: 'https://docs.joinmastodon.org/',
      authorization_endpoint: `${baseUrl}${MASTODON_AUTHORIZE_PATH}`,
      token_endpoint: `${baseUrl}${MASTODON_TOKEN_PATH}`,
      app_registration_endpoint: `${baseUrl}${MASTODON_APPS_PATH}`,
      scopes_supported: MASTODON_SCOPES,
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    };
  }

  #registerApp(input: Map<string, string[]>): Reply {
    const name = first(input, 'client_name')?.trim() ?? '';
    if (name === '') return validation("Application name can't be blank");
    if (name.length > 60) return validation('Application name is too long (maximum is 60 characters)');
    const uris = (input.get('redirect_uris') ?? [])
      .flatMap((value) => value.split(/\s+/))
      .filter((value) => value !== '');
    if (uris.length === 0) return validation("Redirect URI can't be blank");
    for (const uri of uris) {
      if (uri === 'urn:ietf:wg:oauth:2.0:oob') continue;
      let parsed: URL;
      try {
        parsed = new URL(uri);
      } catch {
        return validation('Redirect URI must be an absolute URI.');
      }
      if (parsed.hash !== '') return validation('Redirect URI cannot contain a fragment.');
    }
    const scopes = (first(input, 'scopes') ?? 'read').split(/[\s+]+/).filter(Boolean);
    const unknown = scopes.filter((scope) => !MASTODON_SCOPES.includes(scope));
    if (unknown.length > 0) return validation(`Scopes are invalid: ${unknown.join(' ')}`);
    const app: MastodonApp = {
      id: String(++this.#appSeq),
      name,
      website: first(input, 'website') ?? null,
      clientId: secret(),
      clientSecret: secret(),
      redirectUris: uris,
      scopes: [...new Set(scopes)],
    };
    this.#apps.set(app.clientId, app);
    this.counts.appsRegistered++;
    return {
      status: 200,
      body: {
        id: app.id,
        name: app.name,
        website: app.website,
        scopes: app.scopes,
        redirect_uri: app.redirectUris.join('\n'),
        redirect_uris: app.redirectUris,
        client_id: app.clientId,
        client_secret: app.clientSecret,
        client_secret_expires_at: 0,
        vapid_key: 'BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=',
      },
    };
  }

  #authorize(url: URL): Reply {
    const q = url.searchParams;
    const app = this.#apps.get(q.get('client_id') ?? '');
    if (app === undefined) {
      return {
        status: 400,
        body: page('An error has occurred', 'Client authentication failed due to unknown client.'),
      };
    }
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!app.redirectUris.includes(redirectUri)) {
      return {
        status: 400,
        body: page('An error has occurred', 'The redirect uri included is not valid.'),
      };
    }
    const state = q.get('state');
    const back = (params: Record<string, string>): Reply => redirectBack(redirectUri, state, params);
    if (q.get('response_type') !== 'code') {
      return back({
        error: 'unsupported_response_type',
        error_description: 'The authorization server does not support this response type.',
      });
    }
    const scopes = (q.get('scope') ?? 'read').split(/[\s+]+/).filter(Boolean);
    if (scopes.length === 0 || scopes.some((scope) => !app.scopes.includes(scope))) {
      return back({
        error: 'invalid_scope',
        error_description: 'The requested scope is invalid, unknown, or malformed.',
      });
    }
    let challenge: string | undefined;
    if (this.pkce && q.has('code_challenge')) {
      if ((q.get('code_challenge_method') ?? 'plain') !== 'S256') {
        return back({
          error: 'invalid_request',
          error_description: 'The code_challenge_method must be S256.',
        });
      }
      challenge = q.get('code_challenge') ?? '';
      if (!isPkceChallenge(challenge)) {
        return back({ error: 'invalid_request', error_description: 'The code_challenge is malformed.' });
      }
    }

    const consent = consentOf(q, this.#consentingUser);
    if (consent === undefined) {
      const scope = q.get('scope') ?? 'read';
      const body = consentPage({
        world: this.#world,
        url,
        title: 'Authorization required (Mastodon sandbox)',
        intro: `${escapeHtml(app.name)} would like permission to access your account: ${escapeHtml(scope)}`,
        username: mastodonUsername,
        refuse: 'Deny',
      });
      return { status: 200, body };
    }
    if (consent === 'deny') {
      return back({
        error: 'access_denied',
        error_description: 'The resource owner or authorization server denied the request.',
      });
    }
    const user = this.#findOwner(consent);
    if (user === undefined) {
      return { status: 400, body: page('An error has occurred', 'No such owner in the sandbox world.') };
    }
    const code = this.#codes.issue({
      clientId: app.clientId,
      redirectUri,
      challenge,
      method: 'S256',
      scopes,
      userId: user.id,
    });
    this.counts.authorized++;
    return back({ code });
  }

  #token(req: IncomingMessage, input: Map<string, string[]>): Reply {
    const app = this.#authenticate(req, input);
    if (app === undefined) {
      return {
        status: 401,
        body: {
          error: 'invalid_client',
          error_description:
            'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
        },
      };
    }
    if (first(input, 'grant_type') !== 'authorization_code') {
      return {
        status: 400,
        body: {
          error: 'unsupported_grant_type',
          error_description: 'The authorization grant type is not supported by the authorization server.',
        },
      };
    }
    const invalidGrant: Reply = {
      status: 400,
      body: {
        error: 'invalid_grant',
        error_description:
          'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
      },
    };
    const redeemed = this.#codes.redeem(
      first(input, 'code') ?? '',
      app.clientId,
      first(input, 'redirect_uri') ?? '',
      first(input, 'code_verifier') ?? '',
    );
    if (redeemed.outcome !== 'redeemed') return invalidGrant;
    const { record } = redeemed;
    this.#world.advanceTo(this.#clock.now());
    const token = this.#world.issueToken(record.userId);
    this.#tokenScopes.set(token, record.scopes);
    this.counts.codeExchanges++;
    return {
      status: 200,
      body: {
        access_token: token,
        token_type: 'Bearer',
        scope: record.scopes.join(' '),
        created_at: Math.floor(this.#clock.now() / 1000),
      },
    };
  }

  /** `client_id` and `client_secret` in the body (client_secret_post) or HTTP Basic. */
  #authenticate(req: IncomingMessage, input: Map<string, string[]>): MastodonApp | undefined {
    let id = first(input, 'client_id');
    let given = first(input, 'client_secret');
    const header = req.headers.authorization;
    const [, basic] = (header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)) ?? [];
    if (basic !== undefined) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      id = decodeURIComponent(decoded.slice(0, colon));
      given = decodeURIComponent(decoded.slice(colon + 1));
    }
    const app = id === undefined ? undefined : this.#apps.get(id);
    if (app === undefined || given === undefined) return undefined;
    const a = Buffer.from(given);
    const b = Buffer.from(app.clientSecret);
    return a.length === b.length && timingSafeEqual(a, b) ? app : undefined;
  }

  #findOwner(who: string): WorldUser | undefined {
    const wanted = who.startsWith('@') ? who.slice(1).toLowerCase() : undefined;
    for (const id of this.#world.ownerIds()) {
      const user = this.#world.user(id);
      if (!user || user.deleted || user.suspended) continue;
      if (wanted === undefined ? id === who : user.username.toLowerCase() === wanted) return user;
    }
    return undefined;
  }
}

/** A request's parameters from a JSON object or a form body (repeated keys and `key[]` kept). */
function parseInput(req: IncomingMessage, body: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (key: string, value: unknown) => {
    const name = key.replace(/\[\]$/, '');
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v === 'string' || typeof v === 'number') {
        out.set(name, [...(out.get(name) ?? []), String(v)]);
      }
    }
  };
  const type = req.headers['content-type'] ?? '';
  if (/^application\/json\b/i.test(type)) {
    try {
      const json = JSON.parse(body) as unknown;
      if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
        for (const [key, value] of Object.entries(json)) add(key, value);
      }
    } catch {
      // An unreadable body has no parameters: the checks name what is missing.
    }
    return out;
  }
  for (const [key, value] of new URLSearchParams(body)) add(key, value);
  return out;
}

function first(input: Map<string, string[]>, key: string): string | undefined {
  return input.get(key)?.[0];
}

function validation(message: string): Reply {
  return { status: 422, body: { error: `Validation failed: ${message}` } };
}

function secret(): string {
  return randomBytes(32).toString('base64url');
}
