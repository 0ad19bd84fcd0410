import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalDynamo } from '../../shared/runtime/local-dynamo.ts';

/** A DynamoDB to test against: where it is, a client, a table of the suite's own, and how to stop it. */
export interface DynamoTarget {
  endpoint: string;
  client: DynamoDBClient;
  tableName: string;
  stop(): Promise<void>;
}

/** A table name no other suite uses. */
export function uniqueTableName(prefix = 'test'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** dynalite in this process, in memory, with a uniquely named followback table. */
export async function startDynalite(): Promise<DynamoTarget> {
  const local = await startLocalDynamo({ tableName: uniqueTableName() });
  return { endpoint: local.endpoint, client: local.client, tableName: local.tableName, stop: local.close };
}
