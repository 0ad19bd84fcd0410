import type { AccountRef } from '../../domain/account.ts';
import type { RefreshLock } from '../../ports/locks.ts';

/** A lock for one process (tests, a single local run). */
export class MemoryRefreshLock implements RefreshLock {
  readonly #held = new Map<string, { holder: string; until: number }>();

  async acquire(ref: AccountRef, holder: string, now: number, leaseMs: number): Promise<boolean> {
    const key = `${ref.clientId}/${ref.accountId}`;
    const current = this.#held.get(key);
    if (current && current.until > now && current.holder !== holder) return false;
    this.#held.set(key, { holder, until: now + leaseMs });
    return true;
  }

  async release(ref: AccountRef, holder: string): Promise<void> {
    const key = `${ref.clientId}/${ref.accountId}`;
    if (this.#held.get(key)?.holder === holder) this.#held.delete(key);
  }
}
