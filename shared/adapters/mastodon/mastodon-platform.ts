/**
 * The Mastodon adapter of the Platform port, on masto (createRestAPIClient). Ids are the instance's
 * account ids, as strings (decimal on Mastodon, not on every server that speaks its API).
 *
 * - Lists: GET /api/v1/accounts/:id/followers|following, 1-80 per page; the cursor is the `max_id` of
 *   the Link header's `rel="next"`.
 * - Follow: look first (GET /api/v1/accounts/relationships), then POST /api/v1/accounts/:id/follow.
 *   Following (or a request pending) already counts as done without a second call; a locked account
 *   answers `requested: true` (the port's `requested`).
 * - Profiles: GET /api/v1/accounts?id[]= (40 per call, Mastodon 4.3+), or one by one on an older
 *   instance. The note is HTML: the bio is its text. `bot` is the account's own flag; `#nobot` in
 *   the bio is left to the policy, which reads the bio.
 * - Limits: 300 requests per 5 minutes and 400 follows per day by default; an instance sets its own
 *   (`instance`). `X-RateLimit-*` headers become the RateLimitSnapshot, a 429 a RateLimitedError at
 *   `X-RateLimit-Reset`.
 *
 * Failures map to the port's errors: 429 RateLimitedError, 5xx / network / timeout / an answer that
 * is not JSON in an error TransientPlatformError, a body off the entity's shape MalformedResponseError,
 * a target not found (404/410) or not allowed (403: suspended, blocking) UserGoneError, 401 and a 403
 * `insufficient_scope` (a token without write access: the account must be reconnected) AuthError.
 *
 * Servers that speak Mastodon's API differently work too: a batch look-up route that answers a
 * plain-text 404, lists that ignore `limit` or send no Link header (paged by the last account's id
 * then), answers without rate-limit headers.
 */
import {
  createRestAPIClient,
  MastoDeserializeError,
  MastoHttpError,
  MastoTimeoutError,
  MastoUnexpectedError,
  type mastodon,
} from 'masto';
import {
  AuthError,
  MalformedResponseError,
  TransientPlatformError,
  UserGoneError,
  ValidationError,
} from '../../domain/errors.ts';
import { defined } from '../../domain/invariant.ts';
import { boundedUser } from '../../domain/profile-bounds.ts';
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
  followOutcome,
  otherFailure,
  parseAnswer,
  requestFailed,
  unreadableAnswer,
} from '../platform-errors.ts';
import {
  type MastodonAccount,
  mastodonAccountListSchema,
  mastodonAccountSchema,
  mastodonNotificationListSchema,
  mastodonRelationshipListSchema,
  mastodonRelationshipSchema,
} from './mastodon-schemas.ts';

/** Mastodon's defaults (2026); an instance may set others (MastodonInstanceLimits). */
export const MASTODON_LIMITS: PlatformLimits = {
  graphReadsPerWindow: 300,
  graphReadWindowMs: 5 * 60_000,
  maxPageSize: 80,
  followsPerWindow: 300,
  followWindowMs: 5 * 60_000,
  followsPerDay: 400,
};

/** An instance's own limits, where they differ from Mastodon's defaults. */
export interface MastodonInstanceLimits {
  /** Requests per 5 minutes per account, all endpoints. Default 300. */
  requestsPer5Minutes?: number | undefined;
  /** Follows per 24 hours per account. Default 400. */
  followsPerDay?: number | undefined;
}

export function mastodonLimits(instance: MastodonInstanceLimits = {}): PlatformLimits {
  const requests = instance.requestsPer5Minutes ?? MASTODON_LIMITS.graphReadsPerWindow;
  const perDay = instance.followsPerDay ?? MASTODON_LIMITS.followsPerDay;
  for (const [name, value] of [
    ['requestsPer5Minutes', requests],
    ['followsPerDay', perDay],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ValidationError(`instance.${name} must be a positive integer, got ${value}`);
    }
  }
  return {
    ...MASTODON_LIMITS,
    graphReadsPerWindow: requests,
    followsPerWindow: requests,
    followsPerDay: perDay,
  };
}

