import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  contextRecord,
  describeContext,
  type Vault,
  type VaultContext,
  VaultError,
  VaultOpenError,
} from '../../ports/vault.ts';

/** KMS encrypts at most 4096 bytes directly; tokens are far smaller. */
export const KMS_MAX_PLAINTEXT_BYTES = 4096;

/** KMS errors that mean "this ciphertext does not open here", not "KMS is unwell". */
const refusal = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

export interface KmsVaultOptions {
  client: KMSClient;
  /** Key id or ARN; decryption is pinned to it, so a ciphertext of another key is refused. */
  keyId: string;
}

/**
 * The vault on AWS KMS: Encrypt/Decrypt with the symmetric key, the context as the KMS encryption
 * context ({clientId, accountId, purpose}). IAM can then require those keys on every call, and
 * CloudTrail records which tenant's secret was opened.
 */
export class KmsVault implements Vault {
  readonly scheme = 'kms' as const;
  readonly #client: KMSClient;
  readonly #keyId: string;

  constructor(options: KmsVaultOptions) {
    this.#client = options.client;
    this.#keyId = options.keyId;
  }

  async seal(plaintext: string, context: VaultContext): Promise<Uint8Array> {
    const encryptionContext = contextRecord(context);
    const bytes = new TextEncoder().encode(plaintext);
    if (bytes.length > KMS_MAX_PLAINTEXT_BYTES) {
      throw new VaultError(
        `secret for ${describeContext(context)} is ${bytes.length} bytes; KMS seals at most ${KMS_MAX_PLAINTEXT_BYTES}`,
        { details: { ...context } },
      );
    }
    try {
      const out = await this.#client.send(
        new EncryptCommand({ KeyId: this.#keyId, Plaintext: bytes, EncryptionContext: encryptionContext }),
      );
      if (out.CiphertextBlob === undefined) throw new Error('Encrypt returned no CiphertextBlob');
      return out.CiphertextBlob;
    } catch (error) {
      throw new VaultError(`KMS Encrypt for ${describeContext(context)} failed: ${errorName(error)}`, {
        cause: error,
        details: { ...context, keyId: this.#keyId },
      });
    }
  }

  async open(sealed: Uint8Array, context: VaultContext): Promise<string> {
    const encryptionContext = contextRecord(context);
    let plaintext: Uint8Array | undefined;
    try {
      const out = await this.#client.send(
        new DecryptCommand({
          CiphertextBlob: sealed,
          KeyId: this.#keyId,
          EncryptionContext: encryptionContext,
        }),
      );
      plaintext = out.Plaintext;
    } catch (error) {
      if (refusal.has(errorName(error))) {
        throw new VaultOpenError(
          `sealed secret does not open for ${describeContext(context)}: sealed for another client, account or purpose, with another key, or altered`,
          { cause: error, details: { ...context } },
        );
      }
      throw new VaultError(`KMS Decrypt for ${describeContext(context)} failed: ${errorName(error)}`, {
        cause: error,
        details: { ...context, keyId: this.#keyId },
      });
    }
    if (plaintext === undefined) {
      throw new VaultError(`KMS Decrypt for ${describeContext(context)} returned no plaintext`, {
        details: { ...context },
      });
    }
    return new TextDecoder().decode(plaintext);
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : String(error);
}
