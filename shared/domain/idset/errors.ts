import { FollowbackError } from '../errors.ts';

/** Why an encoded id set was refused; tests and callers branch on this, never on message text. */
export type CorruptEncodingReason =
  | 'truncated'
  | 'checksum'
  | 'version'
  | 'kind'
  | 'compression'
  | 'header'
  | 'length'
  | 'varint'
  | 'order'
  | 'overflow'
  | 'count';

/**
 * Stored bytes of an id set or delta could not be decoded: wrong format version, a checksum
 * mismatch, a truncated or overlong varint, ids that do not increase, a count that does not match.
 * This is an integrity failure of our own data (not bad outside input), so it is its own class.
 */
export class CorruptEncodingError extends FollowbackError {
  override readonly name = 'CorruptEncodingError';
  readonly reason: CorruptEncodingReason;

  constructor(reason: CorruptEncodingReason, message: string, options: { cause?: unknown } = {}) {
    super(`corrupt id encoding (${reason}): ${message}`, { ...options, details: { reason } });
    this.reason = reason;
  }
}
