import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ConflictError } from '../../domain/errors.ts';
import type { BucketKey, BucketStore, StoredBucket } from '../../ports/tasks.ts';
import { isConditionFailure, versionCondition } from './conditions.ts';
import { CorruptItemError, itemCallError } from './errors.ts';
import { keyPart, keys } from './table.ts';

/**
 * The BucketStore port: the limiters' token buckets in the followback table, one versioned item each.
 *
 *   pk                            sk
 *   ACCT#<client>#<account>       LIMIT#<name>          an account's own caps
 *   APP                           LIMIT#<name>          the app-wide caps
 */
export class DynamoBucketStore implements BucketStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async getBucket<S>(key: BucketKey): Promise<StoredBucket<S> | undefined> {
    const { pk, sk } = bucketKey(key);
    const out = await this.#send('GetItem', `${pk} / ${sk}`, () =>
      this.#client.send(
        new GetItemCommand({
          TableName: this.#table,
          Key: { pk: { S: pk }, sk: { S: sk } },
          ConsistentRead: true,
        }),
      ),
    );
    if (!out.Item) return undefined;
    try {
      return { state: JSON.parse(out.Item.state?.S ?? '') as S, version: Number(out.Item.version?.N) };
    } catch (cause) {
      throw new CorruptItemError(`bucket ${pk} / ${sk} holds no readable state`, { cause });
    }
  }

  async putBucket<S>(key: BucketKey, state: S, expectedVersion: number): Promise<number> {
    const { pk, sk } = bucketKey(key);
    const version = expectedVersion + 1;
    const condition = versionCondition(expectedVersion);
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            pk: { S: pk },
            sk: { S: sk },
            entity: { S: 'bucket' },
            state: { S: JSON.stringify(state) },
            version: { N: String(version) },
          },
          ...condition,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`bucket ${pk} / ${sk} changed since version ${expectedVersion}`, {
          cause: error,
        });
      }
      throw itemCallError('PutItem', `${pk} / ${sk}`, error);
    }
    return version;
  }

  async #send<T>(operation: string, what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw itemCallError(operation, what, error);
    }
  }
}

function bucketKey(key: BucketKey): { pk: string; sk: string } {
  const sk = `LIMIT#${keyPart('bucket', key.name)}`;
  return key.scope === 'app' ? { pk: 'APP', sk } : { pk: keys.accountPk(key.ref), sk };
}
