import type { AccountRecord, AccountRef } from '../../domain/account.ts';
import type { FeedState, ObserveState } from '../../domain/account-state.ts';
import { AuthError, MalformedResponseError, TransientPlatformError } from '../../domain/errors.ts';
import { nextFeedLookAt } from '../../domain/feed-plan.ts';
import { type IdCodec, type IdList, idCodecFor } from '../../domain/idset/index.ts';
import { readRefusal, recordSpend } from '../../domain/observe-plan.ts';
import type { Logger } from '../../ports/logger.ts';
import type { FollowNotice, Platform, PlatformUser } from '../../ports/platform.ts';
import type { Changeset, GraphStore } from '../../ports/store.ts';
import { loadGraph } from './graph-repo.ts';

/**
 * The change feed of new followers (Mastodon's follow notifications, Bluesky's listNotifications
 * with reason `follow`): one cheap request a tick says who followed since the last look, so new
 * followers are found within a tick. The feed is the primary detection where the network has one;
 * the head and full scans stay as they are and find whoever the feed missed (notifications cleared,
 * truncated, lost, or paged past by a burst larger than the pages read here).
 *
 * The feed is read newest first down to the newest notice of the last look, a small page first (a
 * quiet account reads a handful), larger ones after; its notifiers not already in the snapshot are new followers, committed as a `feed` changeset. The
 * first look only sets that mark: followers from before it are the baseline's. A feed the token may
 * not read (a Mastodon connection made before followback asked `read:notifications`) is left alone
 * for a day and the scans carry on; a failing one is skipped for the tick.
 */

/** Pages of notices read at most per tick; a larger burst is left to the head scan. */
export const FEED_MAX_PAGES = 5;
/** Notices asked by the first page of a look: a quiet account's new followers fit in it. */
export const FEED_FIRST_PAGE_SIZE = 20;
/** Notices per later page: the most both networks give (Mastodon 80, Bluesky 100). A short page ends. */
export const FEED_PAGE_SIZE = 80;
/** Ids of the newest notices kept to tell a new notice at the same time from one already read. */
const MAX_MARK_IDS = 50;
/** How long a feed the token may not read is left alone. */
export const FEED_REFUSED_PAUSE_MS = 24 * 3_600_000;

export interface FeedDeps {
  platform: Platform;
  store: GraphStore;
  logger: Logger;
}

export interface FeedLook {
  /** The observe state with the feed's mark, the spend and (if any) the new seq and anchor. */
  observe: ObserveState;
  requests: number;
  usersRead: number;
  /** The changeset of new followers to commit, if the feed found any. */
  changeset?: Changeset | undefined;
  newFollowers: string[];
  /** A failure that must stop observe as a list read would (a 429: the window is the account's). */
  stop?: unknown;
}

/** Whether the account's network has a feed followback reads. */
export function hasFollowFeed(platform: Platform): boolean {
  return platform.followNotices !== undefined;
}

/**
 * One look at the feed. Returns undefined when there is nothing to do (no feed, paused, before the
 * baseline, or the budget refuses); never throws a platform failure (it is in `stop`, or skipped).
 */
