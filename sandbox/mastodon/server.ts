/**
 * The Mastodon sandbox: Mastodon's REST API on loopback for the endpoints followback uses, in its
 * entities (Account, Relationship, Error), from the same seeded, clock-driven world as the X
 * sandbox, with Mastodon's rate limits (per instance: options) on the injected clock and injectable
 * faults.
 *
 * Endpoints: GET /api/v1/accounts/verify_credentials, GET /api/v1/accounts/:id,
 * GET /api/v1/accounts?id[]= (Mastodon 4.3+; `batchAccounts: false` plays an older instance),
 * GET /api/v1/accounts/:id/followers and /following (limit up to 80, Link header with max_id and
 * min_id; since_id and min_id read upwards), POST /api/v1/accounts/:id/follow and /unfollow
 * (Relationship; a locked account yields `requested: true`), GET /api/v1/accounts/relationships?id[]=,
 * GET /api/v1/notifications (the owner's `follow` notifications: max_id / since_id / min_id, limit up
 * to 80, Link header; sandbox/common/follow-notifications.ts) and POST /api/v1/notifications/clear.
 * A protected world user is a locked account; `bot` and `#nobot` come from the world's flags.
 *
 * OAuth (sandbox/mastodon/oauth.ts): POST /api/v1/apps, GET /oauth/authorize, POST /oauth/token and
 * GET /.well-known/oauth-authorization-server; API calls made with a token issued there need its
 * scopes (`read:accounts` for verify_credentials and the lists, `read:follows` for relationships,
 * `write:follows` to follow and unfollow), else 403.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../shared/ports/clock.ts';
import { type ActiveFault, type FaultSpec, SandboxFaults, serveFault } from '../common/faults.ts';
import { type FollowNotificationOptions, FollowNotifications } from '../common/follow-notifications.ts';
import { bearer, type JsonAnswer, listen, readBody, sendJson, writeText } from '../common/http.ts';
import type { RunningSandbox, SandboxOptions } from '../common/options.ts';
import { type PointsWindow, WindowMap, type WindowState } from '../common/windows.ts';
import type { SandboxStats } from '../stats.ts';
import type { TokenResolver } from '../tokens.ts';
import type { World, WorldPage, WorldUser } from '../world.ts';
import { fromFlake, type MastodonIdStyle, toFlake } from './ids.ts';
import { type MastodonLimits, resolveMastodonLimits } from './limits.ts';
import { type MastodonOAuthOptions, MastodonOAuthServer } from './oauth.ts';
import { mastodonError, renderAccount, renderCredentialAccount, renderRelationship } from './shapes.ts';

export const MASTODON_ENDPOINTS = [
  'verify_credentials',
  'account',
  'accounts',
  'followers',
  'following',
  'follow',
  'unfollow',
  'relationships',
  'notifications',
  'notifications_clear',
] as const;

export type MastodonEndpoint = (typeof MASTODON_ENDPOINTS)[number];

/** Scopes an OAuth token needs per endpoint (any one of them); public endpoints need none. */
export const MASTODON_ENDPOINT_SCOPES: Readonly<Record<MastodonEndpoint, readonly string[]>> = {
  verify_credentials: ['read:accounts', 'profile'],
  account: [],
  accounts: [],
  followers: ['read:accounts'],
  following: ['read:accounts'],
  follow: ['write:follows'],
  unfollow: ['write:follows'],
  relationships: ['read:follows'],
  notifications: ['read:notifications'],
  notifications_clear: ['write:notifications'],
};
export type MastodonFaultSpec = FaultSpec<MastodonEndpoint>;

/** `limits`: the instance's own (Mastodon's defaults otherwise). */
export interface MastodonSandboxOptions extends SandboxOptions<MastodonEndpoint, Partial<MastodonLimits>> {
  /** Who a bearer token acts for. Default: the world's token registry. */
  tokens?: TokenResolver;
  /** The instance's domain, in accts and URLs. Default 'sandbox.social'. */
  domain?: string;
  /** Account ids as Mastodon makes them (decimal) or as base62 flakes (Akkoma). Default snowflake. */
  idStyle?: MastodonIdStyle;
  /** Whether GET /api/v1/accounts?id[]= exists (Mastodon 4.3+). Default true. */
  batchAccounts?: boolean;
  /** The OAuth side: who consents, whether PKCE is supported (Mastodon 4.3+, default). */
  oauth?: MastodonOAuthOptions;
  /** Where the server speaks Mastodon's API otherwise than Mastodon (as real servers were seen to). */
  quirks?: MastodonQuirks;
  /** How the notifications feed loses some (cleared, truncated, never delivered). Default: it does not. */
  notifications?: FollowNotificationOptions | undefined;
}

