/** A user as the use cases see it (the domain's own type; the platform port re-exports it). Ids are strings at the edges (X ids exceed 2^53). */
export interface PlatformUser {
  id: string;
  handle: string;
  name: string;
  bio: string;
  /** Account creation time, epoch ms, when the platform tells it. */
  createdAt?: number | undefined;
  followersCount?: number | undefined;
  followingCount?: number | undefined;
  /** Protected (X) / locked (Mastodon): a follow becomes a request. */
  protected: boolean;
  /** The platform's default avatar, a spam signal. */
  defaultAvatar?: boolean | undefined;
  avatarUrl?: string | undefined;
  /** Declares itself automated (Mastodon `bot`, or `#nobot` in the bio is checked by policy). */
  bot?: boolean | undefined;
}
