/**
 * The digest model: what one client reads about one period (by default a week), per account.
 *
 * The model is plain data, built by `buildDigestModel` from raw facts the store provides; the
 * builder computes everything derived (net change, ordering by notability, promise kept %, longest
 * delay, skips by reason, the 12-week series) so that the three renderings (HTML, text, CSV) can
 * never disagree with each other. No clock, no I/O: the period is an argument.
 */

import type { AccountStatus } from '../account.ts';
import { safeAccent, safeLogoUrl } from '../branding.ts';
import { ValidationError } from '../errors.ts';
import type { Network } from '../network.ts';
import { assertTimeZone, DEFAULT_LOCALE, formatPeriodLabel } from './format.ts';
import { cleanText } from './html.ts';

export const WEEK_MS = 7 * 24 * 60 * 60 * 1000;
/** Points in the follower chart. */
export const CHART_WEEKS = 12;

/** A user as the digest shows them. A PlatformUser (shared/ports/platform.ts) fits as is. */
/** What the digest calls someone whose profile was never read (see profileUrlOf for the link). */
export const UNREAD_PROFILE_NAME = 'Profile not read yet';

export interface DigestUser {
  /** Platform id, a string (X ids exceed 2^53). */
  id: string;
  handle: string;
  name: string;
  bio?: string | undefined;
  followersCount?: number | undefined;
  followingCount?: number | undefined;
  /** Shown only when https; never required for the email to make sense. */
  avatarUrl?: string | undefined;
  createdAt?: number | undefined;
  protected?: boolean | undefined;
  bot?: boolean | undefined;
}

/** Someone followed (or stopped following) the account at `at` (epoch ms, when observed). */
export interface FollowerChange {
  user: DigestUser;
  at: number;
}

export type FollowBackOutcome = 'followed' | 'requested';

/** A follow-back carried out during the period. */
export interface FollowBackDone {
  user: DigestUser;
  /** When they followed the account (the promise clock starts here). */
  followedAt: number;
  /** When the follow-back was made. */
  at: number;
  /** `requested`: the target is protected, the follow is a pending request. */
  outcome: FollowBackOutcome;
  /** End of the promised window, when known. */
  dueBy?: number | undefined;
}

/** A new follower who will not be followed back, and why (a policy reason code). */
export interface SkipRecord {
  user: DigestUser;
  at: number;
  /** e.g. `spam`, `deny_list`, `owner_unfollowed`, `blocked`, `nobot`, `gone`; see reasonLabel. */
  reason: string;
}

/** A follow-back waiting for the owner's approval (approve mode, the default on X). */
export interface ApprovalCandidate {
  user: DigestUser;
  /** When it was queued for approval. */
  at: number;
  dueBy?: number | undefined;
  /** Spam signal codes from policy (`empty_profile`, `new_account`, ...); see spamSignalLabel. */
  spamSignals: readonly string[];
  /** Link to the approval page for this one candidate (its GET never acts). */
  approveUrl?: string | undefined;
}

/** The account follows them; they do not follow back. For the owner to review. */
export interface OneSidedFollow {
  user: DigestUser;
  /** Since when the account follows them, when known. */
  since?: number | undefined;
}

/** One bar of the chart: the follower count at the end of the week starting at `weekStart`. */
export interface WeeklyPoint {
  weekStart: number;
  /** null: no observation that week (the bar is drawn as missing, not as zero). */
  count: number | null;
}

/** An observed follower count at an instant (from snapshots). */
export interface FollowerSample {
  at: number;
  count: number;
}

/** The scheduler's forecast: the backlog cannot all be followed back inside the promise. */
export interface PromiseAtRisk {
  /** Follow-backs forecast to miss their window. */
  count: number;
  /** The earliest deadline at risk. */
  earliestDueBy?: number | undefined;
  /** Human reason, e.g. "daily cap reached". Plain text. */
  reason?: string | undefined;
}

/** One owed follow-back whose window matters for the period. */
export interface PromiseOutcome {
  followedAt: number;
  dueBy: number;
  /** When the follow-back was done; absent while still owed. */
  doneAt?: number | undefined;
}

export type FollowBackMode = 'auto' | 'approve' | 'off';

export interface AccountLinks {
  /** Approval page with every candidate of this account pre-ticked (the GET shows, never acts). */
  approveAll?: string | undefined;
  /**
   * How many candidates the approveAll link covers: the first ones listed, at most the batch limit
   * (absent: all of them). A link acts only on the people it covers.
   */
  approveAllCovers?: number | undefined;
  /** Approval page for this account. */
  approvalPage?: string | undefined;
}

