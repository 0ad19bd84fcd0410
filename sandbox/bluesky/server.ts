/**
 * The Bluesky sandbox: XRPC over HTTP on loopback, answering the methods followback uses in the
 * lexicon shapes (a PDS and its AppView in one), from the same seeded, clock-driven world as the X
 * sandbox, with Bluesky's write points and rate limits on the injected clock, and injectable faults.
 *
 * Methods: com.atproto.server.createSession / refreshSession / getSession, app.bsky.graph.getFollowers
 * / getFollows, app.bsky.actor.getProfile / getProfiles, com.atproto.repo.createRecord / deleteRecord
 * / listRecords (collection app.bsky.graph.follow only), app.bsky.notification.listNotifications (the
 * owner's follow notifications; sandbox/common/follow-notifications.ts). Users are addressed by DID (`world.didOf`) or
 * handle (anyone's handle resolves). Bluesky has no follow requests: a follow of a protected world
 * user simply follows.
 *
 * What the reference stack (@atproto/pds + @atproto/bsky, npm run test:real) was seen to do, and
 * the sandbox does too:
 * - createRecord does not check that the subject exists (a follow of a deleted account is stored and
 *   shows nowhere); a second follow record of the same subject REPLACES the older one in the same
 *   commit (the PDS deletes the older record), so there is never more than one.
 * - The AppView indexes a new record 0.3-0.9 s after the PDS stored it (`appViewLagMs`, default
 *   600 ms on the injected clock): until then viewer.following, the lists and the counts do not show
 *   it, while com.atproto.repo.listRecords (the PDS itself) does at once.
 * - The 3,000 requests / 5 minutes window is per client IP (all accounts behind one address share
 *   it); write points are per account; the rate-limit headers of any answer, a create included,
 *   describe the tightest window (usually the per-IP one).
 * - A cursor the AppView cannot read answers 502 through the PDS; one malformed actor fails a whole
 *   getProfiles batch (400); accounts without a profile record have no name, bio or creation date.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../shared/ports/clock.ts';
import { type ActiveFault, type FaultSpec, SandboxFaults, serveFault } from '../common/faults.ts';
import { type FollowNotificationOptions, FollowNotifications } from '../common/follow-notifications.ts';
import { bearer, type JsonAnswer, listen, readBody, sendJson } from '../common/http.ts';
import type { RunningSandbox, SandboxOptions } from '../common/options.ts';
import { type PointsWindow, WindowMap, type WindowState } from '../common/windows.ts';
import { hash32 } from '../rng.ts';
import type { SandboxStats } from '../stats.ts';
import type { World, WorldUser } from '../world.ts';
import { decodeToken, encodeToken } from '../x/pagination.ts';
import { cidOf, derivedFollowKey, FOLLOW_COLLECTION, followUri, tid } from './ids.ts';
import { type BlueskyLimits, DAY_MS, HOUR_MS, resolveBlueskyLimits } from './limits.ts';
import { appPasswordFor, SessionIssuer, type SessionOptions } from './sessions.ts';
import {
  blueskyHandle,
  type MintedFollow,
  profileView,
  profileViewDetailed,
  type Viewer,
  xrpcError,
} from './shapes.ts';

export const BLUESKY_METHODS = [
  'com.atproto.server.createSession',
  'com.atproto.server.refreshSession',
  'com.atproto.server.getSession',
  'app.bsky.graph.getFollowers',
  'app.bsky.graph.getFollows',
  'app.bsky.actor.getProfile',
  'app.bsky.actor.getProfiles',
  'com.atproto.repo.createRecord',
  'com.atproto.repo.deleteRecord',
  'com.atproto.repo.listRecords',
  'app.bsky.notification.listNotifications',
] as const;

export type BlueskyMethod = (typeof BLUESKY_METHODS)[number];
export type BlueskyFaultSpec = FaultSpec<BlueskyMethod>;

const PROCEDURES: ReadonlySet<BlueskyMethod> = new Set([
  'com.atproto.server.createSession',
  'com.atproto.server.refreshSession',
  'com.atproto.repo.createRecord',
  'com.atproto.repo.deleteRecord',
]);
const WRITES: ReadonlySet<BlueskyMethod> = new Set([
  'com.atproto.repo.createRecord',
  'com.atproto.repo.deleteRecord',
]);

export interface BlueskySandboxOptions extends SandboxOptions<BlueskyMethod, Partial<BlueskyLimits>> {
  sessions?: SessionOptions;
  /** How long after a write the AppView shows it (injected clock). Default 600 ms; 0: at once. */
  appViewLagMs?: number;
  /** How the notifications feed loses some (cleared, truncated, never delivered). Default: it does not. */
  notifications?: FollowNotificationOptions | undefined;
}

