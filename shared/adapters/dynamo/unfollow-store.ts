import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import * as z from '../../config/zod.ts';
import type { AccountRef } from '../../domain/account.ts';
import type { UnfollowItem } from '../../domain/engine/unfollow.ts';
import { ConflictError, ValidationError } from '../../domain/errors.ts';
import type { StoredUnfollow, UnfollowQueueStore } from '../../ports/unfollows.ts';
import { describeIssue } from './changeset-codec.ts';
import { errorName, isConditionFailure, versionCondition } from './conditions.ts';
import { CorruptItemError, StoreError } from './errors.ts';
import { describeKey, type ItemKey, keyAttributes, keyPart, keys } from './table.ts';

/**
 * The owner's chosen unfollows in the followback table:
 *
 *   pk                            sk                     what
 *   ACCT#<client>#<account>       UNFOLLOWQ#<targetId>   `item` (JSON), `version`, `state`; TTL once done or skipped
 *
 * An account has at most a few hundred at a time (batches of 50, chosen by a person), so the
 * console and the tick read them with one Query of the account's partition.
 */
type Item = Record<string, AttributeValue>;
const DAY_S = 86_400;
const finite = z.number().check(z.refine(Number.isFinite, 'must be a finite number'));

const itemSchema = z.looseObject({
  targetId: z.string().check(z.minLength(1)),
  handle: z.optional(z.string()),
  state: z.enum(['queued', 'in_progress', 'done', 'skipped']),
  queuedBy: z.object({ kind: z.enum(['console', 'approval-link', 'cli', 'invite']), id: z.string() }),
  queuedAt: finite,
  attempts: z.number().check(z.int(), z.gte(0)),
  holder: z.optional(z.string()),
  leaseUntil: z.optional(finite),
  doneAt: z.optional(finite),
  skipReason: z.optional(z.enum(['re_followed', 'not_following', 'follows_back', 'gone', 'failed'])),
  lastError: z.optional(z.string()),
  updatedAt: finite,
});

const unfollowKey = (ref: AccountRef, targetId: string): ItemKey => ({
  pk: keys.accountPk(ref),
  sk: `UNFOLLOWQ#${keyPart('targetId', targetId)}`,
});

export class DynamoUnfollowQueue implements UnfollowQueueStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #keepS: number;

  constructor(options: { client: DynamoDBClient; tableName: string; keepDays?: number | undefined }) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#keepS = Math.round((options.keepDays ?? 30) * DAY_S);
  }

  async getUnfollow(ref: AccountRef, targetId: string): Promise<StoredUnfollow | undefined> {
    const itemKey = unfollowKey(ref, targetId);
    let out: { Item?: Item | undefined };
    try {
      out = await this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: keyAttributes(itemKey), ConsistentRead: true }),
      );
    } catch (error) {
      throw wrap('GetItem', itemKey, error);
    }
    return out.Item === undefined ? undefined : parse(itemKey, out.Item);
  }

  async putUnfollow(ref: AccountRef, item: UnfollowItem, expectedVersion: number): Promise<number> {
    const checked = itemSchema.safeParse(item);
    if (!checked.success) {
      throw new ValidationError(`unfollow: ${checked.error.issues.map(describeIssue).join('; ')}`, {
        details: { field: 'unfollow' },
      });
    }
    const itemKey = unfollowKey(ref, item.targetId);
    const version = expectedVersion + 1;
    const final = item.state === 'done' || item.state === 'skipped';
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            ...keyAttributes(itemKey),
            entity: { S: 'unfollow' },
            state: { S: item.state },
            item: { S: JSON.stringify(item) },
            version: { N: String(version) },
            ...(final ? { expiresAt: { N: String(Math.floor(item.updatedAt / 1000) + this.#keepS) } } : {}),
          },
          ...versionCondition(expectedVersion),
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(
          `unfollow ${describeKey(itemKey)} is no longer at version ${expectedVersion}`,
          {
            cause: error,
            details: { ...itemKey, expectedVersion },
          },
        );
      }
      throw wrap('PutItem', itemKey, error);
    }
    return version;
  }

  async listUnfollows(ref: AccountRef): Promise<StoredUnfollow[]> {
    const pk = keys.accountPk(ref);
    const found: StoredUnfollow[] = [];
    let start: Item | undefined;
    do {
      let out: { Items?: Item[] | undefined; LastEvaluatedKey?: Item | undefined };
      try {
        out = await this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            ConsistentRead: true,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: 'UNFOLLOWQ#' } },
            ExclusiveStartKey: start,
          }),
        );
      } catch (error) {
        throw wrap('Query', { pk, sk: 'UNFOLLOWQ#' }, error);
      }
      for (const item of out.Items ?? []) found.push(parse({ pk, sk: item.sk?.S ?? '?' }, item));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return found.sort(
      (a, b) => a.item.queuedAt - b.item.queuedAt || (a.item.targetId < b.item.targetId ? -1 : 1),
    );
  }
}

function parse(itemKey: ItemKey, item: Item): StoredUnfollow {
  let value: unknown;
  try {
    value = JSON.parse(item.item?.S ?? '');
  } catch (cause) {
    throw new CorruptItemError(`corrupt item ${describeKey(itemKey)}: item is not JSON`, {
      cause,
      details: { ...itemKey },
    });
  }
  const parsed = itemSchema.safeParse(value);
  const version = Number(item.version?.N);
  if (!parsed.success || !Number.isSafeInteger(version) || version < 1) {
    const problems = parsed.success ? 'no version' : parsed.error.issues.map(describeIssue).join('; ');
    throw new CorruptItemError(`corrupt item ${describeKey(itemKey)}: ${problems}`, {
      details: { ...itemKey, problems },
    });
  }
  return { item: parsed.data as UnfollowItem, version };
}

function wrap(operation: string, itemKey: ItemKey, error: unknown): Error {
  if (error instanceof StoreError || error instanceof CorruptItemError) return error;
  return new StoreError(`${operation} on ${describeKey(itemKey)} failed: ${errorName(error)}`, {
    cause: error,
    details: { operation, item: describeKey(itemKey) },
  });
}
