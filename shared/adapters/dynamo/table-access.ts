import {
  type AttributeValue,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from '../../config/zod.ts';
import { ConflictError, FollowbackError, ValidationError } from '../../domain/errors.ts';
import { type RetryPolicy, retryUntil } from '../retry.ts';
import { describeIssue } from './changeset-codec.ts';
import { errorName, isConditionFailure } from './conditions.ts';
import { CorruptItemError, MissingItemError, StoreError, UnprocessedItemsError } from './errors.ts';
import { dataItemSchema } from './schemas.ts';
import { describeKey, type ItemKey, keyAttributes } from './table.ts';

/**
 * Access to the followback table shared by the per-port stores (registry-store.ts, state-store.ts,
 * graph-store.ts): single-item gets, puts (plain, fenced) and deletes, paged queries and batch
 * writes, each failure a StoreError naming the operation, the item and the table, and every item
 * read back validated (a bad item is a CorruptItemError naming its key). Reads are strongly
 * consistent: a worker reads what it (or the previous tick) just committed.
 */

/** Bytes of caller data (a base chunk, a scan page) one item may hold; the item limit is 400 KB. */
export const maxItemDataBytes = 399_000;
/** Items per BatchWriteItem call (DynamoDB's limit). */
const batchSize = 25;

export type Item = Record<string, AttributeValue>;

export interface TableAccessOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Limit on items per query page. Default: none (DynamoDB's 1 MB pages). */
  queryPageSize?: number | undefined;
  /** BatchWriteItem calls per batch before UnprocessedItemsError (default 8). */
  batchWriteAttempts?: number | undefined;
  /** First backoff between BatchWriteItem retries, doubled each time, max 2 s, jittered (default 25 ms). */
  batchWriteBaseDelayMs?: number | undefined;
}

export class TableAccess {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** The page size queries use unless they say otherwise. */
  readonly pageSize: number | undefined;
  /** Resubmitting UnprocessedItems: doubling from the base delay, at most 2 s, jittered. */
  readonly #batchPolicy: RetryPolicy;

  constructor(options: TableAccessOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.pageSize = options.queryPageSize;
    this.#batchPolicy = {
      attempts: options.batchWriteAttempts ?? 8,
      baseMs: options.batchWriteBaseDelayMs ?? 25,
      capMs: 2_000,
      jitter: 'equal',
    };
  }

  /** Items 0..count-1 of a numbered run (chunks, pages), each with a `data` attribute; all must exist. */
  async getDataRange(count: number, keyOf: (index: number) => ItemKey): Promise<Uint8Array[]> {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new ValidationError(`count must be a non-negative integer, got ${count}`, {
        details: { field: 'count', value: count },
      });
    }
    if (count === 0) return [];
    const first = keyOf(0);
    const last = keyOf(count - 1);
    const found = new Map<string, Uint8Array>();
    const query = this.query(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': { S: first.pk },
          ':from': { S: first.sk },
          ':to': { S: last.sk },
        },
      },
      first.pk,
    );
    for await (const item of query) {
      const key = itemKey(item);
      found.set(key.sk, copy(this.fromItem(key, dataItemSchema, item).data));
    }
    return range(count).map((index) => {
      const key = keyOf(index);
      const data = found.get(key.sk);
      if (data === undefined) {
        throw new MissingItemError(`missing item ${describeKey(key)} (${index + 1} of ${count})`, {
          details: { ...key, index, count },
        });
      }
      return data;
    });
  }

  /** Puts a plain record (marshalled, undefined fields dropped) under `key`. */
  async put(key: ItemKey, record: object): Promise<void> {
    const item = { ...marshall(record, { removeUndefinedValues: true }), ...keyAttributes(key) };
    await this.putItem(item, describeKey(key));
  }

  /**
   * Writes unless the item was written under a newer lease: a worker whose lease expired cannot
   * overwrite what the next holder wrote (ConflictError instead).
   */
  async putFenced(item: Item, fence: number): Promise<void> {
    const key = { pk: item.pk?.S ?? '', sk: item.sk?.S ?? '' };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR attribute_not_exists(fence) OR fence <= :fence',
          ExpressionAttributeValues: { ':fence': { N: String(fence) } },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`${describeKey(key)} was written under a newer lease than ${fence}`, {
          cause: error,
          details: { ...key, fence },
        });
      }
      throw this.wrap('PutItem', describeKey(key), error);
    }
  }

  async putItem(item: Item, what: string): Promise<void> {
    await this.call('PutItem', what, () =>
      this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item })),
    );
  }

  async get(key: ItemKey): Promise<Item | undefined> {
    const out = await this.call('GetItem', describeKey(key), () =>
      this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: keyAttributes(key), ConsistentRead: true }),
      ),
    );
    return out.Item;
  }

  async delete(key: ItemKey): Promise<void> {
    await this.call('DeleteItem', describeKey(key), () =>
      this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: keyAttributes(key) })),
    );
  }

  queryPrefix(pk: string, prefix: string): AsyncGenerator<Item> {
    return this.query(
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: prefix } },
      },
      `${pk} / ${prefix}*`,
    );
  }

  /**
   * All items of a query, page after page until LastEvaluatedKey runs out (or the caller stops).
   * Pages hold `pageSize` items unless `input.Limit` says otherwise.
   */
  async *query(
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'ConsistentRead'>,
    what: string,
  ): AsyncGenerator<Item> {
    let start: Item | undefined;
    do {
      const page = await this.call('Query', what, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            ConsistentRead: true,
            ...(this.pageSize === undefined ? {} : { Limit: this.pageSize }),
            ...input,
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        ),
      );
      for (const item of page.Items ?? []) yield item;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  }

  /**
   * Writes in batches of 25, resubmitting UnprocessedItems with jittered exponential backoff until
   * none is left; after `batchWriteAttempts` calls for one batch, UnprocessedItemsError.
   */
  async batchWrite(requests: WriteRequest[], what: string): Promise<void> {
    for (let offset = 0; offset < requests.length; offset += batchSize) {
      let pending = requests.slice(offset, offset + batchSize);
      const outcome = await retryUntil(
        async () => {
          const batch = pending;
          const out = await this.call('BatchWriteItem', what, () =>
            this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: batch } })),
          );
          pending = out.UnprocessedItems?.[this.tableName] ?? [];
          return pending;
        },
        (left) => left.length === 0,
        this.#batchPolicy,
      );
      if (!outcome.settled) {
        const unprocessed = pending.map((request) => requestKey(request));
        throw new UnprocessedItemsError(
          `${pending.length} items of ${what} still unprocessed after ${outcome.attempts} BatchWriteItem calls`,
          { details: { unprocessed: unprocessed.map(describeKey), attempts: outcome.attempts } },
        );
      }
    }
  }

  async call<T>(operation: string, what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.wrap(operation, what, error);
    }
  }

  wrap(operation: string, what: string, error: unknown): FollowbackError {
    if (error instanceof FollowbackError) return error;
    return new StoreError(`${operation} on ${what} in table ${this.tableName} failed: ${errorName(error)}`, {
      cause: error,
      details: { operation, item: what, table: this.tableName },
    });
  }

  /** The item as plain values, checked against `schema`; anything else is a CorruptItemError. */
  fromItem<T>(key: ItemKey, schema: z.core.$ZodType<T>, item: Item): T {
    let plain: unknown;
    try {
      plain = unmarshall(item);
    } catch (error) {
      throw new CorruptItemError(`corrupt item ${describeKey(key)}: ${(error as Error).message}`, {
        cause: error,
        details: { ...key },
      });
    }
    return checkItem(key, schema, plain);
  }
}

