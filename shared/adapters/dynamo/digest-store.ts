import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import * as z from '../../config/zod.ts';
import type { AccountRef } from '../../domain/account.ts';
import { ConflictError, ValidationError } from '../../domain/errors.ts';
import type {
  ApprovalUse,
  DigestRun,
  DigestRunKey,
  DigestStore,
  FollowerCountSample,
  StoredApprovalUse,
  StoredDigestRun,
} from '../../ports/digest-store.ts';
import { describeIssue } from './changeset-codec.ts';
import { errorName, isConditionFailure, versionCondition } from './conditions.ts';
import { CorruptItemError, StoreError } from './errors.ts';
import { describeKey, type ItemKey, keyAttributes, keyPart, keys } from './table.ts';

/**
 * The digest's items in the followback table:
 *
 *   pk                            sk                         what
 *   CLIENT#<clientId>             DIGEST#<periodKey>         a client's digest run for a period: `run` (JSON), `version`, TTL
 *   AGENCY                        ROLLUP#<periodKey>         the operator's roll-up run for a period, TTL
 *   CLIENT#<clientId>             APPROVAL#<tokenId>         a used approval token and its decision, TTL after the token's expiry
 *   ACCT#<clientId>#<accountId>   STATS#<yyyy-mm-dd>         the follower count sampled that UTC day (latest wins), TTL
 *   REGISTRY                      CLIENT#<clientId>          (the client record: only `digestOptOut(At)` is updated here)
 *
 * Runs and uses are written with conditions on `version` (0: the item must not exist), so of two
 * workers racing for the same period, or two POSTs of the same token, exactly one wins.
 */
export interface DynamoDigestStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Digest runs are kept this long after their period ends (default 400 days). */
  runTtlDays?: number | undefined;
  /** Follower samples are kept this long (default 400 days). */
  sampleTtlDays?: number | undefined;
  /** Used tokens are kept this long after the token expires (default 30 days). */
  useTtlDaysAfterExpiry?: number | undefined;
}

type Item = Record<string, AttributeValue>;
const DAY_S = 86_400;

const finite = z.number().check(z.refine(Number.isFinite, 'must be a finite number'));
const count = z.number().check(z.int(), z.nonnegative());

const runSchema = z.looseObject({
  state: z.enum(['claimed', 'sending', 'sent', 'failed', 'uncertain']),
  kind: z.enum(['digest', 'rollup']),
  periodStart: finite,
  periodEnd: finite,
  messageId: z.string().check(z.minLength(1)),
  holder: z.string(),
  leaseUntil: finite,
  attempts: count,
  claimedAt: finite,
  sendingAt: z.optional(finite),
  sentAt: z.optional(finite),
  providerId: z.optional(z.string()),
  recipients: z.optional(count),
  retryAt: z.optional(finite),
  error: z.optional(z.string()),
  recovered: z.optional(z.string()),
  updatedAt: finite,
});

const useSchema = z.looseObject({
  accountId: z.string().check(z.minLength(1)),
  action: z.enum(['approve', 'skip']),
  targetIds: z.array(z.string()),
  state: z.enum(['consumed', 'applied']),
  usedAt: finite,
  expiresAt: finite,
  appliedAt: z.optional(finite),
  result: z.optional(z.object({ approved: count, skipped: count, unchanged: count })),
});

const sampleSchema = z.object({ at: finite, followers: count, following: z.optional(count) });

export const digestKeys = {
  run: (key: DigestRunKey): ItemKey =>
    key.scope === 'agency'
      ? { pk: 'AGENCY', sk: `ROLLUP#${keyPart('periodKey', key.periodKey)}` }
      : {
          pk: `CLIENT#${keyPart('clientId', key.clientId)}`,
          sk: `DIGEST#${keyPart('periodKey', key.periodKey)}`,
        },
  approvalUse: (clientId: string, tokenId: string): ItemKey => ({
    pk: `CLIENT#${keyPart('clientId', clientId)}`,
    sk: `APPROVAL#${keyPart('tokenId', tokenId)}`,
  }),
  sample: (ref: AccountRef, day: string): ItemKey => ({ pk: keys.accountPk(ref), sk: `STATS#${day}` }),
};

