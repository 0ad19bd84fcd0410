import type { AccountRef, GraphKind } from '../../domain/account.ts';
import type { GraphPointer } from '../../domain/account-state.ts';
import { type IdCodec, type IdList, joinChunks, numericIdCodec } from '../../domain/idset/index.ts';
import type { Changeset, GraphStore } from '../../ports/store.ts';

/**
 * A list as of `uptoSeq`: its base snapshot plus the changesets of its kind committed after the base.
 * `codec` is the account's id codec (`idCodecFor(account.network)`); without it, numeric ids (X).
 */
export async function loadGraph(
  store: GraphStore,
  ref: AccountRef,
  kind: GraphKind,
  pointer: GraphPointer,
  uptoSeq: number,
): Promise<BigUint64Array>;
export async function loadGraph<L extends IdList>(
  store: GraphStore,
  ref: AccountRef,
  kind: GraphKind,
  pointer: GraphPointer,
  uptoSeq: number,
  codec: IdCodec<L>,
): Promise<L>;
export async function loadGraph(
  store: GraphStore,
  ref: AccountRef,
  kind: GraphKind,
  pointer: GraphPointer,
  uptoSeq: number,
  codec: IdCodec = numericIdCodec as IdCodec,
): Promise<IdList> {
  let ids = codec.empty();
  if (pointer.baseSeq > 0 && pointer.baseChunks > 0) {
    ids = codec.decode(joinChunks(await store.getBaseChunks(ref, kind, pointer.baseSeq, pointer.baseChunks)));
  }
  if (uptoSeq <= pointer.baseSeq) return ids;
  for (const changeset of await store.getChangesets(ref, pointer.baseSeq, uptoSeq)) {
    if (changeset.kind !== kind) continue;
    ids = codec.apply(ids, codec.decode(changeset.added), codec.decode(changeset.removed));
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
): Promise<BigUint64Array>;
export async function addedSince<L extends IdList>(
  store: GraphStore,
  ref: AccountRef,
  kind: GraphKind,
  afterSeq: number,
  uptoSeq: number,
  codec: IdCodec<L>,
): Promise<L>;
export async function addedSince(
  store: GraphStore,
  ref: AccountRef,
  kind: GraphKind,
  afterSeq: number,
  uptoSeq: number,
  codec: IdCodec = numericIdCodec as IdCodec,
): Promise<IdList> {
  if (uptoSeq <= afterSeq) return codec.empty();
  const parts: IdList[] = [];
  for (const changeset of await store.getChangesets(ref, afterSeq, uptoSeq)) {
    if (changeset.kind === kind && changeset.addedCount > 0) parts.push(codec.decode(changeset.added));
  }
  return codec.union(parts);
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
