export { attachCapacityMeter, type CapacityMeter, itemSize } from './capacity.ts';
export { createDynamoClient, type DynamoClientOptions, isLoopback } from './client.ts';
export {
  CorruptItemError,
  MissingItemError,
  StoreError,
  TableNotReadyError,
  UnprocessedItemsError,
} from './errors.ts';
export { DynamoStore, type DynamoStoreOptions, maxItemDataBytes } from './store.ts';
export {
  createTableInput,
  defaultTableName,
  ensureTable,
  type ItemKey,
  keys,
  tableDefinition,
} from './table.ts';
