/**
 * An unfollow the owner chose (in the console, from the one-sided follows) and followback carries
 * out later, paced under the caps, on Bluesky and Mastodon. followback never unfollows on its own:
 * an item exists only because a person chose that person.
 *
 *   queued ──claim──▶ in_progress(lease) ──▶ done | skipped(reason)
 *      ▲                   │
 *      └──── released ─────┘  (the caps refused, the network limited us, an error; or a lease that expired)
 *
 * Each move is a conditional write on the item's version, so two workers never both carry one out.
 * A crash after the call and before `done` leaves an expired lease: the next claim looks at the
 * network first, and a person no longer followed is `done` without a second call.
 */

export type UnfollowState = 'queued' | 'in_progress' | 'done' | 'skipped';

/**
 * Why a chosen unfollow was not carried out:
 * - `re_followed`: the owner unfollowed and followed them again by hand since choosing (seen by an
 *   observation of the following list): the owner's newer choice wins;
 * - `not_following`: the owner no longer follows them (unfollowed by hand);
 * - `follows_back`: they follow the owner now: no longer a one-sided follow;
 * - `gone`: the account was deleted or suspended;
 * - `failed`: the network refused it too many times (the last error is kept).
 */
export type UnfollowSkipReason = 're_followed' | 'not_following' | 'follows_back' | 'gone' | 'failed';

export const UNFOLLOW_SKIP_TEXT: Record<UnfollowSkipReason, string> = {
  re_followed: 'the owner followed them again by hand',
  not_following: 'the owner no longer follows them',
  follows_back: 'they follow back now',
  gone: 'the account no longer exists',
  failed: 'the network refused it',
};

export interface UnfollowActor {
  kind: 'console' | 'approval-link' | 'cli' | 'invite';
  id: string;
}

export interface UnfollowItem {
  targetId: string;
  /** What the console knew of them when chosen (for the page; never trusted for the call). */
  handle?: string | undefined;
  state: UnfollowState;
  /** Who chose it, and when. */
  queuedBy: UnfollowActor;
  queuedAt: number;
  /** Claims taken (an interrupted one counts): the call may have been made once per claim. */
  attempts: number;
  holder?: string | undefined;
  leaseUntil?: number | undefined;
  doneAt?: number | undefined;
  skipReason?: UnfollowSkipReason | undefined;
  /** The last error, for people (never a secret). */
  lastError?: string | undefined;
  updatedAt: number;
}

/** Claims after which an unfollow the network keeps refusing is given up. */
export const MAX_UNFOLLOW_ATTEMPTS = 5;

export function isOpenUnfollow(item: UnfollowItem): boolean {
  return item.state === 'queued' || item.state === 'in_progress';
}

/** A new item, or `undefined` when the person is already queued (choosing twice changes nothing). */
export function queueUnfollow(
  existing: UnfollowItem | undefined,
  input: { targetId: string; handle?: string | undefined; actor: UnfollowActor; at: number },
): UnfollowItem | undefined {
  if (existing !== undefined && isOpenUnfollow(existing)) return undefined;
  return {
    targetId: input.targetId,
    ...(input.handle === undefined ? {} : { handle: input.handle }),
    state: 'queued',
    queuedBy: input.actor,
    queuedAt: input.at,
    attempts: 0,
    updatedAt: input.at,
  };
}

/** Whether a worker may claim it now: queued, or in progress under a lease that ran out. */
export function claimable(item: UnfollowItem, now: number): boolean {
  return item.state === 'queued' || (item.state === 'in_progress' && (item.leaseUntil ?? 0) <= now);
}

export function claimUnfollow(
  item: UnfollowItem,
  holder: string,
  now: number,
  leaseMs: number,
): UnfollowItem {
  return {
    ...item,
    state: 'in_progress',
    holder,
    leaseUntil: now + leaseMs,
    attempts: item.attempts + 1,
    updatedAt: now,
  };
}

/**
 * Back in the queue (the caps, a rate limit, an error): it waits for a later tick. A claim that did
 * not lead to a call (`called: false`) does not count as an attempt.
 */
export function releaseUnfollow(
  item: UnfollowItem,
  now: number,
  options: { called: boolean; lastError?: string | undefined },
): UnfollowItem {
  const { holder: _h, leaseUntil: _l, ...rest } = item;
  return {
    ...rest,
    state: 'queued',
    attempts: options.called ? item.attempts : Math.max(0, item.attempts - 1),
    ...(options.lastError === undefined ? {} : { lastError: options.lastError.slice(0, 300) }),
    updatedAt: now,
  };
}

export function finishUnfollow(item: UnfollowItem, now: number): UnfollowItem {
  const { holder: _h, leaseUntil: _l, ...rest } = item;
  return { ...rest, state: 'done', doneAt: now, updatedAt: now };
}

export function skipUnfollow(
  item: UnfollowItem,
  reason: UnfollowSkipReason,
  now: number,
  lastError?: string,
): UnfollowItem {
  const { holder: _h, leaseUntil: _l, ...rest } = item;
  return {
    ...rest,
    state: 'skipped',
    skipReason: reason,
    doneAt: now,
    ...(lastError === undefined ? {} : { lastError: lastError.slice(0, 300) }),
    updatedAt: now,
  };
}

/**
 * What the network shows now decides, before any call: a person no longer followed is done when
 * an earlier claim may have made the call (it took effect), else skipped (the owner did it by hand).
 */
export function decideBeforeCall(
  item: UnfollowItem,
  seen: { exists: boolean; following: boolean; followedBy: boolean; reFollowed: boolean },
): { outcome: 'call' } | { outcome: 'done' } | { outcome: 'skip'; reason: UnfollowSkipReason } {
  if (!seen.exists) return { outcome: 'skip', reason: 'gone' };
  if (!seen.following)
    return item.attempts > 1 ? { outcome: 'done' } : { outcome: 'skip', reason: 'not_following' };
  if (seen.reFollowed) return { outcome: 'skip', reason: 're_followed' };
  if (seen.followedBy) return { outcome: 'skip', reason: 'follows_back' };
  return { outcome: 'call' };
}
