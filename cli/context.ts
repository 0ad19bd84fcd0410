import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { systemClock } from '../shared/adapters/clock.ts';
import { createDynamoClient } from '../shared/adapters/dynamo/client.ts';
import { DynamoCredentialStore } from '../shared/adapters/dynamo/credential-store.ts';
import { DynamoStore } from '../shared/adapters/dynamo/store.ts';
import { LocalVault } from '../shared/adapters/vault/local-vault.ts';
import { loadRuntimeEnv } from '../shared/config/env.ts';
import { parseConfig } from '../shared/config/validate.ts';
import * as z from '../shared/config/zod.ts';
import type { AccountRecord } from '../shared/domain/account.ts';
import { ValidationError } from '../shared/domain/errors.ts';
import type { Clock } from '../shared/ports/clock.ts';
import { readLocalClock } from '../shared/runtime/local.ts';
import { startLocalDynamo } from '../shared/runtime/local-dynamo.ts';

/** Where a command works: the deployed table (default) or the local store of `npm start` (`--local`). */
export interface StoreOptions {
  local?: boolean | undefined;
  dir?: string | undefined;
  /** With --local: make the store when the folder holds none (commands that add something). */
  create?: boolean | undefined;
}

/** `--local` with a folder that holds no local store (a typo in --dir, or nothing run yet). */
export class LocalStoreMissingError extends ValidationError {
  override readonly name = 'LocalStoreMissingError';
}

export interface CommandContext {
  store: DynamoStore;
  clock: Clock;
  where: string;
  /** The table itself (for items outside the Store port, such as the token refresh lock). */
  table: { client: DynamoDBClient; tableName: string };
  /**
   * Connected accounts' credentials, sealed with the local vault (`<dir>/vault.key`, with --local) or
   * with the deployment's KMS key (`VAULT_KEY_ID`). Made on first use: commands that do not touch
   * tokens need no key.
   */
  credentials(): Promise<DynamoCredentialStore>;
  close(): Promise<void>;
}

const vaultEnvSchema = z.object({
  /** The KMS key (id or ARN) that seals credentials: the stack's vault key. */
  VAULT_KEY_ID: z
    .string()
    .check(z.minLength(1, 'is required to read or store tokens (the KMS key of the deployment)')),
});

export async function openContext(options: StoreOptions): Promise<CommandContext> {
  if (options.local) {
    const dir = resolve(options.dir ?? '.followback');
    if (!options.create && !existsSync(join(dir, 'dynamo'))) {
      throw new LocalStoreMissingError(`no local store in ${dir}: nothing was read or changed`, {
        details: {
          hint: `check --dir; \`followback start${options.dir === undefined ? '' : ` --dir ${options.dir}`}\` makes one with the demo, \`followback client add … --local\` an empty one`,
        },
      });
    }
    const dynamo = await startLocalDynamo({ path: join(dir, 'dynamo') });
    // The local run keeps a virtual clock; commands act at its time so the demo's promises add up.
    const now = (await readLocalClock(dir)) ?? Date.now();
    const clock = { now: () => now };
    let credentials: Promise<DynamoCredentialStore> | undefined;
    return {
      store: new DynamoStore({ client: dynamo.client, tableName: dynamo.tableName }),
      clock,
      where: `local store in ${dir}`,
      table: { client: dynamo.client, tableName: dynamo.tableName },
      credentials() {
        credentials ??= LocalVault.inDirectory(dir).then(
          (vault) =>
            new DynamoCredentialStore({ client: dynamo.client, tableName: dynamo.tableName, vault, clock }),
        );
        return credentials;
      },
      close: () => dynamo.close(),
    };
  }
  const env = loadRuntimeEnv();
  const client = createDynamoClient({ endpoint: env.DYNAMODB_ENDPOINT, region: env.AWS_REGION });
  let credentials: Promise<DynamoCredentialStore> | undefined;
  return {
    store: new DynamoStore({ client, tableName: env.TABLE_NAME }),
    clock: systemClock,
    where: `table ${env.TABLE_NAME} in ${env.AWS_REGION}`,
    table: { client, tableName: env.TABLE_NAME },
    credentials() {
      credentials ??= (async () => {
        const present = Object.fromEntries(
          Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''),
        );
        const { VAULT_KEY_ID } = parseConfig(vaultEnvSchema, present, 'environment');
        // Only commands that store or read tokens load the KMS client.
        const [{ KMSClient }, { KmsVault }] = await Promise.all([
          import('@aws-sdk/client-kms'),
          import('../shared/adapters/vault/kms-vault.ts'),
        ]);
        const vault = new KmsVault({
          client: new KMSClient({ region: env.AWS_REGION }),
          keyId: VAULT_KEY_ID,
        });
        return new DynamoCredentialStore({ client, tableName: env.TABLE_NAME, vault });
      })();
      return credentials;
    },
    close: async () => client.destroy(),
  };
}

/** The accounts a command is about: one (`--client` and `--account`), a client's, or all. */
export async function selectAccounts(
  store: DynamoStore,
  selection: { client?: string | undefined; account?: string | undefined },
): Promise<AccountRecord[]> {
  if (selection.account !== undefined && selection.client === undefined) {
    throw new ValidationError('--account needs --client');
  }
  const accounts = await store.listAccounts(selection.client);
  const chosen =
    selection.account === undefined ? accounts : accounts.filter((a) => a.accountId === selection.account);
  if (selection.client !== undefined && chosen.length === 0) {
    throw new ValidationError(
      selection.account === undefined
        ? `client ${selection.client} has no accounts (or does not exist)`
        : `client ${selection.client} has no account ${selection.account}`,
    );
  }
  return chosen;
}

export { printJson } from './output.ts';
