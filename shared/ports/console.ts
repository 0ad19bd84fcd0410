import type { InviteRecord } from '../domain/invites/invite.ts';
import type { Network } from './platform.ts';

/**
 * Storage ports of the web side: client invites and the audit log. One DynamoDB table backs them
 * (shared/adapters/dynamo/console-store.ts); every change that must happen once is a conditional
 * write on the item that records it.
 */

export interface StoredInvite {
  invite: InviteRecord;
  version: number;
}

export interface InviteStore {
  getInvite(clientId: string, inviteId: string): Promise<StoredInvite | undefined>;
  /** Writes if the stored version still equals `expectedVersion` (0: must not exist); ConflictError otherwise. */
  putInvite(invite: InviteRecord, expectedVersion: number): Promise<number>;
  /** A client's invites, newest first. */
  listInvites(clientId: string): Promise<InviteRecord[]>;
}

/** Who did something: a console user, an approval link from the digest, the CLI, or a client through an invite. */
export interface Actor {
  kind: 'console' | 'approval-link' | 'cli' | 'invite';
  /** The console user's email, the link's token id, `cli`, the invite id. */
  id: string;
}

export type AuditAction =
  | 'approve'
  | 'decline'
  | 'unfollow'
  | 'invite'
  | 'connect'
  | 'settings'
  | 'unfollow-refused'
  /** Chosen unfollows the caps did not allow at once: queued for later ticks. */
  | 'unfollow-queued';

export interface AuditEntry {
  at: number;
  clientId: string;
  accountId?: string | undefined;
  network?: Network | undefined;
  actor: Actor;
  action: AuditAction;
  /** The people acted on (platform user ids), at most a few hundred. */
  targets?: string[] | undefined;
  /** A short plain-text account of it (no secret, no stranger's text). */
  detail: string;
}

/** The audit log: one item per entry under its client, kept `retentionDays` (TTL). */
export interface AuditStore {
  /**
   * Appends the entry. With `key`, at most once: a second append with the same key (a retry after a
   * crash between the action and its bookkeeping) changes nothing, so the log never repeats a deed.
   */
  appendAudit(entry: AuditEntry, options?: { key?: string | undefined }): Promise<void>;
  /** The client's entries, newest first. */
  listAudit(clientId: string, options?: { limit?: number | undefined }): Promise<AuditEntry[]>;
}

/** People the console unfollowed, so the list hides them until the next observation sees it. */
export interface UnfollowRecordStore {
  recordUnfollow(ref: { clientId: string; accountId: string }, targetId: string, at: number): Promise<void>;
  listUnfollowed(ref: { clientId: string; accountId: string }): Promise<Map<string, number>>;
}

/** A client's branding on its invite pages (and, later, its digest and approval page). */
export interface ClientBranding {
  displayName?: string | undefined;
  /** `#rrggbb`. */
  accent?: string | undefined;
  /** https only. */
  logoUrl?: string | undefined;
}

export interface BrandingStore {
  getBranding(clientId: string): Promise<ClientBranding | undefined>;
  putBranding(clientId: string, branding: ClientBranding): Promise<void>;
}

export type ConsoleStore = InviteStore & AuditStore & UnfollowRecordStore & BrandingStore;
