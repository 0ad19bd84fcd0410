/**
 * The world's journal: every change made to it from outside its own random processes, with the
 * time it was made, and the replay that rebuilds a world from its seed and journal.
 */
import type { Clock } from '../shared/ports/clock.ts';
import type { CreateUserOptions, FollowOptions, OwnerOptions } from './world-types.ts';

/**
 * Every change made to the world from outside its own random processes, with the time it was made.
 * Replaying the journal on a world with the same seed rebuilds the same world (the local demo
 * persists it between runs).
 */
export type JournalEntry =
  | { at: number; op: 'addOwner'; options: OwnerOptions }
  | {
      at: number;
      op: 'follow' | 'unfollow' | 'ownerFollows' | 'ownerUnfollows';
      ownerId: string;
      userId: string;
      /** A follow on a network without follow requests (Bluesky): protected accounts are followed. */
      direct?: true;
    }
  | { at: number; op: 'createUser'; options: CreateUserOptions }
  | {
      at: number;
      op: 'userFollows' | 'userUnfollows' | 'acceptFollowRequest';
      ownerId: string;
      userId: string;
    }
  | { at: number; op: 'deleteUser' | 'suspendUser'; userId: string }
  | { at: number; op: 'blockOwner'; ownerId: string; userId: string }
  | { at: number; op: 'issueToken'; ownerId: string };

/** What a replay calls: the world's own methods for outside changes (World has them all). */
export interface JournalTarget {
  addOwner(options: OwnerOptions): unknown;
  follow(ownerId: string, targetId: string, options?: FollowOptions): unknown;
  unfollow(ownerId: string, targetId: string): unknown;
  ownerFollows(ownerId: string, userId: string): unknown;
  ownerUnfollows(ownerId: string, userId: string): unknown;
  createUser(options?: CreateUserOptions): unknown;
  userFollows(userId: string, ownerId: string): unknown;
  userUnfollows(userId: string, ownerId: string): unknown;
  acceptFollowRequest(ownerId: string, userId: string): unknown;
  deleteUser(userId: string): unknown;
  suspendUser(userId: string): unknown;
  blockOwner(userId: string, ownerId: string): unknown;
  issueToken(ownerId: string): unknown;
}

export class Journal {
  readonly #entries: JournalEntry[] = [];

  record(entry: JournalEntry): void {
    this.#entries.push(entry);
  }

  /** The entries so far, in order (a copy). */
  entries(): readonly JournalEntry[] {
    return [...this.#entries];
  }
}

/**
 * Makes each change of `journal` again on `world` at its time, setting `clock` forward to it, so the
 * world's own random processes run exactly as they did.
 */
export function replayJournal(
  world: JournalTarget,
  clock: Clock & { set(at: number): void },
  journal: readonly JournalEntry[],
): void {
  for (const entry of journal) {
    clock.set(Math.max(entry.at, clock.now()));
    switch (entry.op) {
      case 'addOwner':
        world.addOwner(entry.options);
        break;
      case 'follow':
        world.follow(entry.ownerId, entry.userId, entry.direct ? { requests: false } : {});
        break;
      case 'unfollow':
      case 'ownerFollows':
      case 'ownerUnfollows':
        world[entry.op](entry.ownerId, entry.userId);
        break;
      case 'createUser':
        world.createUser(entry.options);
        break;
      case 'userFollows':
      case 'userUnfollows':
        world[entry.op](entry.userId, entry.ownerId);
        break;
      case 'acceptFollowRequest':
        world.acceptFollowRequest(entry.ownerId, entry.userId);
        break;
      case 'deleteUser':
      case 'suspendUser':
        world[entry.op](entry.userId);
        break;
      case 'blockOwner':
        world.blockOwner(entry.userId, entry.ownerId);
        break;
      case 'issueToken':
        world.issueToken(entry.ownerId);
        break;
    }
  }
}
