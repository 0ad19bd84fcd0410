/**
 * What the platform adapters (X, Bluesky, Mastodon) share in mapping failures to the port's named
 * errors: an HTTP status to RateLimitedError / AuthError / UserGoneError / TransientPlatformError /
 * MalformedResponseError, an answer off its schema to MalformedResponseError naming the field, and
 * failures that never got an answer. Each adapter keeps what is its platform's own (X's 24-hour user
 * cap, Bluesky's XRPC error names, Mastodon's 403 and HTML 503) and passes it in.
 */
import * as z from '../config/zod.ts';
import {
  AuthError,
  MalformedResponseError,
  RateLimitedError,
  TransientPlatformError,
  UserGoneError,
} from '../domain/errors.ts';

export interface StatusFailure {
  endpoint: string;
  status: number;
  cause: unknown;
  /** For a 429: when the limit resets (epoch ms), from the platform's headers or a fallback. */
  resetAt: () => number;
  /** For a 429: what the platform said of the limit (its headers), for the details. */
  limit?: Record<string, unknown> | undefined;
  targetUserId?: string | undefined;
  /** Whether the answer refuses the credentials. Default: a 401. */
  auth?: boolean | undefined;
  /** Whether the answer says the target is gone. Default: a 404 or 403 about a target. */
  gone?: boolean | undefined;
  /** The platform's name for the error (Bluesky's XRPC error), in the messages and details. */
  code?: string | undefined;
  /** What the platform said, after an unexpected status. Default: `code`. */
  said?: string | undefined;
  /** How messages name the target. Default 'user'. */
  noun?: string | undefined;
}

/**
 * The port's error for an answer with a failing status: 429 RateLimitedError at `resetAt`, refused
 * credentials AuthError, a gone target UserGoneError, 5xx TransientPlatformError, anything else
 * MalformedResponseError (an answer the adapter does not expect).
 */
export function errorForStatus(failure: StatusFailure): Error {
  const { endpoint, status, cause, targetUserId, code } = failure;
  const details = { endpoint };
  if (status === 429) {
    const resetAt = failure.resetAt();
    return new RateLimitedError(
      resetAt,
      `${endpoint}: rate limited until ${new Date(resetAt).toISOString()}`,
      {
        cause,
        details: { ...details, ...failure.limit },
      },
    );
  }
  if (failure.auth ?? status === 401) {
    const why = code === undefined ? `${status}` : `${status} ${code}`;
    return new AuthError(`${endpoint}: credentials refused (${why})`, { cause, details });
  }
  if (failure.gone ?? ((status === 404 || status === 403) && targetUserId !== undefined)) {
    const noun = failure.noun ?? 'user';
    return new UserGoneError(`${endpoint}: ${noun} ${targetUserId} is not available (${code ?? status})`, {
      cause,
      details: { ...details, status, ...(code === undefined ? {} : { code }), targetUserId },
    });
  }
  if (status >= 500) {
    return new TransientPlatformError(`${endpoint}: server error ${status}`, { cause, details });
  }
  const said = failure.said ?? code;
  return new MalformedResponseError(
    `${endpoint}: unexpected status ${status}${said === undefined ? '' : ` (${said})`}`,
    { cause, details: { ...details, status, ...(code === undefined ? {} : { code }) } },
  );
}

/** The answer's body as `schema` reads it, or a MalformedResponseError naming the first field off it. */
export function parseAnswer<S extends z.core.$ZodType>(
  endpoint: string,
  schema: S,
  body: unknown,
): z.output<S> {
  const result = z.safeParse(schema, body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(body)';
    throw new MalformedResponseError(
      `${endpoint}: unexpected answer at ${where}: ${issue?.message ?? 'invalid'}`,
      {
        cause: result.error,
        details: { endpoint },
      },
    );
  }
  return result.data;
}

/**
 * A follow's outcome from the answer's flags (`requested` wins over `following`). A well-formed answer
 * with both false is the target refusing the follow (it blocks the owner, say): a final outcome, not
 * a malformed answer to retry.
 */
export function followOutcome(flags: {
  requested?: boolean | undefined;
  following?: boolean | undefined;
}): 'requested' | 'followed' | 'refused' {
  if (flags.requested) return 'requested';
  if (flags.following) return 'followed';
  return 'refused';
}

/** A request that got no answer (network, timeout): the same call may succeed later. */
export function requestFailed(endpoint: string, reason: string, cause: unknown): TransientPlatformError {
  return new TransientPlatformError(`${endpoint}: request failed (${reason})`, {
    cause,
    details: { endpoint },
  });
}

/** An answer the client library could not read. */
export function unreadableAnswer(endpoint: string, reason: string, cause: unknown): MalformedResponseError {
  return new MalformedResponseError(`${endpoint}: the answer could not be read (${reason})`, {
    cause,
    details: { endpoint },
  });
}

/** A failure the client library did not classify: an Error as it is, anything else transient. */
export function otherFailure(endpoint: string, error: unknown): Error {
  return error instanceof Error
    ? error
    : new TransientPlatformError(`${endpoint}: ${String(error)}`, { details: { endpoint } });
}
