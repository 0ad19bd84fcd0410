import { readFollowFeed } from './feed.ts';
import type { ObserveRun } from './run.ts';
import { stopFor } from './stop.ts';

/**
 * One look at the network's change feed within a run (shared/app/observe/feed.ts reads it): new
 * followers committed at once, nothing new kept for the run's last commit. The scans stay as they are.
 */
export async function lookAtFeed(run: ObserveRun, now: number): Promise<void> {
  const look = await readFollowFeed(run.account, run.cell.ref, run.observe, run.deps, now);
  if (look === undefined) return;
  run.report.requests += look.requests;
  run.report.usersRead += look.usersRead;
  if (look.changeset) {
    await run.putChangeset(look.changeset);
    run.report.committed.push(look.changeset.seq);
    run.report.newFollowers.push(...look.newFollowers);
    await run.commitObserve(look.observe);
  } else {
    // Nothing new: the mark and the spend go with the run's last commit.
    run.keepObserve(look.observe);
  }
  if (look.stop !== undefined) throw stopFor(look.stop);
}
