import type { PlatformUser } from '../platform-user.ts';
import { DAY_MS, type EnginePolicy, type FilterAction, listEntryFor, type SpamSettings } from './policy.ts';
import type { SkipReason, SpamSignal, SpamSignalKind } from './task.ts';

/**
 * Vetting a new follower: follow back, or skip with a reason. Pure: everything it needs about the
 * owner's relationship to the follower comes in `context` (the use case knows it from snapshots).
 *
 * Order of the checks (the first that applies decides, so the recorded reason is the strongest):
 *  1. self                      the account itself
 *  2. already_following         nothing to do
 *  3. owner_blocked             never
 *  4. owner_unfollowed          never re-follow someone the owner unfollowed (followings diff)
 *  5. deny_list                 never
 *  6. mode_off                  follow-backs are off
 *  7. predates_connection       followed before connection and backfill is `none`
 *  8. bot_or_nobot              `#nobot` / `#nobots` in the bio or name: always (the follower's own
 *                               wish, which the owner's allow list does not override); the platform's
 *                               bot flag (Mastodon `bot`): unless allow-listed
 *  9. allow list                follow, whatever the spam filters say (signals are still listed)
 * 10. spam filters, in order keyword, ratio, new account, empty profile, default avatar: the first
 *     whose action is `skip` decides. Filters set to `flag` only add a signal.
 */

/** What vetting reads of a follower's profile (a PlatformUser fits). */
export type CandidateProfile = Pick<PlatformUser, 'id' | 'handle' | 'name' | 'bio'> &
  Partial<
    Pick<
      PlatformUser,
      'createdAt' | 'followersCount' | 'followingCount' | 'defaultAvatar' | 'avatarUrl' | 'bot'
    >
  >;

export interface CandidateContext {
  now: number;
  /** The owner's own platform id (a follower cannot be the account itself, but be safe). */
  ownerId?: string | undefined;
  /** The owner already follows them. */
  ownerFollows?: boolean | undefined;
  /** The owner followed them once and unfollowed (seen in the followings diff). */
  ownerUnfollowed?: boolean | undefined;
  ownerBlocked?: boolean | undefined;
  /** They followed before the account was connected (found by the first full scan). */
  predatesConnection?: boolean | undefined;
}

export type CandidateVerdict =
  | {
      verdict: 'follow';
      signals: SpamSignal[];
      /** Allow-listed: the spam filters were not applied. */
      allowListed: boolean;
      /** A backfilled follower: best effort, no promise. */
      backfill: boolean;
    }
  | { verdict: 'skip'; reason: SkipReason; detail: string; signals: SpamSignal[] };

const NOBOT = /(^|[^\p{L}\p{N}_])#nobots?(?![\p{L}\p{N}_])/iu;

/** Whether the text carries the `#nobot` (or `#nobots`) hashtag, the fediverse's "no bots" request. */
export function hasNoBotTag(text: string): boolean {
  return NOBOT.test(text);
}

function normalize(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[\u200B-\u200D\u2060\uFEFF]/g, '')
    .toLowerCase();
}

const SIGNAL_REASON: Readonly<Record<SpamSignalKind, SkipReason>> = {
  keyword: 'spam_keyword',
  ratio: 'spam_ratio',
  new_account: 'spam_new_account',
  empty_profile: 'spam_empty_profile',
  default_avatar: 'spam_default_avatar',
};

/** Spam filter order: the first `skip` filter that fires gives the skip reason. */
export const SPAM_FILTER_ORDER: readonly SpamSignalKind[] = [
  'keyword',
  'ratio',
  'new_account',
  'empty_profile',
  'default_avatar',
];

