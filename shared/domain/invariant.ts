/**
 * Assertions for what the code itself guarantees but the type checker cannot see (an index the loop
 * bounds, under `noUncheckedIndexedAccess`; a key the map was just given). In place of a non-null
 * assertion (`!`, off by lint): a broken invariant throws InvariantError naming what was missing,
 * instead of an `undefined` travelling on. Input from outside is validated, not asserted.
 *
 * `message` and `what` are plain strings so a hot loop builds nothing per call; put the context a
 * reader needs into them as constants.
 */
import { InvariantError } from './errors.ts';

/** Throws InvariantError(`message`) unless `condition` holds; narrows like `if`. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(`invariant broken: ${message}`);
}

/** `value`, or InvariantError naming `what` when it is undefined or null. */
export function defined<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new InvariantError(`invariant broken: ${what} is missing`);
  return value;
}
