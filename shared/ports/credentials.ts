import type { AccountRef } from '../domain/account.ts';
import type { Network } from '../domain/network.ts';

/**
 * The Credentials port: the sealed tokens (and Bluesky's app password) of connected accounts, as
 * the connect and refresh use cases see them. The DynamoDB adapter (adapters/dynamo/credential-store.ts)
 * seals them with the vault, one item per (account, network), with an optimistic version so a
 * rotated refresh token replaces exactly the pair it was made from.
 */
export interface Credentials {
  /** X and Mastodon: the OAuth access token. Bluesky: the session's access JWT. */
  accessToken: string;
  /** X: the OAuth refresh token (rotates). Bluesky: the session's refresh JWT (rotates). */
  refreshToken?: string | undefined;
  /** Epoch ms when the access token expires, if the platform said. */
  expiresAt?: number | undefined;
  scope?: string | undefined;
  /** Bluesky: what the owner logged in with (handle, DID or email). */
  identifier?: string | undefined;
  /** Bluesky: the app password, to log in again when the session cannot be refreshed. */
  appPassword?: string | undefined;
  /** Bluesky: the account's DID (the session's subject). */
  did?: string | undefined;
  /** Bluesky: the handle the session was issued for. */
  handle?: string | undefined;
}

export interface StoredCredentials {
  credentials: Credentials;
  /** Monotonic version of the item; pass it back to `put` to replace exactly this pair (refresh rotation). */
  version: number;
  updatedAt: number;
}

/** The part of the credential store the connect and refresh use cases use. */
export interface CredentialVault {
  get(ref: AccountRef, network: Network): Promise<StoredCredentials | undefined>;
  /**
   * Seals and stores the credentials; with `expectedVersion`, only if the stored item still has it
   * (ConflictError otherwise). Returns the new version.
   */
  put(ref: AccountRef, network: Network, credentials: Credentials, expectedVersion?: number): Promise<number>;
}

/** An account's current access token (refreshed when due); what a platform adapter calls before a request. */
export type AccessTokenProvider = () => Promise<string>;
