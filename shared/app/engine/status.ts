import { policyWarnings } from '../../config/policy.ts';
import type { AccountRecord } from '../../domain/account.ts';
import type { AccountState } from '../../domain/account-state.ts';
import { type ForecastSummary, forecast, type LatePromise } from '../../domain/engine/forecast.ts';
import { quietCalendarOf, suggestedReserve } from '../../domain/engine/policy.ts';
import {
  type FollowTask,
  keptPromise,
  type SkipReason,
  TASK_STATES,
  type TaskState,
} from '../../domain/engine/task.ts';
import { rollSpend, type SnapshotTrust, snapshotTrust } from '../../domain/observe-plan.ts';
import type { AccountStateStore } from '../../ports/store.ts';
import type { BucketStore, TaskStore } from '../../ports/tasks.ts';
import { loadFollowLimiters } from './limits.ts';
import { appDailyCapOf, type EngineSettings, policyOf } from './policy-of.ts';

export interface NextAction {
  targetId: string;
  handle: string;
  dueAt: number;
  deadline: number;
}

export interface AccountStatusReport {
  clientId: string;
  accountId: string;
  network: AccountRecord['network'];
  handle: string;
  status: AccountRecord['status'];
  mode: string;
  /** Why the policy needs care (X in auto mode: X's rules on automated follows). */
  warnings: string[];
  followers: number | null;
  tasks: Record<TaskState, number>;
  skipsByReason: Partial<Record<SkipReason, number>>;
  awaitingApproval: number;
  nextActions: NextAction[];
  /** Follow-backs done by their deadline over those judged (done, or open past the deadline); null when none. */
  promiseKeptPct: number | null;
  promisesJudged: number;
  forecast: ForecastSummary & { late: LatePromise[]; promisedCompletionAt: number | undefined };
  blockedUntil: number | null;
  readsThisMonthUsd: number;
  /** What reads cost and count against the account's read caps (X bills every user a list returns). */
  reads: {
    monthUsd: number;
    budgetUsdPerMonth: number;
    requestsToday: number;
    requestsPerDay: number;
    usersToday: number;
    /** A read cap is spent until then. */
    pausedUntil: number | null;
  };
  /** Users billed this month (X bills a user once per app and UTC day), and read requests today. */
  readsThisMonth: { billedUsers: number; requestsToday: number };
  /**
   * Whether the follower snapshot is the whole list: `partial` (only followers seen since
   * connection), `drifted` (the owner's count is off it: some who left are not named), `complete`.
   */
  snapshot: SnapshotTrust | null;
}

/** Everything `followback status` shows for one account, read-only. */
export async function accountStatus(
  account: AccountRecord,
  deps: { tasks: TaskStore & BucketStore; state: AccountStateStore; engine?: EngineSettings },
  now: number,
): Promise<AccountStatusReport> {
  const policy = policyOf(account);
  const [stored, state] = await Promise.all([deps.tasks.listTasks(account), deps.state.getState(account)]);
  const tasks = stored.map((entry) => entry.task);
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  const skips: Partial<Record<SkipReason, number>> = {};
  for (const task of tasks) {
    counts[task.state] += 1;
    if (task.state === 'skipped' && task.skipReason)
      skips[task.skipReason] = (skips[task.skipReason] ?? 0) + 1;
  }
  const { kept, judged } = promiseFigures(tasks, now);
  const limiters = await loadFollowLimiters(
    deps.tasks,
    account,
    policy,
    appDailyCapOf(account, deps.engine ?? {}),
  );
  const predicted = forecast(
    tasks.filter((task) => task.state === 'scheduled' || task.state === 'in_progress'),
    {
      now,
      capacity: {
        limiters: limiters.map(({ config, state: s }) => ({ config, state: s })),
        quiet: quietCalendarOf(policy),
      },
      reserve: suggestedReserve(state?.state.observe.growthPerHour ?? 0, policy),
    },
  );
  // This UTC day's and month's reads (what the read caps count); zero once the day or month turned.
  const spend = rollSpend(
    state?.state.observe.spend ?? {
      day: '',
      dayRequests: 0,
      dayUsers: 0,
      month: '',
      monthUsd: 0,
      totalRequests: 0,
      totalUsers: 0,
    },
    now,
  );
  const nextActions = tasks
    .flatMap((task) =>
      task.state === 'scheduled' && task.dueAt !== undefined && task.deadline !== undefined
        ? [
            {
              targetId: task.targetId,
              handle: task.profile.handle,
              dueAt: Math.max(task.dueAt, task.retryAt ?? 0),
              deadline: task.deadline,
            },
          ]
        : [],
    )
    .sort((a, b) => a.dueAt - b.dueAt)
    .slice(0, 5);
  return {
    clientId: account.clientId,
    accountId: account.accountId,
    network: account.network,
    handle: account.handle,
    status: account.status,
    mode: policy.mode,
    warnings: policyWarnings(policy),
    followers: followersOf(state?.state),
    tasks: counts,
    skipsByReason: skips,
    awaitingApproval: counts.pending_approval,
    nextActions,
    promiseKeptPct: judged === 0 ? null : Math.floor((kept / judged) * 1000) / 10,
    promisesJudged: judged,
    forecast: {
      ...predicted.summary,
      late: predicted.late.slice(0, 20),
      promisedCompletionAt: predicted.promisedCompletionAt,
    },
    blockedUntil: state?.state.engine?.blockedUntil ?? null,
    readsThisMonthUsd: roundUsd(spend.monthUsd),
    reads: {
      monthUsd: roundUsd(spend.monthUsd),
      budgetUsdPerMonth: account.observe.readBudgetUsdPerMonth,
      requestsToday: spend.dayRequests,
      requestsPerDay: account.observe.readRequestsPerDay,
      usersToday: spend.dayUsers,
      pausedUntil: state?.state.observe.readsPaused?.until ?? null,
    },
    readsThisMonth: { billedUsers: spend.monthBilled ?? 0, requestsToday: spend.dayRequests },
    snapshot: state ? snapshotTrust(state.state.observe) : null,
  };
}

/** Kept: done or requested by the deadline. Judged: kept, done late, or still open past the deadline. */
export function promiseFigures(tasks: readonly FollowTask[], now: number): { kept: number; judged: number } {
  let kept = 0;
  let judged = 0;
  for (const task of tasks) {
    if (task.backfill) continue;
    const outcome = keptPromise(task);
    if (outcome !== undefined) {
      judged += 1;
      if (outcome) kept += 1;
    } else if (
      (task.state === 'scheduled' || task.state === 'in_progress') &&
      task.deadline !== undefined &&
      task.deadline < now
    ) {
      judged += 1;
    }
  }
  return { kept, judged };
}

function followersOf(state: AccountState | undefined): number | null {
  if (!state) return null;
  const graph = state.observe.graphs.followers;
  return graph.complete ? graph.count : (state.observe.owner?.followers ?? graph.count);
}

/** Money as people read it: to the cent (sums of per-read prices drift: 86.26000000000003). */
export function roundUsd(usd: number): number {
  return Math.round(usd * 100) / 100;
}
