import type { GraphKind } from './account.ts';

/** Where one list (followers or following) stands: its base snapshot and the changesets on top. */
export interface GraphPointer {
  /** Sequence number of the changeset the base snapshot was written at (0 = none yet). */
  baseSeq: number;
  /** Number of chunks of the base snapshot. */
  baseChunks: number;
  /** When the base was written (epoch ms). */
  baseAt?: number | undefined;
  /** Ids in the list as of the latest committed changeset. */
  count: number;
  /**
   * Whether the snapshot holds the whole list (after a full scan). Until then it holds only the
   * followers seen since connection: enough to find new ones, not to tell who left.
   */
  complete: boolean;
  /** When the list was last fully scanned (epoch ms), if ever. */
  lastFullScanAt?: number | undefined;
  /** Following list: the followers snapshot's count when it was last fully scanned (follow-backs since are at most the growth). */
  followersAtScan?: number | undefined;
}

/** A full scan in progress, resumable across invocations. */
export interface FullScanCheckpoint {
  kind: GraphKind;
  scanId: string;
  /** Cursor of the next page to read; undefined once the last page was read. */
  cursor: string | undefined;
  /** Pages stored so far (page items 0..pages-1). */
  pages: number;
  startedAt: number;
  /** Committed seq when the scan started: the diff removes only ids known then. */
  fromSeq: number;
  /** Reads of the current cursor that failed in a row; past a few, the scan starts over. */
  failures?: number | undefined;
  /** Times this scan started over from the top (refused or failing cursors); past a few, it is dropped. */
  restarts?: number | undefined;
}

/** A head scan that stopped before meeting known followers, to be continued from its cursor. */
export interface HeadScanResume {
  cursor: string;
  /** Committed seq before the interrupted scan: ids it added do not count as known when resuming. */
  fromSeq: number;
  /** New followers found so far by the interrupted scan (for the growth estimate). */
  found: number;
  /** Reads of the cursor that failed in a row; past a few, the head scan starts over from the top. */
  failures?: number | undefined;
  /** Known followers listed above the anchor so far: re-follows, once the anchor is met below them. */
  refollowCandidates?: string[] | undefined;
  /** Whether the interrupted scan had met the anchor. */
  metAnchor?: boolean | undefined;
}

/** The owner's counts as the platform last reported them. */
export interface OwnerCounts {
  followers: number;
  following: number;
  at: number;
}

/** The owner's counts, one sample per UTC day, the newest last (a few weeks: what a digest needs). */
export type OwnerCountHistory = OwnerCounts[];

/**
 * A worker's hold on the account for one tick. `epoch` grows with every acquisition and fences
 * writes: a worker whose lease expired cannot overwrite what the next holder wrote.
 */
export interface AccountLease {
  holder: string;
  until: number;
  epoch: number;
}

/**
 * Spending on reads, per UTC day and per UTC month. X bills a user once per app and UTC day (a user
 * returned again the same day is free), so users returned and users billed differ; money follows
 * the billed ones.
 */
export interface ReadSpend {
  day: string;
  dayRequests: number;
  /** Users returned today. */
  dayUsers: number;
  /** Users billed today (at most `dayUsers`; absent in state written before billing was modelled). */
  dayBilled?: number | undefined;
  month: string;
  monthUsd: number;
  /** Users billed this month. */
  monthBilled?: number | undefined;
  totalRequests: number;
  totalUsers: number;
  totalBilled?: number | undefined;
}

