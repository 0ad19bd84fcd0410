export { KMS_MAX_PLAINTEXT_BYTES, KmsVault, type KmsVaultOptions } from './kms-vault.ts';
export { LOCAL_VAULT_KEY_BYTES, LOCAL_VAULT_KEY_FILE, LocalVault } from './local-vault.ts';
