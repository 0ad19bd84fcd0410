/**
 * What a contract test may do to, and ask of, the owner's social graph, whatever runs it: the
 * seeded sandbox world (synchronous underneath) or a real network (test/real: accounts on the
 * atproto reference PDS). Ids are the harness's user ids (world ids on a sandbox, DIDs on the real
 * network); `idOf` maps them to platform ids. Every change takes a minute of virtual time where a
 * person would take one, as the world's scripted changes do.
 */
import type { World, WorldUser } from '../../sandbox/world.ts';

export interface NewFollower {
  protected?: boolean;
  bot?: boolean;
  noBot?: boolean;
}

export interface GraphTotals {
  /** 429 answers the adapter got. */
  rateLimited: number;
  /** Injected faults served. */
  faults: number;
  /** Follow calls for someone the owner already followed. */
  duplicateFollowCalls: number;
}

export interface TestGraph {
  /** New users who follow the owner now, a minute apart. */
  gainFollowers(count: number, options?: NewFollower): Promise<string[]>;
  userUnfollows(userId: string): Promise<void>;
  ownerFollows(userId: string): Promise<void>;
  ownerUnfollows(userId: string): Promise<void>;
  deleteUser(userId: string): Promise<void>;
  /** The owner's followers now (the truth, not what the platform's read side shows). */
  followerIds(): Promise<string[]>;
  followingIds(): Promise<string[]>;
  isFollowing(userId: string): Promise<boolean>;
  isPending(userId: string): Promise<boolean>;
  isProtected(userId: string): boolean;
  /** Follow calls of the owner that reached the platform for `userId`, by outcome ('followed', ...). */
  followCalls(userId: string): string[];
  totals(): GraphTotals;
}

/** The graph of one owner of a sandbox world. */
export function worldGraph(world: World, owner: WorldUser, advance: (ms: number) => void): TestGraph {
  return {
    async gainFollowers(count, options = {}) {
      const ids: string[] = [];
      for (let i = 0; i < count; i += 1) {
        const user = world.createUser({ bot: false, noBot: false, protected: false, ...options });
        world.userFollows(user.id, owner.id);
        ids.push(user.id);
        advance(60_000);
      }
      return ids;
    },
    async userUnfollows(userId) {
      world.userUnfollows(userId, owner.id);
    },
    async ownerFollows(userId) {
      world.ownerFollows(owner.id, userId);
    },
    async ownerUnfollows(userId) {
      world.ownerUnfollows(owner.id, userId);
    },
    async deleteUser(userId) {
      world.deleteUser(userId);
    },
    followerIds: async () => world.followerIds(owner.id),
    followingIds: async () => world.followingIds(owner.id),
    isFollowing: async (userId) => world.isFollowing(owner.id, userId),
    isPending: async (userId) => world.isPending(owner.id, userId),
    isProtected: (userId) => world.user(userId)?.protected ?? false,
    followCalls: (userId) =>
      world
        .followCalls(owner.id)
        .filter((call) => call.targetId === userId)
        .map((call) => call.outcome),
    totals: () => {
      const { rateLimited, faults, duplicateFollowCalls } = world.stats.snapshot().totals;
      return { rateLimited, faults, duplicateFollowCalls };
    },
  };
}
