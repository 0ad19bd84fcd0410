import type { AccountRef } from '../domain/account.ts';
import type { UnfollowItem } from '../domain/engine/unfollow.ts';

export interface StoredUnfollow {
  item: UnfollowItem;
  /** Every write is conditional on the version it read (0: must not exist). */
  version: number;
}

/**
 * The owner's chosen unfollows of one account, one item per person
 * (`ACCT#<client>#<account>` / `UNFOLLOWQ#<targetId>`), kept a while after they are done or
 * skipped so the console can show them.
 */
export interface UnfollowQueueStore {
  getUnfollow(ref: AccountRef, targetId: string): Promise<StoredUnfollow | undefined>;
  /** Writes if the stored version still equals `expectedVersion`; ConflictError otherwise. */
  putUnfollow(ref: AccountRef, item: UnfollowItem, expectedVersion: number): Promise<number>;
  /** The account's items (open and recently finished), oldest chosen first. */
  listUnfollows(ref: AccountRef): Promise<StoredUnfollow[]>;
}
