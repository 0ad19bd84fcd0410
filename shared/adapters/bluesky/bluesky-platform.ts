/**
 * The Bluesky adapter of the Platform port, on @atcute/client (XRPC with the lexicons' types of
 * @atcute/bluesky; the session kept by ./xrpc-session.ts, with an app password or a stored session).
 * Ids are DIDs.
 *
 * - Lists: app.bsky.graph.getFollowers / getFollows, 1-100 per page, cursor as given.
 * - Follow: look first, then create an app.bsky.graph.follow record. The look is the AppView's
 *   (app.bsky.actor.getProfile: `viewer.following`, and a gone target fails it, while the PDS would
 *   store a follow of a deleted account) and, since the AppView shows a new record only 0.3-0.9 s
 *   after the PDS stored it, also the owner's own repo on the PDS (com.atproto.repo.listRecords,
 *   newest first: read-after-write), so a follow retried at once still finds the pending one. (A
 *   second record for the same subject would replace the older one in the same commit on the
 *   current PDS: no double follow, but a wasted write, a second notification and a wrong outcome.)
 * - Unfollow: delete the follow record, whose key comes from `viewer.following`, the record this
 *   adapter created, or the owner's repo (a record the AppView has not indexed yet).
 * - Relationships: app.bsky.actor.getProfiles, 25 per call, from the owner's `viewer` state; a
 *   target that no longer exists is absent from the map.
 * - Writes cost points (create 3, delete 1; 5,000 per hour, 35,000 per day, per account); every
 *   request also counts in the PDS's 3,000 per 5 minutes window, which is per client IP: every
 *   account of a deployment shares it. The `ratelimit-*` headers of an answer (a create's too)
 *   describe the tightest of these windows, usually the per-IP one; they become the
 *   RateLimitSnapshot, a 429 a RateLimitedError at their reset.
 * - Identifiers that are not DIDs or handles are left out of getProfiles batches: one malformed
 *   actor fails the whole batch on the AppView.
 *
 * Failures map to the port's errors: 429 RateLimitedError (the platform's reset), 5xx / network /
 * timeout TransientPlatformError, an answer off the lexicon MalformedResponseError, a target not
 * found / taken down / deactivated UserGoneError, 401 and refused tokens AuthError.
 */

