import type { GraphKind } from '../../domain/account.ts';
import type { FullScanCheckpoint } from '../../domain/account-state.ts';
import { FULL_SCAN_CHECK_INTERVAL_MS } from '../../domain/observe-plan.ts';
import type { GraphPage } from '../../ports/platform.ts';
import { finishFullScan } from './full-scan-finish.ts';
import type { ObserveRun } from './run.ts';
import { Stop } from './stop.ts';

/**
 * Reading a whole list (followers or following), page by page, checkpointed after every page so that
 * the next tick continues where this one stopped. Which list and when: shared/domain/observe/
 * full-scan-choice.ts; what the finished scan says: full-scan-finish.ts.
 */

/** Failed reads of one cursor after which a scan drops the cursor and starts again from the top. */
const MAX_CURSOR_FAILURES = 3;
/** Times a full scan starts over before it is dropped until its next turn. */
const MAX_FULL_SCAN_RESTARTS = 3;

export async function startFullScan(run: ObserveRun, kind: GraphKind): Promise<void> {
  const checkpoint: FullScanCheckpoint = {
    kind,
    scanId: run.deps.newId(),
    cursor: undefined,
    pages: 0,
    startedAt: run.deps.clock.now(),
    fromSeq: run.observe.seq,
  };
  await run.commitObserve({ ...run.observe, fullScan: checkpoint });
  run.report.fullScan = { kind, state: 'started', pages: 0 };
  run.log.info('full scan started', { kind, scanId: checkpoint.scanId });
}

/** Reads pages until the list ends, checkpointing after every page. */
export async function continueFullScan(run: ObserveRun): Promise<void> {
  let checkpoint = run.observe.fullScan;
  if (!checkpoint) return;
  const pageSize = run.deps.platform.limits.maxPageSize;
  const progress = { kind: checkpoint.kind, state: 'progressed' as const, pages: 0 };
  run.report.fullScan = progress;
  while (checkpoint) {
    run.assertNotBlocked();
    let page: GraphPage;
    try {
      page = await run.read(checkpoint.kind, checkpoint.cursor, pageSize);
    } catch (error) {
      if (error instanceof Stop && (error.reason === 'platform_error' || error.reason === 'cursor_refused')) {
        await fullScanReadFailed(run, checkpoint, error);
      }
      throw error;
    }
    const ids = run.ids.fromStrings(page.users.map((user) => user.id));
    await run.deps.store.putScanPage(run.cell.ref, checkpoint.scanId, checkpoint.pages, run.ids.encode(ids));
    checkpoint = { ...checkpoint, cursor: page.nextCursor, pages: checkpoint.pages + 1, failures: 0 };
    progress.pages += 1;
    await run.commitObserve({ ...run.observe, fullScan: checkpoint });
    if (page.nextCursor === undefined) {
      await finishFullScan(run, checkpoint);
      checkpoint = undefined;
    }
  }
}

/**
 * A full-scan read failed. A refused cursor, or one that failed a few times in a row, is dropped
 * and the scan starts again from the top; a scan that had to start over too often is dropped until
 * its next turn. Observation never wedges on one cursor.
 */
async function fullScanReadFailed(
  run: ObserveRun,
  checkpoint: FullScanCheckpoint,
  stop: Stop,
): Promise<void> {
  const now = run.deps.clock.now();
  const failures = (checkpoint.failures ?? 0) + 1;
  if (stop.reason !== 'cursor_refused' && failures < MAX_CURSOR_FAILURES) {
    await run.commitObserve({ ...run.observe, fullScan: { ...checkpoint, failures } });
    return;
  }
  const restarts = (checkpoint.restarts ?? 0) + 1;
  const stale = { scanId: checkpoint.scanId, pages: checkpoint.pages };
  if (restarts > MAX_FULL_SCAN_RESTARTS) {
    run.log.warn('full scan dropped after starting over too often', { kind: checkpoint.kind, restarts });
    await run.commitObserve({
      ...run.observe,
      fullScan: undefined,
      nextFullScanCheckAt: now + FULL_SCAN_CHECK_INTERVAL_MS,
    });
  } else {
    run.log.warn('full scan cursor dropped; starting again from the top', {
      kind: checkpoint.kind,
      reason: stop.reason,
      restarts,
    });
    await run.commitObserve({
      ...run.observe,
      fullScan: {
        kind: checkpoint.kind,
        scanId: run.deps.newId(),
        cursor: undefined,
        pages: 0,
        startedAt: now,
        fromSeq: run.observe.seq,
        failures: 0,
        restarts,
      },
    });
  }
  await run.deps.store.deleteScanPages(run.cell.ref, stale.scanId, stale.pages).catch(() => undefined);
}