export interface FollowRecord {
  rkey: string;
  uri: string;
  subject: string;
  createdAt: string;
  /** When the AppView shows it (injected clock). */
  indexAt: number;
}

/** `baseUrl`: the `service` of an AtpAgent. */
export interface BlueskySandbox extends RunningSandbox<BlueskyMethod, BlueskyLimits> {
  readonly sessions: SessionIssuer;
  /** The DID of a world user (owners log in with it, or with their handle). */
  didOf(userId: string): string;
  /** The owner's handle on the sandbox (e.g. `shop.bsky.social`). */
  handleOf(userId: string): string;
  /** The app password the sandbox accepts for an owner. */
  appPasswordFor(userId: string): string;
  /** Follow records the owner created through createRecord and has not deleted, oldest first. */
  followRecords(userId: string): FollowRecord[];
  /** Revokes the owner's app password: no new session; the access token works until it expires. */
  revokeAppPassword(userId: string): void;
  /** The owners' follow notifications (clear them as the owner's other app would). */
  readonly notifications: FollowNotifications;
}

interface Answer extends JsonAnswer {
  /** Write points the request cost (only successful writes cost). */
  points?: number;
}

const DID_PATTERN = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/;
const RKEY_PATTERN = /^[A-Za-z0-9._:~-]{1,512}$/;
const DATETIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function invalid(message: string): Answer {
  return { status: 400, body: xrpcError('InvalidRequest', message) };
}

function rateHeaders(headers: Record<string, string>, state: WindowState): void {
  headers['ratelimit-limit'] = String(state.limit);
  headers['ratelimit-remaining'] = String(state.remaining);
  headers['ratelimit-reset'] = String(Math.ceil(state.resetAt / 1000));
  headers['ratelimit-policy'] = `${state.limit};w=${Math.round(state.windowMs / 1000)}`;
}

/** The window with the least left (ties: the one that resets last), for the headers. */
function tightest(states: WindowState[]): WindowState {
  return states.reduce((a, b) =>
    b.remaining < a.remaining || (b.remaining === a.remaining && b.resetAt > a.resetAt) ? b : a,
  );
}

class BlueskyHandler {
  readonly windows = new WindowMap();
  readonly held = new Set<ServerResponse>();
  readonly internalErrors: unknown[] = [];
  /** Owner world id -> rkey -> record, for records created through the API. */
  readonly records = new Map<string, Map<string, FollowRecord>>();
  /** Records the AppView has not indexed yet, oldest first. */
  readonly #unindexed: { ownerId: string; record: FollowRecord }[] = [];
  /** DIDs whose app password was revoked. */
  readonly revokedPasswords = new Set<string>();
  #minted = 0;

  constructor(
    readonly world: World,
    readonly clock: Clock,
    readonly stats: SandboxStats,
    readonly faults: SandboxFaults<BlueskyMethod>,
    readonly limits: BlueskyLimits,
    readonly sessions: SessionIssuer,
    readonly appViewLagMs: number,
    readonly notifications: FollowNotifications = new FollowNotifications(world),
  ) {}

  readonly minted: MintedFollow = (ownerId, subjectDid) => {
    for (const record of this.records.get(ownerId)?.values() ?? []) {
      if (record.subject === subjectDid && record.indexAt <= this.clock.now()) return record.uri;
    }
    return undefined;
  };

