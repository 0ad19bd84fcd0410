import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  contextBytes,
  describeContext,
  type Vault,
  type VaultContext,
  VaultError,
  VaultOpenError,
} from '../../ports/vault.ts';

/**
 * The local vault: AES-256-GCM with a key kept in a file under the local state directory
 * (`.followback/vault.key`, mode 0600), the context as additional authenticated data.
 *
 * Sealed layout: version (1 byte, 0x01) | IV (12 bytes) | ciphertext | GCM tag (16 bytes).
 */
const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const LOCAL_VAULT_KEY_BYTES = 32;
export const LOCAL_VAULT_KEY_FILE = 'vault.key';

export class LocalVault implements Vault {
  readonly scheme = 'aes-256-gcm' as const;
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== LOCAL_VAULT_KEY_BYTES) {
      throw new VaultError(`a local vault key is ${LOCAL_VAULT_KEY_BYTES} bytes, got ${key.length}`);
    }
    this.#key = Buffer.from(key);
  }

  /**
   * The vault of a local state directory: reads `<dir>/vault.key`, or creates it (32 random bytes,
   * base64url, mode 0600) when absent. A key file readable by group or others is refused.
   */
  static async inDirectory(dir: string): Promise<LocalVault> {
    return LocalVault.fromKeyFile(join(dir, LOCAL_VAULT_KEY_FILE));
  }

  static async fromKeyFile(path: string): Promise<LocalVault> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(`${randomBytes(LOCAL_VAULT_KEY_BYTES).toString('base64url')}\n`);
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new VaultError(`cannot create the local vault key ${path}: ${(error as Error).message}`, {
          cause: error,
          details: { path },
        });
      }
    }
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0) {
      throw new VaultError(
        `the local vault key ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
        { details: { path } },
      );
    }
    const text = (await readFile(path, 'utf8')).trim();
    const key = Buffer.from(text, 'base64url');
    if (key.length !== LOCAL_VAULT_KEY_BYTES || key.toString('base64url') !== text) {
      throw new VaultError(`the local vault key ${path} is not ${LOCAL_VAULT_KEY_BYTES} bytes of base64url`, {
        details: { path },
      });
    }
    return new LocalVault(key);
  }

  async seal(plaintext: string, context: VaultContext): Promise<Uint8Array> {
    const aad = contextBytes(context);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return new Uint8Array(Buffer.concat([Buffer.of(VERSION), iv, body, cipher.getAuthTag()]));
  }

  async open(sealed: Uint8Array, context: VaultContext): Promise<string> {
    const aad = contextBytes(context);
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
      throw new VaultOpenError(
        `sealed secret for ${describeContext(context)} is not a local vault ciphertext`,
        {
          details: { ...context },
        },
      );
    }
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    const iv = bytes.subarray(1, 1 + IV_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const body = bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new VaultOpenError(
        `sealed secret does not open for ${describeContext(context)}: sealed for another client, account or purpose, with another key, or altered`,
        { cause: error, details: { ...context } },
      );
    }
  }
}
