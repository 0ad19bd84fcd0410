import type { ReadCap } from '../../domain/account-state.ts';
import {
  BudgetExhaustedError,
  CursorRejectedError,
  MalformedResponseError,
  RateLimitedError,
  TransientPlatformError,
} from '../../domain/errors.ts';
import type { StopReason } from './types.ts';

/**
 * Why an observe run stops early: thrown by a read, caught once by the run (observe.ts), which keeps
 * its checkpoint and reports the reason. Never leaves the use case.
 */
export class Stop extends Error {
  constructor(
    readonly reason: StopReason,
    message: string,
    readonly until?: number,
    readonly cap?: ReadCap,
  ) {
    super(message);
  }
}

/** The stop a platform's error means, or the error itself when it is no reason to stop cleanly. */
export function stopFor(error: unknown): Stop | unknown {
  if (error instanceof RateLimitedError) return new Stop('rate_limited', error.message, error.resetAt);
  if (error instanceof CursorRejectedError) return new Stop('cursor_refused', error.message);
  if (error instanceof TransientPlatformError || error instanceof MalformedResponseError) {
    return new Stop('platform_error', `${error.name}: ${error.message}`);
  }
  if (error instanceof BudgetExhaustedError) return new Stop('budget', error.message);
  return error;
}
