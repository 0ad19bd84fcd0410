import { ConflictError, FollowbackError, RecordTooLargeError } from '../../domain/errors.ts';

/**
 * Errors of the DynamoDB adapter. A lost conditional write is the domain's ConflictError; everything
 * else that goes wrong with the table is a StoreError or one of its subclasses, with the SDK error as
 * the cause and the item's key in the message and in `details`.
 */

/** A DynamoDB call failed (validation, throttling past the SDK's retries, network). */
export class StoreError extends FollowbackError {
  override readonly name: string = 'StoreError';
}

/** An item read back from the table does not have the shape the adapter wrote. */
export class CorruptItemError extends StoreError {
  override readonly name: string = 'CorruptItemError';
}

/** An item that must exist (a chunk, a changeset part, a scan page) is absent. */
export class MissingItemError extends StoreError {
  override readonly name: string = 'MissingItemError';
}

/** BatchWriteItem kept returning unprocessed items after every attempt; nothing was dropped silently. */
export class UnprocessedItemsError extends StoreError {
  override readonly name: string = 'UnprocessedItemsError';
}

/** The table did not become ACTIVE in time. */
export class TableNotReadyError extends StoreError {
  override readonly name: string = 'TableNotReadyError';
}

/**
 * The error for a failed task or bucket call (task-store.ts, bucket-store.ts): a ConflictError or
 * StoreError as it is, an item over DynamoDB's size limit a RecordTooLargeError, anything else a
 * StoreError with the SDK error as its cause.
 */
export function itemCallError(operation: string, what: string, error: unknown): Error {
  if (error instanceof ConflictError || error instanceof StoreError) return error;
  if (isItemTooLarge(error)) {
    return new RecordTooLargeError(`${operation} ${what} refused: the item is too large`, {
      cause: error,
      details: { operation, what },
    });
  }
  return new StoreError(`${operation} ${what} failed`, { cause: error, details: { operation, what } });
}

/** DynamoDB's ValidationException for an item over its size limit. */
function isItemTooLarge(error: unknown): boolean {
  const { name, message } = error as { name?: unknown; message?: unknown };
  return name === 'ValidationException' && typeof message === 'string' && /size/i.test(message);
}
