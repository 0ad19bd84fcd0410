/**
 * The followback table, defined once: the CDK stack, the local runtime and the tests all build it
 * from `tableDefinition` (plain data, no CDK import; the string values equal CDK's enum values).
 *
 * Key layout (all keys are strings; ids inside keys are strings and may not contain '#'):
 *
 *   pk                              sk                                        what
 *   REGISTRY                        CLIENT#<clientId>                         client record (attributes)
 *   REGISTRY                        ACCOUNT#<clientId>#<accountId>            account record (attributes)
 *   ACCT#<clientId>#<accountId>     STATE                                     run state: `state` (JSON), `version` (N)
 *   ACCT#<clientId>#<accountId>     BASE#<kind>#<seq:10>#<chunk:4>            base snapshot chunk: `data` (B)
 *   ACCT#<clientId>#<accountId>     CHG#<seq:10>#<part:3>                     changeset part: `data` (B), TTL
 *   ACCT#<clientId>#<accountId>     SCAN#<scanId>#<page:6>                    page of a full scan in progress, TTL
 *   CRED#<clientId>#<accountId>     CRED#<network>                            sealed credentials (credential-store.ts)
 *
 * The registry is one partition: an agency has at most a few thousand accounts, listed once per tick.
 * Everything about one account lives in its own partition, so one account's work never touches
 * another's items. Later items (tasks `TASK#…`, limiter buckets `LIMIT#…`, digest runs, approval
 * tokens, tokens) take new sort-key prefixes in the account or client partition; the sparse index
 * `gsi1` (`gsi1pk`/`gsi1sk`, projection ALL) orders open tasks by deadline, the sparse `gsi2`
 * (`gsi2pk`/`gsi2sk`) orders them by the time they may be acted on (see task-store.ts).
 * Numbers inside sort keys are zero-padded so that string order is numeric order.
 * `expiresAt` (epoch seconds) is the TTL attribute; `entity` names the kind of item for people
 * reading the table in the console.
 */
import {
  type AttributeValue,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { AccountRef, GraphKind } from '../../domain/account.ts';
import { ValidationError } from '../../domain/errors.ts';
import { retryUntil } from '../retry.ts';
import { errorName } from './conditions.ts';
import { StoreError, TableNotReadyError } from './errors.ts';

export const defaultTableName = 'followback';

export const tableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
      projectionType: 'ALL',
    },
    {
      indexName: 'gsi2',
      partitionKey: { name: 'gsi2pk', type: 'S' },
      sortKey: { name: 'gsi2sk', type: 'S' },
      projectionType: 'ALL',
    },
  ],
  /** Epoch seconds; DynamoDB deletes the item some time after. */
  timeToLiveAttribute: 'expiresAt',
  billingMode: 'PAY_PER_REQUEST',
} as const;

/** The input to create the table where no CDK runs (dynalite, moto, a developer's own account). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const d = tableDefinition;
  const attributes = new Map<string, 'S'>();
  for (const key of [
    d.partitionKey,
    d.sortKey,
    ...d.globalSecondaryIndexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ]) {
    attributes.set(key.name, key.type);
  }
  return {
    TableName: tableName,
    BillingMode: d.billingMode,
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: [
      { AttributeName: d.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: d.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: d.globalSecondaryIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: index.projectionType },
    })),
  };
}

export interface EnsureTableOptions {
  /** Give up waiting for ACTIVE after this long (default 60 s). */
  timeoutMs?: number;
}

/**
 * Creates the table if it does not exist and waits until it is ACTIVE. A concurrent creator
 * (ResourceInUseException) is fine. When this call created the table it also enables TTL on
 * `expiresAt`, where the back end supports it (dynalite 4 has no UpdateTimeToLive; moto has).
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: EnsureTableOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  let created = false;
  const status = await describeStatus(client, tableName);
  if (status === undefined) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
      created = true;
    } catch (error) {
      if (errorName(error) !== 'ResourceInUseException') {
        throw new StoreError(`creating table ${tableName} failed: ${errorName(error)}`, {
          cause: error,
          details: { tableName },
        });
      }
    }
  }
  // Waits doubling from 10 ms to at most 500 ms, until ACTIVE or `timeoutMs` has passed.
  const ready = await retryUntil(
    () => describeStatus(client, tableName),
    (status) => status === 'ACTIVE',
    { attempts: Number.POSITIVE_INFINITY, baseMs: 10, capMs: 500, deadlineMs: timeoutMs },
  );
  if (!ready.settled) {
    throw new TableNotReadyError(`table ${tableName} is ${ready.value ?? 'absent'} after ${timeoutMs} ms`, {
      details: { tableName, status: ready.value },
    });
  }
  if (created) await enableTimeToLive(client, tableName);
  else await addMissingIndexes(client, tableName);
}

/**
 * A table made by an older version lacks the indexes added since (a local `.followback` store,
 * say): create them, so an upgrade needs no reset. Where the back end cannot, say what to do.
 */
async function addMissingIndexes(client: DynamoDBClient, tableName: string): Promise<void> {
  const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  const present = new Set((table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const input = createTableInput(tableName);
  for (const index of input.GlobalSecondaryIndexes ?? []) {
    if (present.has(index.IndexName)) continue;
    try {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: input.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: index }],
        }),
      );
    } catch (error) {
      throw new TableNotReadyError(
        `table ${tableName} lacks index ${index.IndexName} and it could not be added (${errorName(error)}); ` +
          'for a local store, start over with --reset',
        { cause: error, details: { tableName, index: index.IndexName } },
      );
    }
    // Every 50 ms, for a minute of waits (the check after the last wait included).
    const built = await retryUntil(
      async () => {
        const described = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
        return described?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index.IndexName)?.IndexStatus;
      },
      (status) => status === 'ACTIVE',
      { attempts: 60_000 / 50 + 2, baseMs: 50, capMs: 50, factor: 1 },
    );
    if (!built.settled) {
      throw new TableNotReadyError(`index ${index.IndexName} of ${tableName} is ${built.value}`);
    }
  }
}

