/**
 * Sessions of the Bluesky sandbox, as a PDS issues them for an app password: an access JWT (2 hours)
 * and a refresh JWT (90 days), HMAC-signed with a key derived from the world seed, so tokens stay
 * valid across restarts of a persisted local world. Refreshing rotates the pair, and the used refresh
 * token keeps working for 2 hours (as the reference PDS was seen to allow). Revoking an app password
 * ends its refresh tokens, while an access token already issued works until it expires.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { defined } from '../../shared/domain/invariant.ts';
import type { Clock } from '../../shared/ports/clock.ts';

export type TokenScope = 'com.atproto.appPass' | 'com.atproto.refresh';

export interface SessionTokens {
  accessJwt: string;
  refreshJwt: string;
}

export type Verified =
  | { ok: true; did: string; jti: string; scope: TokenScope }
  | { ok: false; error: 'ExpiredToken' | 'InvalidToken' };

interface Claims {
  scope: TokenScope;
  sub: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
}

export interface SessionOptions {
  accessTtlMs?: number;
  refreshTtlMs?: number;
  /** How long a used refresh token still works (a retried refresh after a lost answer). */
  refreshGraceMs?: number;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export class SessionIssuer {
  readonly #key: Buffer;
  readonly #clock: Clock;
  readonly accessTtlMs: number;
  readonly refreshTtlMs: number;
  readonly #graceMs: number;
  /** Refresh token ids already used, with the time of first use. */
  readonly #used = new Map<string, number>();
  readonly #revokedBefore = new Map<string, number>();
  readonly #refreshRevokedBefore = new Map<string, number>();
  #issued = 0;

  constructor(seed: number, clock: Clock, options: SessionOptions = {}) {
    this.#key = createHash('sha256').update(`bluesky-sandbox|${seed}`).digest();
    this.#clock = clock;
    this.accessTtlMs = options.accessTtlMs ?? 2 * 3_600_000;
    this.refreshTtlMs = options.refreshTtlMs ?? 90 * 86_400_000;
    this.#graceMs = options.refreshGraceMs ?? 2 * 3_600_000;
  }

  issue(did: string): SessionTokens {
    const n = ++this.#issued;
    const now = this.#clock.now();
    const jti = createHash('sha256').update(`${did}|${now}|${n}`).digest('base64url').slice(0, 22);
    return {
      accessJwt: this.#sign('at+jwt', {
        scope: 'com.atproto.appPass',
        sub: did,
        aud: 'did:web:sandbox.bsky.invalid',
        iat: Math.floor(now / 1000),
        exp: Math.floor((now + this.accessTtlMs) / 1000),
        jti: `${jti}a`,
      }),
      refreshJwt: this.#sign('refresh+jwt', {
        scope: 'com.atproto.refresh',
        sub: did,
        aud: 'did:web:sandbox.bsky.invalid',
        iat: Math.floor(now / 1000),
        exp: Math.floor((now + this.refreshTtlMs) / 1000),
        jti: `${jti}r`,
      }),
    };
  }

  verify(token: string, scope: TokenScope): Verified {
    const parts = token.split('.');
    const [header, body, signature] = parts;
    if (parts.length !== 3 || body === undefined || signature === undefined)
      return { ok: false, error: 'InvalidToken' };
    const expected = createHmac('sha256', this.#key).update(`${header}.${body}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, error: 'InvalidToken' };
    }
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Claims;
    } catch {
      return { ok: false, error: 'InvalidToken' };
    }
    if (claims.scope !== scope) return { ok: false, error: 'InvalidToken' };
    const now = this.#clock.now();
    if (claims.exp * 1000 <= now) return { ok: false, error: 'ExpiredToken' };
    const revokedBefore = this.#revokedBefore.get(claims.sub);
    if (revokedBefore !== undefined && claims.iat * 1000 < revokedBefore) {
      return { ok: false, error: 'ExpiredToken' };
    }
    const refreshRevoked = this.#refreshRevokedBefore.get(claims.sub);
    if (
      scope === 'com.atproto.refresh' &&
      refreshRevoked !== undefined &&
      claims.iat * 1000 < refreshRevoked
    ) {
      return { ok: false, error: 'ExpiredToken' };
    }
    if (scope === 'com.atproto.refresh') {
      const usedAt = this.#used.get(claims.jti);
      if (usedAt !== undefined && now - usedAt > this.#graceMs) return { ok: false, error: 'ExpiredToken' };
    }
    return { ok: true, did: claims.sub, jti: claims.jti, scope };
  }

  /** Marks a refresh token used: it keeps working for the grace period only. */
  useRefresh(jti: string): void {
    if (!this.#used.has(jti)) this.#used.set(jti, this.#clock.now());
  }

  /** Refresh tokens of `did` issued before now stop working; access tokens run out as they would. */
  revokeRefresh(did: string): void {
    this.#refreshRevokedBefore.set(did, this.#clock.now() + 1000);
  }

  /** Every token of `did` issued before now stops working (the account signed out everywhere). */
  revokeAll(did: string): void {
    this.#revokedBefore.set(did, this.#clock.now() + 1000);
  }

  #sign(typ: string, claims: Claims): string {
    const head = b64url(JSON.stringify({ typ, alg: 'HS256' }));
    const body = b64url(JSON.stringify(claims));
    const sig = createHmac('sha256', this.#key).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${sig}`;
  }
}

/** The app password the sandbox accepts for a DID: deterministic from the seed (xxxx-xxxx-xxxx-xxxx). */
export function appPasswordFor(seed: number, did: string): string {
  const hex = createHash('sha256').update(`app-password|${seed}|${did}`).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  for (let i = 0; i < 16; i++) {
    if (i > 0 && i % 4 === 0) out += '-';
    out += alphabet.charAt(defined(hex[i], 'a byte of the digest') & 31);
  }
  return out;
}
