/**
 * Errors as named classes with causes. Every error that crosses a port is one of these,
 * so callers branch on the class, never on message text.
 */
export class FollowbackError extends Error {
  override readonly name: string = 'FollowbackError';
  readonly details: Readonly<Record<string, unknown>>;

  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details ?? {};
  }
}

/** A configuration value is missing or invalid; the message names it. */
export class ConfigError extends FollowbackError {
  override readonly name: string = 'ConfigError';
}

/** Input from outside (an event, a request, a file) failed validation; the message names the field. */
export class ValidationError extends FollowbackError {
  override readonly name: string = 'ValidationError';
}

/** A conditional write lost a race: someone else changed the item first. */
export class ConflictError extends FollowbackError {
  override readonly name: string = 'ConflictError';
}

/** The platform refused for rate limiting; try again at `resetAt` (epoch ms). */
export class RateLimitedError extends FollowbackError {
  override readonly name: string = 'RateLimitedError';
  constructor(
    readonly resetAt: number,
    message = `rate limited until ${new Date(resetAt).toISOString()}`,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options);
  }
}

/** A 5xx, a timeout or a dropped connection: the same call may succeed later. */
export class TransientPlatformError extends FollowbackError {
  override readonly name: string = 'TransientPlatformError';
}

/** The platform answered with something that does not match its documented shape. */
export class MalformedResponseError extends FollowbackError {
  override readonly name: string = 'MalformedResponseError';
}

/**
 * The platform refused the pagination cursor of a list read (X answers 400 to a stale or unknown
 * `pagination_token`): the cursor is dropped and the scan starts again from the top.
 */
export class CursorRejectedError extends MalformedResponseError {
  override readonly name: string = 'CursorRejectedError';
}

/** The target user is gone: deleted, suspended or otherwise not visible (X answers 404 or 403). */
export class UserGoneError extends FollowbackError {
  override readonly name: string = 'UserGoneError';
}

/** The account's credentials were refused (expired, revoked); a person must reconnect it. */
export class AuthError extends FollowbackError {
  override readonly name: string = 'AuthError';
}

/** A read budget (requests or money) for the period is spent. */
export class BudgetExhaustedError extends FollowbackError {
  override readonly name: string = 'BudgetExhaustedError';
}

/**
 * The store refused one record for what it holds (DynamoDB: an item over 400 KB), not for a failure of
 * the store: the same write will fail again, so the caller stores less or skips that record.
 */
export class RecordTooLargeError extends FollowbackError {
  override readonly name: string = 'RecordTooLargeError';
}

/**
 * Code broke one of its own invariants (an index past the end of an array the loop bounds, a key a
 * map was just given): a bug, never bad input. Thrown by `invariant` and `defined` (invariant.ts).
 */
export class InvariantError extends FollowbackError {
  override readonly name: string = 'InvariantError';
}