export interface ObserveState {
  /** Highest committed changeset sequence number. */
  seq: number;
  graphs: Record<GraphKind, GraphPointer>;
  fullScan?: FullScanCheckpoint | undefined;
  headResume?: HeadScanResume | undefined;
  /** The newest follower ids the last complete head scan read (to recognise re-follows). */
  headAnchor?: string[] | undefined;
  /**
   * How many of the anchor's first members were read on `day` (UTC): re-reading them that day is not
   * billed on X, so a later head scan reads its overlap below the known followers for free.
   */
  anchorRead?: { day: string; count: number } | undefined;
  /**
   * Places below the newest known followers a head scan reads on past its stop rule: the deepest a
   * new follower was found listed below known ones, with a margin, decaying when none is.
   */
  headOverlap?: number | undefined;
  /**
   * Set once a head scan met the list out of order (a new follower below two or more known ones):
   * from then on the overlap keeps its depth. Until then it is a guess, and decays.
   */
  headOverlapLearned?: boolean | undefined;
  /** When observe first ran for the account. */
  connectedAt?: number | undefined;
  owner?: OwnerCounts | undefined;
  /** Daily samples of the owner's counts: how many left over a period, whatever the snapshot knows. */
  ownerHistory?: OwnerCountHistory | undefined;
  lastHeadScanAt?: number | undefined;
  nextHeadScanAt?: number | undefined;
  /** When to ask again whether a full scan is due and affordable. */
  nextFullScanCheckAt?: number | undefined;
  /** Smoothed new followers per hour, used to pace head scans. */
  growthPerHour: number;
  spend: ReadSpend;
  /** The platform said to wait until then (epoch ms). */
  readBlockedUntil?: number | undefined;
  /** A read cap of the account's own is spent until then (the next UTC day or month), and which. */
  readsPaused?: { until: number; cap: ReadCap } | undefined;
  /** The change feed's mark, where the network has a feed (shared/app/observe/feed.ts). */
  feed?: FeedState | undefined;
  /**
   * Since when every changeset that removes followers has its removal mark (epoch ms). Absent in
   * state written before marks were kept: then only the list itself can say who left.
   */
  removalMarksSince?: number | undefined;
}

/** Where the change feed of new followers (Mastodon, Bluesky notifications) was last read to. */
export interface FeedState {
  /** When the newest notice read so far happened (epoch ms); undefined until the first look. */
  newestAt?: number | undefined;
  /** Ids of the notices read at `newestAt` (a later one at the same time is still new). */
  newestIds?: string[] | undefined;
  lastReadAt?: number | undefined;
  /**
   * The observe seq the last look left (its own changeset included): followers the snapshot gained
   * after it were seen since, so a notice of theirs is no re-follow.
   */
  markSeq?: number | undefined;
  /** The feed refused (no scope for it, say): not asked again until then. */
  pausedUntil?: number | undefined;
  pausedReason?: string | undefined;
  /**
   * The seq before the first feed changeset since the last complete head scan: the head scan does
   * not take those followers for its known run (whoever the feed missed is below them).
   */
  unscannedFromSeq?: number | undefined;
}

/** The account's own read caps (observe settings). */
export type ReadCap = 'readRequestsPerDay' | 'readBudgetUsdPerMonth';

/** What the follow-back engine keeps per account between ticks. */
export interface EngineState {
  /** Changesets up to this seq have been turned into tasks. */
  reconciledSeq: number;
  /** The platform said to stop following until then (a 429's reset). */
  blockedUntil?: number | undefined;
  /** When act next has something to do (a due task, a free slot); 0 = look at the next tick. */
  nextActAt: number;
  /** Last time pending approvals were checked for expiry. */
  expiryCheckedAt?: number | undefined;
}

/** Everything the workers keep per account between ticks; stored as one item with a version. */
export interface AccountState {
  observe: ObserveState;
  engine?: EngineState | undefined;
  lease?: AccountLease | undefined;
  /** Later use cases (act, digest) add their own sections. */
  [section: string]: unknown;
}

export function emptyObserveState(): ObserveState {
  return {
    seq: 0,
    graphs: {
      followers: { baseSeq: 0, baseChunks: 0, count: 0, complete: false },
      following: { baseSeq: 0, baseChunks: 0, count: 0, complete: false },
    },
    growthPerHour: 0,
    spend: { day: '', dayRequests: 0, dayUsers: 0, month: '', monthUsd: 0, totalRequests: 0, totalUsers: 0 },
  };
}