/** Ways servers that speak Mastodon's API differ from Mastodon. Default: none. */
export interface MastodonQuirks {
  /** A route the server does not have: Mastodon's JSON 404, or a plain-text 404 (`404 page not found`). */
  notFound?: 'json' | 'text';
  /** Pages of this size whatever `limit` asks. */
  pageSize?: number;
  /** No Link header on lists; `max_id` is then the last account's id, as such servers page. */
  noLink?: boolean;
  /** No X-RateLimit-* headers on any answer (429s included). */
  noRateLimitHeaders?: boolean;
}

/** `baseUrl`: the instance URL (masto's `url`). */
export interface MastodonSandbox extends RunningSandbox<MastodonEndpoint, MastodonLimits> {
  readonly domain: string;
  /** The Mastodon account id of a world user. */
  idOf(userId: string): string;
  /** The world id of a Mastodon account id, or undefined. */
  userIdOf(accountId: string): string | undefined;
  /** An access token for an owner of the world (every scope, or only `scopes`). */
  issueToken(ownerId: string, scopes?: readonly string[]): string;
  /** Apps, consent and codes of the OAuth flow. */
  readonly oauth: MastodonOAuthServer;
  /** The owners' follow notifications (clear them as the owner's other app would). */
  readonly notifications: FollowNotifications;
}

interface Route {
  endpoint: MastodonEndpoint;
  id?: string;
}

interface Answer extends JsonAnswer {
  /** A new follow or follow request: counts against the daily follow limit. */
  countsFollow?: boolean;
}

const NOT_FOUND: Answer = { status: 404, body: mastodonError('Record not found') };
const NOT_ALLOWED: Answer = { status: 403, body: mastodonError('This action is not allowed') };

function matchRoute(method: string, path: string): Route | undefined {
  const parts = path.replace(/\/+$/, '').split('/').slice(1);
  if (parts[0] === 'api' && parts[1] === 'v1' && parts[2] === 'notifications') {
    if (method === 'GET' && parts.length === 3) return { endpoint: 'notifications' };
    if (method === 'POST' && parts.length === 4 && parts[3] === 'clear')
      return { endpoint: 'notifications_clear' };
    return undefined;
  }
  if (parts[0] !== 'api' || parts[1] !== 'v1' || parts[2] !== 'accounts') return undefined;
  const rest = parts.slice(3).map((part) => decodeURIComponent(part));
  if (method === 'GET') {
    if (rest.length === 0) return { endpoint: 'accounts' };
    if (rest.length === 1 && rest[0] === 'verify_credentials') return { endpoint: 'verify_credentials' };
    if (rest.length === 1 && rest[0] === 'relationships') return { endpoint: 'relationships' };
    if (rest.length === 1) return { endpoint: 'account', id: rest[0]! };
    if (rest.length === 2 && rest[1] === 'followers') return { endpoint: 'followers', id: rest[0]! };
    if (rest.length === 2 && rest[1] === 'following') return { endpoint: 'following', id: rest[0]! };
  }
  if (method === 'POST' && rest.length === 2 && rest[1] === 'follow')
    return { endpoint: 'follow', id: rest[0]! };
  if (method === 'POST' && rest.length === 2 && rest[1] === 'unfollow')
    return { endpoint: 'unfollow', id: rest[0]! };
  return undefined;
}

function rateHeaders(headers: Record<string, string>, state: WindowState): void {
  headers['x-ratelimit-limit'] = String(state.limit);
  headers['x-ratelimit-remaining'] = String(state.remaining);
  headers['x-ratelimit-reset'] = new Date(state.resetAt).toISOString();
}

