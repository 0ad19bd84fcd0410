import type { AccountRef } from '../domain/account.ts';
import { type AccountState, emptyObserveState } from '../domain/account-state.ts';
import { ConflictError } from '../domain/errors.ts';
import type { AccountStateStore } from '../ports/store.ts';
import { StateCell } from './state-cell.ts';

export type LeaseOutcome =
  | { acquired: true; cell: StateCell }
  | { acquired: false; heldBy: string; until: number };

/**
 * Takes the account for one tick, with a conditional write on its state item: a duplicate tick or a
 * second worker finds the lease held and backs off; a crashed worker's lease expires at `until`.
 */
export async function acquireLease(
  store: AccountStateStore,
  ref: AccountRef,
  holder: string,
  now: number,
  durationMs: number,
): Promise<LeaseOutcome> {
  const current = await store.getState(ref);
  const state: AccountState = current?.state ?? { observe: emptyObserveState() };
  const lease = state.lease;
  if (lease && lease.until > now && lease.holder !== holder) {
    return { acquired: false, heldBy: lease.holder, until: lease.until };
  }
  const epoch = (lease?.epoch ?? 0) + 1;
  const next: AccountState = { ...state, lease: { holder, until: now + durationMs, epoch } };
  try {
    const version = await store.putState(ref, next, current?.version ?? 0);
    return { acquired: true, cell: new StateCell(store, ref, next, version, epoch) };
  } catch (error) {
    if (error instanceof ConflictError) {
      const winner = await store.getState(ref);
      return {
        acquired: false,
        heldBy: winner?.state.lease?.holder ?? 'unknown',
        until: winner?.state.lease?.until ?? now,
      };
    }
    throw error;
  }
}

/**
 * Gives the account back at the end of a tick (best effort: an expired lease frees it anyway).
 * The epoch stays, so fencing tokens only ever grow.
 */
export async function releaseLease(cell: StateCell): Promise<void> {
  const lease = cell.state.lease;
  if (!lease) return;
  await cell.commit({ ...cell.state, lease: { ...lease, until: 0 } });
}
