import type { AccountRef, GraphKind } from '../../domain/account.ts';
import type { GraphPointer } from '../../domain/account-state.ts';
import { applyDelta, decodeIds, joinChunks, sortUnique } from '../../domain/idset/index.ts';
import type { Changeset, GraphStore } from '../../ports/store.ts';

const EMPTY: BigUint64Array = new BigUint64Array(0);

/** A list as of `uptoSeq`: its base snapshot plus the changesets of its kind committed after the base. */
export async function loadGraph(
  store: GraphStore,
  ref: AccountRef,
  kind: GraphKind,
  pointer: GraphPointer,
  uptoSeq: number,
): Promise<BigUint64Array> {
  let ids: BigUint64Array = EMPTY;
  if (pointer.baseSeq > 0 && pointer.baseChunks > 0) {
    ids = decodeIds(joinChunks(await store.getBaseChunks(ref, kind, pointer.baseSeq, pointer.baseChunks)));
  }
  if (uptoSeq <= pointer.baseSeq) return ids;
  for (const changeset of await store.getChangesets(ref, pointer.baseSeq, uptoSeq)) {
    if (changeset.kind !== kind) continue;
    ids = applyDelta(ids, decodeIds(changeset.added), decodeIds(changeset.removed));
  }
  return ids;
}

/** Ids added to a list by the changesets after `afterSeq` (e.g. during an interrupted scan). */
export async function addedSince(
  store: GraphStore,
  ref: AccountRef,
  kind: GraphKind,
  afterSeq: number,
  uptoSeq: number,
): Promise<BigUint64Array> {
  if (uptoSeq <= afterSeq) return EMPTY;
  const parts: BigUint64Array[] = [];
  for (const changeset of await store.getChangesets(ref, afterSeq, uptoSeq)) {
    if (changeset.kind === kind && changeset.addedCount > 0) parts.push(decodeIds(changeset.added));
  }
  return sortUnique(concatIds(parts));
}

export function concatIds(parts: readonly BigUint64Array[]): BigUint64Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new BigUint64Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Bytes of encoded ids a list's changesets hold beyond its base: when large, a new base is cheaper to read. */
export function changesetBytes(changesets: readonly Changeset[], kind: GraphKind): number {
  return changesets
    .filter((changeset) => changeset.kind === kind)
    .reduce((sum, changeset) => sum + changeset.added.length + changeset.removed.length, 0);
}
