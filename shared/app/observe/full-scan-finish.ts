import type { GraphKind } from '../../domain/account.ts';
import type { FullScanCheckpoint } from '../../domain/account-state.ts';
import type { IdList } from '../../domain/idset/index.ts';
import { fullScanRebaseDue } from '../../domain/observe/rebase-policy.ts';
import { changesetBytes, loadGraph } from './graph-repo.ts';
import { dropBase, writeBase } from './rebase.ts';
import type { ObserveRun } from './run.ts';

/** What a finished full scan says against the snapshot. */
interface ListDiff {
  /** Ids listed by the scan. */
  listed: IdList;
  /** Ids added to the snapshot as events (none on a list's first complete scan: those predate followback). */
  eventAdded: IdList;
  /** Ids known when the scan began, still in the snapshot, and absent from the list. */
  removed: IdList;
  /** The snapshot after the scan. */
  next: IdList;
  /** The list's first complete scan: the snapshot held only those seen since connection. */
  firstComplete: boolean;
}

/**
 * Diffs the scanned list against the snapshot and commits the changeset (and a new base when due).
 * Ids added by head scans during the scan stay; only ids known when the scan began and absent from
 * the list are removed.
 */
export async function finishFullScan(run: ObserveRun, checkpoint: FullScanCheckpoint): Promise<void> {
  const { store } = run.deps;
  const codec = run.ids;
  const ref = run.cell.ref;
  const kind = checkpoint.kind;
  const pointer = run.observe.graphs[kind];
  const diff = await diffScannedList(run, checkpoint);
  const { eventAdded, removed, next, firstComplete } = diff;
  const seq = run.observe.seq + 1;
  const now = run.deps.clock.now();
  const addedBytes = codec.encode(eventAdded);
  const removedBytes = codec.encode(removed);
  const since = await store.getChangesets(ref, pointer.baseSeq, run.observe.seq);
  const deltaBytes = changesetBytes(since, kind) + addedBytes.length + removedBytes.length;
  const rebase = fullScanRebaseDue({
    pointer,
    firstComplete,
    deltaBytes,
    bytesPerId: codec.bytesPerIdEstimate,
  });

  const baseChunks = rebase ? await writeBase(run, kind, seq, next) : pointer.baseChunks;
  await run.putChangeset({
    seq,
    at: now,
    kind,
    source: firstComplete ? 'baseline' : 'full',
    added: addedBytes,
    removed: removedBytes,
    addedCount: eventAdded.length,
    removedCount: removed.length,
    profiles: [],
  });
  await run.commitObserve({
    ...run.observe,
    seq,
    fullScan: undefined,
    graphs: {
      ...run.observe.graphs,
      [kind]: {
        baseSeq: rebase ? seq : pointer.baseSeq,
        baseChunks,
        baseAt: rebase ? now : pointer.baseAt,
        count: next.length,
        complete: true,
        lastFullScanAt: now,
        ...(kind === 'following' ? { followersAtScan: run.observe.graphs.followers.count } : {}),
      },
    },
  });
  run.report.committed.push(seq);
  run.report.fullScan = { kind, state: 'finished', pages: checkpoint.pages };
  reportListChanges(run, kind, diff);
  run.log.info('full scan finished', {
    kind,
    listed: diff.listed.length,
    added: eventAdded.length,
    removed: removed.length,
    rebase,
  });
  // Old base and scan pages are no longer referenced; removing them is best effort (scan pages expire anyway).
  await store.deleteScanPages(ref, checkpoint.scanId, checkpoint.pages).catch(() => undefined);
  if (rebase && pointer.baseSeq > 0) await dropBase(run, kind, pointer);
}

/** The scanned list against the snapshot now and as it was when the scan began. */
async function diffScannedList(run: ObserveRun, checkpoint: FullScanCheckpoint): Promise<ListDiff> {
  const { store } = run.deps;
  const codec = run.ids;
  const ref = run.cell.ref;
  const kind = checkpoint.kind;
  const pointer = run.observe.graphs[kind];
  const pages = await store.getScanPages(ref, checkpoint.scanId, checkpoint.pages);
  const listed = codec.union(pages.map((bytes) => codec.decode(bytes)));
  const current = await loadGraph(store, ref, kind, pointer, run.observe.seq, codec);
  const atStart =
    checkpoint.fromSeq >= pointer.baseSeq
      ? await loadGraph(store, ref, kind, pointer, checkpoint.fromSeq, codec)
      : current;

  const { added } = codec.diff(current, listed);
  const { removed: goneSinceStart } = codec.diff(atStart, listed);
  // Of those, only the ones still in the snapshot (gone ∩ current).
  const removed = codec.diff(codec.diff(goneSinceStart, current).removed, goneSinceStart).added;
  const next = codec.apply(current, added, removed);
  // Before the first full scan of followers, the snapshot held only those seen since connection:
  // the rest of the list predates followback and is not new.
  const firstComplete = !pointer.complete;
  return { listed, eventAdded: firstComplete ? codec.empty() : added, removed, next, firstComplete };
}

/** Who followed, left, or was followed or unfollowed by the owner, as the scan named them. */
function reportListChanges(run: ObserveRun, kind: GraphKind, diff: ListDiff): void {
  const addedIds = run.ids.toStrings(diff.eventAdded);
  const removedIds = run.ids.toStrings(diff.removed);
  if (kind === 'followers') {
    run.report.newFollowers.push(...addedIds);
    run.report.lostFollowers.push(...removedIds);
  } else {
    run.report.ownerFollowed.push(...addedIds);
    run.report.ownerUnfollowed.push(...removedIds);
  }
}