import { Client } from '@atcute/client';
import type { ActorIdentifier, Did, Nsid, RecordKey } from '@atcute/lexicons';
import { AuthError, MalformedResponseError, UserGoneError, ValidationError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type {
  FollowNoticePage,
  FollowNoticeRequest,
  FollowResult,
  GraphPage,
  PageRequest,
  Platform,
  PlatformLimits,
  PlatformUser,
  RateLimitSnapshot,
  Relationship,
} from '../../ports/platform.ts';
import { systemClock } from '../clock.ts';
import {
  errorForStatus,
  otherFailure,
  parseAnswer,
  requestFailed,
  unreadableAnswer,
} from '../platform-errors.ts';
import {
  type BlueskyProfile,
  createRecordSchema,
  deleteRecordSchema,
  followersSchema,
  followsSchema,
  listRecordsSchema,
  notificationsSchema,
  profilesSchema,
  profileViewDetailedSchema,
} from './bluesky-schemas.ts';

import { BLUESKY_DEFAULT_SERVICE, BLUESKY_LIMITS, FOLLOW_COLLECTION } from './constants.ts';
import {
  XrpcFailure,
  XrpcRequestFailed,
  type XrpcSession,
  type XrpcSessionEvent,
  XrpcSessionHandler,
} from './xrpc-session.ts';

export {
  BLUESKY_DEFAULT_SERVICE,
  BLUESKY_LIMITS,
  BLUESKY_WRITE_POINTS,
  FOLLOW_COLLECTION,
} from './constants.ts';

import { boundedUser } from '../../domain/profile-bounds.ts';

/** What to store to resume without logging in again (the refresh token rotates on every refresh). */
export type BlueskySession = XrpcSession;

export interface BlueskyPlatformOptions {
  /** The PDS (or entryway): https://bsky.social, a self-hosted PDS, or the sandbox. */
  service?: string;
  /** Handle, DID or email, with `password` (an app password): used when there is no usable session. */
  identifier?: string | undefined;
  password?: string | undefined;
  /** A stored session to resume; it is refreshed when its access token expires. */
  session?: BlueskySession;
  /**
   * Called with each new session (login, and every refresh: the refresh token rotates) and with
   * undefined when the session ended. Awaited before the call that caused it returns, so a new
   * refresh token is stored before the adapter is used again.
   */
  onSession?: (session: BlueskySession | undefined) => void | Promise<void>;
  /** Per-request timeout; a timeout is a TransientPlatformError. Default 10 s. */
  timeoutMs?: number;
  limits?: PlatformLimits;
  /** Time for follow records' createdAt and for a reset the platform did not give. */
  clock?: Clock;
}

interface Answer {
  data: unknown;
  headers: Headers;
}

/** A response of @atcute/client: the data of a success, the error payload of a failure. */
type XrpcResponse =
  | { ok: true; status: number; headers: Headers; data: unknown }
  | { ok: false; status: number; headers: Headers; data: { error: string; message?: string } };

function parseService(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new ValidationError(`Bluesky service is not a URL: ${JSON.stringify(raw)}`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(`Bluesky service must be http or https, got ${url.protocol}`);
  }
  return url;
}

/** A header's number; NaN when it is absent (Number(null) would be 0). */
function headerNumber(headers: Headers | undefined, name: string): number {
  const value = headers?.get(name);
  return value === null || value === undefined || value.trim() === '' ? Number.NaN : Number(value);
}

function rateLimitOf(endpoint: string, headers: Headers | undefined): RateLimitSnapshot | undefined {
  const limit = headerNumber(headers, 'ratelimit-limit');
  const remaining = headerNumber(headers, 'ratelimit-remaining');
  const reset = headerNumber(headers, 'ratelimit-reset');
  if (![limit, remaining, reset].every(Number.isFinite)) return undefined;
  return { endpoint, limit, remaining, resetAt: reset * 1000 };
}

/** The port's user, its stranger-supplied text bounded (shared/domain/profile-bounds.ts). */
function toPlatformUser(...args: Parameters<typeof unboundedUser>): PlatformUser {
  return boundedUser(unboundedUser(...args));
}

function unboundedUser(profile: BlueskyProfile): PlatformUser {
  const createdAt = profile.createdAt === undefined ? Number.NaN : Date.parse(profile.createdAt);
  return {
    id: profile.did,
    handle: profile.handle,
    name: profile.displayName ?? '',
    bio: profile.description ?? '',
    createdAt: Number.isNaN(createdAt) ? undefined : createdAt,
    followersCount: profile.followersCount,
    followingCount: profile.followsCount,
    // Bluesky has no locked accounts: a follow is always a follow.
    protected: false,
    defaultAvatar: profile.avatar === undefined,
    avatarUrl: profile.avatar,
    bot: profile.labels?.some((label) => label.val === 'bot') ? true : undefined,
  };
}

const DID = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/;
const HANDLE = /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** A DID or a handle: what getProfiles accepts as an actor. */
function isAtIdentifier(id: string): boolean {
  return id.length <= 2048 && (DID.test(id) || HANDLE.test(id));
}

/** The record key of an at://did/collection/rkey URI. */
function rkeyOf(uri: string): string {
  const rkey = uri.split('/').pop();
  if (!rkey) throw new MalformedResponseError(`not a record URI: ${uri}`);
  return rkey;
}

export class BlueskyPlatform implements Platform {
  readonly network = 'bluesky' as const;
  readonly limits: PlatformLimits;
  readonly #session: XrpcSessionHandler;
  readonly #rpc: Client;
  readonly #options: BlueskyPlatformOptions;
  readonly #clock: Clock;
  #started: Promise<void> | undefined;
  /** Session persistence in flight or failed: awaited at the end of every call. */
  #persisting: Promise<void> = Promise.resolve();
  /** Follow records this adapter created, by subject DID (for an unfollow of a gone account). */
  readonly #created = new Map<string, string>();

  constructor(options: BlueskyPlatformOptions) {
    const service = parseService(options.service ?? BLUESKY_DEFAULT_SERVICE);
    if (!options.session && !(options.identifier && options.password)) {
      throw new ValidationError('a Bluesky account needs a session or an identifier and an app password');
    }
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.limits = options.limits ?? BLUESKY_LIMITS;
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.#session = new XrpcSessionHandler({
      service,
      timeoutMs,
      onChange: (event, session) => this.#persist(event, session),
    });
    this.#rpc = new Client({ handler: this.#session });
  }

  /** The session in use (after the first call), to store; undefined before. */
  get session(): BlueskySession | undefined {
    const session = this.#session.session;
    return (
      session && {
        did: session.did,
        handle: session.handle,
        accessJwt: session.accessJwt,
        refreshJwt: session.refreshJwt,
      }
    );
  }

  async me(): Promise<PlatformUser> {
    const did = await this.#did();
    const answer = await this.#call('app.bsky.actor.getProfile', () =>
      this.#rpc.get('app.bsky.actor.getProfile', { params: { actor: did as Did } }),
    );
    return toPlatformUser(parseAnswer('app.bsky.actor.getProfile', profileViewDetailedSchema, answer.data));
  }

  async listFollowers(userId: string, request: PageRequest): Promise<GraphPage> {
    const endpoint = 'app.bsky.graph.getFollowers';
    const answer = await this.#call(endpoint, () =>
      this.#rpc.get('app.bsky.graph.getFollowers', {
        params: { actor: userId as ActorIdentifier, limit: this.#pageSize(request), cursor: request.cursor },
      }),
    );
    const body = parseAnswer(endpoint, followersSchema, answer.data);
    return this.#page(endpoint, body.followers, body.cursor, request, answer.headers);
  }

  /**
   * app.bsky.notification.listNotifications with `reasons: ['follow']`: who followed, newest first
   * (an app password may read notifications). The author's `viewer.followedBy` says whether the
   * follow still stands.
   */
  async followNotices(request: FollowNoticeRequest): Promise<FollowNoticePage> {
    const endpoint = 'app.bsky.notification.listNotifications';
    const limit = Math.min(100, Math.max(1, Math.floor(request.pageSize)));
    const answer = await this.#call(endpoint, () =>
      this.#rpc.get('app.bsky.notification.listNotifications', {
        params: { reasons: ['follow'], limit, cursor: request.cursor },
      }),
    );
    const body = parseAnswer(endpoint, notificationsSchema, answer.data);
    const notices = body.notifications.flatMap((notification) => {
      // An AppView that ignores `reasons` may send other notifications: only follows count.
      if (notification.reason !== 'follow') return [];
      const at = Date.parse(notification.indexedAt);
      if (!Number.isFinite(at)) {
        throw new MalformedResponseError(`${endpoint}: indexedAt is not a time`, { details: { endpoint } });
      }
      return [
        {
          id: notification.uri,
          kind: 'follow' as const,
          at,
          user: toPlatformUser(notification.author),
          followsNow: notification.author.viewer?.followedBy !== undefined,
        },
      ];
    });
    const nextCursor = body.cursor !== undefined && body.cursor !== request.cursor ? body.cursor : undefined;
    return { notices, nextCursor, rateLimit: rateLimitOf(endpoint, answer.headers) };
  }

  async listFollowing(userId: string, request: PageRequest): Promise<GraphPage> {
    const endpoint = 'app.bsky.graph.getFollows';
    const answer = await this.#call(endpoint, () =>
      this.#rpc.get('app.bsky.graph.getFollows', {
        params: { actor: userId as ActorIdentifier, limit: this.#pageSize(request), cursor: request.cursor },
      }),
    );
    const body = parseAnswer(endpoint, followsSchema, answer.data);
    return this.#page(endpoint, body.follows, body.cursor, request, answer.headers);
  }

  async follow(sourceUserId: string, targetUserId: string): Promise<FollowResult> {
    const existing = await this.#viewerFollowing(targetUserId);
    if (existing !== undefined) return { outcome: 'already_following' };
    // The AppView may not have indexed a follow made moments ago: the PDS has it.
    const pending =
      this.#created.get(targetUserId) ?? (await this.#ownFollowRecord(sourceUserId, targetUserId));
    if (pending !== undefined) {
      this.#created.set(targetUserId, pending);
      return { outcome: 'already_following' };
    }
    const endpoint = 'com.atproto.repo.createRecord';
    const answer = await this.#call(
      endpoint,
      () =>
        this.#rpc.post('com.atproto.repo.createRecord', {
          input: {
            repo: sourceUserId as ActorIdentifier,
            collection: FOLLOW_COLLECTION as Nsid,
            record: {
              $type: FOLLOW_COLLECTION,
              subject: targetUserId,
              createdAt: new Date(this.#clock.now()).toISOString(),
            },
          },
        }),
      targetUserId,
    );
    const { uri } = parseAnswer(endpoint, createRecordSchema, answer.data);
    this.#created.set(targetUserId, uri);
    return { outcome: 'followed', rateLimit: rateLimitOf(endpoint, answer.headers) };
  }

  async unfollow(sourceUserId: string, targetUserId: string): Promise<void> {
    let uri: string | undefined;
    try {
      uri = await this.#viewerFollowing(targetUserId);
    } catch (error) {
      // A gone account's profile cannot be read, but the record this adapter made can be deleted.
      uri = this.#created.get(targetUserId);
      if (!(error instanceof UserGoneError) || uri === undefined) throw error;
    }
    uri ??= this.#created.get(targetUserId) ?? (await this.#ownFollowRecord(sourceUserId, targetUserId));
    if (uri === undefined) return;
    const endpoint = 'com.atproto.repo.deleteRecord';
    const answer = await this.#call(
      endpoint,
      () =>
        this.#rpc.post('com.atproto.repo.deleteRecord', {
          input: {
            repo: sourceUserId as ActorIdentifier,
            collection: FOLLOW_COLLECTION as Nsid,
            rkey: rkeyOf(uri) as RecordKey,
          },
        }),
      targetUserId,
    );
    parseAnswer(endpoint, deleteRecordSchema, answer.data ?? {});
    this.#created.delete(targetUserId);
  }

  async lookupUsers(userIds: readonly string[]): Promise<PlatformUser[]> {
    return (await this.#profiles(userIds)).map(toPlatformUser);
  }

  /** From the owner's viewer state on each target (the session's account, whatever `sourceUserId`). */
  async relationships(
    _sourceUserId: string,
    targetUserIds: readonly string[],
  ): Promise<Map<string, Relationship>> {
    const relationships = new Map<string, Relationship>();
    for (const profile of await this.#profiles(targetUserIds)) {
      relationships.set(profile.did, {
        followedBy: profile.viewer?.followedBy !== undefined,
        following: profile.viewer?.following !== undefined,
        requested: false,
      });
    }
    return relationships;
  }

  // ---- internals ------------------------------------------------------------------------------

  async #profiles(userIds: readonly string[]): Promise<(BlueskyProfile & { did: string })[]> {
    const endpoint = 'app.bsky.actor.getProfiles';
    const out: (BlueskyProfile & { did: string })[] = [];
    // getProfiles takes up to 25 actors; ones it cannot show are left out of the answer, but one
    // malformed identifier fails the whole batch: those are left out here (no such account).
    const valid = userIds.filter(isAtIdentifier);
    for (let start = 0; start < valid.length; start += 25) {
      const actors = valid.slice(start, start + 25);
      const answer = await this.#call(endpoint, () =>
        this.#rpc.get('app.bsky.actor.getProfiles', { params: { actors: actors as ActorIdentifier[] } }),
      );
      out.push(...parseAnswer(endpoint, profilesSchema, answer.data).profiles);
    }
    return out;
  }

  /**
   * The owner's newest follow record of the target in its own repo on the PDS (read-after-write,
   * unlike the AppView), among the newest 100: a follow this or another worker made moments ago.
   */
  async #ownFollowRecord(sourceUserId: string, targetUserId: string): Promise<string | undefined> {
    const endpoint = 'com.atproto.repo.listRecords';
    const answer = await this.#call(endpoint, () =>
      this.#rpc.get('com.atproto.repo.listRecords', {
        params: { repo: sourceUserId as ActorIdentifier, collection: FOLLOW_COLLECTION as Nsid, limit: 100 },
      }),
    );
    const { records } = parseAnswer(endpoint, listRecordsSchema, answer.data);
    return records.find((record) => record.value.subject === targetUserId)?.uri;
  }

  /** The owner's follow record of the target (at:// URI), or undefined; UserGoneError when gone. */
  async #viewerFollowing(targetUserId: string): Promise<string | undefined> {
    const endpoint = 'app.bsky.actor.getProfile';
    const answer = await this.#call(
      endpoint,
      () =>
        this.#rpc.get('app.bsky.actor.getProfile', { params: { actor: targetUserId as ActorIdentifier } }),
      targetUserId,
    );
    return parseAnswer(endpoint, profileViewDetailedSchema, answer.data).viewer?.following;
  }

  #pageSize(request: PageRequest): number {
    return Math.min(this.limits.maxPageSize, Math.max(1, Math.floor(request.pageSize)));
  }

  #page(
    endpoint: string,
    profiles: BlueskyProfile[],
    cursor: string | undefined,
    request: PageRequest,
    headers: Headers,
  ): GraphPage {
    // A cursor that does not move would read the same page forever: treat it as the end.
    const nextCursor = cursor !== undefined && cursor !== request.cursor ? cursor : undefined;
    return { users: profiles.map(toPlatformUser), nextCursor, rateLimit: rateLimitOf(endpoint, headers) };
  }

  /** The session's DID, logging in or resuming first. */
  async #did(): Promise<string> {
    await this.#start();
    const did = this.#session.session?.did;
    if (!did) throw new AuthError('Bluesky session ended: the account must be reconnected');
    return did;
  }

  /** Resumes the stored session without a request (it is refreshed on ExpiredToken), or logs in. */
  #start(): Promise<void> {
    this.#started ??= (async () => {
      const stored = this.#options.session;
      if (stored) {
        this.#session.session = { ...stored };
        return;
      }
      await this.#login();
    })().catch((error: unknown) => {
      this.#started = undefined;
      throw error;
    });
    return this.#started;
  }

  async #login(): Promise<void> {
    const { identifier, password } = this.#options;
    if (!identifier || !password) throw new AuthError('Bluesky session ended and no app password is stored');
    try {
      await this.#session.login(identifier, password);
    } catch (error) {
      throw mapBlueskyError('com.atproto.server.createSession', error, undefined, this.#clock);
    } finally {
      await this.#flushPersist();
    }
  }

  #persist(event: XrpcSessionEvent, session: XrpcSession | undefined): void {
    const onSession = this.#options.onSession;
    if (!onSession) return;
    const stored: BlueskySession | undefined =
      session && (event === 'create' || event === 'update')
        ? {
            did: session.did,
            handle: session.handle,
            accessJwt: session.accessJwt,
            refreshJwt: session.refreshJwt,
          }
        : undefined;
    this.#persisting = this.#persisting.then(() => onSession(stored));
  }

  async #flushPersist(): Promise<void> {
    const pending = this.#persisting;
    this.#persisting = Promise.resolve();
    await pending;
  }

  /**
   * Runs one request and maps every failure to the port's named errors. A session the platform
   * refused is retried once through a new login when an app password is at hand.
   */
  async #call(endpoint: string, send: () => Promise<XrpcResponse>, targetUserId?: string): Promise<Answer> {
    await this.#start();
    const answer = async (): Promise<Answer> => {
      const response = await send();
      if (!response.ok) throw XrpcFailure.of(response);
      return { data: response.data, headers: response.headers };
    };
    try {
      try {
        return await answer();
      } catch (error) {
        const mapped = mapBlueskyError(endpoint, error, targetUserId, this.#clock);
        if (!(mapped instanceof AuthError) || !this.#options.password) throw mapped;
        await this.#login();
        try {
          return await answer();
        } catch (again) {
          throw mapBlueskyError(endpoint, again, targetUserId, this.#clock);
        }
      }
    } finally {
      await this.#flushPersist();
    }
  }
}

const GONE_ERRORS = new Set([
  'AccountTakedown',
  'AccountDeactivated',
  'AccountSuspended',
  'RepoNotFound',
  'NotFound',
]);

const TOKEN_ERRORS = new Set(['ExpiredToken', 'InvalidToken', 'AuthMissing']);

/**
 * Maps a failure of a call (./xrpc-session.ts: XrpcFailure for an error answer, XrpcRequestFailed
 * for none; a body that is not JSON, or not an XRPC answer) to the port's named errors.
 */
export function mapBlueskyError(
  endpoint: string,
  error: unknown,
  targetUserId: string | undefined,
  clock: Clock = systemClock,
): Error {
  if (error instanceof XrpcRequestFailed) return requestFailed(endpoint, error.message, error);
  if (error instanceof SyntaxError || error instanceof TypeError) {
    // A 200 whose body is cut short or not JSON, or a session answer without its tokens.
    return unreadableAnswer(endpoint, error.message, error);
  }
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    // The answer's body did not arrive in time.
    return requestFailed(endpoint, error.message, error);
  }
  if (!(error instanceof XrpcFailure)) return otherFailure(endpoint, error);
  const status = error.status;
  const code = error.error;
  const auth = status === 401 || TOKEN_ERRORS.has(code);
  const gone =
    targetUserId !== undefined &&
    (GONE_ERRORS.has(code) || (status === 400 && /profile not found|could not find/i.test(error.message)));
  return errorForStatus({
    endpoint,
    status,
    cause: error,
    targetUserId,
    resetAt: () => {
      const reset = headerNumber(error.headers, 'ratelimit-reset');
      return Number.isFinite(reset) ? reset * 1000 : clock.now() + 5 * 60_000;
    },
    limit: {
      limit: error.headers.get('ratelimit-limit') ?? undefined,
      policy: error.headers.get('ratelimit-policy') ?? undefined,
    },
    auth,
    gone,
    code,
  });
}

/** A Bluesky adapter: `createBlueskyPlatform({ service, identifier, password })` or `({ service, session, onSession })`. */
export function createBlueskyPlatform(options: BlueskyPlatformOptions): BlueskyPlatform {
  return new BlueskyPlatform(options);
}
