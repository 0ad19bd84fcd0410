import {
  ApiPartialResponseError,
  ApiRequestError,
  ApiResponseError,
  type ITwitterApiClientPlugin,
  TwitterApi,
  type TwitterRateLimit,
  type TwitterResponse,
} from 'twitter-api-v2';
import { CursorRejectedError, MalformedResponseError } from '../../domain/errors.ts';
import { boundedUser } from '../../domain/profile-bounds.ts';
import type { Clock } from '../../ports/clock.ts';
import type {
  FollowResult,
  GraphPage,
  PageRequest,
  Platform,
  PlatformLimits,
  PlatformUser,
  RateLimitSnapshot,
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
import { baseUrlPlugin, parseBaseUrl } from './x-endpoint.ts';
import {
  type XUser,
  xFollowSchema,
  xSingleUserSchema,
  xUnfollowSchema,
  xUserListSchema,
} from './x-schemas.ts';

export const X_DEFAULT_BASE_URL = 'https://api.x.com';

/** X's published limits (2026): see DESIGN.md section 3. */
export const X_LIMITS: PlatformLimits = {
  graphReadsPerWindow: 300,
  graphReadWindowMs: 15 * 60_000,
  maxPageSize: 1000,
  followsPerWindow: 50,
  followWindowMs: 15 * 60_000,
  followsPerDay: 400,
};

const USER_FIELDS = 'created_at,description,protected,profile_image_url,public_metrics';

/** Supplies the current OAuth 2.0 user access token (refreshing it if needed). */
export type AccessTokenProvider = () => Promise<string>;

export interface XPlatformOptions {
  /** `X_API_BASE_URL`: X itself, the sandbox, or any X-compatible endpoint. */
  baseUrl?: string;
  accessToken: string | AccessTokenProvider;
  /** Per-request timeout; a timeout is a TransientPlatformError. */
  timeoutMs?: number;
  limits?: PlatformLimits;
  /** For the fallback reset of a 429 that carries no rate-limit headers. */
  clock?: Clock;
}

function toRateLimit(
  endpoint: string,
  rateLimit: TwitterRateLimit | undefined,
): RateLimitSnapshot | undefined {
  if (!rateLimit) return undefined;
  return {
    endpoint,
    limit: rateLimit.limit,
    remaining: rateLimit.remaining,
    resetAt: rateLimit.reset * 1000,
  };
}

/** The port's user, its stranger-supplied text bounded (shared/domain/profile-bounds.ts). */
function toPlatformUser(...args: Parameters<typeof unboundedUser>): PlatformUser {
  return boundedUser(unboundedUser(...args));
}

function unboundedUser(user: XUser): PlatformUser {
  const createdAt = user.created_at === undefined ? undefined : Date.parse(user.created_at);
  return {
    id: user.id,
    handle: user.username,
    name: user.name,
    bio: user.description ?? '',
    createdAt: Number.isNaN(createdAt) ? undefined : createdAt,
    followersCount: user.public_metrics?.followers_count,
    followingCount: user.public_metrics?.following_count,
    protected: user.protected ?? false,
    defaultAvatar:
      user.profile_image_url === undefined
        ? undefined
        : user.profile_image_url.includes('default_profile_images'),
    avatarUrl: user.profile_image_url,
  };
}

/** The X adapter of the Platform port, on twitter-api-v2, page by page: no paginator that could stop silently. */
export class XPlatform implements Platform {
  readonly network = 'x' as const;
  readonly limits: PlatformLimits;
  readonly #plugin: ITwitterApiClientPlugin;
  readonly #accessToken: AccessTokenProvider;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  #client: { token: string; api: TwitterApi } | undefined;

  constructor(options: XPlatformOptions) {
    this.#plugin = baseUrlPlugin(parseBaseUrl(options.baseUrl ?? X_DEFAULT_BASE_URL));
    const token = options.accessToken;
    this.#accessToken = typeof token === 'string' ? async () => token : token;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.limits = options.limits ?? X_LIMITS;
    this.#clock = options.clock ?? systemClock;
  }

  async me(): Promise<PlatformUser> {
    const response = await this.#call('users/me', (api) =>
      api.v2.get(
        'users/me',
        { 'user.fields': USER_FIELDS },
        { fullResponse: true, timeout: this.#timeoutMs },
      ),
    );
    return toPlatformUser(parseAnswer('users/me', xSingleUserSchema, response.data).data);
  }

  listFollowers(userId: string, request: PageRequest): Promise<GraphPage> {
    return this.#listGraph('followers', userId, request);
  }

  listFollowing(userId: string, request: PageRequest): Promise<GraphPage> {
    return this.#listGraph('following', userId, request);
  }

  async follow(sourceUserId: string, targetUserId: string): Promise<FollowResult> {
    const endpoint = 'users/:id/following (POST)';
    const response = await this.#call(
      endpoint,
      (api) =>
        api.v2.post(
          'users/:id/following',
          { target_user_id: targetUserId },
          { params: { id: sourceUserId }, fullResponse: true, timeout: this.#timeoutMs },
        ),
      targetUserId,
    );
    const { data } = parseAnswer(endpoint, xFollowSchema, response.data);
    const flags = { requested: data.pending_follow, following: data.following };
    const outcome = followOutcome(flags);
    return { outcome, rateLimit: toRateLimit(endpoint, response.rateLimit) };
  }

  async unfollow(sourceUserId: string, targetUserId: string): Promise<void> {
    const endpoint = 'users/:source_user_id/following/:target_user_id (DELETE)';
    const response = await this.#call(
      endpoint,
      (api) =>
        api.v2.delete('users/:source_user_id/following/:target_user_id', undefined, {
          params: { source_user_id: sourceUserId, target_user_id: targetUserId },
          fullResponse: true,
          timeout: this.#timeoutMs,
        }),
      targetUserId,
    );
    parseAnswer(endpoint, xUnfollowSchema, response.data);
  }

  async lookupUsers(userIds: readonly string[]): Promise<PlatformUser[]> {
    const users: PlatformUser[] = [];
    // X answers up to 100 ids per lookup; ids it cannot show come back in `errors`, not as a failure.
    for (let start = 0; start < userIds.length; start += 100) {
      const ids = userIds.slice(start, start + 100);
      const response = await this.#call('users', (api) =>
        api.v2.get(
          'users',
          { ids: ids.join(','), 'user.fields': USER_FIELDS },
          { fullResponse: true, timeout: this.#timeoutMs },
        ),
      );
      const body = parseAnswer('users', xUserListSchema, response.data);
      for (const user of body.data ?? []) users.push(toPlatformUser(user));
    }
    return users;
  }

  async #listGraph(
    kind: 'followers' | 'following',
    userId: string,
    request: PageRequest,
  ): Promise<GraphPage> {
    const endpoint = `users/:id/${kind}`;
    const maxResults = Math.min(this.limits.maxPageSize, Math.max(1, Math.floor(request.pageSize)));
    const response = await this.#call(endpoint, (api) =>
      api.v2.get(
        `users/:id/${kind}`,
        {
          max_results: maxResults,
          pagination_token: request.cursor,
          'user.fields': USER_FIELDS,
        },
        { params: { id: userId }, fullResponse: true, timeout: this.#timeoutMs },
      ),
    ).catch((error: unknown) => {
      throw request.cursor !== undefined && isBadRequest(error) ? cursorRejected(endpoint, error) : error;
    });
    const body = parseAnswer(endpoint, xUserListSchema, response.data);
    const users = (body.data ?? []).map(toPlatformUser);
    if (body.data === undefined && (body.meta?.result_count ?? 0) > 0) {
      throw new MalformedResponseError(`${endpoint}: result_count > 0 but no data`, {
        details: { endpoint },
      });
    }
    return { users, nextCursor: body.meta?.next_token, rateLimit: toRateLimit(endpoint, response.rateLimit) };
  }

  async #api(): Promise<TwitterApi> {
    const token = await this.#accessToken();
    if (this.#client?.token !== token) {
      this.#client = {
        token,
        api: new TwitterApi(token, { plugins: [this.#plugin], compression: 'identity' }),
      };
    }
    return this.#client.api;
  }

  /** Runs one request and maps every failure to the port's named errors. */
  async #call<T>(
    endpoint: string,
    send: (api: TwitterApi) => Promise<TwitterResponse<T>>,
    targetUserId?: string,
  ): Promise<TwitterResponse<T>> {
    const api = await this.#api();
    try {
      return await send(api);
    } catch (error) {
      throw mapXError(endpoint, error, targetUserId, this.#clock.now());
    }
  }
}

