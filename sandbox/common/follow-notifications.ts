import { defined } from '../../shared/domain/invariant.ts';
import { hash32 } from '../rng.ts';
import type { World } from '../world.ts';

/**
 * "X followed you" notifications of the world's owners, for the sandboxes' change feeds (Mastodon's
 * GET /api/v1/notifications, Bluesky's app.bsky.notification.listNotifications).
 *
 * Each follow of an owner (a `followed` world event) is one notification, numbered in time order
 * per owner from 1. As on both networks, a notification goes when its follow is undone (Mastodon
 * destroys a Follow's notification with it; the AppView deletes the notifications of a deleted
 * follow record), and a deleted or suspended account's are not shown. What a real feed also does,
 * and the options play: the owner clears the notifications (Mastodon's POST
 * /api/v1/notifications/clear, or another client that does), the server keeps only so many, or a
 * notification never arrives (a federation delivery lost).
 */
export interface FollowNotificationOptions {
  /** Notifications kept per owner, the newest (older ones are gone). Default: all. */
  retain?: number;
  /** Share of follows that never make a notification (seeded). Default 0. */
  lossShare?: number;
}

export interface FollowNotification {
  /** Per owner, from 1 in time order: Mastodon's notification id, the Bluesky cursor's key. */
  seq: number;
  userId: string;
  at: number;
}

export class FollowNotifications {
  /** Owner id -> notifications up to this seq were cleared. */
  readonly #cleared = new Map<string, number>();
  /** Owner id -> seq of the newest notification made so far. */
  readonly #newest = new Map<string, number>();

  constructor(
    readonly world: World,
    readonly options: FollowNotificationOptions = {},
  ) {}

  /** The owner's notifications, newest first. */
  list(ownerId: string): FollowNotification[] {
    const events = this.world.events({ ownerId, kinds: ['followed'] });
    this.#newest.set(ownerId, events.length);
    const cleared = this.#cleared.get(ownerId) ?? 0;
    const loss = this.options.lossShare ?? 0;
    const out: FollowNotification[] = [];
    for (let index = events.length - 1; index >= cleared; index -= 1) {
      const event = defined(events[index], 'an event of the journal');
      const seq = index + 1;
      const draw = (hash32(`${this.world.seed}/notification/${ownerId}/${seq}`) >>> 0) / 2 ** 32;
      if (loss > 0 && draw < loss) continue;
      const user = this.world.user(event.userId);
      if (!user || user.deleted || user.suspended) continue;
      // Only the follow that stands has its notification: an undone one took it along.
      if (this.world.followedAt(ownerId, event.userId) !== event.at) continue;
      if (!this.world.isFollower(ownerId, event.userId)) continue;
      out.push({ seq, userId: event.userId, at: event.at });
      if (this.options.retain !== undefined && out.length >= this.options.retain) break;
    }
    return out;
  }

  /** The owner (or another client of theirs) dismisses every notification so far. */
  clear(ownerId: string): void {
    this.list(ownerId);
    this.#cleared.set(ownerId, this.#newest.get(ownerId) ?? 0);
  }
}
