/**
 * The X API v2 sandbox: an HTTP server on loopback answering the endpoints followback uses, in X's
 * shapes, from a seeded world, with X's rate limits on the injected clock and injectable faults.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../shared/ports/clock.ts';
import { serveFault } from '../common/faults.ts';
import { bearer, JSON_TYPE, type JsonAnswer, listen, readBody, sendJson } from '../common/http.ts';
import type { RunningSandbox, SandboxOptions } from '../common/options.ts';
import type { SandboxStats } from '../stats.ts';
import type { TokenResolver } from '../tokens.ts';
import type { World, WorldUser } from '../world.ts';
import { XBilling } from './billing.ts';
import { type ActiveFault, XFaults } from './faults.ts';
import {
  type FixedWindow,
  resolveLimits,
  type WindowState,
  type XEndpoint,
  XRateLimiter,
  type XRateLimits,
  type XRateLimitsOverrides,
} from './limits.ts';
import { type XOAuthOptions, XOAuthServer } from './oauth.ts';
import { decodeToken, encodeToken } from './pagination.ts';
import {
  forbiddenResource,
  genericProblem,
  internalError,
  invalidRequest,
  type ParameterError,
  parameterError,
  renderUser,
  USER_EXPANSIONS,
  USER_FIELDS,
  userNotFound,
  userSuspended,
} from './shapes.ts';

/** `limits`: overrides of X_DEFAULT_LIMITS. */
export interface XSandboxOptions extends SandboxOptions<XEndpoint, XRateLimitsOverrides> {
  /** Who a bearer token acts for. Default: the world's token registry. */
  tokens?: TokenResolver;
  /**
   * X's OAuth 2.0 endpoints (`GET /i/oauth2/authorize`, `POST /2/oauth2/token`, see oauth.ts): apps,
   * who consents, token lifetimes. Tokens they issue act beside `tokens`.
   */
  oauth?: XOAuthOptions;
}

/** `baseUrl`: X paths start with /2/. */
export interface XSandbox extends RunningSandbox<XEndpoint, XRateLimits> {
  readonly host: string;
  readonly port: number;
  readonly faults: XFaults;
  /** The OAuth 2.0 authorization server (consent, grants, counts; see oauth.ts). */
  readonly oauth: XOAuthServer;
  /** What X would bill: users per app, once per UTC day (see billing.ts). */
  readonly billing: XBilling;
  /** A bearer token for an owner of the world. */
  issueToken(ownerId: string): string;
}

interface Route {
  endpoint: XEndpoint;
  params: Record<string, string>;
}

interface Answer extends JsonAnswer {
  /** Users in `data`. */
  users?: number | undefined;
  /** Ids of the users in `data`: what X bills (once per app and UTC day). */
  userIds?: readonly string[];
  /** A follow that counts against the 24-hour caps. */
  countsFollow?: boolean;
  countsUnfollow?: boolean;
}

const PROBLEM_TYPE = 'application/problem+json';
const ID_PATTERN = /^[0-9]{1,19}$/;

const READ_PARAMS = ['user.fields', 'expansions', 'tweet.fields', 'post.fields'];
const LIST_PARAMS = ['max_results', 'pagination_token', ...READ_PARAMS];

function matchRoute(method: string, path: string): Route | undefined {
  const parts = path.replace(/\/+$/, '').split('/').slice(1);
  if (parts[0] !== '2' || parts[1] !== 'users') return undefined;
  const rest = parts.slice(2).map((part) => decodeURIComponent(part));
  if (method === 'GET') {
    if (rest.length === 0) return { endpoint: 'users', params: {} };
    if (rest.length === 1 && rest[0] === 'me') return { endpoint: 'me', params: {} };
    if (rest.length === 1) return { endpoint: 'user', params: { id: rest[0]! } };
    if (rest.length === 2 && rest[1] === 'followers')
      return { endpoint: 'followers', params: { id: rest[0]! } };
    if (rest.length === 2 && rest[1] === 'following')
      return { endpoint: 'following', params: { id: rest[0]! } };
  }
  if (method === 'POST' && rest.length === 2 && rest[1] === 'following') {
    return { endpoint: 'follow', params: { id: rest[0]! } };
  }
  if (method === 'DELETE' && rest.length === 3 && rest[1] === 'following') {
    return { endpoint: 'unfollow', params: { source_user_id: rest[0]!, target_user_id: rest[2]! } };
  }
  return undefined;
}

