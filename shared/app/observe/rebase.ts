import type { GraphKind } from '../../domain/account.ts';
import type { GraphPointer } from '../../domain/account-state.ts';
import { chunkBytes, type IdList } from '../../domain/idset/index.ts';
import type { ObserveRun } from './run.ts';

/**
 * Writing and dropping a list's base snapshot (when: shared/domain/observe/rebase-policy.ts). A base
 * is written before the state that points at it is committed; the base it replaces is deleted after,
 * best effort: it is no longer referenced.
 */

/** Writes `ids` as the base of `kind` at `seq`; returns how many chunks it took. */
export async function writeBase(run: ObserveRun, kind: GraphKind, seq: number, ids: IdList): Promise<number> {
  const chunks = chunkBytes(run.ids.encode(ids));
  await run.deps.store.putBaseChunks(run.cell.ref, kind, seq, chunks, run.cell.fence);
  return chunks.length;
}

/** Deletes a base no state points at any more (best effort). */
export async function dropBase(run: ObserveRun, kind: GraphKind, stale: GraphPointer): Promise<void> {
  await run.deps.store
    .deleteBaseChunks(run.cell.ref, kind, stale.baseSeq, stale.baseChunks)
    .catch(() => undefined);
}