  /** The AppView catches up: records due by `now` take effect in the world. */
  #index(now: number): void {
    while (this.#unindexed.length > 0 && this.#unindexed[0]!.record.indexAt <= now) {
      const { ownerId, record } = this.#unindexed.shift()!;
      if (!this.records.get(ownerId)?.has(record.rkey)) continue;
      const subjectId = this.world.userIdForDid(record.subject);
      if (subjectId !== undefined) this.world.follow(ownerId, subjectId, { requests: false });
    }
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      this.#send(
        res,
        'unknown',
        { status: 413, body: xrpcError('PayloadTooLarge', 'request entity too large') },
        {},
      );
      return;
    }
    const match = /^\/xrpc\/([a-zA-Z0-9.-]+)$/.exec(url.pathname);
    if (!match) {
      this.#send(res, 'unknown', { status: 404, body: xrpcError('NotFound', 'Not Found') }, {});
      return;
    }
    const method = match[1] as BlueskyMethod;
    if (!BLUESKY_METHODS.includes(method)) {
      this.#send(
        res,
        'unknown',
        { status: 501, body: xrpcError('MethodNotImplemented', 'Method Not Implemented') },
        {},
      );
      return;
    }
    const expected = PROCEDURES.has(method) ? 'POST' : 'GET';
    if (req.method !== expected) {
      this.#send(res, method, invalid(`Incorrect HTTP method (${req.method}) expected ${expected}`), {});
      return;
    }
    const now = this.clock.now();
    this.world.advanceTo(now);
    this.#index(now);

    // Who is asking.
    const token = bearer(req);
    let did: string | undefined;
    let refreshJti: string | undefined;
    if (method === 'com.atproto.server.refreshSession') {
      const verified = token === undefined ? undefined : this.sessions.verify(token, 'com.atproto.refresh');
      if (!verified) {
        this.#send(
          res,
          method,
          { status: 401, body: xrpcError('AuthenticationRequired', 'Authentication Required') },
          {},
        );
        return;
      }
      if (!verified.ok) {
        this.#send(
          res,
          method,
          { status: 400, body: xrpcError(verified.error, tokenMessage(verified.error)) },
          {},
        );
        return;
      }
      did = verified.did;
      refreshJti = verified.jti;
    } else if (method !== 'com.atproto.server.createSession' && token !== undefined) {
      const verified = this.sessions.verify(token, 'com.atproto.appPass');
      if (!verified.ok) {
        this.#send(
          res,
          method,
          { status: 400, body: xrpcError(verified.error, tokenMessage(verified.error)) },
          {},
        );
        return;
      }
      did = verified.did;
    }
    const authRequired =
      method === 'com.atproto.server.getSession' ||
      method === 'app.bsky.notification.listNotifications' ||
      WRITES.has(method);
    if (authRequired && did === undefined) {
      this.#send(
        res,
        method,
        { status: 401, body: xrpcError('AuthenticationRequired', 'Authentication Required') },
        {},
      );
      return;
    }
    const userId = did === undefined ? undefined : this.world.userIdForDid(did);

    // Limits: requests per client IP (every account behind it), sessions per identifier, write
    // points per account.
    const headers: Record<string, string> = {};
    const key = did ?? 'anonymous';
    const requests = this.windows.get(
      `${req.socket.remoteAddress ?? 'unknown'}|requests`,
      this.limits.requestsPerWindow,
      this.limits.requestWindowMs,
    );
    let windows: PointsWindow[] = [requests];
    let cost = 1;
    if (method === 'com.atproto.server.createSession') {
      const identifier = sessionIdentifier(body);
      windows = [
        this.windows.get(`${identifier}|session5m`, this.limits.sessionsPer5Minutes, 5 * 60_000),
        this.windows.get(`${identifier}|sessionDay`, this.limits.sessionsPerDay, DAY_MS),
      ];
    } else if (WRITES.has(method)) {
      cost = method === 'com.atproto.repo.createRecord' ? this.limits.createPoints : this.limits.deletePoints;
      windows = [
        this.windows.get(`${key}|pointsHour`, this.limits.writePointsPerHour, HOUR_MS),
        this.windows.get(`${key}|pointsDay`, this.limits.writePointsPerDay, DAY_MS),
      ];
      if (!requests.take(now)) {
        rateHeaders(headers, requests.state(now));
        this.#send(res, method, rateLimited(), headers);
        return;
      }
    }
    const fits = windows.every((window) => window.fits(now, cost));
    if (!fits) {
      rateHeaders(headers, tightest(windows.map((window) => window.state(now))));
      this.#send(res, method, rateLimited(), headers);
      return;
    }
    // Reads and sessions count when asked; writes only when they succeed.
    if (!WRITES.has(method)) for (const window of windows) window.take(now, cost);

    const fault = this.faults.take(method, userId);
    let answer: Answer | undefined;
    if (!fault || fault.apply) {
      try {
        answer = this.#answer(method, url, body, did, userId, refreshJti);
      } catch (error) {
        this.internalErrors.push(error);
        answer = { status: 500, body: xrpcError('InternalServerError', 'Internal Server Error') };
      }
      if (answer.points !== undefined && answer.status === 200) {
        for (const window of windows) window.take(now, answer.points);
      }
    }
    // The headers describe the tightest window, the per-IP one included (on a create, too).
    const described = windows.includes(requests) ? windows : [requests, ...windows];
    rateHeaders(headers, tightest(described.map((window) => window.state(now))));
    if (fault) {
      this.#serveFault(res, method, fault, headers, windows, now);
      return;
    }
    this.#send(res, method, answer!, headers);
  }

  #answer(
    method: BlueskyMethod,
    url: URL,
    body: string,
    did: string | undefined,
    userId: string | undefined,
    refreshJti: string | undefined,
  ): Answer {
    const viewer: Viewer | undefined =
      did !== undefined && userId !== undefined ? { did, userId } : undefined;
    switch (method) {
      case 'com.atproto.server.createSession':
        return this.#createSession(body);
      case 'com.atproto.server.refreshSession':
        return this.#refreshSession(did!, refreshJti!);
      case 'com.atproto.server.getSession':
        return this.#getSession(did!);
      case 'app.bsky.graph.getFollowers':
      case 'app.bsky.graph.getFollows':
        return this.#graph(method, url, viewer);
      case 'app.bsky.actor.getProfile':
        return this.#getProfile(url, viewer);
      case 'app.bsky.actor.getProfiles':
        return this.#getProfiles(url, viewer);
      case 'com.atproto.repo.createRecord':
        return this.#createRecord(body, did!, userId);
      case 'com.atproto.repo.deleteRecord':
        return this.#deleteRecord(body, did!, userId);
      case 'com.atproto.repo.listRecords':
        return this.#listRecords(url);
      case 'app.bsky.notification.listNotifications':
        return this.#listNotifications(url, viewer!);
    }
  }

  // ---- sessions -------------------------------------------------------------------------------

  #createSession(body: string): Answer {
    const input = parseObject(body);
    if (!input) return invalid('Request body must be a JSON object');
    if (typeof input.identifier !== 'string') return invalid('Input must have the property "identifier"');
    if (typeof input.password !== 'string') return invalid('Input must have the property "password"');
    const user = this.#resolveOwner(input.identifier);
    const did = user === undefined ? undefined : this.world.didOf(user.id)!;
    if (
      !user ||
      !did ||
      input.password !== appPasswordFor(this.world.seed, did) ||
      this.revokedPasswords.has(did)
    ) {
      return { status: 401, body: xrpcError('AuthenticationRequired', 'Invalid identifier or password') };
    }
    return { status: 200, body: { ...this.sessions.issue(did), ...this.#account(user, did) } };
  }

  #refreshSession(did: string, jti: string): Answer {
    const user = this.#userByDid(did);
    if (!user) return { status: 400, body: xrpcError('InvalidToken', 'Token could not be verified') };
    this.sessions.useRefresh(jti);
    return { status: 200, body: { ...this.sessions.issue(did), ...this.#account(user, did) } };
  }

  #getSession(did: string): Answer {
    const user = this.#userByDid(did);
    if (!user) return { status: 400, body: xrpcError('InvalidToken', 'Token could not be verified') };
    return { status: 200, body: this.#account(user, did) };
  }

  #account(user: WorldUser, did: string) {
    const handle = blueskyHandle(user);
    return {
      handle,
      did,
      email: `${handle.split('.')[0]}@example.com`,
      emailConfirmed: true,
      emailAuthFactor: false,
      active: true,
    };
  }

  // ---- reads ----------------------------------------------------------------------------------

  #graph(
    method: 'app.bsky.graph.getFollowers' | 'app.bsky.graph.getFollows',
    url: URL,
    viewer: Viewer | undefined,
  ): Answer {
    const unknown = unknownParams(url, ['actor', 'limit', 'cursor']);
    if (unknown) return invalid(unknown);
    const actor = url.searchParams.get('actor');
    if (actor === null) return invalid('Params must have the property "actor"');
    const limit = parseLimit(url.searchParams.get('limit'), 50, 100);
    if (typeof limit === 'string') return invalid(limit);
    const found = this.#resolveActor(actor);
    if ('status' in found) return found;
    const subject = found.user;
    const listId = `${method}:${subject.id}`;
    const rawCursor = url.searchParams.get('cursor');
    const cursor = rawCursor === null ? undefined : decodeToken(listId, rawCursor);
    // The AppView fails on a cursor it cannot read (500), which the PDS passes on as a 502.
    if (rawCursor !== null && cursor?.direction !== 'next') {
      return { status: 502, body: xrpcError('InternalServerError', 'Internal Server Error') };
    }
    const query = { limit, below: cursor?.key };
    const page =
      method === 'app.bsky.graph.getFollowers'
        ? this.world.pageFollowers(subject.id, query)
        : this.world.pageFollowing(subject.id, query);
    const list = page.entries.map((entry) => profileView(this.world, entry.user, viewer, this.minted));
    const answer: Record<string, unknown> = {
      subject: profileView(this.world, subject, viewer, this.minted),
      [method === 'app.bsky.graph.getFollowers' ? 'followers' : 'follows']: list,
    };
    const last = page.entries[page.entries.length - 1];
    if (last && page.moreBelow) answer.cursor = encodeToken(listId, { direction: 'next', key: last.key });
    return { status: 200, body: answer, users: list.length };
  }

  /**
   * app.bsky.notification.listNotifications: the owner's notifications newest first (only follows
   * exist here), `reasons` filtering, `limit` 1–100 (default 50), an opaque `cursor`, `seenAt`
   * marking those indexed by then as read; as the lexicon shapes them (uri, cid, author, reason,
   * record, isRead, indexedAt).
   */
  #listNotifications(url: URL, viewer: Viewer): Answer {
    const unknown = unknownParams(url, ['reasons', 'limit', 'priority', 'cursor', 'seenAt']);
    if (unknown) return invalid(unknown);
    const limit = parseLimit(url.searchParams.get('limit'), 50, 100);
    if (typeof limit === 'string') return invalid(limit);
    const rawSeenAt = url.searchParams.get('seenAt');
    if (rawSeenAt !== null && !DATETIME_PATTERN.test(rawSeenAt)) {
      return invalid('seenAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)');
    }
    const seenAt = rawSeenAt === null ? undefined : Date.parse(rawSeenAt);
    const reasons = url.searchParams.getAll('reasons');
    const listId = `notifications:${viewer.userId}`;
    const rawCursor = url.searchParams.get('cursor');
    const cursor = rawCursor === null ? undefined : decodeToken(listId, rawCursor);
    if (rawCursor !== null && cursor?.direction !== 'next') return invalid('Malformed cursor');
    let all = this.notifications.list(viewer.userId);
    if (reasons.length > 0 && !reasons.includes('follow')) all = [];
    const page = all.filter((n) => cursor === undefined || n.seq < cursor.key).slice(0, limit);
    const notifications = page.map((n) => {
      const author = this.world.user(n.userId)!;
      const authorDid = this.world.didOf(author.id)!;
      const uri = followUri(authorDid, derivedFollowKey(n.at, viewer.did));
      const indexedAt = new Date(n.at).toISOString();
      return {
        uri,
        cid: cidOf(uri),
        author: profileView(this.world, author, viewer, this.minted),
        reason: 'follow',
        record: { $type: FOLLOW_COLLECTION, subject: viewer.did, createdAt: indexedAt },
        isRead: seenAt !== undefined && n.at <= seenAt,
        indexedAt,
        labels: [],
      };
    });
    const answer: Record<string, unknown> = { notifications, priority: false };
    const last = page[page.length - 1];
    if (last && all.some((n) => n.seq < last.seq)) {
      answer.cursor = encodeToken(listId, { direction: 'next', key: last.seq });
    }
    return { status: 200, body: answer, users: notifications.length };
  }

  #getProfile(url: URL, viewer: Viewer | undefined): Answer {
    const unknown = unknownParams(url, ['actor']);
    if (unknown) return invalid(unknown);
    const actor = url.searchParams.get('actor');
    if (actor === null) return invalid('Params must have the property "actor"');
    const found = this.#resolveActor(actor);
    if ('status' in found) return found;
    return { status: 200, body: profileViewDetailed(this.world, found.user, viewer, this.minted), users: 1 };
  }

  #getProfiles(url: URL, viewer: Viewer | undefined): Answer {
    const unknown = unknownParams(url, ['actors']);
    if (unknown) return invalid(unknown);
    const actors = url.searchParams.getAll('actors');
    if (actors.length === 0) return invalid('Params must have the property "actors"');
    if (actors.length > 25) return invalid('actors must not have more than 25 elements');
    // One malformed identifier fails the whole batch; unknown or gone ones are left out.
    const malformed = actors.find((actor) => !validActor(actor));
    if (malformed !== undefined) {
      return invalid(`Invalid app.bsky.actor.getProfiles params: Invalid AT identifier (got "${malformed}")`);
    }
    const profiles = [];
    for (const actor of actors) {
      const found = this.#resolveActor(actor);
      if (!('status' in found))
        profiles.push(profileViewDetailed(this.world, found.user, viewer, this.minted));
    }
    return { status: 200, body: { profiles }, users: profiles.length };
  }

  // ---- writes ---------------------------------------------------------------------------------

  #createRecord(body: string, did: string, userId: string | undefined): Answer {
    const input = parseObject(body);
    if (!input) return invalid('Request body must be a JSON object');
    const repoError = this.#checkRepo(input.repo, did);
    if (repoError) return repoError;
    if (input.collection !== FOLLOW_COLLECTION) {
      return invalid(`The sandbox stores ${FOLLOW_COLLECTION} records only, not ${String(input.collection)}`);
    }
    const record = input.record as Record<string, unknown> | undefined;
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      return invalid('Input must have the property "record"');
    }
    if (record.$type !== FOLLOW_COLLECTION) return invalid(`Invalid $type: expected ${FOLLOW_COLLECTION}`);
    if (typeof record.subject !== 'string' || !DID_PATTERN.test(record.subject)) {
      return invalid('Invalid app.bsky.graph.follow record: Record/subject must be a valid did');
    }
    if (typeof record.createdAt !== 'string' || !DATETIME_PATTERN.test(record.createdAt)) {
      return invalid(
        'Invalid app.bsky.graph.follow record: Record/createdAt must be an valid atproto datetime',
      );
    }
    if (
      input.rkey !== undefined &&
      (typeof input.rkey !== 'string' || !/^[234567a-z]{13}$/.test(input.rkey))
    ) {
      return invalid('Invalid record key');
    }
    if (userId === undefined)
      return { status: 400, body: xrpcError('InvalidRequest', 'Could not find repo') };
    const now = this.clock.now();
    const owned = this.records.get(userId) ?? new Map<string, FollowRecord>();
    this.records.set(userId, owned);
    const rkey =
      (input.rkey as string | undefined) ?? tid(now * 1000 + (this.#minted++ % 1000), hash32(record.subject));
    if (owned.has(rkey)) return invalid(`Record already exists: ${rkey}`);
    // A follow record of the same subject is replaced in the same commit: never two.
    for (const [other, existing] of owned) if (existing.subject === record.subject) owned.delete(other);
    const uri = followUri(did, rkey);
    const stored = {
      rkey,
      uri,
      subject: record.subject,
      createdAt: record.createdAt,
      indexAt: now + this.appViewLagMs,
    };
    owned.set(rkey, stored);
    // The PDS stores any well-formed follow; the world (the AppView's view) takes it once indexed,
    // and only for a user it knows.
    this.#unindexed.push({ ownerId: userId, record: stored });
    this.#index(now);
    const rev = tid(now * 1000 + (this.#minted++ % 1000), 0);
    return {
      status: 200,
      body: {
        uri,
        cid: cidOf(`${uri}|${JSON.stringify(record)}`),
        commit: { cid: cidOf(`commit|${did}|${rev}`), rev },
        validationStatus: 'valid',
      },
      points: this.limits.createPoints,
    };
  }

  #deleteRecord(body: string, did: string, userId: string | undefined): Answer {
    const input = parseObject(body);
    if (!input) return invalid('Request body must be a JSON object');
    const repoError = this.#checkRepo(input.repo, did);
    if (repoError) return repoError;
    if (input.collection !== FOLLOW_COLLECTION) {
      return invalid(`The sandbox stores ${FOLLOW_COLLECTION} records only, not ${String(input.collection)}`);
    }
    if (typeof input.rkey !== 'string' || !RKEY_PATTERN.test(input.rkey)) {
      return invalid('Input must have the property "rkey"');
    }
    if (userId === undefined)
      return { status: 400, body: xrpcError('InvalidRequest', 'Could not find repo') };
    const rkey = input.rkey;
    const owned = this.records.get(userId);
    let subjectId: string | undefined;
    const minted = owned?.get(rkey);
    if (minted) {
      owned!.delete(rkey);
      subjectId = this.world.userIdForDid(minted.subject);
    } else {
      subjectId = this.world.followingIds(userId).find((id) => {
        const since = this.world.followingSince(userId, id);
        return since !== undefined && derivedFollowKey(since, this.world.didOf(id)!) === rkey;
      });
    }
    if (subjectId !== undefined) this.world.unfollow(userId, subjectId);
    const now = this.clock.now();
    const rev = tid(now * 1000 + (this.#minted++ % 1000), 0);
    return {
      status: 200,
      body: { commit: { cid: cidOf(`commit|${did}|${rev}`), rev } },
      points: this.limits.deletePoints,
    };
  }

  /** The owner's follow records as the PDS lists them: at once after a write, newest first. */
  #listRecords(url: URL): Answer {
    const unknown = unknownParams(url, ['repo', 'collection', 'limit', 'cursor', 'reverse']);
    if (unknown) return invalid(unknown);
    const repo = url.searchParams.get('repo');
    if (repo === null) return invalid('Params must have the property "repo"');
    const collection = url.searchParams.get('collection');
    if (collection === null) return invalid('Params must have the property "collection"');
    const limit = parseLimit(url.searchParams.get('limit'), 50, 100);
    if (typeof limit === 'string') return invalid(limit);
    const owner = this.#resolveOwner(repo);
    if (!owner) return { status: 400, body: xrpcError('InvalidRequest', `Could not find repo: ${repo}`) };
    const ownerDid = this.world.didOf(owner.id)!;
    const bySubject = new Map<string, { rkey: string; uri: string; subject: string; createdAt: string }>();
    if (collection === FOLLOW_COLLECTION) {
      const minted = new Set(
        [...(this.records.get(owner.id)?.values() ?? [])].map((record) => record.subject),
      );
      for (const id of this.world.followingIds(owner.id)) {
        const subject = this.world.didOf(id)!;
        if (minted.has(subject)) continue;
        const since = this.world.followingSince(owner.id, id) ?? 0;
        const rkey = derivedFollowKey(since, subject);
        bySubject.set(subject, {
          rkey,
          uri: followUri(ownerDid, rkey),
          subject,
          createdAt: new Date(since).toISOString(),
        });
      }
      for (const record of this.records.get(owner.id)?.values() ?? []) bySubject.set(record.subject, record);
    }
    const reverse = url.searchParams.get('reverse') === 'true';
    const cursor = url.searchParams.get('cursor');
    const sorted = [...bySubject.values()].sort((a, b) =>
      reverse ? (a.rkey < b.rkey ? -1 : 1) : a.rkey < b.rkey ? 1 : -1,
    );
    const after =
      cursor === null ? sorted : sorted.filter((r) => (reverse ? r.rkey > cursor : r.rkey < cursor));
    const page = after.slice(0, limit);
    const answer: Record<string, unknown> = {
      records: page.map((record) => ({
        uri: record.uri,
        cid: cidOf(`${record.uri}|${record.subject}`),
        value: { $type: FOLLOW_COLLECTION, subject: record.subject, createdAt: record.createdAt },
      })),
    };
    if (page.length === limit && after.length > limit) answer.cursor = page[page.length - 1]!.rkey;
    return { status: 200, body: answer };
  }

  #checkRepo(repo: unknown, did: string): Answer | undefined {
    if (typeof repo !== 'string') return invalid('Input must have the property "repo"');
    const owner = this.#resolveOwner(repo);
    if (!owner || this.world.didOf(owner.id) !== did) {
      return { status: 401, body: xrpcError('AuthenticationRequired', 'Authentication Required') };
    }
    return undefined;
  }

  // ---- identities -----------------------------------------------------------------------------

  #userByDid(did: string): WorldUser | undefined {
    const id = this.world.userIdForDid(did);
    return id === undefined ? undefined : this.world.user(id);
  }

  /** An owner by DID or handle. */
  #resolveOwner(identifier: string): WorldUser | undefined {
    const user = identifier.startsWith('did:')
      ? this.#userByDid(identifier)
      : this.#ownerByHandle(identifier);
    return user?.owner ? user : undefined;
  }

  /** Anyone by handle: the world's users are indexed by their handles on first use. */
  #userByHandle(handle: string): WorldUser | undefined {
    const wanted = handle.toLowerCase().replace(/^@/, '');
    const owner = this.#ownerByHandle(wanted);
    if (owner) return owner;
    if (this.#handles === undefined || this.#handlesAt !== this.world.userCount) {
      this.#handles = new Map();
      for (let ordinal = 0; ordinal < this.world.userCount; ordinal += 1) {
        const user = this.world.userAt(ordinal);
        if (user) this.#handles.set(blueskyHandle(user), user.id);
      }
      this.#handlesAt = this.world.userCount;
    }
    const id = this.#handles.get(wanted);
    return id === undefined ? undefined : this.world.user(id);
  }

  #handles: Map<string, string> | undefined;
  #handlesAt = -1;

  #ownerByHandle(handle: string): WorldUser | undefined {
    const wanted = handle.toLowerCase().replace(/^@/, '');
    for (const id of this.world.ownerIds()) {
      const user = this.world.user(id)!;
      if (blueskyHandle(user) === wanted) return user;
    }
    return undefined;
  }

  /** A visible actor by DID or handle (anyone's), or the AppView's error for it. */
  #resolveActor(actor: string): { user: WorldUser } | Answer {
    if (!validActor(actor)) return invalid('actor must be a valid did or a handle');
    const user = actor.startsWith('did:') ? this.#userByDid(actor) : this.#userByHandle(actor);
    if (!user || user.deleted) return invalid('Profile not found');
    if (user.suspended)
      return { status: 400, body: xrpcError('AccountTakedown', 'Account has been suspended') };
    return { user };
  }

  // ---- answering ------------------------------------------------------------------------------

  #serveFault(
    res: ServerResponse,
    method: BlueskyMethod,
    fault: ActiveFault<BlueskyMethod>,
    headers: Record<string, string>,
    windows: PointsWindow[],
    now: number,
  ): void {
    const send = (answer: Answer) => this.#send(res, method, answer, headers, true);
    serveFault(
      res,
      fault,
      { endpoint: method, headers, stats: this.stats, held: this.held, send },
      {
        serverError: xrpcError('InternalServerError', 'Internal Server Error'),
        unavailable: { body: xrpcError('NotEnoughResources', 'Service Unavailable') },
        rateLimited: rateLimited().body,
        exhaustHeaders: () =>
          rateHeaders(headers, { ...tightest(windows.map((window) => window.state(now))), remaining: 0 }),
        malformed: { followers: 42, cursor: 7, did: null },
        truncated: '{"subject":{"did":"did:plc:trunc',
      },
    );
  }

  #send(
    res: ServerResponse,
    method: BlueskyMethod | 'unknown',
    answer: Answer,
    headers: Record<string, string>,
    fault = false,
  ): void {
    sendJson(res, this.stats, method, answer, headers, fault);
  }
}