export async function readFollowFeed(
  account: AccountRecord,
  ref: AccountRef,
  state: ObserveState,
  deps: FeedDeps,
  now: number,
): Promise<FeedLook | undefined> {
  const list = deps.platform.followNotices?.bind(deps.platform);
  if (list === undefined || state.graphs.followers.baseSeq === 0) return undefined;
  const feed: FeedState = state.feed ?? {};
  if ((nextFeedLookAt(state.feed) ?? 0) > now) return undefined;
  const log = deps.logger.child({ clientId: ref.clientId, accountId: ref.accountId, useCase: 'feed' });
  let observe: ObserveState = state;
  let requests = 0;
  let usersRead = 0;
  const notices: FollowNotice[] = [];
  const mark = feed.newestAt;
  const markIds = new Set(feed.newestIds ?? []);
  let cursor: string | undefined;
  let stop: unknown;
  try {
    for (let page = 0; page < FEED_MAX_PAGES; page += 1) {
      const pageSize = page === 0 ? FEED_FIRST_PAGE_SIZE : FEED_PAGE_SIZE;
      if (readRefusal(observe.spend, pageSize, account.observe, now) !== undefined) break;
      const answer = await list({ cursor, pageSize, requests: true });
      requests += 1;
      usersRead += answer.notices.length;
      observe = { ...observe, spend: recordSpend(observe.spend, answer.notices.length, account.observe) };
      let reached = mark === undefined;
      for (const notice of answer.notices) {
        if (mark !== undefined && notice.at < mark) {
          reached = true;
          break;
        }
        if (mark !== undefined && notice.at === mark && markIds.has(notice.id)) continue;
        notices.push(notice);
      }
      cursor = answer.nextCursor;
      if (reached || cursor === undefined || answer.notices.length < pageSize) break;
    }
  } catch (error) {
    if (error instanceof AuthError) {
      log.warn('follow feed refused: scans carry on; reconnect the account to use the feed', {
        detail: error.message,
      });
      return {
        observe: {
          ...observe,
          feed: {
            ...feed,
            pausedUntil: now + FEED_REFUSED_PAUSE_MS,
            pausedReason: error.message.slice(0, 200),
          },
        },
        requests,
        usersRead,
        newFollowers: [],
      };
    }
    if (error instanceof TransientPlatformError || error instanceof MalformedResponseError) {
      log.warn('follow feed failed: skipped this tick', { detail: `${error.name}: ${error.message}` });
      return { observe, requests, usersRead, newFollowers: [] };
    }
    stop = error;
  }
  // A first look at an empty feed marks the look's own time: whatever comes after it is new.
  const newestAt = Math.max(mark ?? now, ...notices.map((notice) => notice.at));
  const atNewest = notices.filter((notice) => notice.at === newestAt).map((notice) => notice.id);
  const newestIds = newestAt === mark ? [...markIds, ...atNewest] : atNewest;
  observe = {
    ...observe,
    feed: {
      ...feed,
      newestAt,
      newestIds: newestIds.slice(-MAX_MARK_IDS),
      lastReadAt: now,
      pausedUntil: undefined,
      pausedReason: undefined,
    },
  };
  // The first look sets the mark only: whoever followed before it is the baseline's to know.
  let found: PlatformUser[] = [];
  let refollowed: PlatformUser[] = [];
  try {
    if (mark !== undefined)
      ({ found, refollowed } = await newFollowersOf(account, ref, state, deps, notices));
  } catch (error) {
    if (!(error instanceof TransientPlatformError || error instanceof MalformedResponseError)) throw error;
    // The notices are read again next tick (the mark stays): a relationship look-up failed.
    log.warn('follow feed: relationships failed, read again next tick', { detail: error.message });
    return {
      observe: { ...observe, feed: { ...feed, lastReadAt: now } },
      requests,
      usersRead,
      newFollowers: [],
    };
  }
  if (found.length === 0 && refollowed.length === 0) {
    return {
      observe: { ...observe, feed: { ...observe.feed, markSeq: observe.seq } },
      requests,
      usersRead,
      newFollowers: [],
      stop,
    };
  }
  const codec = idCodecFor(account.network);
  const added = codec.fromStrings(found.map((user) => user.id));
  const seq = observe.seq + 1;
  const changeset: Changeset = {
    seq,
    at: now,
    kind: 'followers',
    source: 'feed',
    added: codec.encode(added),
    removed: codec.encode(codec.empty()),
    addedCount: added.length,
    removedCount: 0,
    profiles: [...found, ...refollowed],
    ...(refollowed.length > 0 ? { refollowed: refollowed.map((user) => user.id) } : {}),
  };
  const pointer = observe.graphs.followers;
  const ids = [...found, ...refollowed].map((user) => user.id);
  observe = {
    ...observe,
    seq,
    graphs: { ...observe.graphs, followers: { ...pointer, count: pointer.count + added.length } },
    feed: { ...observe.feed, markSeq: seq, unscannedFromSeq: observe.feed?.unscannedFromSeq ?? seq - 1 },
  };
  log.info('new followers from the feed', {
    found: found.length,
    refollowed: refollowed.length,
    notices: notices.length,
  });
  return { observe, requests, usersRead, changeset, newFollowers: ids, stop };
}

