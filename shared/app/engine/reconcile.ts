import type { AccountRecord } from '../../domain/account.ts';
import type { EngineState } from '../../domain/account-state.ts';
import type { EnginePolicy } from '../../domain/engine/policy.ts';
import { promiseWindowOf, quietCalendarOf } from '../../domain/engine/policy.ts';
import { planTask, seededRandom } from '../../domain/engine/schedule.ts';
import { evaluateCandidate } from '../../domain/engine/spam.ts';
import {
  createPendingTask,
  createScheduledTask,
  createSkippedTask,
  type FollowTask,
  hasUnresolvedAttempt,
  isApprovalExpired,
  isFinal,
  type NewTaskInput,
  type SkipReason,
  skipTask,
  taskProfileOf,
} from '../../domain/engine/task.ts';
import { ConflictError, RecordTooLargeError } from '../../domain/errors.ts';
import { idCodecFor } from '../../domain/idset/index.ts';
import { readToday, recordSpend, rollSpend } from '../../domain/observe-plan.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Platform, PlatformUser } from '../../ports/platform.ts';
import type { Changeset, GraphStore } from '../../ports/store.ts';
import type { TaskStore } from '../../ports/tasks.ts';
import { loadGraph } from '../observe/graph-repo.ts';
import type { StateCell } from '../state-cell.ts';
import { emptyEngineState } from './policy-of.ts';

/** Users one profile look-up request returns at most (X: 100 ids per `GET /2/users`). */
const LOOKUP_BATCH = 100;

export interface ReconcileDeps {
  platform: Platform;
  store: GraphStore;
  tasks: TaskStore;
  clock: Clock;
  logger: Logger;
}

export interface ReconcileReport {
  /** Tasks created, by what they became. */
  scheduled: number;
  awaitingApproval: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Open tasks closed because the follower left, the owner unfollowed or followed them by hand. */
  closed: number;
  /** Followers who already had a final task (a returning follower, say). */
  alreadyHandled: number;
}

