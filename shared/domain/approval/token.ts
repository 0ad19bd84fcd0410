/**
 * Signed approval tokens for links in the digest: `base64url(JSON payload) . base64url(HMAC-SHA256)`.
 *
 * A token is bound to a client (the tenant) and, except for client-wide uses such as unsubscribe,
 * to one account; it names what it may act on (one candidate, a batch, or an unsubscribe), it
 * expires, and it carries a random `tokenId` so the store can make it single-use with one
 * conditional write. Verifying never throws on bad input and never acts: it says ok, or why not.
 *
 * Key rotation: pass several keys; the first signs, any verifies. Keys are secrets of at least
 * 32 bytes (a string is taken as its UTF-8 bytes; `generateApprovalKey` makes a good one).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError, ValidationError } from '../errors.ts';

export const APPROVAL_TOKEN_VERSION = 1;
/** Longest token accepted (anything longer is malformed, and not worth hashing). */
export const MAX_TOKEN_LENGTH = 4096;
export const MIN_KEY_BYTES = 32;
/** Approval links live a little longer than the week until the next digest. */
export const APPROVAL_TOKEN_TTL_MS = 8 * 24 * 60 * 60 * 1000;
/** Unsubscribe links must keep working in old mail (RFC 8058 asks for lasting links). */
export const UNSUBSCRIBE_TOKEN_TTL_MS = 180 * 24 * 60 * 60 * 1000;

export type ApprovalScope = 'candidate' | 'batch' | 'unsubscribe';
const SCOPES: ReadonlySet<string> = new Set<ApprovalScope>(['candidate', 'batch', 'unsubscribe']);

export interface ApprovalTokenPayload {
  v: typeof APPROVAL_TOKEN_VERSION;
  clientId: string;
  /** The account the token acts on; absent for client-wide tokens (unsubscribe). */
  accountId?: string;
  scope: ApprovalScope;
  /** Candidate ids (platform user ids) the token covers: one for `candidate`, several for a small batch. */
  targetIds?: string[];
  /** A stored batch (for large batches, instead of listing targetIds in the URL). */
  batchId?: string;
  /** Random; the store marks it used with a conditional write (single use). */
  tokenId: string;
  /** Epoch ms. */
  issuedAt: number;
  /** Epoch ms; the token is refused from this instant on. */
  expiresAt: number;
}

export type ApprovalKey = string | Uint8Array;
export type ApprovalKeys = ApprovalKey | readonly ApprovalKey[];

export interface SignApprovalTokenInput {
  clientId: string;
  accountId?: string | undefined;
  scope: ApprovalScope;
  targetIds?: readonly string[] | undefined;
  batchId?: string | undefined;
  issuedAt: number;
  expiresAt: number;
  /** Normally left out (16 random bytes); tests may pin it. */
  tokenId?: string | undefined;
}

export type ApprovalRefusal = 'expired' | 'tampered' | 'malformed' | 'wrong_tenant' | 'wrong_scope';

export type VerifyApprovalResult =
  | { ok: true; status: 'ok'; payload: ApprovalTokenPayload }
  | { ok: false; status: ApprovalRefusal };

