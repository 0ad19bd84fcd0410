import type { AccountRecord } from '../../domain/account.ts';
import type { EngineState } from '../../domain/account-state.ts';
import type { EnginePolicy } from '../../domain/engine/policy.ts';
import { quietCalendarOf, suggestedReserve } from '../../domain/engine/policy.ts';
import { pickNext, seededRandom } from '../../domain/engine/schedule.ts';
import { recordSpend } from '../../domain/observe-plan.ts';
import type { StoredTask } from '../../ports/tasks.ts';
import type { StateCell } from '../state-cell.ts';
import { actOnTask } from './act-attempt.ts';
import {
  type ActDeps,
  type ActOptions,
  type ActReport,
  type AttemptContext,
  emptyActReport,
} from './act-context.ts';
import { loadFollowLimiters } from './limits.ts';
import { emptyEngineState } from './policy-of.ts';
import { followerCheck } from './still-follows.ts';

export { UNDO_HORIZON_MS } from './act-attempt.ts';
export type { ActDeps, ActOptions, ActReport } from './act-context.ts';

const MIN_TIME_FOR_A_FOLLOW_MS = 3_000;
/**
 * With nothing due, act still looks again after this long. Approvals and new changesets wake the
 * account at once (they reset `nextActAt`); this only bounds how long a missed wake-up can last, so an
 * idle account (or one whose reads are paused by a spent cap) is not invoked every hour for nothing.
 */
const IDLE_RECHECK_MS = 6 * 3_600_000;
/** With open tasks, act looks again within the hour whatever the plan says. */
const OPEN_WORK_RECHECK_MS = 3_600_000;

/**
 * Follows back the tasks that are due, earliest deadline first among the promises that can still be
 * kept (late work takes only the capacity left over), inside quiet hours and the caps. Each follow is
 * taken from the limiters (conditional writes), its task claimed under a lease (conditional write),
 * the follower re-checked, the call made, and the outcome recorded on the claimed version.
 */
export async function act(
  account: AccountRecord,
  policy: EnginePolicy,
  cell: StateCell,
  deps: ActDeps,
  options: ActOptions,
): Promise<ActReport> {
  const report = emptyActReport();
  const log = deps.logger.child({ clientId: account.clientId, accountId: account.accountId, useCase: 'act' });
  const now = deps.clock.now();
  let engine: EngineState = cell.state.engine ?? emptyEngineState();
  // A tick that runs before act is due (for the feed, a head scan) keeps the wake-up set earlier (the
  // queued unfollows' next turn, act's own): act plans only its tasks, so the earlier one stands.
  const earlierWake = engine.nextActAt > now ? engine.nextActAt : Number.POSITIVE_INFINITY;
  if (policy.mode === 'off') {
    // Follow-backs are off: planned ones wait (they resume if the mode comes back on).
    const nextActAt = Math.min(now + IDLE_RECHECK_MS, earlierWake);
    await cell.commit({ ...cell.state, engine: { ...engine, nextActAt } });
    return report;
  }
  if (engine.blockedUntil !== undefined && engine.blockedUntil > now) {
    report.stopped = { reason: 'blocked', until: engine.blockedUntil };
    return report;
  }

  const quiet = quietCalendarOf(policy);
  const limiters = await loadFollowLimiters(deps.tasks, account, policy, options.appDailyCap);
  const readLimit = options.readLimit ?? 100;
  // Earliest deadlines still keepable, those already late, and what is released now: due work is
  // never hidden behind many earlier deadlines that are not due yet.
  const [onTime, late, released] = await Promise.all([
    deps.tasks.listActive(cell.ref, { now, from: 'onTime', limit: readLimit }),
    deps.tasks.listActive(cell.ref, { now, from: 'late', limit: readLimit }),
    deps.tasks.listReleased(cell.ref, { now, limit: readLimit }),
  ]);
  const stored = new Map<string, StoredTask>(
    [...onTime, ...late, ...released].map((entry) => [entry.task.targetId, entry]),
  );
  const plan = pickNext(
    [...stored.values()].map((entry) => entry.task),
    now,
    { limiters: limiters.map(({ config, state }) => ({ config, state })), quiet },
    { until: now, reserve: suggestedReserve(cell.state.observe.growthPerHour, policy) },
  );

  report.promisesAtRisk = plan.queue.filter((entry) => entry.lane === 'late').length;
  const stillFollows = followerCheck(account, cell, deps);
  const random = seededRandom(`${account.clientId}/${account.accountId}/${now}`);
  // Open work looks again within the hour (a task the plan could not see behind the read limit);
  // an account with none waits for a wake-up (approvals, new changesets) or the long recheck.
  const recheck = stored.size > 0 ? OPEN_WORK_RECHECK_MS : IDLE_RECHECK_MS;
  let nextActAt = Math.min(plan.wakeAt ?? Number.POSITIVE_INFINITY, now + recheck);

  const attempt: AttemptContext = {
    account,
    policy,
    cell,
    deps,
    options,
    limiters,
    random,
    report,
    log,
    stillFollows,
    looks: [],
  };
  for (const pick of plan.picks) {
    if (options.timeLeftMs() < MIN_TIME_FOR_A_FOLLOW_MS) {
      report.stopped = { reason: 'deadline' };
      nextActAt = now;
      break;
    }
    const entry = stored.get(pick.task.targetId);
    if (entry === undefined) continue;
    const result = await actOnTask(entry, attempt);
    if (result === 'next') continue;
    report.stopped = result;
    if (result.reason === 'rate_limited' && result.until !== undefined) {
      engine = { ...engine, blockedUntil: result.until };
      nextActAt = result.until;
    } else if (result.until !== undefined) {
      nextActAt = Math.min(nextActAt, result.until);
    }
    break;
  }
  // Looks at the owner's following list are reads like observe's: they count against its budget.
  let spend = cell.state.observe.spend;
  for (const users of attempt.looks) spend = recordSpend(spend, users, account.observe);
  engine = { ...engine, nextActAt: Math.min(nextActAt, earlierWake) };
  await cell.commit({ ...cell.state, observe: { ...cell.state.observe, spend }, engine });
  return report;
}