/** Supplies the account's access token. */
export type MastodonTokenProvider = () => Promise<string>;

export interface MastodonPlatformOptions {
  /** The instance, e.g. https://mastodon.social (or the sandbox). */
  url: string;
  accessToken: string | MastodonTokenProvider;
  /** Per-request timeout; a timeout is a TransientPlatformError. Default 10 s. */
  timeoutMs?: number;
  /** The instance's own limits. */
  instance?: MastodonInstanceLimits | undefined;
  /** For a reset the platform did not give. */
  clock?: Clock;
}

type Client = mastodon.rest.Client;

/** Mastodon's notifications come 40 a page by default, 80 at most. */
const MAX_NOTIFICATIONS_PAGE = 80;

interface Raw<T> {
  headers: Headers;
  data: T;
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new ValidationError(`Mastodon instance URL is not a URL: ${JSON.stringify(raw)}`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(`Mastodon instance URL must be http or https, got ${url.protocol}`);
  }
  return url;
}

function rateLimitOf(endpoint: string, headers: Headers | undefined): RateLimitSnapshot | undefined {
  const limit = Number(headers?.get('x-ratelimit-limit'));
  const remaining = Number(headers?.get('x-ratelimit-remaining'));
  const resetAt = Date.parse(headers?.get('x-ratelimit-reset') ?? '');
  if (![limit, remaining, resetAt].every(Number.isFinite)) return undefined;
  return { endpoint, limit, remaining, resetAt };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The text of a Mastodon note (HTML): paragraphs and line breaks kept, tags dropped, entities decoded. */
export function noteText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>\s*<p[^>]*>/gi, '\n\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, code: string) => {
      if (code.startsWith('#x') || code.startsWith('#X'))
        return String.fromCodePoint(Number.parseInt(code.slice(2), 16));
      if (code.startsWith('#')) return String.fromCodePoint(Number.parseInt(code.slice(1), 10));
      return ENTITIES[code.toLowerCase()] ?? entity;
    })
    .trim();
}

/** The port's user, its stranger-supplied text bounded (shared/domain/profile-bounds.ts). */
function toPlatformUser(...args: Parameters<typeof unboundedUser>): PlatformUser {
  return boundedUser(unboundedUser(...args));
}

function unboundedUser(account: MastodonAccount): PlatformUser {
  const createdAt = account.createdAt === undefined ? Number.NaN : Date.parse(account.createdAt);
  return {
    id: account.id,
    handle: account.acct,
    name: account.displayName ?? '',
    bio: noteText(account.note ?? ''),
    createdAt: Number.isNaN(createdAt) ? undefined : createdAt,
    followersCount: account.followersCount,
    followingCount: account.followingCount,
    protected: account.locked ?? false,
    defaultAvatar: account.avatar === undefined ? undefined : /\/missing\.png$/.test(account.avatar),
    avatarUrl: account.avatar,
    bot: account.bot ?? false,
  };
}

/** The `max_id` of the Link header's next page, or undefined on the last page. */
function nextMaxId(endpoint: string, headers: Headers): string | undefined {
  const link = headers.get('link');
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const [, target, rel] = /<([^>]+)>;\s*rel="([^"]+)"/.exec(part) ?? [];
    if (rel !== 'next' || target === undefined) continue;
    let maxId: string | null;
    try {
      maxId = new URL(target).searchParams.get('max_id');
    } catch (cause) {
      throw new MalformedResponseError(`${endpoint}: the next link is not a URL`, {
        cause,
        details: { endpoint },
      });
    }
    if (!maxId)
      throw new MalformedResponseError(`${endpoint}: the next link has no max_id`, { details: { endpoint } });
    return maxId;
  }
  return undefined;
}

