/**
 * From the engine's records to the digest's people and codes: tasks and platform users become
 * DigestUsers, spam signals and skip reasons become the digest's codes (whose labels live in
 * shared/domain/digest/model.ts).
 */
import { type ApprovalCandidate, type DigestUser, UNREAD_PROFILE_NAME } from '../../domain/digest/model.ts';
import type { FollowTask, SkipReason, SpamSignalKind, TaskProfile } from '../../domain/engine/task.ts';
import type { PlatformUser } from '../../ports/platform.ts';

/**
 * A user whose profile was never read (someone who left before a scan read them, on X where every
 * read is billed): no made-up name from the raw id; the renderers say so and link the profile by
 * its id where the network can (profileUrlOf).
 */
export function unknownUser(id: string): DigestUser {
  return { id, handle: '', name: UNREAD_PROFILE_NAME };
}

export function userOfProfile(id: string, profile: TaskProfile | PlatformUser | undefined): DigestUser {
  if (profile === undefined || (profile.handle === '' && profile.name === '')) return unknownUser(id);
  return {
    id,
    handle: profile.handle,
    name: profile.name,
    bio: profile.bio,
    followersCount: profile.followersCount,
    followingCount: profile.followingCount,
    avatarUrl: profile.avatarUrl,
    createdAt: profile.createdAt,
    protected: profile.protected,
    bot: profile.bot,
  };
}

export function userOfTask(task: FollowTask): DigestUser {
  return userOfProfile(task.targetId, task.profile);
}

const SIGNAL_CODES: Readonly<Record<SpamSignalKind, string>> = {
  empty_profile: 'empty_profile',
  new_account: 'new_account',
  ratio: 'follow_ratio',
  default_avatar: 'default_avatar',
  keyword: 'keyword',
};

/** The digest's spam signal codes of a task (labels: spamSignalLabel). */
export function spamSignalCodes(task: FollowTask): string[] {
  return [...new Set(task.signals.map((s) => SIGNAL_CODES[s.kind] ?? s.kind))];
}

const SKIP_CODES: Readonly<Record<SkipReason, string>> = {
  spam_empty_profile: 'spam',
  spam_new_account: 'spam',
  spam_ratio: 'spam',
  spam_default_avatar: 'spam',
  spam_keyword: 'spam',
  deny_list: 'deny_list',
  owner_unfollowed: 'owner_unfollowed',
  owner_blocked: 'blocked',
  already_following: 'already_following',
  predates_connection: 'backfill',
  bot_or_nobot: 'nobot',
  mode_off: 'mode_off',
  self: 'self',
  rejected_by_owner: 'rejected',
  approval_expired: 'expired',
  left_before_followback: 'unfollowed_first',
  refused_by_target: 'refused',
  outcome_unknown: 'outcome_unknown',
};

/** The digest's skip reason code (labels: reasonLabel). */
export function skipReasonCode(reason: SkipReason | undefined): string {
  return reason === undefined ? 'other' : (SKIP_CODES[reason] ?? reason);
}

/** A task waiting for approval, as the digest and the approval page show it. */
export function candidateOfTask(task: FollowTask, approveUrl?: string): ApprovalCandidate {
  return {
    user: userOfTask(task),
    at: task.detectedAt,
    spamSignals: spamSignalCodes(task),
    ...(approveUrl === undefined ? {} : { approveUrl }),
  };
}
