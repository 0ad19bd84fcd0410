/** The in-memory store keeps the storage ports' contract, the same suite the DynamoDB adapter passes. */
import { describe } from 'vitest';
import { MemoryStore } from '../../shared/adapters/memory/memory-store.ts';
import { describeStoreContract } from '../contract/store-contract.ts';

describe('MemoryStore', () => {
  describeStoreContract({
    fresh: async (options = {}) => new MemoryStore(options.clock ? { clock: options.clock } : {}),
    removeItem: async (store, key) => (store as MemoryStore).deleteItem(key),
    expiresAt: async (store, key) => (store as MemoryStore).expiresAtOf(key),
  });
});
