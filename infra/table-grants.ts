import type { tableDefinition } from '../shared/adapters/dynamo/table.ts';
import type { LambdaFunctionName } from './bundling.ts';

export type TableAction = 'GetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchWriteItem';
export type IndexName = (typeof tableDefinition.globalSecondaryIndexes)[number]['indexName'];

/**
 * The DynamoDB actions each function uses, on the table itself, and the indexes it queries (by
 * name): no Scan, no wildcard. test/functions checks that each function, run against dynalite,
 * calls nothing beyond its line here; test/infra that the roles hold exactly this.
 */
export const tableGrants: Record<
  LambdaFunctionName,
  { actions: readonly TableAction[]; indexes: readonly IndexName[] }
> = {
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
  /** Tokens' single use, the approved tasks and the account state, the unsubscribe flag (UpdateItem). */
  'approval-page': { actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem'], indexes: ['gsi1'] },
  /**
   * The console and invites: the registry, states, snapshots and tasks (candidates on gsi1), invites,
   * audit entries, decisions, settings, sealed credentials, limiter buckets, and the refresh lock of a
   * platform it opens for an unfollow (a conditional put and delete).
   */
  console: { actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'], indexes: ['gsi1'] },
};
