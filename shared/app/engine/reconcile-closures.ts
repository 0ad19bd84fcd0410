import {
  createSkippedTask,
  hasUnresolvedAttempt,
  isFinal,
  type SkipReason,
  skipTask,
  taskProfileOf,
} from '../../domain/engine/task.ts';
import type { Changeset } from '../../ports/store.ts';
import { ignoreConflict, type ReconcileContext, unknownProfile } from './reconcile-context.ts';

/** Followers a changeset saw leave: their open follow-backs close, they left before it was made. */
export async function closeLeavers(ctx: ReconcileContext, changeset: Changeset): Promise<void> {
  if (changeset.removedCount === 0) return;
  for (const id of ctx.codec.toStrings(ctx.codec.decode(changeset.removed))) {
    await closeOpen(ctx, id, 'left_before_followback', 'unfollowed before the follow-back', changeset.at);
  }
}

/** The owner's own follows and unfollows, as a following scan saw them. */
export async function applyOwnerChanges(ctx: ReconcileContext, changeset: Changeset): Promise<void> {
  const { codec, deps, cell } = ctx;
  // The owner unfollowed someone: never follow them again. A marker task remembers it even for
  // people who are not (yet) followers, so a later follow from them is recorded as a skip.
  for (const id of codec.toStrings(codec.decode(changeset.removed))) {
    const closed = await closeOpen(ctx, id, 'owner_unfollowed', 'the owner unfollowed them', changeset.at);
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
    await closeOpen(ctx, id, 'already_following', 'the owner followed them by hand', changeset.at);
  }
}

/** Skips the target's task if it is still open; true when a task existed (open or not). */
async function closeOpen(
  ctx: ReconcileContext,
  targetId: string,
  reason: SkipReason,
  detail: string,
  at: number,
): Promise<boolean> {
  const { deps, cell, report } = ctx;
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
