import type { IdCodec } from '../../domain/idset/index.ts';
import { fullScanToStart } from '../../domain/observe/full-scan-choice.ts';
import { HEAD_ANCHOR_SIZE } from '../../domain/observe/head-anchor.ts';
import { MIN_HEAD_SCAN_INTERVAL_MS } from '../../domain/observe-plan.ts';
import type { Changeset } from '../../ports/store.ts';
import { startFullScan } from './full-scan.ts';
import { writeBase } from './rebase.ts';
import type { ObserveRun } from './run.ts';

/** Followers read at connection when a full scan is not affordable: enough to recognise the head later. */
const BASELINE_PAGE_SIZE = 100;

/**
 * The first observation. When the whole list is affordable, a full scan makes the baseline;
 * otherwise one page of the newest followers does: enough to tell the new ones from then on.
 */
export async function takeBaseline(run: ObserveRun): Promise<void> {
  const kind = fullScanToStart(
    run.observe,
    run.account.observe,
    run.deps.platform.limits.maxPageSize,
    run.deps.clock.now(),
  );
  if (kind === 'followers') {
    await startFullScan(run, 'followers');
    return;
  }
  await baselineFromNewestPage(run);
}

/** The baseline as one page of the newest followers: a base, an empty changeset, and the first anchor. */
async function baselineFromNewestPage(run: ObserveRun): Promise<void> {
  const page = await run.read('followers', undefined, BASELINE_PAGE_SIZE);
  const ids = run.ids.fromStrings(page.users.map((user) => user.id));
  const now = run.deps.clock.now();
  const seq = run.observe.seq + 1;
  const baseChunks = await writeBase(run, 'followers', seq, ids);
  await run.putChangeset({
    seq,
    at: now,
    kind: 'followers',
    source: 'baseline',
    ...emptyDelta(run.ids),
    profiles: [],
  });
  await run.commitObserve({
    ...run.observe,
    seq,
    graphs: {
      ...run.observe.graphs,
      followers: {
        baseSeq: seq,
        baseChunks,
        baseAt: now,
        count: ids.length,
        complete: page.nextCursor === undefined,
      },
    },
    headAnchor: page.users.slice(0, HEAD_ANCHOR_SIZE).map((user) => user.id),
    lastHeadScanAt: now,
    nextHeadScanAt: now + MIN_HEAD_SCAN_INTERVAL_MS * 4,
  });
  run.report.committed.push(seq);
  run.report.headScan = 'done';
  run.log.info('baseline taken', { followers: ids.length, complete: page.nextCursor === undefined });
}

function emptyDelta(codec: IdCodec): Pick<Changeset, 'added' | 'removed' | 'addedCount' | 'removedCount'> {
  const empty = codec.encode(codec.empty());
  return { added: empty, removed: empty, addedCount: 0, removedCount: 0 };
}