export interface AccountDigest {
  accountId: string;
  network: Network;
  handle: string;
  status: AccountStatus;
  mode?: FollowBackMode | undefined;
  followersNow: number;
  netChange: number;
  /** Most notable first (see compareNotability). */
  newFollowers: FollowerChange[];
  /** Most notable first. */
  lost: FollowerChange[];
  /** How many left by the follower counts: at least the named ones. */
  leftCount: number;
  snapshot: 'complete' | 'partial' | 'drifted';
  /** Most notable first. */
  followBacksDone: FollowBackDone[];
  /** Kept / judged × 100; null when no deadline fell in the period. */
  promiseKeptPct: number | null;
  /** How many owed follow-backs were judged for promiseKeptPct. */
  promiseJudged: number;
  /** Longest follow-time-to-follow-back among follow-backs done; null when none. */
  longestDelayMs: number | null;
  /** Clean candidates first, then by notability. */
  awaitingApproval: ApprovalCandidate[];
  skips: SkipRecord[];
  /** Largest count first. */
  skipsByReason: { reason: string; count: number }[];
  /** Longest-standing first; possibly a page of a longer list. */
  oneSided: OneSidedFollow[];
  oneSidedTotal: number;
  /** Exactly CHART_WEEKS points, oldest first, the last one being the week that ends the period. */
  weeklyFollowers: WeeklyPoint[];
  atRisk: PromiseAtRisk | null;
  /** Follow-backs that failed during the period (shown to the operator). */
  failures: number;
  links: AccountLinks;
}

export interface DigestModel {
  client: {
    id: string;
    name: string;
    /** IANA zone: every date in every rendering is in it. */
    timeZone: string;
    /** BCP 47 locale for dates and numbers; default en-GB. */
    locale: string;
    /** The client's branding: `#rrggbb` accent and an https logo, validated (else absent). */
    accent?: string | undefined;
    logoUrl?: string | undefined;
  };
  agency: {
    name: string;
    /** The From address (a verified SES identity in the cloud). */
    senderAddress: string;
    replyTo?: string | undefined;
  };
  period: {
    /** Epoch ms, inclusive. */
    start: number;
    /** Epoch ms, exclusive. */
    end: number;
    /** e.g. `2 – 8 Mar 2026`, in the client's zone. */
    label: string;
  };
  accounts: AccountDigest[];
  links: {
    /** RFC 8058 one-click endpoint (POST acts; GET shows a confirmation page). */
    unsubscribe: string;
    /** Approval page for every account of the client. */
    approvalPage?: string | undefined;
  };
}

// ---------------------------------------------------------------------------------------------
// Pure helpers

/**
 * Notability: follower count first (unknown counts last), then the followers/following ratio
 * (an account many follow but that follows few is more notable than a follow-for-follow one),
 * then handle and id so the order is total and stable.
 */
export function compareNotability(a: DigestUser, b: DigestUser): number {
  const fa = validCount(a.followersCount);
  const fb = validCount(b.followersCount);
  if (fa !== fb) return fb - fa;
  const ra = ratio(a);
  const rb = ratio(b);
  if (ra !== rb) return rb - ra;
  if (a.handle !== b.handle) return a.handle < b.handle ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function validCount(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : -1;
}

function ratio(u: DigestUser): number {
  const followers = validCount(u.followersCount);
  const following = validCount(u.followingCount);
  if (followers < 0) return -1;
  return followers / Math.max(1, following);
}

/** Returns a new array, most notable first. */
export function byNotability<T extends { user: DigestUser }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => compareNotability(a.user, b.user));
}

/** Candidates without spam signals first, then most notable first. */
export function orderCandidates(items: readonly ApprovalCandidate[]): ApprovalCandidate[] {
  return [...items].sort((a, b) => {
    const sa = a.spamSignals.length > 0 ? 1 : 0;
    const sb = b.spamSignals.length > 0 ? 1 : 0;
    return sa !== sb ? sa - sb : compareNotability(a.user, b.user);
  });
}

/** Longest-standing first (unknown `since` last), then most notable. */
export function orderOneSided(items: readonly OneSidedFollow[]): OneSidedFollow[] {
  return [...items].sort((a, b) => {
    const sa = a.since ?? Number.POSITIVE_INFINITY;
    const sb = b.since ?? Number.POSITIVE_INFINITY;
    return sa !== sb ? (sa < sb ? -1 : 1) : compareNotability(a.user, b.user);
  });
}

/**
 * Net change over the period: from the count at the start when known (it also catches changes
 * nobody observed one by one), else new minus lost.
 */