export interface ExpectedToken {
  /** The tenant the request is for; a token of another client is `wrong_tenant`. */
  clientId?: string | undefined;
  /** The account the request is for; a token bound to another account is `wrong_tenant`. */
  accountId?: string | undefined;
  /** Scopes the endpoint accepts; another scope is `wrong_scope`. */
  scope?: ApprovalScope | readonly ApprovalScope[] | undefined;
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const MAX_ID_LENGTH = 256;
const MAX_TARGETS = 1000;

/** 32 random bytes as base64url: a fresh signing key. */
export function generateApprovalKey(): string {
  return randomBytes(32).toString('base64url');
}

/** The keys as bytes, the signing key first. */
function keyList(keys: ApprovalKeys): [Buffer, ...Buffer[]] {
  const list = typeof keys === 'string' || keys instanceof Uint8Array ? [keys] : [...keys];
  const [first, ...rest] = list.map((k, i) => {
    const bytes = typeof k === 'string' ? Buffer.from(k, 'utf8') : Buffer.from(k);
    if (bytes.length < MIN_KEY_BYTES) {
      throw new ConfigError(`approval keys[${i}]: a key needs at least ${MIN_KEY_BYTES} bytes`);
    }
    return bytes;
  });
  if (first === undefined) throw new ConfigError('approval keys: at least one key is needed');
  return [first, ...rest];
}

function mac(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body, 'ascii').digest('base64url');
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Signs a token. Throws ValidationError on a bad input (a programming error), ConfigError on bad keys. */
export function signApprovalToken(
  input: SignApprovalTokenInput,
  keys: ApprovalKeys,
): { token: string; payload: ApprovalTokenPayload } {
  const fail = (field: string, why: string): never => {
    throw new ValidationError(`approval token ${field}: ${why}`, { details: { field } });
  };
  if (!isId(input.clientId)) fail('clientId', 'must be a non-empty string');
  if (input.accountId !== undefined && !isId(input.accountId))
    fail('accountId', 'must be a non-empty string');
  if (!SCOPES.has(input.scope)) fail('scope', 'must be candidate, batch or unsubscribe');
  if (!isTime(input.issuedAt)) fail('issuedAt', 'must be epoch ms');
  if (!isTime(input.expiresAt) || input.expiresAt <= input.issuedAt)
    fail('expiresAt', 'must be after issuedAt');
  const targets = input.targetIds === undefined ? undefined : [...new Set(input.targetIds)];
  if (targets !== undefined && (targets.length > MAX_TARGETS || !targets.every(isId))) {
    fail('targetIds', `must be at most ${MAX_TARGETS} non-empty ids`);
  }
  if (input.batchId !== undefined && !isId(input.batchId)) fail('batchId', 'must be a non-empty string');
  if (input.scope !== 'unsubscribe' && input.accountId === undefined)
    fail('accountId', 'is required for approvals');
  if (input.scope === 'candidate' && targets?.length !== 1)
    fail('targetIds', 'a candidate token names exactly one');
  if (input.scope === 'batch' && (targets?.length ?? 0) === 0 && input.batchId === undefined) {
    fail('targetIds', 'a batch token needs targetIds or a batchId');
  }
  const tokenId = input.tokenId ?? randomBytes(16).toString('base64url');
  if (!isId(tokenId) || tokenId.length < 16) fail('tokenId', 'must be at least 16 characters');

  const payload: ApprovalTokenPayload = {
    v: APPROVAL_TOKEN_VERSION,
    clientId: input.clientId,
    ...(input.accountId === undefined ? {} : { accountId: input.accountId }),
    scope: input.scope,
    ...(targets === undefined ? {} : { targetIds: targets }),
    ...(input.batchId === undefined ? {} : { batchId: input.batchId }),
    tokenId,
    issuedAt: input.issuedAt,
    expiresAt: input.expiresAt,
  };
  const [signingKey] = keyList(keys);
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  const token = `${body}.${mac(signingKey, body)}`;
  if (token.length > MAX_TOKEN_LENGTH) fail('targetIds', 'too many for one link: use a batchId');
  return { token, payload };
}

function parsePayload(body: string): ApprovalTokenPayload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const p = value as Record<string, unknown>;
  if (p.v !== APPROVAL_TOKEN_VERSION) return undefined;
  if (!isId(p.clientId) || !isId(p.tokenId)) return undefined;
  if (p.accountId !== undefined && !isId(p.accountId)) return undefined;
  if (typeof p.scope !== 'string' || !SCOPES.has(p.scope)) return undefined;
  if (p.targetIds !== undefined && !(Array.isArray(p.targetIds) && p.targetIds.every(isId))) return undefined;
  if (p.batchId !== undefined && !isId(p.batchId)) return undefined;
  if (!isTime(p.issuedAt) || !isTime(p.expiresAt)) return undefined;
  return {
    v: APPROVAL_TOKEN_VERSION,
    clientId: p.clientId,
    ...(p.accountId === undefined ? {} : { accountId: p.accountId as string }),
    scope: p.scope as ApprovalScope,
    ...(p.targetIds === undefined ? {} : { targetIds: [...(p.targetIds as string[])] }),
    ...(p.batchId === undefined ? {} : { batchId: p.batchId as string }),
    tokenId: p.tokenId,
    issuedAt: p.issuedAt,
    expiresAt: p.expiresAt,
  };
}

/**
 * Verifies a token at `now` (epoch ms). Order of checks: shape (`malformed`), signature against
 * every key in constant time (`tampered`), payload (`malformed`), tenant and account
 * (`wrong_tenant`), scope (`wrong_scope`), expiry (`expired`). Never throws on any `token` value;
 * throws ConfigError only when the keys themselves are unusable.
 *
 * This does not make the token single-use: the caller marks `payload.tokenId` used with a
 * conditional write, and only the POST that wins that write acts.
 */
export function verifyApprovalToken(
  token: unknown,
  keys: ApprovalKeys,
  now: number,
  expected: ExpectedToken = {},
): VerifyApprovalResult {
  const keyBytes = keyList(keys);
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    return { ok: false, status: 'malformed' };
  }
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, status: 'malformed' };
  const body = token.slice(0, dot);
  const signature = token.slice(dot + 1);
  if (!B64URL.test(body) || !B64URL.test(signature)) return { ok: false, status: 'malformed' };

  // Compare the canonical base64url text, not decoded bytes: base64 has several spellings of the
  // same last byte, and a flipped padding bit must not pass.
  const given = Buffer.from(signature, 'ascii');
  let signed = false;
  for (const key of keyBytes) {
    const wanted = Buffer.from(mac(key, body), 'ascii');
    if (wanted.length === given.length && timingSafeEqual(wanted, given)) signed = true;
  }
  if (!signed) return { ok: false, status: 'tampered' };

  const payload = parsePayload(body);
  if (payload === undefined) return { ok: false, status: 'malformed' };
  if (expected.clientId !== undefined && payload.clientId !== expected.clientId) {
    return { ok: false, status: 'wrong_tenant' };
  }
  if (
    expected.accountId !== undefined &&
    payload.accountId !== undefined &&
    payload.accountId !== expected.accountId
  ) {
    return { ok: false, status: 'wrong_tenant' };
  }
  if (expected.scope !== undefined) {
    const scopes: readonly ApprovalScope[] =
      typeof expected.scope === 'string' ? [expected.scope] : expected.scope;
    if (!scopes.includes(payload.scope)) return { ok: false, status: 'wrong_scope' };
  }
  if (!Number.isFinite(now) || now >= payload.expiresAt) return { ok: false, status: 'expired' };
  return { ok: true, status: 'ok', payload };
}

/**
 * The scope check, the one place that decides whom an approval token may act on: true when
 * `targetId` is the token's candidate or one of its listed batch. Everything that acts on a token
 * (the approval page's GET and POST) asks this for every id. A batchId-only token covers nobody
 * here: a caller that stores batches must resolve them itself. Unsubscribe tokens cover nobody.
 */
export function tokenCovers(payload: ApprovalTokenPayload, targetId: string): boolean {
  if (payload.scope !== 'candidate' && payload.scope !== 'batch') return false;
  return payload.targetIds?.includes(targetId) ?? false;
}
