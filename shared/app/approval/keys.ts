/**
 * The approval links' signing keys as configuration: `APPROVAL_SIGNING_KEY` holds one key, or
 * several separated by commas for rotation (the first signs new links, every one verifies old
 * ones), each base64 (or base64url) of at least 32 random bytes. Errors name the setting and the
 * key's position, never its value.
 */
import { MIN_KEY_BYTES } from '../../domain/approval/token.ts';
import { ConfigError } from '../../domain/errors.ts';

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export function parseApprovalKeys(value: string | undefined, field = 'APPROVAL_SIGNING_KEY'): Uint8Array[] {
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`${field}: is required (base64 of at least ${MIN_KEY_BYTES} random bytes)`, {
      details: { field },
    });
  }
  const parts = value.split(',').map((part) => part.trim());
  return parts.map((part, index) => {
    const where = parts.length === 1 ? field : `${field}[${index}]`;
    if (!BASE64.test(part)) {
      throw new ConfigError(`${where}: is not base64`, { details: { field, index } });
    }
    const bytes = Buffer.from(part.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length < MIN_KEY_BYTES) {
      throw new ConfigError(`${where}: needs at least ${MIN_KEY_BYTES} bytes, has ${bytes.length}`, {
        details: { field, index },
      });
    }
    return new Uint8Array(bytes);
  });
}

/** A key as the setting's value: base64 of the bytes. */
export function formatApprovalKey(key: Uint8Array): string {
  return Buffer.from(key).toString('base64');
}