export function netChange(
  followersNow: number,
  followersAtStart: number | undefined,
  newCount: number,
  lostCount: number,
): number {
  return followersAtStart === undefined ? newCount - lostCount : followersNow - followersAtStart;
}

export interface PromiseKept {
  /** kept / judged × 100, or null when nothing could be judged. */
  pct: number | null;
  kept: number;
  judged: number;
}

/**
 * Promise kept %: of the owed follow-backs that can be judged at `now`, the share done by their
 * deadline. A follow-back done on time is kept, one done late is broken, one still owed after its
 * deadline is broken, one still owed before its deadline is not judged yet.
 */
export function promiseKept(outcomes: readonly PromiseOutcome[], now: number): PromiseKept {
  let kept = 0;
  let judged = 0;
  for (const o of outcomes) {
    if (o.doneAt !== undefined) {
      judged++;
      if (o.doneAt <= o.dueBy) kept++;
    } else if (o.dueBy < now) {
      judged++;
    }
  }
  return { pct: judged === 0 ? null : (kept * 100) / judged, kept, judged };
}

/** The longest time from someone following to the follow-back, among those done; null if none. */
export function longestDelay(done: readonly FollowBackDone[]): number | null {
  let longest: number | null = null;
  for (const d of done) {
    const delay = Math.max(0, d.at - d.followedAt);
    if (longest === null || delay > longest) longest = delay;
  }
  return longest;
}

/** Counts per reason, largest first (ties by reason code). */
export function countSkipsByReason(skips: readonly SkipRecord[]): { reason: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const s of skips) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  return [...counts]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1));
}

/**
 * The chart series: `weeks` consecutive 7-day buckets ending at `end` (exclusive), oldest first.
 * Each bucket takes the latest sample inside it; a bucket without a sample is null (missing).
 * Buckets are exact 7-day spans anchored at the period end, which the scheduler puts at the
 * client's local send time, so a DST change shifts a bucket edge by an hour at most.
 */
export function weeklySeries(
  samples: readonly FollowerSample[],
  end: number,
  weeks = CHART_WEEKS,
): WeeklyPoint[] {
  const points: WeeklyPoint[] = [];
  const latest: ({ at: number; count: number } | undefined)[] = new Array(weeks).fill(undefined);
  const firstStart = end - weeks * WEEK_MS;
  for (const s of samples) {
    if (!Number.isFinite(s.at) || !Number.isFinite(s.count) || s.at < firstStart || s.at >= end) continue;
    const i = Math.floor((s.at - firstStart) / WEEK_MS);
    const current = latest[i];
    if (current === undefined || s.at >= current.at) latest[i] = { at: s.at, count: s.count };
  }
  for (let i = 0; i < weeks; i++) {
    points.push({ weekStart: firstStart + i * WEEK_MS, count: latest[i]?.count ?? null });
  }
  return points;
}

// ---------------------------------------------------------------------------------------------
// Builder

/** Raw facts about one account for one period, as the store can provide them. */
export interface AccountDigestInput {
  accountId: string;
  network: Network;
  handle: string;
  status: AccountStatus;
  mode?: FollowBackMode | undefined;
  followersNow: number;
  /** Follower count at the period start, when a snapshot tells it. */
  followersAtStart?: number | undefined;
  newFollowers?: readonly FollowerChange[] | undefined;
  lost?: readonly FollowerChange[] | undefined;
  /** How many left in the period by the owner's follower counts (names in `lost` where a full scan gave them). */
  leftByCount?: number | undefined;
  /** Whether the follower snapshot is the whole list (`partial`, `drifted`: names of who left are missing). */
  snapshot?: 'complete' | 'partial' | 'drifted' | undefined;
  followBacksDone?: readonly FollowBackDone[] | undefined;
  /**
   * Owed follow-backs whose deadline matters for the period (from follow tasks). When absent,
   * the follow-backs done that carry a `dueBy` are judged (which cannot see missed-and-still-owed).
   */
  promiseOutcomes?: readonly PromiseOutcome[] | undefined;
  awaitingApproval?: readonly ApprovalCandidate[] | undefined;
  skips?: readonly SkipRecord[] | undefined;
  oneSided?: readonly OneSidedFollow[] | undefined;
  /** Total one-sided follows when `oneSided` is only a page of them. */
  oneSidedTotal?: number | undefined;
  /** Follower counts observed over (at least) the last 12 weeks; `followersNow` is added as the latest. */
  followerSamples?: readonly FollowerSample[] | undefined;
  atRisk?: PromiseAtRisk | null | undefined;
  failures?: number | undefined;
  links?: AccountLinks | undefined;
}

