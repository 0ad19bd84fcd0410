import type { Network } from '../ports/platform.ts';

/** Identifies an account within the deployment; the client id is the tenant boundary. */
export interface AccountRef {
  clientId: string;
  accountId: string;
}

export type GraphKind = 'followers' | 'following';

/** A client (tenant) of the agency. */
export interface ClientRecord {
  clientId: string;
  name: string;
  /** IANA time zone, used for quiet hours and digest schedule. */
  timeZone: string;
  /** Where the digest goes. */
  digestEmails: string[];
  createdAt: number;
  /** Local weekday the digest goes out, ISO numbering: 1 = Monday … 7 = Sunday (default 1). */
  digestWeekday?: number | undefined;
  /** Local hour the digest goes out, 0–23 (default 8). */
  digestHour?: number | undefined;
  /** Set by the digest's unsubscribe link: no more digests for this client (follow-backs go on). */
  digestOptOut?: boolean | undefined;
  /** When the digest was unsubscribed, epoch ms. */
  digestOptOutAt?: number | undefined;
  /** BCP 47 locale of the digest's dates and numbers (default en-GB). */
  locale?: string | undefined;
}

export type AccountStatus = 'active' | 'paused' | 'token_expired';

/** Settings that govern how an account is observed (reads cost money on X). */
export interface ObserveSettings {
  /** Acceptable p95 delay between someone following and followback noticing, in hours. */
  detectionDelayHours: number;
  /** Money the account may spend on reads per month, in USD. */
  readBudgetUsdPerMonth: number;
  /** Most list requests per day, whatever they cost. */
  readRequestsPerDay: number;
  /** Price per user returned by a list read, in USD (X: 0.010, or 0.001 for owned reads). */
  usdPerUserRead: number;
  /** Least days between two full scans of the same list. */
  fullScanMinDays: number;
  /** Consecutive already-known followers that end a head scan (the order is not a contract). */
  headScanKnownRun: number;
}

/** A connected account on one network, owned by a client. */
export interface AccountRecord extends AccountRef {
  network: Network;
  /** The owner's id on the platform (string at the edges). */
  platformUserId: string;
  handle: string;
  status: AccountStatus;
  observe: ObserveSettings;
  /** Policy settings of the follow-back engine; validated by shared/config. */
  policy?: Record<string, unknown> | undefined;
  createdAt: number;
}

export function accountKey(ref: AccountRef): string {
  return `${ref.clientId}/${ref.accountId}`;
}
