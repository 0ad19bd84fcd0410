import { FollowbackError } from '../../shared/domain/errors.ts';

/** Reads a secret's value (SecretString) by ARN: Secrets Manager on AWS, anything in tests. */
export type SecretFetcher = (secretId: string) => Promise<string>;

/** The secret could not be read (Secrets Manager or the network): the invocation may try again. */
export class SecretUnavailableError extends FollowbackError {
  override readonly name = 'SecretUnavailableError';
}

/**
 * A secret read once per Lambda container and kept for its life, parsed by `parse` (which names
 * what is wrong without the value). Only a success is kept: a failed read or a value that does not
 * parse is tried again on the next call, so fixing the secret needs no redeploy. Calls made while a
 * read is in flight share it. Rotation therefore reaches a container when it is recycled; the
 * approval keys' rotation allows for that (a new key is added to the list first, verifying only,
 * and moved to the front once every container has it).
 */
export function cachedSecret<T>(
  fetchSecret: SecretFetcher,
  secretId: string,
  parse: (value: string) => T,
): () => Promise<T> {
  let value: T | undefined;
  let inflight: Promise<T> | undefined;
  const load = async (): Promise<T> => {
    let raw: string;
    try {
      raw = await fetchSecret(secretId);
    } catch (cause) {
      throw new SecretUnavailableError(
        `secret ${secretId} could not be read: ${cause instanceof Error ? cause.name : String(cause)}`,
        { cause, details: { secretId } },
      );
    }
    const parsed = parse(raw);
    value = parsed;
    return parsed;
  };
  return async () => {
    if (value !== undefined) return value;
    inflight ??= load().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
}