/** `value` checked against `schema`; anything else is a CorruptItemError naming `key`. */
export function checkItem<T>(key: ItemKey, schema: z.core.$ZodType<T>, value: unknown): T {
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(describeIssue).join('; ');
    throw new CorruptItemError(`corrupt item ${describeKey(key)}: ${problems}`, {
      details: { ...key, problems },
    });
  }
  return parsed.data;
}

export function checkDataSize(key: ItemKey, data: Uint8Array): void {
  if (!(data instanceof Uint8Array)) {
    throw new ValidationError(`data for ${describeKey(key)} must be bytes`, { details: { ...key } });
  }
  if (data.length > maxItemDataBytes) {
    throw new ValidationError(
      `data for ${describeKey(key)} is ${data.length} bytes; one item holds at most ${maxItemDataBytes}`,
      { details: { ...key, bytes: data.length } },
    );
  }
}

export function putRequest(item: Item): WriteRequest {
  return { PutRequest: { Item: item } };
}

export function deleteRequest(key: ItemKey): WriteRequest {
  return { DeleteRequest: { Key: keyAttributes(key) } };
}

function requestKey(request: WriteRequest): ItemKey {
  const attributes = request.PutRequest?.Item ?? request.DeleteRequest?.Key ?? {};
  return { pk: attributes.pk?.S ?? '?', sk: attributes.sk?.S ?? '?' };
}

export function itemKey(item: Item): ItemKey {
  const pk = item.pk?.S;
  const sk = item.sk?.S;
  if (pk === undefined || sk === undefined) {
    throw new CorruptItemError('corrupt item without a string pk and sk', { details: { pk, sk } });
  }
  return { pk, sk };
}

/** The record without the item's own attributes (key, entity). */
export function stripKeys<T extends Record<string, unknown>>(record: T): T {
  const rest: Record<string, unknown> = { ...record };
  delete rest.pk;
  delete rest.sk;
  delete rest.entity;
  return rest as T;
}

function copy(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}

export function range(count: number): number[] {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new ValidationError(`count must be a non-negative integer, got ${count}`, {
      details: { field: 'count', value: count },
    });
  }
  return Array.from({ length: count }, (_, index) => index);
}

export function withFence(item: Item, fence: number | undefined): Item {
  return fence === undefined ? item : { ...item, fence: { N: String(fence) } };
}