export class MastodonPlatform implements Platform {
  readonly network = 'mastodon' as const;
  readonly limits: PlatformLimits;
  readonly #url: URL;
  readonly #token: MastodonTokenProvider;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  #client: { token: string; api: Client } | undefined;
  /** False once the instance answered 404 to GET /api/v1/accounts?id[] (older than 4.3). */
  #batchLookup = true;

  constructor(options: MastodonPlatformOptions) {
    this.#url = parseUrl(options.url);
    const token = options.accessToken;
    this.#token = typeof token === 'string' ? async () => token : token;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#clock = options.clock ?? systemClock;
    this.limits = mastodonLimits(options.instance);
  }

  async me(): Promise<PlatformUser> {
    const endpoint = 'accounts/verify_credentials';
    const answer = await this.#call(endpoint, (api) => api.v1.accounts.verifyCredentials.$raw());
    return toPlatformUser(parseAnswer(endpoint, mastodonAccountSchema, answer.data));
  }

  listFollowers(userId: string, request: PageRequest): Promise<GraphPage> {
    return this.#list('followers', userId, request);
  }

  listFollowing(userId: string, request: PageRequest): Promise<GraphPage> {
    return this.#list('following', userId, request);
  }

  async follow(sourceUserId: string, targetUserId: string): Promise<FollowResult> {
    const current = (await this.relationships(sourceUserId, [targetUserId])).get(targetUserId);
    if (!current) {
      throw new UserGoneError(`accounts/relationships: account ${targetUserId} is not available`, {
        details: { endpoint: 'accounts/relationships', targetUserId },
      });
    }
    if (current.following) return { outcome: 'already_following' };
    if (current.requested) return { outcome: 'requested' };
    const endpoint = 'accounts/:id/follow';
    const answer = await this.#call(
      endpoint,
      (api) => api.v1.accounts.$select(targetUserId).follow.$raw(),
      targetUserId,
    );
    const relationship = parseAnswer(endpoint, mastodonRelationshipSchema, answer.data);
    const outcome = followOutcome(relationship);
    return { outcome, rateLimit: rateLimitOf(endpoint, answer.headers) };
  }

  async unfollow(_sourceUserId: string, targetUserId: string): Promise<void> {
    const endpoint = 'accounts/:id/unfollow';
    const answer = await this.#call(
      endpoint,
      (api) => api.v1.accounts.$select(targetUserId).unfollow.$raw(),
      targetUserId,
    );
    parseAnswer(endpoint, mastodonRelationshipSchema, answer.data);
  }

  async lookupUsers(userIds: readonly string[]): Promise<PlatformUser[]> {
    const accounts: MastodonAccount[] = [];
    for (let start = 0; start < userIds.length && this.#batchLookup; start += 40) {
      const ids = userIds.slice(start, start + 40);
      try {
        const answer = await this.#call('accounts', (api) => api.v1.accounts.fetch.$raw({ id: ids }));
        accounts.push(...parseAnswer('accounts', mastodonAccountListSchema, answer.data));
      } catch (error) {
        if (!(await this.#batchMissing(error, defined(ids[0], 'the first id of a non-empty batch'))))
          throw error;
        this.#batchLookup = false;
        accounts.length = 0;
      }
    }
    if (!this.#batchLookup) {
      for (const id of userIds) {
        try {
          const answer = await this.#call(
            'accounts/:id',
            (api) => api.v1.accounts.$select(id).fetch.$raw(),
            id,
          );
          accounts.push(parseAnswer('accounts/:id', mastodonAccountSchema, answer.data));
        } catch (error) {
          if (!(error instanceof UserGoneError)) throw error;
        }
      }
    }
    // A suspended account is shown emptied: it is gone for followback's purposes.
    return accounts.filter((account) => !account.suspended).map(toPlatformUser);
  }

  /**
   * Whether a failed batch look-up means the instance has no such route (older than 4.3, or another
   * server): a JSON 404 says so; an answer masto cannot read (a plain-text or HTML 404 loses its
   * status on the way) says so only if a single look-up then answers in JSON, and otherwise is the
   * server failing (a proxy's error page) and stays transient.
   */
  async #batchMissing(error: unknown, probeId: string): Promise<boolean> {
    if (error instanceof MalformedResponseError && error.details.status === 404) return true;
    const cause = error instanceof TransientPlatformError ? error.cause : undefined;
    if (!(cause instanceof MastoUnexpectedError || cause instanceof TypeError)) return false;
    try {
      await this.#call('accounts/:id', (api) => api.v1.accounts.$select(probeId).fetch.$raw(), probeId);
      return true;
    } catch (probe) {
      return probe instanceof UserGoneError;
    }
  }

  /** The token's account's relationships (whatever `sourceUserId`); unknown, deleted or suspended targets are absent. */
  async relationships(
    _sourceUserId: string,
    targetUserIds: readonly string[],
  ): Promise<Map<string, Relationship>> {
    const endpoint = 'accounts/relationships';
    const out = new Map<string, Relationship>();
    for (let start = 0; start < targetUserIds.length; start += 40) {
      const ids = targetUserIds.slice(start, start + 40);
      const answer = await this.#call(endpoint, (api) =>
        api.v1.accounts.relationships.fetch.$raw({ id: ids }),
      );
      for (const relationship of parseAnswer(endpoint, mastodonRelationshipListSchema, answer.data)) {
        out.set(relationship.id, {
          followedBy: relationship.followedBy,
          following: relationship.following,
          requested: relationship.requested ?? false,
        });
      }
    }
    return out;
  }

  /** GET /api/v1/notifications?types[]=follow (and follow_request): who followed, newest first. */
  async followNotices(request: FollowNoticeRequest): Promise<FollowNoticePage> {
    const endpoint = 'notifications';
    const limit = Math.min(MAX_NOTIFICATIONS_PAGE, Math.max(1, Math.floor(request.pageSize)));
    const types: mastodon.v1.NotificationType[] = request.requests
      ? ['follow', 'follow_request']
      : ['follow'];
    const answer = await this.#call(endpoint, async (api) => {
      const list = api.v1.notifications.list.$raw({
        types,
        limit,
        ...(request.cursor === undefined ? {} : { maxId: request.cursor }),
      });
      return (await list) as Raw<unknown>;
    });
    const notifications = parseAnswer(endpoint, mastodonNotificationListSchema, answer.data);
    const notices = notifications.flatMap((notification) => {
      const at = Date.parse(notification.createdAt);
      if (!Number.isFinite(at)) {
        throw new MalformedResponseError(`${endpoint}: created_at is not a time`, { details: { endpoint } });
      }
      // Servers may send other types despite the filter: only follows and follow requests count.
      if (notification.type !== 'follow' && notification.type !== 'follow_request') return [];
      const kind: 'follow' | 'follow_request' = notification.type;
      return [{ id: notification.id, kind, at, user: toPlatformUser(notification.account) }];
    });
    const last = notifications.at(-1);
    const next =
      last === undefined
        ? undefined
        : answer.headers.has('link')
          ? nextMaxId(endpoint, answer.headers)
          : last.id;
    return {
      notices,
      nextCursor: next !== undefined && next !== request.cursor ? next : undefined,
      rateLimit: rateLimitOf(endpoint, answer.headers),
    };
  }

  async #list(kind: 'followers' | 'following', userId: string, request: PageRequest): Promise<GraphPage> {
    const endpoint = `accounts/:id/${kind}`;
    const limit = Math.min(this.limits.maxPageSize, Math.max(1, Math.floor(request.pageSize)));
    const answer = await this.#call(endpoint, async (api) => {
      const list = api.v1.accounts.$select(userId)[kind].list.$raw({
        limit,
        ...(request.cursor === undefined ? {} : { maxId: request.cursor }),
      });
      return (await list) as Raw<unknown>;
    });
    const accounts = parseAnswer(endpoint, mastodonAccountListSchema, answer.data);
    // Without a Link header at all (servers that speak Mastodon's API but do not page as it does),
    // the next page is below the last account of this one, until a page comes back empty.
    const last = accounts.at(-1);
    const next =
      last === undefined
        ? undefined
        : answer.headers.has('link')
          ? nextMaxId(endpoint, answer.headers)
          : last.id;
    // A cursor that does not move would read the same page forever: treat it as the end.
    const nextCursor = next !== undefined && next !== request.cursor ? next : undefined;
    return {
      users: accounts.map(toPlatformUser),
      nextCursor,
      rateLimit: rateLimitOf(endpoint, answer.headers),
    };
  }

  async #api(): Promise<Client> {
    const token = await this.#token();
    if (this.#client?.token !== token) {
      this.#client = {
        token,
        api: createRestAPIClient({ url: this.#url.href, accessToken: token, timeout: this.#timeoutMs }),
      };
    }
    return this.#client.api;
  }

  /** Runs one request and maps every failure to the port's named errors. */
  async #call<T>(
    endpoint: string,
    send: (api: Client) => Promise<Raw<T>>,
    targetUserId?: string,
  ): Promise<Raw<T>> {
    const api = await this.#api();
    try {
      return await send(api);
    } catch (error) {
      throw mapMastodonError(endpoint, error, targetUserId, this.#clock);
    }
  }
}

