import type { GraphKind } from './account.ts';

/** Where one list (followers or following) stands: its base snapshot and the changesets on top. */
export interface GraphPointer {
  /** Sequence number of the changeset the base snapshot was written at (0 = none yet). */
  baseSeq: number;
  /** Number of chunks of the base snapshot. */
  baseChunks: number;
  /** Ids in the list as of the latest committed changeset. */
  count: number;
  /** When the list was last fully scanned (epoch ms), if ever. */
  lastFullScanAt?: number | undefined;
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
}

/** Spending on reads, per UTC day and per UTC month. */
export interface ReadSpend {
  day: string;
  dayRequests: number;
  dayUsers: number;
  month: string;
  monthUsd: number;
  totalRequests: number;
  totalUsers: number;
}

export interface ObserveState {
  /** Highest committed changeset sequence number. */
  seq: number;
  graphs: Record<GraphKind, GraphPointer>;
  fullScan?: FullScanCheckpoint | undefined;
  lastHeadScanAt?: number | undefined;
  nextHeadScanAt?: number | undefined;
  /** Smoothed new followers per hour, used to pace head scans. */
  growthPerHour: number;
  spend: ReadSpend;
  /** The platform said to wait until then (epoch ms). */
  readBlockedUntil?: number | undefined;
}

/** Everything the workers keep per account between ticks; stored as one item with a version. */
export interface AccountState {
  observe: ObserveState;
  /** Later use cases (act, digest) add their own sections. */
  [section: string]: unknown;
}

export function emptyObserveState(): ObserveState {
  return {
    seq: 0,
    graphs: {
      followers: { baseSeq: 0, baseChunks: 0, count: 0 },
      following: { baseSeq: 0, baseChunks: 0, count: 0 },
    },
    growthPerHour: 0,
    spend: { day: '', dayRequests: 0, dayUsers: 0, month: '', monthUsd: 0, totalRequests: 0, totalUsers: 0 },
  };
}
