import type { AccountRecord } from '../../domain/account.ts';
import type { FollowTask } from '../../domain/engine/task.ts';
import { type IdList, idCodecFor } from '../../domain/idset/index.ts';
import type { Platform } from '../../ports/platform.ts';
import type { GraphStore, RemovalMark } from '../../ports/store.ts';
import { loadGraph } from '../observe/graph-repo.ts';
import type { StateCell } from '../state-cell.ts';

/** Whether a task's target still follows the owner, as far as followback can tell now. */
export type StillFollows = (task: Pick<FollowTask, 'targetId' | 'detectedAt'>) => Promise<boolean>;

/**
 * How to tell whether targets still follow the owner, as cheaply as the network allows: a direct
 * relationship lookup where there is one (Mastodon, Bluesky); on X, where every read is billed, the
 * latest observation of the follower list.
 *
 * On X the observation is asked without replaying the list: a task's target was in the list when
 * it was detected, and only changesets that removed someone can have taken them out since. Their
 * removal marks (one small item each, read once per tick) answer almost every check; only a target
 * named in a mark after its detection (or a mark too large to keep the ids) loads the whole list,
 * which also sees a re-follow after the removal. A task detected before the marks were kept (state
 * from an earlier version: `removalMarksSince`) replays the list too.
 */
export function followerCheck(
  account: AccountRecord,
  cell: StateCell,
  deps: { platform: Platform; store: GraphStore },
): StillFollows {
  const platform = deps.platform;
  const relationshipsOf = platform.relationships?.bind(platform);
  if (relationshipsOf) {
    return async (task) => {
      const relationships = await relationshipsOf(account.platformUserId, [task.targetId]);
      return relationships.get(task.targetId)?.followedBy ?? false;
    };
  }
  const observe = cell.state.observe;
  const ids = idCodecFor(account.network);
  let marks: Promise<Array<{ mark: RemovalMark; removed: IdList | undefined }>> | undefined;
  let followers: Promise<IdList> | undefined;
  const exact = async (targetId: string) => {
    followers ??= loadGraph(deps.store, cell.ref, 'followers', observe.graphs.followers, observe.seq, ids);
    return ids.has(await followers, targetId);
  };
  return async (task) => {
    // Marks answer only for what happened since they were kept; before that, the list itself.
    const since = observe.removalMarksSince;
    if (since === undefined || task.detectedAt < since) return exact(task.targetId);
    marks ??= deps.store.getRemovalMarks(cell.ref, 'followers', 0, observe.seq).then((list) =>
      list.map((mark) => ({
        mark,
        removed: mark.removed === undefined ? undefined : ids.decode(mark.removed),
      })),
    );
    for (const { mark, removed } of await marks) {
      if (mark.at < task.detectedAt) continue;
      if (removed === undefined || ids.has(removed, task.targetId)) return exact(task.targetId);
    }
    return true;
  };
}