/**
 * Notifiers who follow now, newest first, once each: those not in the snapshot are new (`found`);
 * those in it followed again since the last look (`refollowed`): an undone follow takes its
 * notification along on both networks, so a notice newer than the mark is a follow made since, and
 * a follower the snapshot already held left unnoticed between full scans and came back. (One a head
 * scan found after its follow is flagged too; reconcile takes an existing task as handled.)
 */
async function newFollowersOf(
  account: AccountRecord,
  ref: AccountRef,
  state: ObserveState,
  deps: FeedDeps,
  notices: readonly FollowNotice[],
): Promise<{ found: PlatformUser[]; refollowed: PlatformUser[] }> {
  const candidates = new Map<string, FollowNotice>();
  for (const notice of notices) {
    if (notice.followsNow === false || candidates.has(notice.user.id)) continue;
    candidates.set(notice.user.id, notice);
  }
  if (candidates.size === 0) return { found: [], refollowed: [] };
  const codec: IdCodec = idCodecFor(account.network);
  // Ids the network's codec cannot hold (a malformed one) are the scans' to judge, not the feed's.
  const valid = [...candidates.values()].filter((notice) => {
    try {
      codec.fromStrings([notice.user.id]);
      return true;
    } catch {
      return false;
    }
  });
  const known = await loadGraph(deps.store, ref, 'followers', state.graphs.followers, state.seq, codec);
  const fresh = valid.filter((notice) => !codec.has(known, notice.user.id));
  const markSeq = state.feed?.markSeq;
  let refollowed: PlatformUser[] = [];
  if (markSeq !== undefined) {
    const seenSince = await foundSince(deps.store, ref, markSeq, state.seq, codec);
    refollowed = valid
      .filter(
        (notice) =>
          notice.kind === 'follow' && codec.has(known, notice.user.id) && !seenSince.has(notice.user.id),
      )
      .map((notice) => notice.user);
  }
  // A follow request is a follower only once accepted: the relationship says (Mastodon has it).
  const requests = fresh.filter((notice) => notice.kind === 'follow_request').map((notice) => notice.user.id);
  let accepted = new Set<string>();
  if (requests.length > 0 && deps.platform.relationships) {
    const relationships = await deps.platform.relationships(account.platformUserId, requests);
    accepted = new Set(requests.filter((id) => relationships.get(id)?.followedBy));
  }
  const found = fresh
    .filter((notice) => notice.kind === 'follow' || accepted.has(notice.user.id))
    .map((notice) => notice.user);
  return { found, refollowed };
}

/** Followers the snapshot gained, or found again, in the changesets after `afterSeq` up to `uptoSeq`. */
async function foundSince(
  store: GraphStore,
  ref: AccountRef,
  afterSeq: number,
  uptoSeq: number,
  codec: IdCodec,
): Promise<Set<string>> {
  const ids = new Set<string>();
  if (uptoSeq <= afterSeq) return ids;
  for (const changeset of await store.getChangesets(ref, afterSeq, uptoSeq)) {
    if (changeset.kind !== 'followers') continue;
    for (const id of codec.toStrings(codec.decode(changeset.added))) ids.add(id);
    for (const id of changeset.refollowed ?? []) ids.add(id);
  }
  return ids;
}

/**
 * Followers the feed added since the last complete head scan (up to `uptoSeq`): the head scan takes
 * them as found earlier, not as the known run that ends it, so it reads on to whoever the feed missed.
 */
export async function foundByFeedSince<L extends IdList>(
  store: GraphStore,
  ref: AccountRef,
  feed: FeedState | undefined,
  uptoSeq: number,
  codec: IdCodec<L>,
): Promise<L> {
  const from = feed?.unscannedFromSeq;
  if (from === undefined || uptoSeq <= from) return codec.empty();
  const parts: L[] = [];
  for (const changeset of await store.getChangesets(ref, from, uptoSeq)) {
    if (changeset.source === 'feed' && changeset.kind === 'followers')
      parts.push(codec.decode(changeset.added));
  }
  return codec.union(parts);
}

/** The feed state once a head scan from the top has read past everything the feed added. */
export function feedScanned(feed: FeedState | undefined): FeedState | undefined {
  return feed === undefined ? undefined : { ...feed, unscannedFromSeq: undefined };
}
