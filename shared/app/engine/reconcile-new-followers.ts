import type { GraphPointer } from '../../domain/account-state.ts';
import { planTask, seededRandom } from '../../domain/engine/schedule.ts';
import { evaluateCandidate } from '../../domain/engine/spam.ts';
import {
  createPendingTask,
  createScheduledTask,
  createSkippedTask,
  type FollowTask,
  type NewTaskInput,
  type SkipReason,
  taskProfileOf,
} from '../../domain/engine/task.ts';
import { ConflictError, RecordTooLargeError } from '../../domain/errors.ts';
import { readToday, recordSpend, rollSpend } from '../../domain/observe-plan.ts';
import type { PlatformUser } from '../../ports/platform.ts';
import type { Changeset } from '../../ports/store.ts';
import { loadGraph } from '../observe/graph-repo.ts';
import { type ReconcileContext, unknownProfile } from './reconcile-context.ts';

/** Users one profile look-up request returns at most (X: 100 ids per `GET /2/users`). */
const LOOKUP_BATCH = 100;

/** Reasons that end a task but let the same person be followed back if they follow again. */
const REOPENABLE: readonly SkipReason[] = ['left_before_followback', 'rejected_by_owner', 'approval_expired'];

/** Followers from before the connection, when the policy asks for them: best effort, no promise. */
export async function backfillFollowers(
  ctx: ReconcileContext,
  changeset: Changeset,
  followers: GraphPointer,
): Promise<void> {
  const pointer = { ...followers, baseSeq: changeset.seq };
  const ids = ctx.codec.toStrings(
    await loadGraph(ctx.deps.store, ctx.cell.ref, 'followers', pointer, changeset.seq, ctx.codec),
  );
  await vet(ctx, changeset, ids, true);
}

/** The followers a changeset added, and those it found following again: each gets its task. */
export async function placeNewFollowers(ctx: ReconcileContext, changeset: Changeset): Promise<void> {
  const ids = [...ctx.codec.toStrings(ctx.codec.decode(changeset.added)), ...(changeset.refollowed ?? [])];
  if (ids.length === 0) return;
  await vet(ctx, changeset, ids, false);
}

/** Vets each follower against the policy and places their task: scheduled, awaiting approval or skipped. */
async function vet(
  ctx: ReconcileContext,
  changeset: Changeset,
  ids: string[],
  predatesConnection: boolean,
): Promise<void> {
  const { account, policy } = ctx;
  const profiles = new Map(changeset.profiles.map((profile) => [profile.id, profile]));
  // Profiles a scan did not return are looked up; where reads are free (Bluesky lists carry no
  // counts) also those without the counts the ratio filter needs.
  const freeReads = account.observe.usdPerUserRead === 0 && policy.spam.ratio.action !== 'off';
  const missing = ids.filter((id) => {
    const profile = profiles.get(id);
    return !profile || (freeReads && profile.followersCount === undefined);
  });
  if (missing.length > 0) {
    for (const user of await lookup(ctx, missing)) profiles.set(user.id, user);
  }
  for (const id of ids) {
    const profile = profiles.get(id) ?? unknownProfile(id);
    const input: NewTaskInput = {
      targetId: id,
      detectedAt: changeset.at,
      backfill: predatesConnection,
      profile: taskProfileOf(profile),
    };
    const verdict = evaluateCandidate(profile, policy, {
      now: changeset.at,
      ownerId: account.platformUserId,
      ownerFollows: ctx.ownerFollowing ? ctx.codec.has(ctx.ownerFollowing, id) : false,
      predatesConnection,
    });
    let task: FollowTask;
    if (verdict.verdict === 'skip') {
      task = createSkippedTask(
        { ...input, signals: verdict.signals },
        { reason: verdict.reason, detail: verdict.detail, at: changeset.at },
      );
    } else if (policy.mode === 'approve') {
      task = createPendingTask({ ...input, signals: verdict.signals });
    } else {
      const plan = planTask(changeset.at, ctx.window, {
        now: changeset.at,
        random: seededRandom(`${account.clientId}/${account.accountId}/${id}`),
        quiet: ctx.quiet,
      });
      task = createScheduledTask({ ...input, signals: verdict.signals }, plan);
    }
    await place(ctx, task);
  }
}

/**
 * Places one follower's task. A write the store refuses for this follower alone (an item it cannot
 * take) is tried once more with the profile left out, so one follower never stops the others.
 */
async function place(ctx: ReconcileContext, task: FollowTask): Promise<void> {
  try {
    await placeTask(ctx, task);
  } catch (error) {
    if (!(error instanceof RecordTooLargeError)) throw error;
    ctx.log.warn('task too large for the store; placing it without its profile', { targetId: task.targetId });
    await placeTask(ctx, {
      ...task,
      profile: { ...taskProfileOf(unknownProfile(task.targetId)), protected: task.profile.protected },
    });
  }
}

/** Creates the task, or reopens a closed one the person may be followed back after (they came back). */
async function placeTask(ctx: ReconcileContext, task: FollowTask): Promise<void> {
  const { deps, cell, report } = ctx;
  if (await deps.tasks.createTask(cell.ref, task)) {
    count(ctx, task);
    return;
  }
  const existing = await deps.tasks.getTask(cell.ref, task.targetId);
  const reopen =
    existing &&
    existing.task.state === 'skipped' &&
    existing.task.skipReason !== undefined &&
    REOPENABLE.includes(existing.task.skipReason) &&
    existing.task.closedAt !== undefined &&
    existing.task.closedAt < task.detectedAt;
  if (existing && reopen) {
    try {
      await deps.tasks.putTask(cell.ref, task, existing.version);
      count(ctx, task);
      return;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  report.alreadyHandled += 1;
}

function count(ctx: ReconcileContext, task: FollowTask): void {
  const { report } = ctx;
  if (task.state === 'scheduled') report.scheduled += 1;
  else if (task.state === 'pending_approval') report.awaitingApproval += 1;
  else if (task.skipReason) report.skipped[task.skipReason] = (report.skipped[task.skipReason] ?? 0) + 1;
}

async function lookup(ctx: ReconcileContext, ids: readonly string[]): Promise<PlatformUser[]> {
  try {
    const users = await ctx.deps.platform.lookupUsers(ids);
    await chargeLookup(ctx, ids, users);
    return users;
  } catch (error) {
    // Profiles are for vetting; without them the filters see an empty profile. Better to retry
    // the whole changeset on the next tick than to vet blind: rethrow.
    ctx.log.warn('profile lookup failed; reconcile will retry', { error });
    throw error;
  }
}

/**
 * Profile look-ups are reads like observe's (billed per user on X): they count against the same
 * budget, one request per batch, users already read today (the head scan's newest) not billed.
 */
async function chargeLookup(
  ctx: ReconcileContext,
  ids: readonly string[],
  users: readonly PlatformUser[],
): Promise<void> {
  const { cell, account } = ctx;
  const now = ctx.deps.clock.now();
  const current = cell.state.observe;
  const free = readToday(current, now);
  const billed = users.filter((user) => !free.has(user.id)).length;
  let spend = rollSpend(current.spend, now);
  const batches = Math.max(1, Math.ceil(ids.length / LOOKUP_BATCH));
  for (let batch = 0; batch < batches; batch += 1) {
    spend = recordSpend(spend, batch === 0 ? users.length : 0, account.observe, batch === 0 ? billed : 0);
  }
  await cell.commit({ ...cell.state, observe: { ...current, spend } });
}