function rateHeaders(headers: Record<string, string>, state: WindowState): void {
  headers['x-rate-limit-limit'] = String(state.limit);
  headers['x-rate-limit-remaining'] = String(state.remaining);
  headers['x-rate-limit-reset'] = String(Math.ceil(state.resetAt / 1000));
}

function dayHeaders(headers: Record<string, string>, prefix: string, state: WindowState): void {
  headers[`${prefix}-limit`] = String(state.limit);
  headers[`${prefix}-remaining`] = String(state.remaining);
  headers[`${prefix}-reset`] = String(Math.ceil(state.resetAt / 1000));
}

/** Validates the query against the allowed parameters and the user field lists. */
function checkQuery(url: URL, allowed: readonly string[]): ParameterError[] {
  const errors: ParameterError[] = [];
  const unknown = [...url.searchParams.keys()].filter((name) => !allowed.includes(name));
  if (unknown.length > 0) {
    const first = unknown[0]!;
    errors.push(
      parameterError(
        first,
        url.searchParams.get(first) ?? '',
        `The query parameters [${unknown.join(',')}] is not one of [${allowed.join(',')}]`,
      ),
    );
  }
  const lists: [string, readonly string[]][] = [
    ['user.fields', USER_FIELDS],
    ['expansions', USER_EXPANSIONS],
  ];
  for (const [name, values] of lists) {
    const raw = url.searchParams.get(name);
    if (raw === null) continue;
    for (const value of raw.split(',')) {
      if (!values.includes(value)) {
        errors.push(
          parameterError(
            name,
            value,
            `The \`${name}\` query parameter value [${value}] is not one of [${values.join(',')}]`,
          ),
        );
      }
    }
  }
  return errors;
}

function userFields(url: URL): Set<string> {
  const raw = url.searchParams.get('user.fields');
  return new Set(raw === null ? [] : raw.split(','));
}

function checkId(name: string, value: string): ParameterError | undefined {
  return ID_PATTERN.test(value)
    ? undefined
    : parameterError(
        name,
        value,
        `The \`${name}\` query parameter value [${value}] does not match ^[0-9]{1,19}$`,
      );
}

function badRequest(errors: ParameterError[]): Answer {
  return { status: 400, body: invalidRequest(errors) };
}

/** A lookup's partial error for a user X cannot show, or undefined when it can. */
function lookupProblem(parameter: string, id: string, user: WorldUser | undefined) {
  if (!user || user.deleted) return userNotFound(parameter, id);
  if (user.suspended) return userSuspended(parameter, id);
  return undefined;
}

/** A write's error for a target X cannot act on: 404 gone, 403 suspended. */
function targetProblem(parameter: string, id: string, outcome: 'not_found' | 'suspended'): Answer {
  if (outcome === 'suspended') {
    return { status: 403, body: forbiddenResource(parameter, id, `User has been suspended: [${id}].`) };
  }
  return { status: 404, body: { ...userNotFound(parameter, id), status: 404 } };
}

class XSandboxHandler {
  readonly limiter: XRateLimiter;
  readonly held = new Set<ServerResponse>();
  readonly internalErrors: unknown[] = [];
  readonly billing = new XBilling();

