import { DeleteItemCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AccountRef } from '../../domain/account.ts';
import { FollowbackError } from '../../domain/errors.ts';
import type { RefreshLock } from '../../ports/locks.ts';
import { isConditionFailure } from './conditions.ts';
import { StoreError } from './errors.ts';
import { keys } from './table.ts';

export type { RefreshLock };

/**
 * The lock as one item in the account's partition (`ACCT#<client>#<account>` / `LOCK#refresh`),
 * taken with a conditional put and given back with a conditional delete. Not the tick's lease: that
 * lives in the state item, which the tick rewrites with optimistic versions, and a refresh also
 * happens outside ticks (connect, status). Removing the account's data removes the lock too.
 *
 *   holder (S), until (N, epoch ms), expiresAt (N, TTL: a day after the lease)
 */
export const REFRESH_LOCK_SK = 'LOCK#refresh';

export class DynamoRefreshLock implements RefreshLock {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async acquire(ref: AccountRef, holder: string, now: number, leaseMs: number): Promise<boolean> {
    const pk = keys.accountPk(ref);
    const until = now + leaseMs;
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            pk: { S: pk },
            sk: { S: REFRESH_LOCK_SK },
            entity: { S: 'lock' },
            holder: { S: holder },
            until: { N: String(until) },
            expiresAt: { N: String(Math.ceil(until / 1000) + 86_400) },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #until <= :now OR #holder = :holder',
          ExpressionAttributeNames: { '#until': 'until', '#holder': 'holder' },
          ExpressionAttributeValues: { ':now': { N: String(now) }, ':holder': { S: holder } },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw wrap('PutItem', pk, this.#table, error);
    }
  }

  async release(ref: AccountRef, holder: string): Promise<void> {
    const pk = keys.accountPk(ref);
    try {
      await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#table,
          Key: { pk: { S: pk }, sk: { S: REFRESH_LOCK_SK } },
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: { '#holder': 'holder' },
          ExpressionAttributeValues: { ':holder': { S: holder } },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return;
      throw wrap('DeleteItem', pk, this.#table, error);
    }
  }
}

function wrap(operation: string, pk: string, table: string, error: unknown): FollowbackError {
  if (error instanceof FollowbackError) return error;
  return new StoreError(
    `${operation} on ${pk} / ${REFRESH_LOCK_SK} in table ${table} failed: ${error instanceof Error ? error.name : String(error)}`,
    { cause: error, details: { operation, pk, sk: REFRESH_LOCK_SK, table } },
  );
}
