import type { GraphKind, ObserveSettings } from '../account.ts';
import type { ObserveState } from '../account-state.ts';
import { fullScanAffordable } from '../observe-plan.ts';

/**
 * Which list a full scan reads next, pure: the one scanned longest ago whose counts say it changed
 * and whose scan the budget affords. Only a full scan sees followers leave and the owner unfollow.
 */

/**
 * Followers gone by the counts (not yet named) before a full scan is worth its price: a share of the
 * list, at least a few. The digest reports how many left from the counts in any case.
 */
const FULL_SCAN_LEAVER_SHARE = 0.05;
const FULL_SCAN_MIN_LEAVERS = 10;
/** Share of the month's read budget under which a full scan runs on schedule, counts or not. */
const CHEAP_FULL_SCAN_SHARE = 0.1;

/** Which list, if any, is due for a full scan and affordable now (the one scanned longest ago first). */
export function fullScanToStart(
  observe: ObserveState,
  settings: ObserveSettings,
  pageSize: number,
  now: number,
): GraphKind | undefined {
  const lastScan = (kind: GraphKind) => observe.graphs[kind].lastFullScanAt ?? -1;
  const kinds = (['followers', 'following'] as const).slice().sort((a, b) => lastScan(a) - lastScan(b));
  for (const kind of kinds) {
    const pointer = observe.graphs[kind];
    if (!countsSayChanged(observe, kind, settings)) continue;
    const estimated = Math.max(
      pointer.count,
      kind === 'followers' ? (observe.owner?.followers ?? 0) : (observe.owner?.following ?? 0),
    );
    const affordable = fullScanAffordable({
      pointer,
      estimatedCount: estimated,
      spend: observe.spend,
      growthPerHour: observe.growthPerHour,
      now,
      settings,
      pageSize,
    });
    if (affordable) return kind;
  }
  return undefined;
}

/**
 * Whether the owner's own counts say a complete list changed in a way only a full scan can name:
 * followers who left (the snapshot holds more than X counts) beyond a small share, or fewer
 * followings than the snapshot (the owner unfollowed someone; follow-backs only add). A list never
 * scanned whole, or without counts, is always worth scanning when the budget allows. Follow-backs
 * add followings: more than the followers found since the last scan of that list is the owner's.
 */
export function countsSayChanged(observe: ObserveState, kind: GraphKind, settings: ObserveSettings): boolean {
  const pointer = observe.graphs[kind];
  const owner = observe.owner;
  // Where reads are free (Bluesky, Mastodon) a full scan costs only requests: scan on schedule.
  if (settings.usdPerUserRead === 0) return true;
  if (!pointer.complete || owner === undefined) return true;
  // A scan cheaper than a tenth of the month's read budget runs on schedule; dearer ones wait for the counts.
  if (pointer.count * settings.usdPerUserRead <= settings.readBudgetUsdPerMonth * CHEAP_FULL_SCAN_SHARE)
    return true;
  if (kind === 'followers') {
    const unnamedLeavers = pointer.count - owner.followers;
    return unnamedLeavers >= Math.max(FULL_SCAN_MIN_LEAVERS, pointer.count * FULL_SCAN_LEAVER_SHARE);
  }
  // Follow-backs add followings, at most one per follower found since the last scan of the list.
  const followers = observe.graphs.followers.count;
  const followBacksPossible = Math.max(0, followers - (pointer.followersAtScan ?? followers));
  return owner.following < pointer.count || owner.following - pointer.count > followBacksPossible;
}