export interface DigestInput {
  client: {
    id: string;
    /** The name the digest shows: the client's display name when its branding has one. */
    name: string;
    timeZone: string;
    locale?: string | undefined;
    accent?: string | undefined;
    logoUrl?: string | undefined;
  };
  agency: { name: string; senderAddress: string; replyTo?: string | undefined };
  period: { start: number; end: number };
  accounts: readonly AccountDigestInput[];
  links: { unsubscribe: string; approvalPage?: string | undefined };
}

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(`${field}: must be a non-empty string`, { details: { field } });
  }
  return value;
}

function requireCount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ValidationError(`${field}: must be a non-negative integer`, { details: { field } });
  }
  return value;
}

/** Builds one account's digest for the period [start, end). */
export function buildAccountDigest(
  input: AccountDigestInput,
  period: { start: number; end: number },
  field = 'account',
): AccountDigest {
  const at = field;
  requireText(input.accountId, `${at}.accountId`);
  requireText(input.handle, `${at}.handle`);
  const followersNow = requireCount(input.followersNow, `${at}.followersNow`);
  const newFollowers = byNotability(input.newFollowers ?? []);
  const lost = byNotability(input.lost ?? []);
  const followBacksDone = byNotability(input.followBacksDone ?? []);
  const outcomes =
    input.promiseOutcomes ??
    followBacksDone.flatMap((d) =>
      d.dueBy === undefined ? [] : [{ followedAt: d.followedAt, dueBy: d.dueBy, doneAt: d.at }],
    );
  const kept = promiseKept(outcomes, period.end);
  const skips = [...(input.skips ?? [])].sort((a, b) => a.at - b.at);
  const oneSided = orderOneSided(input.oneSided ?? []);
  const samples = [...(input.followerSamples ?? []), { at: period.end - 1, count: followersNow }];
  return {
    accountId: input.accountId,
    network: input.network,
    handle: input.handle,
    status: input.status,
    mode: input.mode,
    followersNow,
    netChange: netChange(followersNow, input.followersAtStart, newFollowers.length, lost.length),
    newFollowers,
    lost,
    leftCount: Math.max(lost.length, input.leftByCount ?? 0),
    snapshot: input.snapshot ?? 'complete',
    followBacksDone,
    promiseKeptPct: kept.pct,
    promiseJudged: kept.judged,
    longestDelayMs: longestDelay(followBacksDone),
    awaitingApproval: orderCandidates(input.awaitingApproval ?? []),
    skips,
    skipsByReason: countSkipsByReason(skips),
    oneSided,
    oneSidedTotal: Math.max(input.oneSidedTotal ?? 0, oneSided.length),
    weeklyFollowers: weeklySeries(samples, period.end),
    atRisk: input.atRisk && input.atRisk.count > 0 ? input.atRisk : null,
    failures: input.failures ?? 0,
    links: { ...input.links },
  };
}

/**
 * Builds the client's digest. Throws ValidationError (naming the field) on an unknown time zone,
 * an empty period, or a missing name; everything else is taken as given.
 */
export function buildDigestModel(input: DigestInput): DigestModel {
  requireText(input.client.id, 'client.id');
  requireText(input.client.name, 'client.name');
  assertTimeZone(input.client.timeZone, 'client.timeZone');
  requireText(input.agency.name, 'agency.name');
  requireText(input.agency.senderAddress, 'agency.senderAddress');
  requireText(input.links.unsubscribe, 'links.unsubscribe');
  const { start, end } = input.period;
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) {
    throw new ValidationError('period: end must be after start', { details: { field: 'period' } });
  }
  const locale = input.client.locale ?? DEFAULT_LOCALE;
  return {
    client: {
      id: input.client.id,
      name: input.client.name,
      timeZone: input.client.timeZone,
      locale,
      // Only validated values reach a rendering; a bad one falls back to the defaults.
      ...(safeAccent(input.client.accent) === undefined ? {} : { accent: safeAccent(input.client.accent) }),
      ...(safeLogoUrl(input.client.logoUrl) === undefined
        ? {}
        : { logoUrl: safeLogoUrl(input.client.logoUrl) }),
    },
    agency: { ...input.agency },
    period: { start, end, label: formatPeriodLabel(start, end, input.client.timeZone, locale) },
    accounts: input.accounts.map((a, i) => buildAccountDigest(a, { start, end }, `accounts[${i}]`)),
    links: { ...input.links },
  };
}

// ---------------------------------------------------------------------------------------------
// Labels