function actionOf(spam: SpamSettings, kind: SpamSignalKind): FilterAction {
  switch (kind) {
    case 'keyword':
      return spam.keywords.action;
    case 'ratio':
      return spam.ratio.action;
    case 'new_account':
      return spam.newAccount.action;
    case 'empty_profile':
      return spam.emptyProfile;
    case 'default_avatar':
      return spam.defaultAvatar;
  }
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** The spam signals of a profile under the filters that are not `off`, in filter order. */
export function spamSignals(profile: CandidateProfile, spam: SpamSettings, now: number): SpamSignal[] {
  const signals: SpamSignal[] = [];
  if (spam.keywords.action !== 'off' && spam.keywords.words.length > 0) {
    const haystack = normalize(`${profile.handle}\n${profile.name}\n${profile.bio}`);
    const hit = spam.keywords.words.find((word) => {
      const needle = normalize(word.trim());
      return needle !== '' && haystack.includes(needle);
    });
    if (hit !== undefined) signals.push({ kind: 'keyword', detail: `profile contains "${hit.trim()}"` });
  }
  if (
    spam.ratio.action !== 'off' &&
    profile.followingCount !== undefined &&
    profile.followersCount !== undefined
  ) {
    const following = profile.followingCount;
    const ratio = following / Math.max(1, profile.followersCount);
    if (following >= spam.ratio.minFollowing && ratio > spam.ratio.maxFollowingPerFollower) {
      signals.push({
        kind: 'ratio',
        detail: `follows ${following} accounts, followed by ${profile.followersCount} (ratio ${fmt(ratio)}, maximum ${fmt(spam.ratio.maxFollowingPerFollower)})`,
      });
    }
  }
  if (spam.newAccount.action !== 'off' && profile.createdAt !== undefined) {
    const ageDays = (now - profile.createdAt) / DAY_MS;
    if (ageDays < spam.newAccount.minAgeDays) {
      signals.push({
        kind: 'new_account',
        detail: `account is ${fmt(Math.max(0, ageDays))} days old (minimum ${fmt(spam.newAccount.minAgeDays)})`,
      });
    }
  }
  if (spam.emptyProfile !== 'off' && profile.bio.trim() === '' && profile.defaultAvatar !== false) {
    signals.push({
      kind: 'empty_profile',
      detail: profile.defaultAvatar ? 'no bio and the default picture' : 'no bio, picture unknown',
    });
  }
  if (spam.defaultAvatar !== 'off' && profile.defaultAvatar === true) {
    signals.push({ kind: 'default_avatar', detail: 'default profile picture' });
  }
  return signals;
}

type VettingPolicy = Pick<EnginePolicy, 'mode' | 'backfill' | 'allowList' | 'denyList' | 'spam'>;

/** Follow back, or skip with a reason and a human-readable detail; spam signals listed either way. */
export function evaluateCandidate(
  profile: CandidateProfile,
  policy: VettingPolicy,
  context: CandidateContext,
): CandidateVerdict {
  const signals = spamSignals(profile, policy.spam, context.now);
  const skip = (reason: SkipReason, detail: string): CandidateVerdict => ({
    verdict: 'skip',
    reason,
    detail,
    signals,
  });

  if (context.ownerId !== undefined && profile.id === context.ownerId)
    return skip('self', 'the account itself');
  if (context.ownerFollows) return skip('already_following', 'the owner already follows them');
  if (context.ownerBlocked) return skip('owner_blocked', 'the owner blocked them');
  if (context.ownerUnfollowed) return skip('owner_unfollowed', 'the owner unfollowed them before');
  const denied = listEntryFor(policy.denyList, profile);
  if (denied !== undefined) return skip('deny_list', `matches deny list entry "${denied}"`);
  if (policy.mode === 'off') return skip('mode_off', 'follow-back mode is off');
  if (context.predatesConnection && policy.backfill === 'none') {
    return skip('predates_connection', 'followed before the account was connected; backfill is off');
  }
  if (hasNoBotTag(profile.bio) || hasNoBotTag(profile.name)) {
    return skip('bot_or_nobot', 'profile asks bots not to interact (#nobot)');
  }
  const allowed = listEntryFor(policy.allowList, profile);
  if (profile.bot && allowed === undefined) return skip('bot_or_nobot', 'the account is marked as a bot');
  const backfill = Boolean(context.predatesConnection);
  if (allowed !== undefined) return { verdict: 'follow', signals, allowListed: true, backfill };

  for (const kind of SPAM_FILTER_ORDER) {
    const signal = signals.find((s) => s.kind === kind);
    if (signal && actionOf(policy.spam, kind) === 'skip') return skip(SIGNAL_REASON[kind], signal.detail);
  }
  return { verdict: 'follow', signals, allowListed: false, backfill };
}
