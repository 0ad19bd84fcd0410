import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { AccountRef } from '../../domain/account.ts';
import { type FollowTask, isFinal } from '../../domain/engine/task.ts';
import { ConflictError } from '../../domain/errors.ts';
import type { StoredTask, TaskStore } from '../../ports/tasks.ts';
import { isConditionFailure } from './conditions.ts';
import { CorruptItemError, itemCallError as wrap } from './errors.ts';
import { keyPart, keys } from './table.ts';

/**
 * The TaskStore port: follow-back tasks in the followback table (limiter buckets: bucket-store.ts).
 *
 *   pk                            sk                    gsi1pk                            gsi1sk
 *   ACCT#<client>#<account>       TASK#<targetId>       TASKQ#<client>#<account>#active   <deadline:15>#<targetId>
 *                                                       TASKQ#<client>#<account>#approval <detectedAt:15>#<targetId>
 *                                 (active tasks also)   gsi2pk TASKR#<client>#<account>  gsi2sk <release:15>#<targetId>
 *
 * A final task leaves the indexes (the sparse gsi1 and gsi2 hold only work to do), so the engine's
 * queries cost what is queued, not what ever happened. gsi1 orders open work by deadline (earliest
 * deadline first); gsi2 by release, the time a task may be acted on (due time, backoff, or the end of
 * a crashed worker's lease), so due work is never hidden behind many earlier deadlines not yet due.
 */
const TIME_WIDTH = 15;

type Item = Record<string, import('@aws-sdk/client-dynamodb').AttributeValue>;