  constructor(
    readonly world: World,
    readonly clock: Clock,
    readonly tokens: TokenResolver,
    readonly stats: SandboxStats,
    readonly faults: XFaults,
    limits: XRateLimits,
    readonly oauth: XOAuthServer,
  ) {
    this.limiter = new XRateLimiter(limits);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    let route: Route | undefined;
    try {
      route = matchRoute(req.method ?? 'GET', url.pathname);
    } catch {
      route = undefined;
    }
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      this.#send(res, 'unknown', { status: 413, body: genericProblem(413, 'Payload Too Large') }, {});
      return;
    }
    if (this.oauth.handles(url.pathname)) {
      this.oauth.serve(req, res, url, body, this.stats);
      return;
    }
    if (!route) {
      this.#send(res, 'unknown', { status: 404, body: genericProblem(404, 'Not Found') }, {});
      return;
    }
    const { endpoint } = route;
    const token = bearer(req);
    const userId = token === undefined ? undefined : this.tokens.resolve(token);
    if (userId === undefined) {
      this.#send(res, endpoint, { status: 401, body: genericProblem(401, 'Unauthorized') }, {});
      return;
    }
    this.oauth.sawApiCall(token!);
    if (this.oauth.missingScopes(token!, endpoint).length > 0) {
      this.#send(res, endpoint, { status: 403, body: genericProblem(403, 'Forbidden') }, {});
      return;
    }
    const now = this.clock.now();
    this.world.advanceTo(now);
    const headers: Record<string, string> = {};
    const window = this.limiter.window(userId, endpoint);
    const allowed = window.take(now);
    rateHeaders(headers, window.state(now));
    const dayWindows = this.#dayWindows(endpoint, userId);
    const writeDayHeaders = () => {
      for (const [prefix, day] of dayWindows) dayHeaders(headers, prefix, day.state(now));
    };
    if (!allowed || dayWindows.some(([, day]) => day.state(now).remaining <= 0)) {
      writeDayHeaders();
      this.#send(res, endpoint, { status: 429, body: genericProblem(429, 'Too Many Requests') }, headers);
      return;
    }
    const fault = this.faults.take(endpoint, userId);
    let answer: Answer | undefined;
    if (!fault || fault.apply) {
      try {
        answer = this.#answer(route, url, body, userId);
      } catch (error) {
        this.internalErrors.push(error);
        answer = { status: 500, body: internalError() };
      }
      if (answer.countsFollow || answer.countsUnfollow) {
        for (const [, day] of dayWindows) day.take(now);
      }
    }
    writeDayHeaders();
    if (fault) {
      this.#serveFault(res, endpoint, fault, headers, window, now);
      return;
    }
    if (answer!.status === 200 && answer!.userIds !== undefined) {
      answer!.billed = this.billing.bill(this.oauth.appOf(token!), answer!.userIds, now);
    }
    this.#send(res, endpoint, answer!, headers);
  }

  #dayWindows(endpoint: XEndpoint, userId: string): [string, FixedWindow][] {
    const windows: [string, FixedWindow][] = [];
    if (endpoint === 'follow') {
      windows.push(['x-user-limit-24hour', this.limiter.followDay(userId)]);
      if (this.limiter.appFollowDay) windows.push(['x-app-limit-24hour', this.limiter.appFollowDay]);
    }
    if (endpoint === 'unfollow' && this.limiter.appUnfollowDay) {
      windows.push(['x-app-limit-24hour', this.limiter.appUnfollowDay]);
    }
    return windows;
  }

  #answer(route: Route, url: URL, body: string, userId: string): Answer {
    switch (route.endpoint) {
      case 'me':
        return this.#me(url, userId);
      case 'users':
        return this.#users(url);
      case 'user':
        return this.#user(url, route.params.id!);
      case 'followers':
      case 'following':
        return this.#list(route.endpoint, url, route.params.id!);
      case 'follow':
        return this.#follow(route.params.id!, body, userId);
      case 'unfollow':
        return this.#unfollow(route.params.source_user_id!, route.params.target_user_id!, userId);
    }
  }

  #me(url: URL, userId: string): Answer {
    const errors = checkQuery(url, READ_PARAMS);
    if (errors.length > 0) return badRequest(errors);
    const user = this.world.user(userId);
    if (!user) return { status: 401, body: genericProblem(401, 'Unauthorized') };
    return { status: 200, body: { data: renderUser(user, userFields(url)) }, users: 1, userIds: [user.id] };
  }

  #users(url: URL): Answer {
    const errors = checkQuery(url, ['ids', ...READ_PARAMS]);
    const raw = url.searchParams.get('ids');
    if (raw === null || raw === '') {
      errors.push(parameterError('ids', '', 'The `ids` query parameter can not be empty'));
      return badRequest(errors);
    }
    const ids = [...new Set(raw.split(','))];
    if (ids.length > 100) {
      errors.push(
        parameterError('ids', raw, `The \`ids\` query parameter value [${raw}] is not between 1 and 100`),
      );
    }
    for (const id of ids) {
      const error = checkId('ids', id);
      if (error) errors.push(error);
    }
    if (errors.length > 0) return badRequest(errors);
    const fields = userFields(url);
    const data = [];
    const shown: string[] = [];
    const problems = [];
    for (const id of ids) {
      const user = this.world.user(id);
      const problem = lookupProblem('ids', id, user);
      if (problem) problems.push(problem);
      else {
        data.push(renderUser(user!, fields));
        shown.push(user!.id);
      }
    }
    const answer: Record<string, unknown> = {};
    if (data.length > 0) answer.data = data;
    if (problems.length > 0) answer.errors = problems;
    return { status: 200, body: answer, users: data.length, userIds: shown };
  }

  #user(url: URL, id: string): Answer {
    const errors = checkQuery(url, READ_PARAMS);
    const idError = checkId('id', id);
    if (idError) errors.push(idError);
    if (errors.length > 0) return badRequest(errors);
    const user = this.world.user(id);
    const problem = lookupProblem('id', id, user);
    if (problem) return { status: 200, body: { errors: [problem] } };
    return { status: 200, body: { data: renderUser(user!, userFields(url)) }, users: 1, userIds: [user!.id] };
  }

  #list(side: 'followers' | 'following', url: URL, id: string): Answer {
    const errors = checkQuery(url, LIST_PARAMS);
    const idError = checkId('id', id);
    if (idError) errors.push(idError);
    const rawMax = url.searchParams.get('max_results');
    let limit = 100;
    if (rawMax !== null) {
      limit = /^[0-9]{1,7}$/.test(rawMax) ? Number(rawMax) : Number.NaN;
      if (!(limit >= 1 && limit <= 1000)) {
        errors.push(
          parameterError(
            'max_results',
            rawMax,
            `The \`max_results\` query parameter value [${rawMax}] is not between 1 and 1000`,
          ),
        );
      }
    }
    const listId = `${side}:${id}`;
    const token = url.searchParams.get('pagination_token');
    const cursor = token === null ? undefined : decodeToken(listId, token);
    if (token !== null && !cursor) {
      errors.push(
        parameterError(
          'pagination_token',
          token,
          `The \`pagination_token\` query parameter value [${token}] is not valid`,
        ),
      );
    }
    if (errors.length > 0) return badRequest(errors);
    const user = this.world.user(id);
    const problem = lookupProblem('id', id, user);
    if (problem) return { status: 200, body: { errors: [problem] } };
    const query = {
      limit,
      below: cursor?.direction === 'next' ? cursor.key : undefined,
      above: cursor?.direction === 'previous' ? cursor.key : undefined,
    };
    const page =
      side === 'followers' ? this.world.pageFollowers(id, query) : this.world.pageFollowing(id, query);
    const fields = userFields(url);
    const data = page.entries.map((entry) => renderUser(entry.user, fields));
    const meta: Record<string, unknown> = { result_count: data.length };
    const first = page.entries[0];
    const last = page.entries[page.entries.length - 1];
    if (last && page.moreBelow) meta.next_token = encodeToken(listId, { direction: 'next', key: last.key });
    if (first && page.moreAbove)
      meta.previous_token = encodeToken(listId, { direction: 'previous', key: first.key });
    return {
      status: 200,
      body: data.length > 0 ? { data, meta } : { meta },
      users: data.length,
      userIds: page.entries.map((entry) => entry.user.id),
    };
  }

  #follow(sourceId: string, body: string, userId: string): Answer {
    const idError = checkId('id', sourceId);
    if (idError) return badRequest([idError]);
    if (sourceId !== userId) {
      return {
        status: 403,
        body: forbiddenResource(
          'id',
          sourceId,
          `You are not permitted to act on behalf of user [${sourceId}].`,
        ),
      };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return badRequest([parameterError('body', body.slice(0, 100), 'The request body is not valid JSON')]);
    }
    const object =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : undefined;
    const target = (object as { target_user_id?: unknown } | undefined)?.target_user_id;
    const extra = object === undefined ? [] : Object.keys(object).filter((key) => key !== 'target_user_id');
    if (typeof target !== 'string' || !ID_PATTERN.test(target) || extra.length > 0) {
      return badRequest([
        parameterError(
          'target_user_id',
          String(target),
          extra.length > 0
            ? `The request body has unexpected properties [${extra.join(',')}]`
            : 'The `target_user_id` body parameter must be a string of 1 to 19 digits',
        ),
      ]);
    }
    const outcome = this.world.follow(userId, target);
    switch (outcome) {
      case 'followed':
      case 'already_following':
        return {
          status: 200,
          body: { data: { following: true, pending_follow: false } },
          countsFollow: true,
        };
      case 'pending':
      case 'already_pending':
        return {
          status: 200,
          body: { data: { following: false, pending_follow: true } },
          countsFollow: true,
        };
      case 'blocked':
        // X's answer when the target refuses: a 200 with neither a follow nor a request.
        return {
          status: 200,
          body: { data: { following: false, pending_follow: false } },
          countsFollow: true,
        };
      case 'self':
        return badRequest([parameterError('target_user_id', target, 'You cannot follow yourself')]);
      default:
        return targetProblem('target_user_id', target, outcome);
    }
  }

  #unfollow(sourceId: string, targetId: string, userId: string): Answer {
    const errors = [checkId('source_user_id', sourceId), checkId('target_user_id', targetId)].filter(
      (error): error is ParameterError => error !== undefined,
    );
    if (errors.length > 0) return badRequest(errors);
    if (sourceId !== userId) {
      return {
        status: 403,
        body: forbiddenResource(
          'source_user_id',
          sourceId,
          `You are not permitted to act on behalf of user [${sourceId}].`,
        ),
      };
    }
    const outcome = this.world.unfollow(userId, targetId);
    if (outcome === 'not_found') {
      const user = this.world.user(targetId);
      return targetProblem('target_user_id', targetId, user?.suspended ? 'suspended' : 'not_found');
    }
    return { status: 200, body: { data: { following: false } }, countsUnfollow: true };
  }

  #serveFault(
    res: ServerResponse,
    endpoint: XEndpoint,
    fault: ActiveFault,
    headers: Record<string, string>,
    window: FixedWindow,
    now: number,
  ): void {
    const send = (answer: Answer) => this.#send(res, endpoint, answer, headers, true);
    serveFault(
      res,
      fault,
      { endpoint, headers, stats: this.stats, held: this.held, send },
      {
        serverError: internalError(),
        unavailable: { body: genericProblem(503, 'Service Unavailable') },
        rateLimited: genericProblem(429, 'Too Many Requests'),
        exhaustHeaders: () => rateHeaders(headers, { ...window.state(now), remaining: 0 }),
        malformed: { data: 42, meta: { result_count: 'many' } },
        truncated: '{"data":[{"id":"1234567890","name":"Trunc',
      },
    );
  }

  #send(
    res: ServerResponse,
    endpoint: XEndpoint | 'unknown',
    answer: Answer,
    headers: Record<string, string>,
    fault = false,
  ): void {
    const type = answer.status < 400 ? JSON_TYPE : PROBLEM_TYPE;
    sendJson(res, this.stats, endpoint, answer, headers, fault, type);
  }
}

/** Starts an X API v2 sandbox on loopback. */
export async function startXSandbox(options: XSandboxOptions): Promise<XSandbox> {
  const { world } = options;
  const limits = resolveLimits(options.limits);
  const faults = new XFaults(options.faultSeed ?? world.seed);
  for (const spec of options.faults ?? []) faults.add(spec);
  const stats = options.stats ?? world.stats;
  const clock = options.clock ?? world.clock;
  const oauth = new XOAuthServer(world, clock, options.tokens ?? world.tokens, options.oauth);
  const handler = new XSandboxHandler(world, clock, oauth, stats, faults, limits, oauth);
  const listening = await listen({
    host: options.host,
    port: options.port,
    handle: (req, res) => handler.handle(req, res),
    internalErrors: handler.internalErrors,
    internalBody: JSON.stringify(internalError()),
    internalType: PROBLEM_TYPE,
    held: handler.held,
  });
  return {
    baseUrl: listening.baseUrl,
    host: listening.host,
    port: listening.port,
    world,
    faults,
    stats,
    limits,
    internalErrors: handler.internalErrors,
    oauth,
    billing: handler.billing,
    issueToken: (ownerId) => world.issueToken(ownerId),
    close: () => listening.close(),
  };
}
