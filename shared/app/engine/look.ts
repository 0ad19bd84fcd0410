import type { Platform } from '../../ports/platform.ts';

/** What the network shows of the owner following a target, right now. */
export type FollowState = 'following' | 'requested' | 'not_following';

/**
 * Users of the owner's following list read to see whether a follow just made took effect. X lists
 * followings newest first (observed, not promised): a follow made seconds ago is near the top.
 */
export const LOOK_PAGE_SIZE = 20;

export interface Look {
  state: FollowState;
  /** Users a list read returned (billed on X); 0 for a relationship lookup. */
  usersRead: number;
}

/**
 * Looks whether the owner follows (or has requested) the target, as the network shows it now: a
 * relationship lookup where the network has one (Bluesky, Mastodon), else the head of the owner's
 * following list (X). Used to settle a follow whose answer was lost, instead of calling again.
 */
export async function lookFollowState(platform: Platform, ownerId: string, targetId: string): Promise<Look> {
  if (platform.relationships) {
    const relationship = (await platform.relationships(ownerId, [targetId])).get(targetId);
    if (relationship?.following) return { state: 'following', usersRead: 0 };
    if (relationship?.requested) return { state: 'requested', usersRead: 0 };
    return { state: 'not_following', usersRead: 0 };
  }
  const page = await platform.listFollowing(ownerId, { pageSize: LOOK_PAGE_SIZE });
  const following = page.users.some((user) => user.id === targetId);
  return { state: following ? 'following' : 'not_following', usersRead: page.users.length };
}