export class DynamoTaskStore implements TaskStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;

  constructor(options: { client: DynamoDBClient; tableName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async createTask(ref: AccountRef, task: FollowTask): Promise<boolean> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: this.#taskItem(ref, task, 1),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw wrap('PutItem', taskSk(task.targetId), error);
    }
  }

  async getTask(ref: AccountRef, targetId: string): Promise<StoredTask | undefined> {
    const out = await this.#send('GetItem', taskSk(targetId), () =>
      this.#client.send(
        new GetItemCommand({
          TableName: this.#table,
          Key: { pk: { S: keys.accountPk(ref) }, sk: { S: taskSk(targetId) } },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item ? readTask(out.Item) : undefined;
  }

  async putTask(ref: AccountRef, task: FollowTask, expectedVersion: number): Promise<number> {
    const version = expectedVersion + 1;
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: this.#taskItem(ref, task, version),
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`task ${task.targetId} is no longer at version ${expectedVersion}`, {
          cause: error,
          details: { targetId: task.targetId, expectedVersion },
        });
      }
      throw wrap('PutItem', taskSk(task.targetId), error);
    }
    return version;
  }

  async listActive(
    ref: AccountRef,
    options: { now: number; from: 'onTime' | 'late'; limit: number },
  ): Promise<StoredTask[]> {
    const bound = time(options.now);
    const condition =
      options.from === 'onTime' ? 'gsi1pk = :q AND gsi1sk >= :bound' : 'gsi1pk = :q AND gsi1sk < :bound';
    return this.#queryIndex(queueKey(ref, 'active'), condition, { ':bound': { S: bound } }, options.limit);
  }

  async listReleased(ref: AccountRef, options: { now: number; limit: number }): Promise<StoredTask[]> {
    return this.#queryIndex(
      releaseQueueKey(ref),
      'gsi2pk = :q AND gsi2sk < :bound',
      { ':bound': { S: time(options.now + 1) } },
      options.limit,
      'gsi2',
    );
  }

  async listAwaitingApproval(ref: AccountRef, options: { limit?: number } = {}): Promise<StoredTask[]> {
    return this.#queryIndex(queueKey(ref, 'approval'), 'gsi1pk = :q', {}, options.limit);
  }

  async listTasks(ref: AccountRef): Promise<StoredTask[]> {
    const tasks: StoredTask[] = [];
    let start: Item | undefined;
    do {
      const out = await this.#send('Query', `${keys.accountPk(ref)} / TASK#`, () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': { S: keys.accountPk(ref) }, ':prefix': { S: 'TASK#' } },
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of out.Items ?? []) tasks.push(readTask(item));
      start = out.LastEvaluatedKey;
    } while (start);
    return tasks;
  }

  #taskItem(ref: AccountRef, task: FollowTask, version: number): Item {
    const item: Item = {
      pk: { S: keys.accountPk(ref) },
      sk: { S: taskSk(task.targetId) },
      entity: { S: 'task' },
      state: { S: task.state },
      task: { S: JSON.stringify(task) },
      version: { N: String(version) },
    };
    if (task.state === 'pending_approval') {
      item.gsi1pk = { S: queueKey(ref, 'approval') };
      item.gsi1sk = { S: `${time(task.detectedAt)}#${task.targetId}` };
    } else if (!isFinal(task.state)) {
      item.gsi1pk = { S: queueKey(ref, 'active') };
      item.gsi1sk = { S: `${time(task.deadline ?? task.dueAt ?? task.detectedAt)}#${task.targetId}` };
      item.gsi2pk = { S: releaseQueueKey(ref) };
      item.gsi2sk = { S: `${time(releaseTime(task))}#${task.targetId}` };
    }
    return item;
  }

  async #queryIndex(
    queue: string,
    condition: string,
    values: Record<string, { S: string }>,
    limit: number | undefined,
    indexName: 'gsi1' | 'gsi2' = 'gsi1',
  ): Promise<StoredTask[]> {
    const tasks: StoredTask[] = [];
    let start: Item | undefined;
    do {
      const input: QueryCommandInput = {
        TableName: this.#table,
        IndexName: indexName,
        KeyConditionExpression: condition,
        ExpressionAttributeValues: { ':q': { S: queue }, ...values },
        ExclusiveStartKey: start,
        ...(limit === undefined ? {} : { Limit: limit - tasks.length }),
      };
      const out = await this.#send('Query', `gsi1 ${queue}`, () =>
        this.#client.send(new QueryCommand(input)),
      );
      for (const item of out.Items ?? []) tasks.push(readTask(item));
      start = out.LastEvaluatedKey;
    } while (start && (limit === undefined || tasks.length < limit));
    return tasks;
  }

  async #send<T>(operation: string, what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw wrap(operation, what, error);
    }
  }
}

function taskSk(targetId: string): string {
  return `TASK#${keyPart('targetId', targetId)}`;
}

function queueKey(ref: AccountRef, queue: 'active' | 'approval'): string {
  return `TASKQ#${keyPart('clientId', ref.clientId)}#${keyPart('accountId', ref.accountId)}#${queue}`;
}

function releaseQueueKey(ref: AccountRef): string {
  return `TASKR#${keyPart('clientId', ref.clientId)}#${keyPart('accountId', ref.accountId)}`;
}

/** When an open task may be acted on: its due time or backoff, or the end of its worker's lease. */
function releaseTime(task: FollowTask): number {
  if (task.state === 'in_progress') return task.lease?.until ?? task.updatedAt;
  return Math.max(task.dueAt ?? task.detectedAt, task.retryAt ?? 0);
}

function time(ms: number): string {
  return String(Math.max(0, Math.floor(ms))).padStart(TIME_WIDTH, '0');
}

function readTask(item: Item): StoredTask {
  const raw = item.task?.S;
  const version = Number(item.version?.N);
  if (raw === undefined || !Number.isSafeInteger(version)) {
    throw new CorruptItemError(`task item ${item.pk?.S} / ${item.sk?.S} lacks task or version`);
  }
  try {
    return { task: JSON.parse(raw) as FollowTask, version };
  } catch (cause) {
    throw new CorruptItemError(`task item ${item.pk?.S} / ${item.sk?.S} holds no readable task`, { cause });
  }
}