/** A DID or a handle, as the lexicon's at-identifier allows. */
function validActor(actor: string): boolean {
  return (
    DID_PATTERN.test(actor) ||
    /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(actor)
  );
}

function rateLimited(): Answer {
  return { status: 429, body: xrpcError('RateLimitExceeded', 'Rate Limit Exceeded') };
}

function tokenMessage(error: 'ExpiredToken' | 'InvalidToken'): string {
  return error === 'ExpiredToken' ? 'Token has expired' : 'Token could not be verified';
}

function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function sessionIdentifier(body: string): string {
  const identifier = parseObject(body)?.identifier;
  return typeof identifier === 'string' ? identifier.toLowerCase() : 'unknown';
}

function unknownParams(url: URL, allowed: readonly string[]): string | undefined {
  const unknown = [...url.searchParams.keys()].find((name) => !allowed.includes(name));
  return unknown === undefined ? undefined : `Unexpected parameter: ${unknown}`;
}

/** The limit as the lexicon allows it (1 to max, an integer), or the error message. */
function parseLimit(raw: string | null, fallback: number, max: number): number | string {
  if (raw === null) return fallback;
  if (!/^-?\d+$/.test(raw)) return 'limit must be an integer';
  const value = Number(raw);
  if (value < 1) return 'limit can not be less than 1';
  if (value > max) return `limit can not be greater than ${max}`;
  return value;
}

