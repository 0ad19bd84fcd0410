import { join, resolve } from 'node:path';
import { systemClock } from '../shared/adapters/clock.ts';
import { createDynamoClient } from '../shared/adapters/dynamo/client.ts';
import { DynamoStore } from '../shared/adapters/dynamo/store.ts';
import { loadRuntimeEnv } from '../shared/config/env.ts';
import type { AccountRecord } from '../shared/domain/account.ts';
import { ValidationError } from '../shared/domain/errors.ts';
import type { Clock } from '../shared/ports/clock.ts';
import { readLocalClock } from '../shared/runtime/local.ts';
import { startLocalDynamo } from '../shared/runtime/local-dynamo.ts';

/** Where a command works: the deployed table (default) or the local store of `npm start` (`--local`). */
export interface StoreOptions {
  local?: boolean | undefined;
  dir?: string | undefined;
}

export interface CommandContext {
  store: DynamoStore;
  clock: Clock;
  where: string;
  close(): Promise<void>;
}

export async function openContext(options: StoreOptions): Promise<CommandContext> {
  if (options.local) {
    const dir = resolve(options.dir ?? '.followback');
    const dynamo = await startLocalDynamo({ path: join(dir, 'dynamo') });
    // The local run keeps a virtual clock; commands act at its time so the demo's promises add up.
    const now = (await readLocalClock(dir)) ?? Date.now();
    return {
      store: new DynamoStore({ client: dynamo.client, tableName: dynamo.tableName }),
      clock: { now: () => now },
      where: `local store in ${dir}`,
      close: () => dynamo.close(),
    };
  }
  const env = loadRuntimeEnv();
  const client = createDynamoClient({ endpoint: env.DYNAMODB_ENDPOINT, region: env.AWS_REGION });
  return {
    store: new DynamoStore({ client, tableName: env.TABLE_NAME }),
    clock: systemClock,
    where: `table ${env.TABLE_NAME} in ${env.AWS_REGION}`,
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

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