/** `id[]` values of a Rails-style query (`id[]=1&id[]=2`, or a single `id=1`). */
function idList(url: URL): string[] {
  return [...url.searchParams.getAll('id[]'), ...url.searchParams.getAll('id')];
}

class MastodonHandler {
  readonly windows = new WindowMap();
  readonly held = new Set<ServerResponse>();
  readonly internalErrors: unknown[] = [];
  baseUrl = '';

  constructor(
    readonly world: World,
    readonly clock: Clock,
    readonly tokens: TokenResolver,
    readonly stats: SandboxStats,
    readonly faults: SandboxFaults<MastodonEndpoint>,
    readonly limits: MastodonLimits,
    readonly domain: string,
    readonly idStyle: MastodonIdStyle,
    readonly batchAccounts: boolean,
    readonly oauth: MastodonOAuthServer,
    readonly quirks: MastodonQuirks = {},
    readonly notifications: FollowNotifications = new FollowNotifications(world),
  ) {}

  idOf(userId: string): string {
    const snowflake = this.world.mastodonIdOf(userId);
    if (snowflake === undefined) throw new RangeError(`no user ${userId} in this world`);
    return this.idStyle === 'flake' ? toFlake(snowflake) : snowflake;
  }

  userIdOf(accountId: string): string | undefined {
    const snowflake = this.idStyle === 'flake' ? fromFlake(accountId) : accountId;
    return snowflake === undefined ? undefined : this.world.userIdForMastodonId(snowflake);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      this.#send(res, 'unknown', { status: 413, body: mastodonError('Payload too large') }, {});
      return;
    }
    if (this.oauth.handles(req.method ?? 'GET', url.pathname)) {
      this.oauth.serve(req, res, url, body, this.baseUrl, this.stats);
      return;
    }
    const route = matchRoute(req.method ?? 'GET', url.pathname);
    if (!route || (route.endpoint === 'accounts' && !this.batchAccounts)) {
      if (this.quirks.notFound === 'text') {
        writeText(res, 404, {}, 'text/plain; charset=utf-8', '404 page not found\n');
        this.stats.record('unknown', { status: 404 });
        return;
      }
      this.#send(res, 'unknown', NOT_FOUND, {});
      return;
    }
    const { endpoint } = route;
    const token = bearer(req);
    const ownerId = token === undefined ? undefined : this.tokens.resolve(token);
    if (ownerId === undefined) {
      this.#send(
        res,
        endpoint,
        {
          status: 401,
          body: mastodonError('The access token is invalid'),
          headers: { 'www-authenticate': 'Bearer realm="Doorkeeper", error="invalid_token"' },
        },
        {},
      );
      return;
    }
    if (!this.oauth.allows(token!, MASTODON_ENDPOINT_SCOPES[endpoint])) {
      this.#send(
        res,
        endpoint,
        {
          status: 403,
          body: mastodonError('This action is outside the authorized scopes'),
          headers: {
            'www-authenticate':
              'Bearer realm="Doorkeeper", error="insufficient_scope", error_description="The request requires higher privileges than provided by the access token."',
          },
        },
        {},
      );
      return;
    }
    const now = this.clock.now();
    this.world.advanceTo(now);
    const headers: Record<string, string> = {};
    const requests = this.windows.get(
      `${ownerId}|requests`,
      this.limits.requestsPerWindow,
      this.limits.windowMs,
    );
    if (!requests.take(now)) {
      rateHeaders(headers, requests.state(now));
      this.#send(res, endpoint, { status: 429, body: mastodonError('Too many requests') }, headers);
      return;
    }
    const day =
      endpoint === 'follow'
        ? this.windows.get(`${ownerId}|follows`, this.limits.followsPerDay, this.limits.dayMs)
        : undefined;
    const fault = this.faults.take(endpoint, ownerId);
    let answer: Answer | undefined;
    if (!fault || fault.apply) {
      try {
        answer = this.#answer(route, url, ownerId, day, now);
      } catch (error) {
        this.internalErrors.push(error);
        answer = { status: 500, body: mastodonError('Internal server error') };
      }
      if (answer.countsFollow) day?.take(now);
    }
    const dayState = day?.state(now);
    const useDay = answer?.status === 429 && dayState !== undefined;
    rateHeaders(headers, useDay ? dayState! : requests.state(now));
    if (fault) {
      this.#serveFault(res, endpoint, fault, headers, requests, now);
      return;
    }
    this.#send(res, endpoint, answer!, headers);
  }

  #answer(route: Route, url: URL, ownerId: string, day: PointsWindow | undefined, now: number): Answer {
    switch (route.endpoint) {
      case 'verify_credentials': {
        const user = this.world.user(ownerId)!;
        return {
          status: 200,
          body: renderCredentialAccount(this.world, user, this.idOf(ownerId), this.domain),
          users: 1,
        };
      }
      case 'account': {
        const user = this.#user(route.id!);
        if (!user) return NOT_FOUND;
        return { status: 200, body: renderAccount(this.world, user, route.id!, this.domain), users: 1 };
      }
      case 'accounts': {
        const ids = idList(url);
        if (ids.length > 40) return { status: 422, body: mastodonError('Too many ids requested') };
        const accounts = ids.flatMap((id) => {
          const user = this.#user(id);
          return user ? [renderAccount(this.world, user, id, this.domain)] : [];
        });
        return { status: 200, body: accounts, users: accounts.length };
      }
      case 'followers':
      case 'following':
        return this.#list(route.endpoint, route.id!, url);
      case 'follow':
        return this.#follow(route.id!, ownerId, day!, now);
      case 'unfollow': {
        const user = this.#user(route.id!);
        if (!user) return NOT_FOUND;
        if (user.suspended) return NOT_ALLOWED;
        this.world.unfollow(ownerId, user.id);
        return {
          status: 200,
          body: renderRelationship(this.world, ownerId, this.world.user(user.id)!, route.id!),
        };
      }
      case 'notifications':
        return this.#notifications(ownerId, url);
      case 'notifications_clear':
        this.notifications.clear(ownerId);
        return { status: 200, body: {} };
      case 'relationships': {
        const withSuspended = url.searchParams.get('with_suspended') === 'true';
        const relationships = idList(url).flatMap((id) => {
          const user = this.#user(id);
          if (!user || (user.suspended && !withSuspended)) return [];
          return [renderRelationship(this.world, ownerId, user, id)];
        });
        return { status: 200, body: relationships };
      }
    }
  }

  /** A visible account by id: deleted and unknown ones are not found; suspended ones are shown as such. */
  #user(accountId: string): WorldUser | undefined {
    const userId = this.userIdOf(accountId);
    const user = userId === undefined ? undefined : this.world.user(userId);
    return user && !user.deleted ? user : undefined;
  }

  #follow(accountId: string, ownerId: string, day: PointsWindow, now: number): Answer {
    const user = this.#user(accountId);
    if (!user) return NOT_FOUND;
    if (user.suspended || user.id === ownerId) return NOT_ALLOWED;
    const already = this.world.isFollowing(ownerId, user.id) || this.world.isPending(ownerId, user.id);
    if (!already && !day.fits(now)) return { status: 429, body: mastodonError('Too many requests') };
    const outcome = this.world.follow(ownerId, user.id);
    if (outcome === 'not_found') return NOT_FOUND;
    if (outcome === 'suspended' || outcome === 'self') return NOT_ALLOWED;
    return {
      status: 200,
      body: renderRelationship(this.world, ownerId, this.world.user(user.id)!, accountId),
      countsFollow: outcome === 'followed' || outcome === 'pending',
    };
  }

  #list(side: 'followers' | 'following', accountId: string, url: URL): Answer {
    const user = this.#user(accountId);
    if (!user || user.suspended) return NOT_FOUND;
    const rawLimit = url.searchParams.get('limit');
    // Mastodon clamps: at most twice the default of 40.
    const asked = rawLimit === null ? 40 : Math.abs(Number.parseInt(rawLimit, 10));
    const limit = this.quirks.pageSize ?? (Number.isFinite(asked) && asked > 0 ? Math.min(asked, 80) : 40);
    if (this.quirks.noLink) return this.#listByAccountId(side, user, url, limit);
    const key = (name: string) => {
      const raw = url.searchParams.get(name);
      return raw !== null && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
    };
    const maxId = key('max_id');
    const minId = key('min_id');
    const sinceId = key('since_id');
    const page = (query: { limit: number; below?: number | undefined; above?: number }): WorldPage =>
      side === 'followers'
        ? this.world.pageFollowers(user.id, query)
        : this.world.pageFollowing(user.id, query);
    let entries: WorldPage['entries'];
    let moreBelow: boolean;
    if (minId !== undefined) {
      const found = page({ limit, above: minId });
      entries = found.entries;
      moreBelow = true;
    } else {
      const found = page({ limit, below: maxId });
      entries = sinceId === undefined ? found.entries : found.entries.filter((entry) => entry.key > sinceId);
      moreBelow = found.moreBelow && entries.length === found.entries.length;
    }
    const accounts = entries.map((entry) =>
      renderAccount(this.world, entry.user, this.idOf(entry.user.id), this.domain),
    );
    const headers: Record<string, string> = {};
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (first && last) {
      const path = `${this.baseUrl}/api/v1/accounts/${encodeURIComponent(accountId)}/${side}`;
      const links = [];
      if (moreBelow) links.push(`<${path}?limit=${limit}&max_id=${last.key}>; rel="next"`);
      links.push(`<${path}?limit=${limit}&min_id=${first.key}>; rel="prev"`);
      headers.link = links.join(', ');
    }
    return { status: 200, body: accounts, headers, users: accounts.length };
  }

  /**
   * GET /api/v1/notifications: newest first, `limit` up to 80 (default 40); `max_id` pages down,
   * `since_id` keeps the newest above it, `min_id` the page just above it; `types[]` and
   * `exclude_types[]` filter (only `follow` notifications exist here); a Link header with `next`
   * (max_id) and `prev` (min_id), as Mastodon sends them.
   */
  #notifications(ownerId: string, url: URL): Answer {
    const rawLimit = url.searchParams.get('limit');
    const asked = rawLimit === null ? 40 : Math.abs(Number.parseInt(rawLimit, 10));
    const limit = Number.isFinite(asked) && asked > 0 ? Math.min(asked, 80) : 40;
    const types = [...url.searchParams.getAll('types[]'), ...url.searchParams.getAll('types')];
    const excluded = [
      ...url.searchParams.getAll('exclude_types[]'),
      ...url.searchParams.getAll('exclude_types'),
    ];
    const key = (name: string) => {
      const raw = url.searchParams.get(name);
      return raw !== null && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
    };
    const maxId = key('max_id');
    const minId = key('min_id');
    const sinceId = key('since_id');
    let all = this.notifications.list(ownerId);
    if ((types.length > 0 && !types.includes('follow')) || excluded.includes('follow')) all = [];
    const accountId = url.searchParams.get('account_id');
    if (accountId !== null) all = all.filter((n) => this.userIdOf(accountId) === n.userId);
    let page = all.filter(
      (n) => (maxId === undefined || n.seq < maxId) && (sinceId === undefined || n.seq > sinceId),
    );
    // min_id: the page just above it (the oldest ones newer than it), still newest first.
    page = minId === undefined ? page.slice(0, limit) : page.filter((n) => n.seq > minId).slice(-limit);
    const body = page.map((n) => {
      const user = this.world.user(n.userId)!;
      return {
        id: String(n.seq),
        type: 'follow',
        created_at: new Date(n.at).toISOString(),
        group_key: `ungrouped-${n.seq}`,
        account: renderAccount(this.world, user, this.idOf(user.id), this.domain),
      };
    });
    const headers: Record<string, string> = {};
    const first = page[0];
    const last = page[page.length - 1];
    if (first && last) {
      const path = `${this.baseUrl}/api/v1/notifications`;
      const filter = types.map((type) => `&types[]=${encodeURIComponent(type)}`).join('');
      headers.link = [
        `<${path}?limit=${limit}${filter}&max_id=${last.seq}>; rel="next"`,
        `<${path}?limit=${limit}${filter}&min_id=${first.seq}>; rel="prev"`,
      ].join(', ');
    }
    return { status: 200, body, headers, users: body.length };
  }

  /** A server without Link headers: `max_id` is the id of the last account of the previous page. */
  #listByAccountId(side: 'followers' | 'following', user: WorldUser, url: URL, limit: number): Answer {
    const all = (
      side === 'followers'
        ? this.world.pageFollowers(user.id, { limit: Number.MAX_SAFE_INTEGER })
        : this.world.pageFollowing(user.id, { limit: Number.MAX_SAFE_INTEGER })
    ).entries;
    const maxId = url.searchParams.get('max_id');
    let start = 0;
    if (maxId !== null) {
      const after = all.findIndex((entry) => this.idOf(entry.user.id) === maxId);
      start = after < 0 ? all.length : after + 1;
    }
    const accounts = all
      .slice(start, start + limit)
      .map((entry) => renderAccount(this.world, entry.user, this.idOf(entry.user.id), this.domain));
    return { status: 200, body: accounts, users: accounts.length };
  }

  #serveFault(
    res: ServerResponse,
    endpoint: MastodonEndpoint,
    fault: ActiveFault<MastodonEndpoint>,
    headers: Record<string, string>,
    window: PointsWindow,
    now: number,
  ): void {
    const send = (answer: Answer) => this.#send(res, endpoint, answer, headers, true);
    serveFault(
      res,
      fault,
      { endpoint, headers, stats: this.stats, held: this.held, send },
      {
        serverError: mastodonError('Internal server error'),
        // A proxy in front of the instance answers, in HTML.
        unavailable: {
          contentType: 'text/html',
          text: '<html><head><title>503 Service Temporarily Unavailable</title></head><body></body></html>',
        },
        rateLimited: mastodonError('Too many requests'),
        exhaustHeaders: () => rateHeaders(headers, { ...window.state(now), remaining: 0 }),
        malformed: [{ id: 42, acct: null }],
        truncated: '[{"id":"1","username":"trunc',
      },
    );
  }

  #send(
    res: ServerResponse,
    endpoint: MastodonEndpoint | 'unknown',
    answer: Answer,
    headers: Record<string, string>,
    fault = false,
  ): void {
    const sent = this.quirks.noRateLimitHeaders
      ? Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith('x-ratelimit-')))
      : headers;
    sendJson(res, this.stats, endpoint, answer, sent, fault);
  }
}