/** Starts a Bluesky (XRPC) sandbox on loopback. */
export async function startBlueskySandbox(options: BlueskySandboxOptions): Promise<BlueskySandbox> {
  const { world } = options;
  const clock = options.clock ?? world.clock;
  const limits = resolveBlueskyLimits(options.limits);
  const faults = new SandboxFaults<BlueskyMethod>(options.faultSeed ?? world.seed, 'bluesky-faults');
  for (const spec of options.faults ?? []) faults.add(spec);
  const stats = options.stats ?? world.stats;
  const sessions = new SessionIssuer(world.seed, clock, options.sessions);
  const handler = new BlueskyHandler(
    world,
    clock,
    stats,
    faults,
    limits,
    sessions,
    options.appViewLagMs ?? 600,
    new FollowNotifications(world, options.notifications),
  );
  const listening = await listen({
    host: options.host,
    port: options.port,
    handle: (req, res) => handler.handle(req, res),
    internalErrors: handler.internalErrors,
    internalBody: JSON.stringify(xrpcError('InternalServerError', 'Internal Server Error')),
    held: handler.held,
  });
  const didOf = (userId: string) => {
    const did = world.didOf(userId);
    if (did === undefined) throw new RangeError(`no user ${userId} in this world`);
    return did;
  };
  return {
    baseUrl: listening.baseUrl,
    world,
    faults,
    stats,
    limits,
    sessions,
    internalErrors: handler.internalErrors,
    didOf,
    handleOf: (userId) => blueskyHandle(world.user(userId)!),
    appPasswordFor: (userId) => appPasswordFor(world.seed, didOf(userId)),
    followRecords: (userId) => [...(handler.records.get(userId)?.values() ?? [])],
    notifications: handler.notifications,
    revokeAppPassword: (userId) => {
      const did = didOf(userId);
      handler.revokedPasswords.add(did);
      sessions.revokeRefresh(did);
    },
    close: () => listening.close(),
  };
}