const SPAM_SIGNAL_LABELS: Readonly<Record<string, string>> = {
  empty_profile: 'Empty profile',
  new_account: 'New account',
  follow_ratio: 'Follows many, few follow back',
  default_avatar: 'Default avatar',
  keyword: 'Suspicious words in bio',
  bot: 'Automated account',
  nobot: 'Asks bots not to follow',
  protected: 'Protected account',
};

const SKIP_REASON_LABELS: Readonly<Record<string, string>> = {
  spam: 'Looked like spam',
  deny_list: 'On the deny list',
  not_allowed: 'Not on the allow list',
  owner_unfollowed: 'You unfollowed them before',
  blocked: 'Blocked',
  nobot: 'Asks bots not to follow',
  bot: 'Automated account',
  gone: 'Account gone',
  unfollowed_first: 'Unfollowed before we followed back',
  already_following: 'Already followed',
  backfill: 'Followed before the account was connected',
  rejected: 'You skipped them',
  expired: 'Approval never came',
  refused: 'Refused the follow (blocks you)',
  outcome_unknown: 'Could not tell if the follow-back went through (not retried, in case you undid it)',
};

function humanise(code: string): string {
  const text = code.replace(/[_-]+/g, ' ').trim();
  return text === '' ? 'Other' : text.charAt(0).toUpperCase() + text.slice(1);
}

/** Human label for a spam signal code. Plain text. */
export function spamSignalLabel(code: string): string {
  return SPAM_SIGNAL_LABELS[code] ?? humanise(code);
}

/** Human label for a skip reason code. Plain text. */
export function reasonLabel(code: string): string {
  return SKIP_REASON_LABELS[code] ?? humanise(code);
}

const STATUS_LABELS: Readonly<Record<AccountStatus, string>> = {
  active: 'Active',
  paused: 'Paused',
  not_connected: 'Not connected yet',
  token_expired: 'Reconnect needed',
};

/**
 * No account of the client has been connected yet (or it has none): there is nothing to report,
 * and a digest of zeros would read as a bad week. The digest is then this one line instead.
 */
export function nothingConnectedLine(model: Pick<DigestModel, 'accounts' | 'agency'>): string | undefined {
  if (!model.accounts.every((a) => a.status === 'not_connected')) return undefined;
  const networks = [...new Set(model.accounts.map((a) => a.network))];
  const where =
    networks.length === 0
      ? 'each network'
      : networks.map((n) => ({ x: 'X', bluesky: 'Bluesky', mastodon: 'Mastodon' })[n] ?? n).join(', ');
  return `None of your accounts is connected yet, so there is nothing to report: ${model.agency.name} connects ${model.accounts.length === 1 ? 'it' : 'them'} with your go-ahead (you sign in to ${where} once, from the link they send you).`;
}

export function statusLabel(status: AccountStatus): string {
  return STATUS_LABELS[status] ?? humanise(status);
}

/** True when the period is a week (give or take a DST hour). */
export function isWeeklyPeriod(period: { start: number; end: number }): boolean {
  return Math.abs(period.end - period.start - WEEK_MS) <= 2 * 60 * 60 * 1000;
}

/** `this week` or `this period`, for sentences like "No new followers this week." */
export function periodNoun(period: { start: number; end: number }): string {
  return isWeeklyPeriod(period) ? 'this week' : 'this period';
}

/** The email subject: client name and period, e.g. `Weekly digest for Acme Bakery: 2 – 8 Mar 2026`. */
export function digestSubject(model: DigestModel): string {
  const kind = isWeeklyPeriod(model.period) ? 'Weekly digest' : 'Digest';
  return `${kind} for ${cleanText(model.client.name, 100)}: ${model.period.label}`;
}

/**
 * What the digest says about its approval links: whom each one acts on. Forwarding the email
 * forwards the links, so the reader should know that a person's link approves only that person.
 */
export function approvalLinkScope(
  candidates: number,
  covered: number,
  formatCount: (n: number) => string,
): { allLabel: string; textLabel: string; note: string } {
  const all = covered >= candidates;
  return {
    allLabel: all ? `Approve all ${formatCount(candidates)}…` : `Approve the first ${formatCount(covered)}…`,
    textLabel: all ? 'Approve all' : `Approve the first ${formatCount(covered)}`,
    note:
      `Each “Review and approve” link acts only on that person; “${all ? 'Approve all' : 'Approve the first'}” only on ` +
      `${all ? `the ${formatCount(candidates)} listed here` : `the first ${formatCount(covered)} of the ${formatCount(candidates)} listed here`}` +
      ', as they were when this digest was made. Nobody who follows later can be approved with these links.',
  };
}
