import type { EngineState } from '../../domain/account-state.ts';
import { isApprovalExpired, skipTask } from '../../domain/engine/task.ts';
import { ignoreConflict, type ReconcileContext } from './reconcile-context.ts';

const DAY_MS = 86_400_000;

/** Once a day, skips approvals that waited longer than the policy allows; returns the engine state. */
export async function expireApprovals(
  ctx: Omit<ReconcileContext, 'ownerFollowing'>,
  engine: EngineState,
): Promise<EngineState> {
  const { deps, cell, policy, report } = ctx;
  const now = deps.clock.now();
  if (policy.approvalExpiryDays === null) return engine;
  if (engine.expiryCheckedAt !== undefined && now - engine.expiryCheckedAt < DAY_MS) return engine;
  for (const { task, version } of await deps.tasks.listAwaitingApproval(cell.ref, { limit: 500 })) {
    if (!isApprovalExpired(task, policy.approvalExpiryDays, now)) break; // oldest first
    await deps.tasks
      .putTask(
        cell.ref,
        skipTask(task, { at: now, reason: 'approval_expired', detail: 'waited too long for approval' }),
        version,
      )
      .catch(ignoreConflict);
    report.skipped.approval_expired = (report.skipped.approval_expired ?? 0) + 1;
  }
  const checked = { ...engine, expiryCheckedAt: now };
  await cell.commit({ ...cell.state, engine: checked });
  return checked;
}
