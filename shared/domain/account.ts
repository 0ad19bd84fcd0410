import { ValidationError } from './errors.ts';
import type { Network } from './network.ts';

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
  /** The client's own X developer app, if it brings one (its secret is sealed apart: x-apps.ts). */
  xApp?: XAppRecord | undefined;
}

/**
 * A client's own X developer app. Its accounts connect, refresh, are capped and priced by it; the
 * secret of a confidential app is sealed by the vault (never in clients.yaml or an environment).
 */
export interface XAppRecord {
  /** The app's OAuth 2.0 Client ID. */
  clientId: string;
  /** A confidential client (its secret set with `followback x-app secret`); else a public one. */
  confidential: boolean;
  /** The account that owns the app: X bills reads of its own followers as owned ($0.001). */
  ownedBy?: string | undefined;
}

/**
 * `not_connected`: added, never connected (`followback connect` is the next step);
 * `token_expired`: was connected, the network no longer accepts its access (connect it again).
 */
export type AccountStatus = 'active' | 'paused' | 'not_connected' | 'token_expired';

/** Whether the account waits for `followback connect` (never connected, or its access was refused). */
export function needsConnect(status: AccountStatus): boolean {
  return status === 'not_connected' || status === 'token_expired';
}

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
  /**
   * The server the account lives on, as an origin (`https://example.social`): the Mastodon instance
   * (required to reach a Mastodon account: its ids and tokens are the instance's), or a Bluesky PDS
   * other than the deployment's default service. Absent on X.
   */
  instanceUrl?: string | undefined;
  /**
   * X: the OAuth Client ID of the client's own app that issued the account's tokens (its refreshes,
   * its app-wide cap and price); absent: the deployment's app.
   */
  xAppClientId?: string | undefined;
}

export function accountKey(ref: AccountRef): string {
  return `${ref.clientId}/${ref.accountId}`;
}

/** Hosts a plain-http instance URL may name: this machine only (a sandbox, a development server). */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The origin of a Mastodon instance or Bluesky PDS as people write it (`example.social`,
 * `https://example.social/`): `https://` is added when no scheme is given; plain http is allowed for
 * loopback hosts only (a token must never travel in clear text over a network); credentials, a path,
 * a query or a fragment are refused. Throws ValidationError naming what is wrong.
 */
export function normalizeInstanceUrl(raw: string, label = 'instance'): string {
  const text = raw.trim();
  if (text === '' || text.length > 300) {
    throw new ValidationError(`${label} must be a host name such as example.social`, {
      details: { field: label },
    });
  }
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ValidationError(`${label} is not a host name or URL: ${JSON.stringify(text)}`, {
      details: { field: label },
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ValidationError(`${label} must be an https URL, got ${url.protocol}`, {
      details: { field: label },
    });
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ValidationError(
      `${label} must use https (plain http only for a server on this machine: localhost, 127.0.0.1)`,
      { details: { field: label } },
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new ValidationError(`${label} must be a bare host name or origin, without credentials or query`, {
      details: { field: label },
    });
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new ValidationError(`${label} must be the server's address without a path, got ${url.pathname}`, {
      details: { field: label },
    });
  }
  return url.origin;
}
