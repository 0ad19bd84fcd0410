import type { AccountRecord } from '../../domain/account.ts';
import type { EngineState } from '../../domain/account-state.ts';
import type { EnginePolicy } from '../../domain/engine/policy.ts';
import { promiseWindowOf, quietCalendarOf } from '../../domain/engine/policy.ts';
import { idCodecFor } from '../../domain/idset/index.ts';
import { loadGraph } from '../observe/graph-repo.ts';
import type { StateCell } from '../state-cell.ts';
import { expireApprovals } from './approval-expiry.ts';
import { emptyEngineState } from './policy-of.ts';
import { applyOwnerChanges, closeLeavers } from './reconcile-closures.ts';
import type { ReconcileContext, ReconcileDeps, ReconcileReport } from './reconcile-context.ts';
import { backfillFollowers, placeNewFollowers } from './reconcile-new-followers.ts';

export type { ReconcileDeps, ReconcileReport } from './reconcile-context.ts';

/**
 * Turns committed changesets into follow tasks or recorded skips, exactly once each: a task is
 * created with a conditional write, so a retried reconcile finds it there and moves on; the
 * cursor (`reconciledSeq`) advances only after a changeset is fully handled.
 */
export async function reconcile(
  account: AccountRecord,
  policy: EnginePolicy,
  cell: StateCell,
  deps: ReconcileDeps,
): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    scheduled: 0,
    awaitingApproval: 0,
    skipped: {},
    closed: 0,
    alreadyHandled: 0,
  };
  const log = deps.logger.child({
    clientId: account.clientId,
    accountId: account.accountId,
    useCase: 'reconcile',
  });
  const observe = cell.state.observe;
  const base: Omit<ReconcileContext, 'ownerFollowing'> = {
    account,
    policy,
    cell,
    deps,
    report,
    log,
    codec: idCodecFor(account.network),
    window: promiseWindowOf(policy),
    quiet: quietCalendarOf(policy),
  };
  let engine: EngineState = cell.state.engine ?? emptyEngineState();

  if (engine.reconciledSeq < observe.seq) {
    const changesets = await deps.store.getChangesets(cell.ref, engine.reconciledSeq, observe.seq);
    const following = observe.graphs.following;
    const ctx: ReconcileContext = {
      ...base,
      ownerFollowing:
        following.baseSeq > 0
          ? await loadGraph(deps.store, cell.ref, 'following', following, observe.seq, base.codec)
          : undefined,
    };
    for (const changeset of changesets) {
      if (changeset.kind === 'followers' && changeset.source === 'baseline') {
        if (policy.backfill === 'all') await backfillFollowers(ctx, changeset, observe.graphs.followers);
      } else if (changeset.kind === 'followers') {
        await placeNewFollowers(ctx, changeset);
        await closeLeavers(ctx, changeset);
      } else {
        await applyOwnerChanges(ctx, changeset);
      }
      engine = { ...engine, reconciledSeq: changeset.seq, nextActAt: 0 };
      await cell.commit({ ...cell.state, engine });
    }
  }

  await expireApprovals(base, engine);
  if (report.scheduled + report.awaitingApproval + report.closed > 0) log.info('reconciled', { ...report });
  return report;
}
