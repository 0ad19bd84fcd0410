import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsVault } from '../../shared/adapters/vault/kms-vault.ts';
import { LocalVault } from '../../shared/adapters/vault/local-vault.ts';
import { type Vault, type VaultContext, VaultError, VaultOpenError } from '../../shared/ports/vault.ts';
import { type KmsTarget, kmsBackends } from './kms-backends.ts';

const acme: VaultContext = { clientId: 'acme', accountId: 'x-shop', purpose: 'credentials:x' };
const secret = 'oauth2-access-token-AAAA.BBBB';

/** The same properties, whichever vault seals. */
function behavesAsAVault(name: string, vaultOf: () => Vault) {
  describe(`${name}: sealing`, () => {
    it('opens what it sealed under the same context', async () => {
      // Prepare
      const vault = vaultOf();

      // Act
      const sealed = await vault.seal(secret, acme);

      // Assess
      expect(Buffer.from(sealed).toString('utf8')).not.toContain(secret);
      expect(await vault.open(sealed, acme)).toBe(secret);
    });

    it('opens whatever order the context keys come in', async () => {
      const vault = vaultOf();
      const sealed = await vault.seal(secret, acme);

      const reordered = { purpose: acme.purpose, accountId: acme.accountId, clientId: acme.clientId };

      expect(await vault.open(sealed, reordered)).toBe(secret);
    });

    it.each([
      ['another client', { ...acme, clientId: 'beta' }],
      ['another account of the same client', { ...acme, accountId: 'x-other' }],
      ['another purpose', { ...acme, purpose: 'credentials:bluesky' }],
    ])('refuses to open a ciphertext under %s with VaultOpenError', async (_label, other) => {
      // Prepare
      const vault = vaultOf();
      const sealed = await vault.seal(secret, acme);

      // Act
      const opening = vault.open(sealed, other);

      // Assess
      await expect(opening).rejects.toBeInstanceOf(VaultOpenError);
      await expect(opening).rejects.toThrow(other.clientId);
      await expect(opening).rejects.not.toThrow(secret);
    });

    it('refuses an altered ciphertext', async () => {
      const vault = vaultOf();
      const sealed = await vault.seal(secret, acme);
      const altered = Uint8Array.from(sealed);
      altered[altered.length - 20]! ^= 0x01;

      await expect(vault.open(altered, acme)).rejects.toBeInstanceOf(VaultOpenError);
    });

    it('refuses an empty context field', async () => {
      const vault = vaultOf();

      await expect(vault.seal(secret, { ...acme, accountId: '' })).rejects.toThrow(/accountId/);
    });
  });
}

describe('LocalVault', () => {
  let dir: string;
  let vault: LocalVault;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'followback-vault-'));
    vault = await LocalVault.inDirectory(join(dir, '.followback'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  behavesAsAVault('aes-256-gcm', () => vault);

  it('creates its key file with mode 0600 and reuses it on the next start', async () => {
    // Prepare
    const state = join(dir, 'fresh');

    // Act
    const first = await LocalVault.inDirectory(state);
    const sealed = await first.seal(secret, acme);
    const second = await LocalVault.inDirectory(state);

    // Assess
    const info = await stat(join(state, 'vault.key'));
    expect(info.mode & 0o777).toBe(0o600);
    expect(await second.open(sealed, acme)).toBe(secret);
  });

  it('does not open a ciphertext sealed with another local key', async () => {
    const other = await LocalVault.inDirectory(join(dir, 'other'));
    const sealed = await vault.seal(secret, acme);

    await expect(other.open(sealed, acme)).rejects.toBeInstanceOf(VaultOpenError);
  });

  it('refuses a key file that others can read', async () => {
    // Prepare
    const path = join(dir, 'loose.key');
    const good = await LocalVault.fromKeyFile(join(dir, 'good.key'));
    expect(good.scheme).toBe('aes-256-gcm');
    await writeFile(path, await readFile(join(dir, 'good.key')), { mode: 0o644 });

    // Act
    const opening = LocalVault.fromKeyFile(path);

    // Assess
    await expect(opening).rejects.toBeInstanceOf(VaultError);
    await expect(opening).rejects.toThrow(/chmod 600/);
  });
});

describe.each(kmsBackends)('KmsVault on $name', (backend) => {
  let target: KmsTarget;
  let vault: KmsVault;

  beforeAll(async () => {
    target = await backend.start();
    vault = new KmsVault({ client: target.client, keyId: target.keyId });
  });
  afterAll(async () => {
    await target.stop();
  });

  behavesAsAVault('kms', () => vault);

  it('reports an unreachable KMS as VaultError, not as a ciphertext that does not open', async () => {
    // Prepare
    const { KMSClient } = await import('@aws-sdk/client-kms');
    const client = new KMSClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
      maxAttempts: 1,
    });
    const down = new KmsVault({ client, keyId: target.keyId });

    // Act
    const opening = down.open(new Uint8Array(64), acme);

    // Assess
    await expect(opening).rejects.toBeInstanceOf(VaultError);
    await expect(opening).rejects.not.toBeInstanceOf(VaultOpenError);
    client.destroy();
  });
});
