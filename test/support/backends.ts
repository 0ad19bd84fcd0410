import { afterAll, beforeAll } from 'vitest';
import { createDynamoClient } from '../../shared/adapters/dynamo/client.ts';
import { ensureTable } from '../../shared/adapters/dynamo/table.ts';
import { type DynamoTarget, startDynalite, uniqueTableName } from './dynalite.ts';
import { motoAvailable, startMoto } from './moto.ts';

/**
 * The DynamoDB back ends a suite runs against: dynalite always, moto server where python3 has moto.
 * Use with `describe.each(dynamoBackends)('… on $name', (backend) => { const db = useDynamoBackend(backend); … })`.
 */
export interface DynamoBackend {
  name: 'dynalite' | 'moto';
  /**
   * Whether ConsumedCapacity in responses follows item sizes (dynalite: ceil(size / 1 KB) per item,
   * GSI writes not counted) or is a placeholder (moto: 1 per write call, 0.5 per get, whatever the size).
   */
  capacityFromItemSizes: boolean;
  start(): Promise<DynamoTarget>;
}

export const dynaliteBackend: DynamoBackend = {
  name: 'dynalite',
  capacityFromItemSizes: true,
  start: startDynalite,
};

export const motoBackend: DynamoBackend = {
  name: 'moto',
  capacityFromItemSizes: false,
  async start() {
    const server = await startMoto();
    const client = createDynamoClient({ endpoint: server.endpoint, region: 'us-east-1' });
    const tableName = uniqueTableName();
    try {
      await ensureTable(client, tableName);
    } catch (error) {
      client.destroy();
      await server.stop();
      throw error;
    }
    return {
      endpoint: server.endpoint,
      client,
      tableName,
      stop: async () => {
        client.destroy();
        await server.stop();
      },
    };
  },
};

export const dynamoBackends: DynamoBackend[] = motoAvailable()
  ? [dynaliteBackend, motoBackend]
  : [dynaliteBackend];

/**
 * Starts the back end once for the enclosing describe block (beforeAll) and stops it after (afterAll).
 * The returned object's fields are readable inside tests and hooks that run after the start.
 */
export function useDynamoBackend(backend: DynamoBackend): DynamoTarget {
  let target: DynamoTarget | undefined;
  const started = (): DynamoTarget => {
    if (target === undefined)
      throw new Error(`${backend.name} is not started yet: read it inside a test or hook`);
    return target;
  };
  beforeAll(async () => {
    target = await backend.start();
  });
  afterAll(async () => {
    await target?.stop();
    target = undefined;
  });
  return {
    get endpoint() {
      return started().endpoint;
    },
    get client() {
      return started().client;
    },
    get tableName() {
      return started().tableName;
    },
    stop: () => started().stop(),
  };
}

/** Creates another table on the back end (a test that needs an empty registry, say). */
export async function createTestTable(target: DynamoTarget): Promise<string> {
  const tableName = uniqueTableName();
  await ensureTable(target.client, tableName);
  return tableName;
}