/** Starts a Mastodon sandbox on loopback. */
export async function startMastodonSandbox(options: MastodonSandboxOptions): Promise<MastodonSandbox> {
  const { world } = options;
  const limits = resolveMastodonLimits(options.limits);
  const faults = new SandboxFaults<MastodonEndpoint>(options.faultSeed ?? world.seed, 'mastodon-faults');
  for (const spec of options.faults ?? []) faults.add(spec);
  const stats = options.stats ?? world.stats;
  const domain = options.domain ?? 'sandbox.social';
  const handler = new MastodonHandler(
    world,
    options.clock ?? world.clock,
    options.tokens ?? world.tokens,
    stats,
    faults,
    limits,
    domain,
    options.idStyle ?? 'snowflake',
    options.batchAccounts ?? true,
    new MastodonOAuthServer(world, options.clock ?? world.clock, options.oauth),
    options.quirks,
    new FollowNotifications(world, options.notifications),
  );
  const listening = await listen({
    host: options.host,
    port: options.port,
    handle: (req, res) => handler.handle(req, res),
    internalErrors: handler.internalErrors,
    internalBody: JSON.stringify(mastodonError('Internal server error')),
    held: handler.held,
  });
  handler.baseUrl = listening.baseUrl;
  return {
    baseUrl: listening.baseUrl,
    world,
    faults,
    stats,
    limits,
    domain,
    internalErrors: handler.internalErrors,
    idOf: (userId) => handler.idOf(userId),
    userIdOf: (accountId) => handler.userIdOf(accountId),
    issueToken: (ownerId, scopes) => {
      const token = world.issueToken(ownerId);
      if (scopes !== undefined) handler.oauth.grant(token, scopes);
      return token;
    },
    oauth: handler.oauth,
    notifications: handler.notifications,
    close: () => listening.close(),
  };
}
