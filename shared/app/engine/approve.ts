import type { AccountRecord } from '../../domain/account.ts';
import { promiseWindowOf, quietCalendarOf } from '../../domain/engine/policy.ts';
import { planTask, seededRandom } from '../../domain/engine/schedule.ts';
import { approveTask, type FollowTask, rejectTask } from '../../domain/engine/task.ts';
import { ConflictError, ValidationError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { AccountStateStore } from '../../ports/store.ts';
import type { TaskStore } from '../../ports/tasks.ts';
import { policyOf } from './policy-of.ts';

export interface ApprovalDecision {
  /** Targets to follow back; 'all' approves every candidate waiting. */
  approve: readonly string[] | 'all';
  skip: readonly string[];
}

export interface ApprovalResult {
  approved: string[];
  skipped: string[];
  /** Targets that were not waiting for approval (already decided, unknown): nothing changed for them. */
  notWaiting: string[];
}

/** The candidates waiting for the owner's decision, oldest first. */
export async function listCandidates(
  tasks: TaskStore,
  account: AccountRecord,
  limit = 500,
): Promise<FollowTask[]> {
  return (await tasks.listAwaitingApproval(account, { limit })).map((entry) => entry.task);
}

/**
 * The owner's decision on candidates, the same path for the CLI, the approval page and the demo.
 * Approving starts the promise clock now: the task is planned inside its window from this moment.
 * Each task changes with a conditional write, so a decision taken twice (a double click, a retried
 * request) changes a task once; targets no longer waiting are reported, never an error mid-way.
 */
export async function decideApprovals(
  account: AccountRecord,
  decision: ApprovalDecision,
  deps: { tasks: TaskStore; state: AccountStateStore; clock: Clock },
): Promise<ApprovalResult> {
  const approveIds = decision.approve === 'all' ? undefined : new Set(decision.approve);
  const skipIds = new Set(decision.skip);
  for (const id of skipIds) {
    if (approveIds?.has(id)) throw new ValidationError(`target ${id} is both approved and skipped`);
  }
  const policy = policyOf(account);
  const window = promiseWindowOf(policy);
  const quiet = quietCalendarOf(policy);
  const now = deps.clock.now();
  const result: ApprovalResult = { approved: [], skipped: [], notWaiting: [] };

  const targets =
    approveIds === undefined
      ? [
          ...(await deps.tasks.listAwaitingApproval(account))
            .map((entry) => entry.task.targetId)
            .filter((id) => !skipIds.has(id)),
        ]
      : [...approveIds];
  for (const [ids, approve] of [
    [targets, true],
    [[...skipIds], false],
  ] as const) {
    for (const targetId of ids) {
      const stored = await deps.tasks.getTask(account, targetId);
      if (stored?.task.state !== 'pending_approval') {
        result.notWaiting.push(targetId);
        continue;
      }
      const next = approve
        ? approveTask(stored.task, {
            at: now,
            plan: planTask(now, window, {
              now,
              random: seededRandom(`${account.clientId}/${account.accountId}/${targetId}/approved`),
              quiet,
            }),
          })
        : rejectTask(stored.task, { at: now, detail: 'declined by the owner' });
      try {
        await deps.tasks.putTask(account, next, stored.version);
        (approve ? result.approved : result.skipped).push(targetId);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        result.notWaiting.push(targetId);
      }
    }
  }
  if (result.approved.length > 0) await wakeAct(account, deps);
  return result;
}

/**
 * Tells the next tick that act has work (approved tasks), without waiting for its planned wake-up.
 * Not while a worker holds the account: its state writes are conditional and would fail; its act
 * looks again within the hour anyway.
 */
export async function wakeAct(
  account: AccountRecord,
  deps: { state: AccountStateStore; clock: Clock },
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const current = await deps.state.getState(account);
    if (!current?.state.engine) return;
    if ((current.state.lease?.until ?? 0) > deps.clock.now()) return;
    try {
      await deps.state.putState(
        account,
        { ...current.state, engine: { ...current.state.engine, nextActAt: 0 } },
        current.version,
      );
      return;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
}
