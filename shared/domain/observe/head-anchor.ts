import type { PlatformUser } from '../platform-user.ts';

/**
 * The head scan's anchor, pure: the newest followers the last complete head scans saw, and what the
 * order in which a scan meets them says. A known follower listed above or among them, not one of
 * them, has unfollowed and followed again since; an anchor member listed far above members that were
 * newer than it has too. Used by shared/app/observe/head-scan.ts.
 */

/**
 * Newest followers remembered by a head scan to recognise re-follows the next time: deep enough that
 * list-order noise cannot bring a follower from below it above the known followers a scan reads.
 */
export const HEAD_ANCHOR_SIZE = 100;
/**
 * Known followers above the anchor, with no anchor member met, after which the anchor is taken as
 * gone (its members all left) rather than as the start of a re-follow wave of that size.
 */
export const HEAD_ANCHOR_GIVE_UP = 2_000;
/** Places an anchor member may be out of its order by list-order noise alone (X: "not a contract"). */
export const ANCHOR_ORDER_SLACK = 10;
/** Anchor places a run's members may be apart beyond their count (members gone, noise). */
const RUN_SPAN_SLACK = 4;
/** Anchor places a member may sit above the block that ended the scan by noise alone. */
const BLOCK_SLACK = 2;
/**
 * Re-follows listed below an anchor member that make it part of a re-follow wave rather than the
 * anchor's own block (one or two below it are list-order noise).
 */
const WAVE_BELOW = 3;

/** An anchor member as a head scan met it: its place in the anchor, and the re-follows listed above it. */
export interface AnchorMeeting {
  user: PlatformUser;
  position: number;
  candidatesBefore: number;
}

/**
 * Whether the run of known followers ends the head scan: `knownRun` of them in a row that are the top
 * of the anchor (close together, near its newest end), not anchor members who came back inside a
 * re-follow wave; or, whatever the anchor says (its newest members may have left), a run longer than
 * an anchor. Without an anchor, positions are the run's own count and any run of `knownRun` ends it.
 */
export function endsScan(run: number, positions: readonly number[], knownRun: number): boolean {
  // Past every member an anchor can hold, the run cannot be a wave's anchor members any more.
  if (run >= HEAD_ANCHOR_SIZE + knownRun) return true;
  if (run < knownRun) return false;
  const last = positions.slice(-knownRun);
  // The anchor's own block is listed in the anchor's order (newest first, so ascending positions);
  // members who came back in a wave are listed in the order they came back.
  return ascending(last) && closeTogether(last) && Math.min(...last) <= ANCHOR_ORDER_SLACK;
}

/** Whether each position is greater than the one before it. */
function ascending(positions: readonly number[]): boolean {
  let previous = Number.NEGATIVE_INFINITY;
  for (const position of positions) {
    if (position <= previous) return false;
    previous = position;
  }
  return true;
}

/**
 * Whether a run of known followers is the anchor's own block (members next to each other in the
 * anchor, give or take list-order noise), not anchor members scattered through a re-follow wave: only
 * such a run ends a head scan.
 */
function closeTogether(positions: readonly number[]): boolean {
  if (positions.length === 0) return false;
  const span = Math.max(...positions) - Math.min(...positions);
  return span <= positions.length - 1 + RUN_SPAN_SLACK;
}

/**
 * Anchor members listed above members that were newer than them by more than list-order noise can
 * explain: they left and followed again since the anchor was taken. `met` is in the order the scan
 * met them; `candidates` the re-follow candidates it found; `finalRun` the length of the run of
 * known followers that ended the scan (0 when the list ended).
 */
export function anchorMembersMovedUp(
  met: readonly AnchorMeeting[],
  candidates: number,
  finalRun: number,
): PlatformUser[] {
  const moved: PlatformUser[] = [];
  // The run that ended the scan is the anchor's own block; a member met above it and older than it
  // (a higher position) than noise explains came back.
  const blockStart = Math.max(0, met.length - finalRun);
  const blockTop = met.slice(blockStart).reduce((top, entry) => Math.max(top, entry.position), -1);
  let lowestBelow = Number.POSITIVE_INFINITY;
  for (const [index, entry] of [...met.entries()].reverse()) {
    const inBlock = index >= blockStart;
    // Listed far above newer members, above the block though older, or inside a wave (re-follows
    // listed below it too): it came back. Right below a wave's re-follows, members who came back
    // with it are listed in the order they came back, just above the block: there, any member above
    // a newer one came back (order noise is no reason to deny it the follow-back it is owed).
    const belowWave = entry.candidatesBefore >= WAVE_BELOW;
    const orderSlack = belowWave ? 0 : ANCHOR_ORDER_SLACK;
    const blockSlack = belowWave ? 0 : BLOCK_SLACK;
    const outOfOrder = entry.position - lowestBelow > orderSlack;
    const aboveBlock = !inBlock && blockTop >= 0 && entry.position > blockTop + blockSlack;
    const insideWave = candidates - entry.candidatesBefore >= WAVE_BELOW;
    if (outOfOrder || aboveBlock || insideWave) moved.push(entry.user);
    lowestBelow = Math.min(lowestBelow, entry.position);
  }
  return moved;
}

/**
 * The newest ids this scan read, then the older anchor's below them, as deep as an anchor goes. An
 * older member the scan should have met (listed well above the deepest member it did meet) and did
 * not is gone: it leaves the anchor, so that if it follows again it is seen as a re-follow.
 */
export function mergeAnchor(
  newestSeen: readonly string[],
  previous: readonly string[],
  met: ReadonlyArray<{ position: number }>,
): string[] {
  const anchor = [...newestSeen];
  const seen = new Set(newestSeen);
  const deepest = met.reduce((deepestSoFar, entry) => Math.max(deepestSoFar, entry.position), -1);
  previous.forEach((id, position) => {
    if (anchor.length >= HEAD_ANCHOR_SIZE || seen.has(id)) return;
    if (position < deepest - ANCHOR_ORDER_SLACK) return;
    anchor.push(id);
  });
  return anchor;
}

/** How many of the anchor's leading members were read today (re-reading them later today is not billed). */
export function leadingReadToday(anchor: readonly string[], readToday: ReadonlySet<string>): number {
  const firstUnread = anchor.findIndex((id) => !readToday.has(id));
  return firstUnread === -1 ? anchor.length : firstUnread;
}
