import type { AccountRef } from '../domain/account.ts';

/**
 * Storage for the digest and the approval page: digest runs (one per client and period, or per
 * agency and period for the roll-up), used approval tokens, the per-account follower samples the
 * 12-week chart is drawn from, and the client's unsubscribe flag. Every change that must happen once
 * is a single-item conditional write; a lost race is a ConflictError (or `false`).
 */

/**
 * A digest run's state:
 * - `claimed`: a worker builds the message under a lease (`leaseUntil`);
 * - `sending`: the worker is about to hand the message to the mailer, or is doing it;
 * - `sent`: the mailer took it (final);
 * - `failed`: the mailer certainly refused it; it may be tried again from `retryAt`;
 * - `uncertain`: a send may or may not have reached the mailer and the mailer cannot tell: it is
 *   not sent again (at-most-once, see shared/app/digest/deliver.ts) (final).
 */
export type DigestRunState = 'claimed' | 'sending' | 'sent' | 'failed' | 'uncertain';

export interface DigestRun {
  state: DigestRunState;
  kind: 'digest' | 'rollup';
  periodStart: number;
  periodEnd: number;
  /** Deterministic Message-ID of the message (without angle brackets). */
  messageId: string;
  /** The worker holding the claim, and until when (epoch ms). */
  holder: string;
  leaseUntil: number;
  /** Calls to the mailer started. */
  attempts: number;
  claimedAt: number;
  sendingAt?: number | undefined;
  sentAt?: number | undefined;
  /** The mail service's id (SES MessageId) or the outbox file. */
  providerId?: string | undefined;
  recipients?: number | undefined;
  /** Not before this time after a refused send. */
  retryAt?: number | undefined;
  /** Last error, for people (never a secret). */
  error?: string | undefined;
  /** How a crash was resolved, when one was: `mailer_had_it`, `mailer_did_not`, `unknown_not_resent`, `unknown_resent`. */
  recovered?: string | undefined;
  updatedAt: number;
}

export type DigestRunKey =
  | { scope: 'client'; clientId: string; periodKey: string }
  | { scope: 'agency'; periodKey: string };

export interface StoredDigestRun {
  run: DigestRun;
  /** Version of the item; every write is conditional on the version it read (0: must not exist). */
  version: number;
}

export interface DigestRunStore {
  getRun(key: DigestRunKey): Promise<StoredDigestRun | undefined>;
  /** Writes if the stored version still equals `expectedVersion` (0: must not exist); ConflictError otherwise. */
  putRun(key: DigestRunKey, run: DigestRun, expectedVersion: number): Promise<number>;
}

/** A client's digest runs as the console reads them: the latest first (its problems list). */
export interface DigestRunHistory {
  /** The client's latest runs, newest period first (default 5). */
  listClientRuns(clientId: string, options?: { limit?: number | undefined }): Promise<DigestRun[]>;
}

/** What an approval POST decided, recorded with the token's single use (so a crash can be finished). */
export interface ApprovalUse {
  accountId: string;
  action: 'approve' | 'skip';
  targetIds: string[];
  /** `consumed`: the token is used, the decision not yet (or not known to be) applied; `applied`: done. */
  state: 'consumed' | 'applied';
  usedAt: number;
  /** The token's expiry (the item may be deleted some time after). */
  expiresAt: number;
  appliedAt?: number | undefined;
  result?: { approved: number; skipped: number; unchanged: number } | undefined;
}

export interface StoredApprovalUse {
  use: ApprovalUse;
  version: number;
}

/** Used approval tokens, one item per token id under its client (`CLIENT#<clientId>` / `APPROVAL#<tokenId>`). */
export interface ApprovalUseStore {
  getApprovalUse(clientId: string, tokenId: string): Promise<StoredApprovalUse | undefined>;
  /** Marks the token used; false (and nothing written) when it already was. */
  createApprovalUse(clientId: string, tokenId: string, use: ApprovalUse): Promise<boolean>;
  /** Conditional on the version; ConflictError otherwise. */
  putApprovalUse(
    clientId: string,
    tokenId: string,
    use: ApprovalUse,
    expectedVersion: number,
  ): Promise<number>;
}

/** A follower count observed at an instant. */
export interface FollowerCountSample {
  at: number;
  followers: number;
  following?: number | undefined;
}

/** Follower counts per account and UTC day (`STATS#<yyyy-mm-dd>`), for the 12-week chart. */
export interface FollowerSampleStore {
  /** Keeps the latest sample per (account, UTC day): only a later `at` replaces the stored one. */
  putFollowerSample(ref: AccountRef, sample: FollowerCountSample): Promise<void>;
  /** Samples with `from <= at < to`, oldest first. */
  listFollowerSamples(ref: AccountRef, from: number, to: number): Promise<FollowerCountSample[]>;
}

export interface DigestOptOutStore {
  /**
   * Sets (or clears) the client's digest opt-out with one conditional update of the client record,
   * leaving every other field as it is. Returns false when the client does not exist.
   */
  setDigestOptOut(clientId: string, optOut: boolean, at: number): Promise<boolean>;
}

export type DigestStore = DigestRunStore &
  DigestRunHistory &
  ApprovalUseStore &
  FollowerSampleStore &
  DigestOptOutStore;
