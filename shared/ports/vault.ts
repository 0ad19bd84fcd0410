import { FollowbackError } from '../domain/errors.ts';

/**
 * The Vault port: seals secrets (OAuth tokens, app passwords) so that only the account they belong to
 * can open them. The context is bound to the ciphertext as authenticated data (KMS encryption
 * context on AWS, AES-GCM additional data locally): a ciphertext copied onto another client's or
 * account's item, or used for another purpose, does not open.
 */
export interface VaultContext {
  /** The tenant. */
  clientId: string;
  accountId: string;
  /** What the secret is for, e.g. `credentials:x`; a sealed secret opens only for the same purpose. */
  purpose: string;
}

/** Which implementation sealed a secret; stored beside the ciphertext. */
export type VaultScheme = 'kms' | 'aes-256-gcm';

export interface Vault {
  readonly scheme: VaultScheme;
  /** Encrypts `plaintext` bound to `context`. */
  seal(plaintext: string, context: VaultContext): Promise<Uint8Array>;
  /**
   * Decrypts what `seal` returned for the same context. Another context, a tampered or truncated
   * ciphertext, or another key: VaultOpenError. The vault being unreachable: VaultError.
   */
  open(sealed: Uint8Array, context: VaultContext): Promise<string>;
}

/** The vault failed (key unreadable, KMS unreachable or refusing the call). Never carries the secret. */
export class VaultError extends FollowbackError {
  override readonly name: string = 'VaultError';
}

/**
 * A sealed secret does not open under the given context: it was sealed for another client,
 * account or purpose, with another key, or it was altered. Never carries the secret.
 */
export class VaultOpenError extends VaultError {
  override readonly name: string = 'VaultOpenError';
}

/** The context as authenticated data: the same bytes whatever the key order of the object. */
export function contextBytes(context: VaultContext): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(contextRecord(context)));
}

/** The context as a plain record with fixed key order (a KMS encryption context). */
export function contextRecord(context: VaultContext): Record<string, string> {
  for (const field of ['clientId', 'accountId', 'purpose'] as const) {
    const value = context[field];
    if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
      throw new VaultError(`vault context ${field} must be a non-empty string of at most 256 characters`, {
        details: { field },
      });
    }
  }
  return { clientId: context.clientId, accountId: context.accountId, purpose: context.purpose };
}

/** How errors name a context: who, never what. */
export function describeContext(context: VaultContext): string {
  return `${context.clientId}/${context.accountId} (${context.purpose})`;
}