/** A 400 (X's answer to a stale or unknown pagination token, among other bad requests). */
function isBadRequest(error: unknown): boolean {
  return error instanceof MalformedResponseError && (error.details as { status?: unknown }).status === 400;
}

function cursorRejected(endpoint: string, cause: unknown): CursorRejectedError {
  return new CursorRejectedError(`${endpoint}: the pagination token was refused (400)`, {
    cause,
    details: { endpoint, status: 400 },
  });
}

function mapXError(endpoint: string, error: unknown, targetUserId: string | undefined, now: number): Error {
  if (error instanceof ApiResponseError) {
    const rateLimit = error.rateLimit;
    return errorForStatus({
      endpoint,
      status: error.code,
      cause: error,
      targetUserId,
      resetAt: () => {
        // The 24-hour user cap, when spent, outlasts the 15-minute window.
        const userDay = rateLimit?.userDay;
        const resetSeconds = userDay && userDay.remaining <= 0 ? userDay.reset : rateLimit?.reset;
        return resetSeconds === undefined ? now + 15 * 60_000 : resetSeconds * 1000;
      },
      limit: { limit: rateLimit?.limit, remaining: rateLimit?.remaining },
    });
  }
  if (error instanceof ApiPartialResponseError) return unreadableAnswer(endpoint, error.message, error);
  if (error instanceof ApiRequestError) {
    const reason = (error.requestError as Error | undefined)?.message ?? error.message;
    return requestFailed(endpoint, reason, error);
  }
  return otherFailure(endpoint, error);
}
