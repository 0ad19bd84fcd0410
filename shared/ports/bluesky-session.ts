import type { PlatformUser } from '../domain/platform-user.ts';

/**
 * The Bluesky session port: logging in with an app password (com.atproto.server.createSession) and
 * reading who it is, for connecting an account (adapter: adapters/bluesky/bluesky-login.ts). A wrong
 * identifier or password is an AuthError; the password and the session never reach a log line or an
 * error.
 */

/** The service accounts live on unless they name their own PDS. */
export const BLUESKY_DEFAULT_SERVICE = 'https://bsky.social';

/** What to store to resume without logging in again (the refresh JWT rotates on every refresh). */
export interface BlueskySession {
  did: string;
  handle: string;
  accessJwt: string;
  refreshJwt: string;
}

/** Logs in on `service` and reads the owner's profile; returns the session to store. */
export type BlueskyLogin = (input: {
  service: string;
  identifier: string;
  password: string;
}) => Promise<{ session: BlueskySession; user: PlatformUser }>;
