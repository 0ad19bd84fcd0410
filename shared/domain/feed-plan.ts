import type { FeedState } from './account-state.ts';

/**
 * How often the change feed (Mastodon, Bluesky notifications) is read: at every tick (15 minutes),
 * a minute of slack for ticks that come early. One request each time, where the network has one.
 */
export const FEED_INTERVAL_MS = 14 * 60_000;

/** When the feed is next due (epoch ms), or undefined if the account reads no feed (yet). */
export function nextFeedLookAt(feed: FeedState | undefined): number | undefined {
  if (feed === undefined) return undefined;
  const due = (feed.lastReadAt ?? 0) + FEED_INTERVAL_MS;
  return feed.pausedUntil === undefined ? due : Math.max(due, feed.pausedUntil);
}
