import type { AccountRef } from '../domain/account.ts';

/**
 * The Lock port: the per-account lock a token refresh runs under: one holder at a time, with a
 * lease so a crashed holder frees it when the lease ends. Adapters: one DynamoDB item per account
 * (adapters/dynamo/refresh-lock.ts), a map for one process (adapters/memory/refresh-lock.ts).
 */
export interface RefreshLock {
  /** Takes the lock until `now + leaseMs`, unless another holder has an unexpired lease. */
  acquire(ref: AccountRef, holder: string, now: number, leaseMs: number): Promise<boolean>;
  /** Gives it back if `holder` still has it (otherwise nothing). */
  release(ref: AccountRef, holder: string): Promise<void>;
}