export class DynamoDigestStore implements DigestStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #runTtlS: number;
  readonly #sampleTtlS: number;
  readonly #useTtlS: number;

  constructor(options: DynamoDigestStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#runTtlS = Math.round((options.runTtlDays ?? 400) * DAY_S);
    this.#sampleTtlS = Math.round((options.sampleTtlDays ?? 400) * DAY_S);
    this.#useTtlS = Math.round((options.useTtlDaysAfterExpiry ?? 30) * DAY_S);
  }

  // ------------------------------------------------------------------------------------------
  // Digest runs

  async getRun(key: DigestRunKey): Promise<StoredDigestRun | undefined> {
    const itemKey = digestKeys.run(key);
    const item = await this.#get(itemKey);
    if (item === undefined) return undefined;
    return {
      run: this.#json(itemKey, item, 'run', runSchema) as DigestRun,
      version: versionOf(itemKey, item),
    };
  }

  async putRun(key: DigestRunKey, run: DigestRun, expectedVersion: number): Promise<number> {
    const itemKey = digestKeys.run(key);
    const item: Item = {
      ...keyAttributes(itemKey),
      entity: { S: run.kind === 'rollup' ? 'rollup-run' : 'digest-run' },
      state: { S: run.state },
      run: { S: JSON.stringify(run) },
      expiresAt: { N: String(Math.floor(run.periodEnd / 1000) + this.#runTtlS) },
    };
    return this.#putVersioned(itemKey, item, expectedVersion, `digest run ${describeKey(itemKey)}`);
  }

  /** The client's latest digest runs, newest period first (period keys are local dates: they sort). */
  async listClientRuns(clientId: string, options: { limit?: number | undefined } = {}): Promise<DigestRun[]> {
    const limit = Math.min(Math.max(Math.floor(options.limit ?? 5), 1), 100);
    const pk = digestKeys.run({ scope: 'client', clientId, periodKey: 'x' }).pk;
    const out = await this.#call('Query', `${pk} / DIGEST#`, () =>
      this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          ConsistentRead: true,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: 'DIGEST#' } },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return (out.Items ?? []).map(
      (item) => this.#json({ pk, sk: item.sk?.S ?? '?' }, item, 'run', runSchema) as DigestRun,
    );
  }

  // ------------------------------------------------------------------------------------------
  // Approval tokens (single use)

  async getApprovalUse(clientId: string, tokenId: string): Promise<StoredApprovalUse | undefined> {
    const itemKey = digestKeys.approvalUse(clientId, tokenId);
    const item = await this.#get(itemKey);
    if (item === undefined) return undefined;
    return {
      use: this.#json(itemKey, item, 'use', useSchema) as ApprovalUse,
      version: versionOf(itemKey, item),
    };
  }

  async createApprovalUse(clientId: string, tokenId: string, use: ApprovalUse): Promise<boolean> {
    try {
      await this.putApprovalUse(clientId, tokenId, use, 0);
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }

  async putApprovalUse(
    clientId: string,
    tokenId: string,
    use: ApprovalUse,
    expectedVersion: number,
  ): Promise<number> {
    const itemKey = digestKeys.approvalUse(clientId, tokenId);
    const item: Item = {
      ...keyAttributes(itemKey),
      entity: { S: 'approval-use' },
      use: { S: JSON.stringify(use) },
      expiresAt: { N: String(Math.floor(use.expiresAt / 1000) + this.#useTtlS) },
    };
    return this.#putVersioned(itemKey, item, expectedVersion, `approval token ${describeKey(itemKey)}`);
  }

  // ------------------------------------------------------------------------------------------
  // Follower samples

  async putFollowerSample(ref: AccountRef, sample: FollowerCountSample): Promise<void> {
    const parsed = sampleSchema.safeParse(sample);
    if (!parsed.success) {
      throw new ValidationError(`follower sample: ${parsed.error.issues.map(describeIssue).join('; ')}`, {
        details: { field: 'sample' },
      });
    }
    const itemKey = digestKeys.sample(ref, utcDay(sample.at));
    const item: Item = {
      ...keyAttributes(itemKey),
      entity: { S: 'follower-sample' },
      at: { N: String(sample.at) },
      followers: { N: String(sample.followers) },
      expiresAt: { N: String(Math.floor(sample.at / 1000) + this.#sampleTtlS) },
    };
    if (sample.following !== undefined) item.following = { N: String(sample.following) };
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: item,
          // The latest observation of the day wins; an older one (or the same one again) changes nothing.
          ConditionExpression: 'attribute_not_exists(pk) OR #at < :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': { N: String(sample.at) } },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return;
      throw wrap('PutItem', describeKey(itemKey), error);
    }
  }

  async listFollowerSamples(ref: AccountRef, from: number, to: number): Promise<FollowerCountSample[]> {
    if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) return [];
    const pk = keys.accountPk(ref);
    const samples: FollowerCountSample[] = [];
    let start: Item | undefined;
    do {
      const out = await this.#call('Query', `${pk} / STATS#`, () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            ConsistentRead: true,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':pk': { S: pk },
              ':from': { S: `STATS#${utcDay(from)}` },
              ':to': { S: `STATS#${utcDay(to)}` },
            },
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        const itemKey = { pk, sk: item.sk?.S ?? '?' };
        const plain = {
          at: Number(item.at?.N),
          followers: Number(item.followers?.N),
          ...(item.following?.N === undefined ? {} : { following: Number(item.following.N) }),
        };
        const sample = check(itemKey, sampleSchema, plain);
        if (sample.at >= from && sample.at < to) samples.push(sample);
      }
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return samples.sort((a, b) => a.at - b.at);
  }

  // ------------------------------------------------------------------------------------------
  // Unsubscribe

  async setDigestOptOut(clientId: string, optOut: boolean, at: number): Promise<boolean> {
    const itemKey = keys.client(clientId);
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: keyAttributes(itemKey),
          ConditionExpression: 'attribute_exists(pk)',
          UpdateExpression: optOut
            ? 'SET digestOptOut = :yes, digestOptOutAt = :at'
            : 'SET digestOptOut = :no REMOVE digestOptOutAt',
          ExpressionAttributeValues: optOut
            ? { ':yes': { BOOL: true }, ':at': { N: String(at) } }
            : { ':no': { BOOL: false } },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw wrap('UpdateItem', describeKey(itemKey), error);
    }
  }

  // ------------------------------------------------------------------------------------------

  async #putVersioned(itemKey: ItemKey, item: Item, expectedVersion: number, what: string): Promise<number> {
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new ValidationError(`expectedVersion must be a non-negative integer, got ${expectedVersion}`, {
        details: { field: 'expectedVersion' },
      });
    }
    const version = expectedVersion + 1;
    const condition = versionCondition(expectedVersion);
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: { ...item, version: { N: String(version) } },
          ...condition,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`${what} is no longer at version ${expectedVersion}`, {
          cause: error,
          details: { ...itemKey, expectedVersion },
        });
      }
      throw wrap('PutItem', describeKey(itemKey), error);
    }
    return version;
  }

  async #get(itemKey: ItemKey): Promise<Item | undefined> {
    const out = await this.#call('GetItem', describeKey(itemKey), () =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: keyAttributes(itemKey), ConsistentRead: true }),
      ),
    );
    return out.Item;
  }

  #json<T>(itemKey: ItemKey, item: Item, attribute: string, schema: z.ZodMiniType<T>): T {
    const text = item[attribute]?.S;
    let value: unknown;
    try {
      value = JSON.parse(text ?? '');
    } catch (cause) {
      throw new CorruptItemError(`corrupt item ${describeKey(itemKey)}: ${attribute} is not JSON`, {
        cause,
        details: { ...itemKey },
      });
    }
    return check(itemKey, schema, value);
  }

  async #call<T>(operation: string, what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw wrap(operation, what, error);
    }
  }
}

function check<T>(itemKey: ItemKey, schema: z.ZodMiniType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(describeIssue).join('; ');
    throw new CorruptItemError(`corrupt item ${describeKey(itemKey)}: ${problems}`, {
      details: { ...itemKey, problems },
    });
  }
  return parsed.data;
}

function versionOf(itemKey: ItemKey, item: Item): number {
  const version = Number(item.version?.N);
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new CorruptItemError(`corrupt item ${describeKey(itemKey)}: no version`, {
      details: { ...itemKey },
    });
  }
  return version;
}

/** `2026-11-09`: the UTC calendar day of an instant. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

function wrap(operation: string, what: string, error: unknown): Error {
  if (error instanceof ConflictError || error instanceof StoreError || error instanceof CorruptItemError) {
    return error;
  }
  return new StoreError(`${operation} on ${what} failed: ${errorName(error)}`, {
    cause: error,
    details: { operation, item: what },
  });
}