/** Reasons that end a task but let the same person be followed back if they follow again. */
const REOPENABLE: readonly SkipReason[] = ['left_before_followback', 'rejected_by_owner', 'approval_expired'];

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
  /** The network's ids: numeric on X, strings (DIDs, Mastodon ids) on the open networks. */
  const codec = idCodecFor(account.network);
  let engine: EngineState = cell.state.engine ?? emptyEngineState();
  const window = promiseWindowOf(policy);
  const quiet = quietCalendarOf(policy);

  if (engine.reconciledSeq < observe.seq) {
    const changesets = await deps.store.getChangesets(cell.ref, engine.reconciledSeq, observe.seq);
    const following = observe.graphs.following;
    const ownerFollowing =
      following.baseSeq > 0
        ? await loadGraph(deps.store, cell.ref, 'following', following, observe.seq, codec)
        : undefined;

    for (const changeset of changesets) {
      if (changeset.kind === 'followers' && changeset.source === 'baseline') {
        if (policy.backfill === 'all') await backfill(changeset);
      } else if (changeset.kind === 'followers') {
        await newFollowers(changeset);
        await leftFollowers(changeset);
      } else {
        await ownerChanges(changeset);
      }
      engine = { ...engine, reconciledSeq: changeset.seq, nextActAt: 0 };
      await cell.commit({ ...cell.state, engine });
    }

    /** Followers from before the connection, when the policy asks for them: best effort, no promise. */
    async function backfill(changeset: Changeset): Promise<void> {
      const pointer = { ...observe.graphs.followers, baseSeq: changeset.seq };
      const ids = codec.toStrings(
        await loadGraph(deps.store, cell.ref, 'followers', pointer, changeset.seq, codec),
      );
      await vet(changeset, ids, true);
    }

    async function newFollowers(changeset: Changeset): Promise<void> {
      const ids = [...codec.toStrings(codec.decode(changeset.added)), ...(changeset.refollowed ?? [])];
      if (ids.length === 0) return;
      await vet(changeset, ids, false);
    }

    async function vet(changeset: Changeset, ids: string[], predatesConnection: boolean): Promise<void> {
      const profiles = new Map(changeset.profiles.map((profile) => [profile.id, profile]));
      // Profiles a scan did not return are looked up; where reads are free (Bluesky lists carry no
      // counts) also those without the counts the ratio filter needs.
      const freeReads = account.observe.usdPerUserRead === 0 && policy.spam.ratio.action !== 'off';
      const missing = ids.filter((id) => {
        const profile = profiles.get(id);
        return !profile || (freeReads && profile.followersCount === undefined);
      });
      if (missing.length > 0) {
        for (const user of await lookup(missing)) profiles.set(user.id, user);
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
          ownerFollows: ownerFollowing ? codec.has(ownerFollowing, id) : false,
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
          const plan = planTask(changeset.at, window, {
            now: changeset.at,
            random: seededRandom(`${account.clientId}/${account.accountId}/${id}`),
            quiet,
          });
          task = createScheduledTask({ ...input, signals: verdict.signals }, plan);
        }
        await place(task);
      }
    }

    /**
     * Places one follower's task. A write the store refuses for this follower alone (an item it cannot
     * take) is tried once more with the profile left out, so one follower never stops the others.
     */
    async function place(task: FollowTask): Promise<void> {
      try {
        await placeTask(task);
      } catch (error) {
        if (!(error instanceof RecordTooLargeError)) throw error;
        log.warn('task too large for the store; placing it without its profile', { targetId: task.targetId });
        await placeTask({
          ...task,
          profile: { ...taskProfileOf(unknownProfile(task.targetId)), protected: task.profile.protected },
        });
      }
    }

    async function placeTask(task: FollowTask): Promise<void> {
      if (await deps.tasks.createTask(cell.ref, task)) {
        count(task);
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
          count(task);
          return;
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error;
        }
      }
      report.alreadyHandled += 1;
    }

    function count(task: FollowTask): void {
      if (task.state === 'scheduled') report.scheduled += 1;
      else if (task.state === 'pending_approval') report.awaitingApproval += 1;
      else if (task.skipReason) report.skipped[task.skipReason] = (report.skipped[task.skipReason] ?? 0) + 1;
    }

    async function leftFollowers(changeset: Changeset): Promise<void> {
      if (changeset.removedCount === 0) return;
      for (const id of codec.toStrings(codec.decode(changeset.removed))) {
        await closeOpen(id, 'left_before_followback', 'unfollowed before the follow-back', changeset.at);
      }
    }

    async function ownerChanges(changeset: Changeset): Promise<void> {
      // The owner unfollowed someone: never follow them again. A marker task remembers it even for
      // people who are not (yet) followers, so a later follow from them is recorded as a skip.
      for (const id of codec.toStrings(codec.decode(changeset.removed))) {
        const closed = await closeOpen(id, 'owner_unfollowed', 'the owner unfollowed them', changeset.at);
        if (!closed) {
          const marker = createSkippedTask(
            { targetId: id, detectedAt: changeset.at, profile: taskProfileOf(unknownProfile(id)) },
            { reason: 'owner_unfollowed', detail: 'the owner unfollowed them', at: changeset.at },
          );
          if (!(await deps.tasks.createTask(cell.ref, marker))) {
            const existing = await deps.tasks.getTask(cell.ref, id);
            // A follow-back done earlier and undone by the owner: a new marker replaces nothing
            // final, but a reopenable skip becomes the owner's "never again".
            if (
              existing &&
              existing.task.state === 'skipped' &&
              existing.task.skipReason !== 'owner_unfollowed'
            ) {
              await deps.tasks
                .putTask(cell.ref, { ...existing.task, ...marker }, existing.version)
                .catch(ignoreConflict);
            }
          }
        }
      }
      // The owner followed someone by hand: an open follow-back for them is already done.
      for (const id of codec.toStrings(codec.decode(changeset.added))) {
        await closeOpen(id, 'already_following', 'the owner followed them by hand', changeset.at);
      }
    }

    /** Skips the target's task if it is still open; true when a task existed (open or not). */
    async function closeOpen(
      targetId: string,
      reason: SkipReason,
      detail: string,
      at: number,
    ): Promise<boolean> {
      const existing = await deps.tasks.getTask(cell.ref, targetId);
      if (!existing) return false;
      const { task, version } = existing;
      if (isFinal(task.state)) return true;
      if (task.state === 'in_progress' && task.lease && task.lease.until > deps.clock.now()) return true;
      // A call of the engine's own may have taken effect unrecorded (a lost answer, a crash): a follow
      // that shows is the engine's, not the owner's, and a leaver may have been followed back first.
      // Act settles it by looking; only the owner's "never again" closes it from here.
      if (hasUnresolvedAttempt(task) && reason !== 'owner_unfollowed') return true;
      try {
        await deps.tasks.putTask(
          cell.ref,
          skipTask(task, { at, reason, detail, holder: task.lease?.holder }),
          version,
        );
        report.closed += 1;
      } catch (error) {
        ignoreConflict(error);
      }
      return true;
    }
  }

  await expireApprovals();
  if (report.scheduled + report.awaitingApproval + report.closed > 0) log.info('reconciled', { ...report });
  return report;

  async function lookup(ids: readonly string[]): Promise<PlatformUser[]> {
    try {
      const users = await deps.platform.lookupUsers(ids);
      await chargeLookup(ids, users);
      return users;
    } catch (error) {
      // Profiles are for vetting; without them the filters see an empty profile. Better to retry
      // the whole changeset on the next tick than to vet blind: rethrow.
      log.warn('profile lookup failed; reconcile will retry', { error });
      throw error;
    }
  }

  /**
   * Profile look-ups are reads like observe's (billed per user on X): they count against the same
   * budget, one request per batch, users already read today (the head scan's newest) not billed.
   */
  async function chargeLookup(ids: readonly string[], users: readonly PlatformUser[]): Promise<void> {
    const now = deps.clock.now();
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

  /** Once a day, skips approvals that waited longer than the policy allows. */
  async function expireApprovals(): Promise<void> {
    const now = deps.clock.now();
    if (policy.approvalExpiryDays === null) return;
    if (engine.expiryCheckedAt !== undefined && now - engine.expiryCheckedAt < 86_400_000) return;
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
    engine = { ...engine, expiryCheckedAt: now };
    await cell.commit({ ...cell.state, engine });
  }
}

function unknownProfile(id: string): PlatformUser {
  return { id, handle: '', name: '', bio: '', protected: false };
}

function ignoreConflict(error: unknown): void {
  if (!(error instanceof ConflictError)) throw error;
}