/** Maps a masto failure to the port's named errors. */
export function mapMastodonError(
  endpoint: string,
  error: unknown,
  targetUserId: string | undefined,
  clock: Clock = systemClock,
): Error {
  if (error instanceof MastoHttpError) {
    const status = error.statusCode;
    const headers = error.cause instanceof Response ? error.cause.headers : undefined;
    // Doorkeeper's answer to a token without the scope (read-only, say): the account must be
    // reconnected with the scopes followback asks for. It says nothing of the target.
    if (status === 403 && insufficientScope(error, headers)) {
      return new AuthError(
        `${endpoint}: the token lacks the scope for this (403 insufficient_scope): reconnect the account`,
        { cause: error, details: { endpoint, code: 'insufficient_scope' } },
      );
    }
    if (status === 403 && targetUserId === undefined) {
      return new AuthError(`${endpoint}: the account may not act (403: ${error.message})`, {
        cause: error,
        details: { endpoint },
      });
    }
    return errorForStatus({
      endpoint,
      status,
      cause: error,
      targetUserId,
      resetAt: () => {
        const reset = Date.parse(headers?.get('x-ratelimit-reset') ?? '');
        return Number.isFinite(reset) ? reset : clock.now() + 5 * 60_000;
      },
      limit: { limit: headers?.get('x-ratelimit-limit'), remaining: headers?.get('x-ratelimit-remaining') },
      gone: (status === 404 || status === 410 || status === 403) && targetUserId !== undefined,
      noun: 'account',
      said: error.message,
    });
  }
  if (error instanceof MastoDeserializeError) {
    return unreadableAnswer(endpoint, error.message.slice(0, 200), error);
  }
  if (error instanceof MastoTimeoutError) {
    return new TransientPlatformError(`${endpoint}: timed out`, { cause: error, details: { endpoint } });
  }
  // An error answered in something other than JSON (a proxy's HTML page, say) surfaces as
  // MastoUnexpectedError or as masto failing to read it (TypeError); so does a dropped connection.
  if (error instanceof MastoUnexpectedError || error instanceof TypeError) {
    const reason = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
    return requestFailed(endpoint, reason, error);
  }
  return otherFailure(endpoint, error);
}

function insufficientScope(error: MastoHttpError, headers: Headers | undefined): boolean {
  return (
    /insufficient_scope/i.test(headers?.get('www-authenticate') ?? '') ||
    /outside the authorized scopes/i.test(error.message)
  );
}

/** A Mastodon adapter: `createMastodonPlatform({ url, accessToken, instance? })`. */
export function createMastodonPlatform(options: MastodonPlatformOptions): MastodonPlatform {
  return new MastodonPlatform(options);
}
