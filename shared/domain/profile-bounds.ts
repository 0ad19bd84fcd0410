/**
 * How much of a stranger's profile followback keeps: more than any network allows today (X: name 50,
 * bio 160; Bluesky: description 256 graphemes; Mastodon: note 500 by default, HTML), far less than a
 * DynamoDB item (400 KB). A hostile or broken answer with a huge field is cut here, at the adapter
 * boundary, so one follower's profile can never make a task too large to store.
 */
export const PROFILE_LIMITS = {
  id: 200,
  handle: 120,
  name: 200,
  bio: 2_000,
  avatarUrl: 2_048,
} as const;

/** `text` cut to at most `max` code points (never inside a surrogate pair), with an ellipsis when cut. */
export function boundText(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = Array.from(text);
  if (points.length <= max) return text;
  return `${points.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** The stranger-supplied text of a profile (the port's user, a task's profile, ...). */
export interface ProfileText {
  handle: string;
  name: string;
  bio: string;
  avatarUrl?: string | undefined;
}

/** The user with every stranger-supplied text field bounded (see PROFILE_LIMITS). */
export function boundedUser<User extends ProfileText>(user: User): User {
  const bounded: User = {
    ...user,
    handle: boundText(user.handle, PROFILE_LIMITS.handle),
    name: boundText(user.name, PROFILE_LIMITS.name),
    bio: boundText(user.bio, PROFILE_LIMITS.bio),
  };
  if (user.avatarUrl !== undefined) {
    // A cut URL is a broken URL: drop one that is too long instead.
    bounded.avatarUrl = user.avatarUrl.length <= PROFILE_LIMITS.avatarUrl ? user.avatarUrl : undefined;
  }
  return bounded;
}