async function describeStatus(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return out.Table?.TableStatus ?? 'UNKNOWN';
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return undefined;
    throw new StoreError(`describing table ${tableName} failed: ${errorName(error)}`, {
      cause: error,
      details: { tableName },
    });
  }
}

async function enableTimeToLive(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: tableDefinition.timeToLiveAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    // dynalite does not implement UpdateTimeToLive; items then simply never expire locally.
    if (errorName(error) === 'UnknownOperationException') return;
    throw new StoreError(`enabling TTL on ${tableName} failed: ${errorName(error)}`, {
      cause: error,
      details: { tableName },
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Keys

export interface ItemKey {
  pk: string;
  sk: string;
}

/** Widths of the zero-padded numbers in sort keys. */
export const keyWidths = { seq: 10, chunk: 4, part: 3, page: 6 } as const;

export const registryPk = 'REGISTRY';

/** A part of a key that is an id: non-empty, no '#', no control characters, at most 256 chars. */
export function keyPart(field: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256 || hasSeparatorOrControl(value)) {
    throw new ValidationError(
      `${field} must be a non-empty string of at most 256 characters without '#' or control characters`,
      {
        details: { field, value },
      },
    );
  }
  return value;
}

/** A zero-padded non-negative integer of `width` digits. */
export function padded(field: string, value: number, width: number): string {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 10 ** width) {
    throw new ValidationError(`${field} must be an integer in [0, ${10 ** width}), got ${value}`, {
      details: { field, value },
    });
  }
  return String(value).padStart(width, '0');
}

function graphKind(kind: GraphKind): GraphKind {
  if (kind !== 'followers' && kind !== 'following') {
    throw new ValidationError(`kind must be followers or following, got ${String(kind)}`, {
      details: { field: 'kind', value: kind },
    });
  }
  return kind;
}

function hasSeparatorOrControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x23 /* # */ || code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

const seq = (value: number) => padded('seq', value, keyWidths.seq);

/** Sort keys of the state's cold parts (state-store.ts); they sort after `STATE`. */
export const statePartPrefix = 'STATE#PART#';

export const keys = {
  client: (clientId: string): ItemKey => ({ pk: registryPk, sk: `CLIENT#${keyPart('clientId', clientId)}` }),
  /** Sort-key prefix of all client records. */
  clientPrefix: 'CLIENT#',
  account: (ref: AccountRef): ItemKey => ({
    pk: registryPk,
    sk: `ACCOUNT#${keyPart('clientId', ref.clientId)}#${keyPart('accountId', ref.accountId)}`,
  }),
  /** Sort-key prefix of all account records, or of one client's. */
  accountPrefix: (clientId?: string): string =>
    clientId === undefined ? 'ACCOUNT#' : `ACCOUNT#${keyPart('clientId', clientId)}#`,
  /** Partition of everything about one account. */
  accountPk: (ref: AccountRef): string =>
    `ACCT#${keyPart('clientId', ref.clientId)}#${keyPart('accountId', ref.accountId)}`,
  /**
   * Partition of one account's sealed credentials, apart from its other items, so a role can be
   * given the account partitions (`ACCT#*`) without the credentials (`dynamodb:LeadingKeys`).
   */
  credentialPk: (ref: AccountRef): string =>
    `CRED#${keyPart('clientId', ref.clientId)}#${keyPart('accountId', ref.accountId)}`,
  accountState: (ref: AccountRef): ItemKey => ({ pk: keys.accountPk(ref), sk: 'STATE' }),
  /** The state's cold part as of `version`; `tag` makes two writers' parts distinct items. */
  accountStatePart: (ref: AccountRef, version: number, tag: string): ItemKey => ({
    pk: keys.accountPk(ref),
    sk: `${statePartPrefix}${seq(version)}#${keyPart('tag', tag)}`,
  }),
  baseChunk: (ref: AccountRef, kind: GraphKind, baseSeq: number, chunk: number): ItemKey => ({
    pk: keys.accountPk(ref),
    sk: `BASE#${graphKind(kind)}#${seq(baseSeq)}#${padded('chunk', chunk, keyWidths.chunk)}`,
  }),
  changesetPart: (ref: AccountRef, changesetSeq: number, part: number): ItemKey => ({
    pk: keys.accountPk(ref),
    sk: `CHG#${seq(changesetSeq)}#${padded('part', part, keyWidths.part)}`,
  }),
  /** Sort-key prefix of all changesets. */
  changesetPrefix: 'CHG#',
  /** The removed ids of one changeset that removed any, kept beside it for cheap "still follows" checks. */
  removalMark: (ref: AccountRef, kind: GraphKind, changesetSeq: number): ItemKey => ({
    pk: keys.accountPk(ref),
    sk: `RMV#${graphKind(kind)}#${seq(changesetSeq)}`,
  }),
  removalPrefix: (kind: GraphKind): string => `RMV#${graphKind(kind)}#`,
  scanPage: (ref: AccountRef, scanId: string, page: number): ItemKey => ({
    pk: keys.accountPk(ref),
    sk: `SCAN#${keyPart('scanId', scanId)}#${padded('page', page, keyWidths.page)}`,
  }),
};

/** The key as DynamoDB attribute values. */
export function keyAttributes(key: ItemKey): Record<string, AttributeValue> {
  return { pk: { S: key.pk }, sk: { S: key.sk } };
}

/** "pk / sk", the way errors name an item. */
export function describeKey(key: ItemKey): string {
  return `${key.pk} / ${key.sk}`;
}
