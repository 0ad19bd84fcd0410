/**
 * Client invites: a signed, expiring, single-use link an operator gives a client so the client can
 * connect an account from their own browser.
 *
 * The link carries `base64url(JSON payload) . base64url(HMAC-SHA256)`, signed with the deployment's
 * approval keys under a label of its own (`followback-invite-v1`), so an approval token is never an
 * invite and an invite never an approval token. The payload names the client (the tenant), the
 * invite id (the stored record that makes it single use) and, optionally, the one network it is
 * for. Verifying never throws on bad input and never acts: it says ok, or why not.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApprovalKeys } from '../approval/token.ts';
import type { Network } from '../network.ts';

export const INVITE_TOKEN_VERSION = 1;
const LABEL = 'followback-invite-v1';
export const MAX_INVITE_TOKEN_LENGTH = 2048;
/** An invite lives a week by default. */
export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const NETWORKS: readonly Network[] = ['x', 'bluesky', 'mastodon'];

export interface InviteTokenPayload {
  v: typeof INVITE_TOKEN_VERSION;
  clientId: string;
  inviteId: string;
  network?: Network | undefined;
  expiresAt: number;
}

/** Why an invite does nothing. */
export type InviteRefusal =
  | 'malformed'
  | 'tampered'
  | 'expired'
  | 'wrong_tenant'
  | 'spent'
  | 'unknown'
  | 'revoked';

export type VerifyInviteResult =
  | { ok: true; payload: InviteTokenPayload }
  | { ok: false; reason: InviteRefusal };

/** The invite as stored: the record that makes it single use and carries a waiting OAuth grant. */
export interface InviteRecord {
  inviteId: string;
  clientId: string;
  network?: Network | undefined;
  createdAt: number;
  expiresAt: number;
  /** Who made it (`console:<email>`, `cli`). */
  createdBy: string;
  status: 'open' | 'spent' | 'revoked';
  spentAt?: number | undefined;
  /** The account it connected. */
  accountId?: string | undefined;
  handle?: string | undefined;
  /**
   * An OAuth authorization started from the invite page and not finished yet: the `state` sent to the
   * network (the redirect must bring it back) and the sealed secrets (PKCE verifier, a Mastodon app's
   * secret) needed to finish it. A new start replaces it.
   */
  pending?: PendingGrant | undefined;
}

export interface PendingGrant {
  network: 'x' | 'mastodon';
  state: string;
  startedAt: number;
  /** base64 of the vault's ciphertext of the grant's secrets. */
  sealed: string;
}

/** A pending grant is good for 15 minutes. */
export const PENDING_GRANT_TTL_MS = 15 * 60 * 1000;

export function newInviteId(): string {
  return randomBytes(12).toString('base64url');
}

function keyList(keys: ApprovalKeys): Uint8Array[] {
  const list = Array.isArray(keys) ? keys : [keys];
  return (list as Array<string | Uint8Array>).map((k) =>
    typeof k === 'string' ? Buffer.from(k, 'utf8') : k,
  );
}

function mac(key: Uint8Array, body: string): Buffer {
  return createHmac('sha256', key).update(`${LABEL}.${body}`, 'utf8').digest();
}

export function signInviteToken(keys: ApprovalKeys, payload: Omit<InviteTokenPayload, 'v'>): string {
  const first = keyList(keys)[0];
  if (first === undefined) throw new Error('no signing key');
  const body = Buffer.from(
    JSON.stringify({
      v: INVITE_TOKEN_VERSION,
      clientId: payload.clientId,
      inviteId: payload.inviteId,
      ...(payload.network === undefined ? {} : { network: payload.network }),
      expiresAt: payload.expiresAt,
    }),
    'utf8',
  ).toString('base64url');
  return `${body}.${mac(first, body).toString('base64url')}`;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function verifyInviteToken(
  keys: ApprovalKeys,
  token: string,
  expected: { clientId: string; now: number },
): VerifyInviteResult {
  if (typeof token !== 'string' || token.length > MAX_INVITE_TOKEN_LENGTH)
    return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return { ok: false, reason: 'malformed' };
  const [body, signature] = parts as [string, string];
  const given = Buffer.from(signature, 'base64url');
  const valid = keyList(keys).some((key) => {
    const want = mac(key, body);
    return want.length === given.length && timingSafeEqual(want, given);
  });
  if (!valid) return { ok: false, reason: 'tampered' };
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const p = payload as Partial<InviteTokenPayload>;
  if (
    p.v !== INVITE_TOKEN_VERSION ||
    typeof p.clientId !== 'string' ||
    typeof p.inviteId !== 'string' ||
    !ID.test(p.inviteId) ||
    typeof p.expiresAt !== 'number' ||
    (p.network !== undefined && !NETWORKS.includes(p.network))
  ) {
    return { ok: false, reason: 'malformed' };
  }
  if (p.clientId !== expected.clientId) return { ok: false, reason: 'wrong_tenant' };
  if (expected.now >= p.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, payload: p as InviteTokenPayload };
}

/** Whether a stored invite may still connect an account at `now`. */
export function inviteUsable(record: InviteRecord | undefined, now: number): InviteRefusal | undefined {
  if (record === undefined) return 'unknown';
  if (record.status === 'spent') return 'spent';
  if (record.status === 'revoked') return 'revoked';
  if (now >= record.expiresAt) return 'expired';
  return undefined;
}

/** What the client is told, per refusal: nothing was changed, and what to do. */
export function inviteRefusalText(reason: InviteRefusal): { title: string; message: string; status: number } {
  switch (reason) {
    case 'spent':
      return {
        title: 'This invite was already used',
        message:
          'An account was connected with it, and an invite works once. Ask your agency for a new one if you want to connect another account.',
        status: 410,
      };
    case 'expired':
      return {
        title: 'This invite has expired',
        message: 'Ask your agency for a new invite. Nothing was changed.',
        status: 410,
      };
    case 'revoked':
      return {
        title: 'This invite was withdrawn',
        message: 'Ask your agency for a new invite. Nothing was changed.',
        status: 410,
      };
    case 'wrong_tenant':
      return {
        title: 'This invite is not for this address',
        message: 'The link was changed or mixed up with another. Nothing was changed.',
        status: 403,
      };
    case 'tampered':
    case 'malformed':
      return {
        title: 'This invite link is not valid',
        message:
          'It may have been cut short or altered. Open the link exactly as you got it. Nothing was changed.',
        status: 400,
      };
    default:
      return {
        title: 'This invite is not known',
        message: 'Ask your agency for a new invite. Nothing was changed.',
        status: 404,
      };
  }
}
