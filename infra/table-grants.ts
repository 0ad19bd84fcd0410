import type { tableDefinition } from '../shared/adapters/dynamo/table.ts';
import type { LambdaFunctionName } from './bundling.ts';

export type TableAction = 'GetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchWriteItem';
export type IndexName = (typeof tableDefinition.globalSecondaryIndexes)[number]['indexName'];

/**
 * The DynamoDB actions each function uses, on the table itself, and the indexes it queries (by
 * name): no Scan, no wildcard; for the public approval function, also the partitions. test/functions
 * checks that each function, run against dynalite, calls nothing beyond its line here (partitions
 * included); test/infra that the roles hold exactly this.
 */
export interface TableGrant {
  actions: readonly TableAction[];
  indexes: readonly IndexName[];
  /**
   * For a function that must not reach the whole table: the partitions (`dynamodb:LeadingKeys`,
   * StringLike patterns) each kind of call may touch. Without it, the actions apply table-wide.
   */
  partitions?: PartitionGrant | undefined;
}

export interface PartitionGrant {
  /** GetItem and Query on the table. */
  read: readonly string[];
  /** Query on the indexes (their partition key is the leading key). */
  indexRead: readonly string[];
  /** PutItem and UpdateItem. */
  write: readonly string[];
  /** UpdateItem on the registry partition, of these attributes only (and the key). */
  registryUpdate?: { partition: string; attributes: readonly string[] } | undefined;
}

export const tableGrants: Record<LambdaFunctionName, TableGrant> = {
  /** The registry and the accounts' states. */
  'tick-dispatch': { actions: ['GetItem', 'Query'], indexes: [] },
  /**
   * Everything the account's tick does through DynamoStore (chunks and pages go in batches; open
   * tasks by deadline on gsi1 and by release time on gsi2), the token refresh (the sealed pair
   * and the `LOCK#refresh` item: a conditional put and delete) and the conditional token_expired
   * mark (UpdateItem).
   */
  'account-worker': {
    actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
    indexes: ['gsi1', 'gsi2'],
  },
  /** The clients and their digest runs. */
  'digest-dispatch': { actions: ['GetItem', 'Query'], indexes: [] },
  /** A client's week (tasks waiting for approval on gsi1), the run item and follower samples. */
  'digest-worker': { actions: ['GetItem', 'Query', 'PutItem'], indexes: ['gsi1'] },
  /**
   * Public (behind the Function URL), so scoped to partitions: reads the registry, the account
   * partitions (tasks, state) and the client partitions (tokens' single use); writes tasks, the
   * account state and the token uses; on the registry it may set only the unsubscribe flag. The
   * sealed credentials (`CRED#…`), the agency roll-up (`AGENCY`) and the app-wide limiter (`APP`)
   * are out of its reach.
   */
  'approval-page': {
    actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem'],
    indexes: ['gsi1'],
    partitions: {
      read: ['REGISTRY', 'ACCT#*', 'CLIENT#*'],
      indexRead: ['TASKQ#*'],
      write: ['ACCT#*', 'CLIENT#*'],
      registryUpdate: { partition: 'REGISTRY', attributes: ['pk', 'sk', 'digestOptOut', 'digestOptOutAt'] },
    },
  },
  /**
   * The console and invites: the registry, states, snapshots and tasks (candidates on gsi1), invites,
   * audit entries, decisions, settings, sealed credentials, limiter buckets, and the refresh lock of a
   * platform it opens for an unfollow (a conditional put and delete).
   */
  console: { actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'], indexes: ['gsi1'] },
};
