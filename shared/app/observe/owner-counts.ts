import { recordSpend, withOwnerSample } from '../../domain/observe-plan.ts';
import type { PlatformUser } from '../../ports/platform.ts';
import type { ObserveRun } from './run.ts';
import { stopFor } from './stop.ts';

/**
 * The owner's own follower and following counts, read and kept with their history: one user read a
 * UTC day (X bills it once a day however often it is read). The counts tell when a full scan is due.
 */
export async function refreshOwnerCounts(run: ObserveRun): Promise<void> {
  let me: PlatformUser;
  try {
    me = await run.deps.platform.me();
  } catch (error) {
    throw stopFor(error);
  }
  run.report.requests += 1;
  run.report.usersRead += 1;
  const billed = run.bill([me.id]);
  const owner = {
    followers: me.followersCount ?? 0,
    following: me.followingCount ?? 0,
    at: run.deps.clock.now(),
  };
  await run.commitObserve({
    ...run.observe,
    spend: recordSpend(run.observe.spend, 1, run.account.observe, billed),
    owner,
    ownerHistory: withOwnerSample(run.observe.ownerHistory, owner),
  });
}
