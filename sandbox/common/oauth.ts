/**
 * OAuth 2.0 pieces the X and Mastodon sandboxes share: PKCE (RFC 7636), single-use authorization
 * codes bound to a client, a redirect URI and a challenge, the consent step (who approves an
 * authorize request, the sandbox being no browser) and how the OAuth endpoints answer.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Clock } from '../../shared/ports/clock.ts';
import type { SandboxStats } from '../stats.ts';
import type { World, WorldUser } from '../world.ts';
import { JSON_TYPE, writeText } from './http.ts';

/** The query parameter that consents (a user id or @handle) or refuses (`deny`) without a page. */
export const SANDBOX_CONSENT_PARAM = 'sandbox_consent';

export type PkceMethod = 'S256' | 'plain';

/** A code verifier or challenge: 43 to 128 unreserved characters (RFC 7636 4.1, 4.2). */
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;

export function challengeOf(verifier: string, method: PkceMethod): string {
  return method === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
}

/** Whether an authorize request's `code_challenge` is well formed. */
export function isPkceChallenge(challenge: string): boolean {
  return PKCE_VALUE.test(challenge);
}

/** Whether a token request's `code_verifier` is well formed and yields `challenge` by `method`. */
export function verifierMatches(verifier: string, method: PkceMethod, challenge: string): boolean {
  return PKCE_VALUE.test(verifier) && challengeOf(verifier, method) === challenge;
}

/** What an authorization code stands for. */
export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  /** The PKCE challenge, or undefined when the request had none (then no verifier is checked). */
  challenge: string | undefined;
  method: PkceMethod;
  scopes: string[];
  userId: string;
}

export interface CodeRecord extends CodeGrant {
  expiresAt: number;
  used: boolean;
  /** The grant the code was exchanged for (X voids it if the code comes back). */
  grantId?: string;
}

/** Why a code was not redeemed, or the record it redeemed (now used). */
export type Redemption =
  | { outcome: 'redeemed'; record: CodeRecord }
  | { outcome: 'reused'; record: CodeRecord }
  | { outcome: 'unknown' | 'expired' | 'redirect_uri' | 'verifier' };

/** Single-use authorization codes that live `lifetimeMs` on the injected clock. */
export class AuthorizationCodes {
  readonly #codes = new Map<string, CodeRecord>();

  constructor(
    readonly clock: Clock,
    readonly lifetimeMs: number,
    readonly mint: () => string,
  ) {}

  /** A new code for `grant`. */
  issue(grant: CodeGrant): string {
    const code = this.mint();
    this.#codes.set(code, {
      ...grant,
      scopes: [...new Set(grant.scopes)],
      expiresAt: this.clock.now() + this.lifetimeMs,
      used: false,
    });
    return code;
  }

  /**
   * Checks, in order: the code was issued to `clientId` (`unknown`), not used before (`reused`), not
   * expired (`expired`, and forgotten), for the same redirect URI (`redirect_uri`), and the verifier
   * matches its challenge (`verifier`); then marks it used.
   */
  redeem(code: string, clientId: string, redirectUri: string, verifier: string): Redemption {
    const record = this.#codes.get(code);
    if (record === undefined || record.clientId !== clientId) return { outcome: 'unknown' };
    if (record.used) return { outcome: 'reused', record };
    if (record.expiresAt <= this.clock.now()) {
      this.#codes.delete(code);
      return { outcome: 'expired' };
    }
    if (redirectUri !== record.redirectUri) return { outcome: 'redirect_uri' };
    if (record.challenge !== undefined && !verifierMatches(verifier, record.method, record.challenge)) {
      return { outcome: 'verifier' };
    }
    record.used = true;
    return { outcome: 'redeemed', record };
  }
}

/** An OAuth endpoint's answer: a body (a string is an HTML page) or a redirect. */
export type OAuthReply = { status: number; body: unknown } | { redirect: string };

/** Who answers an authorize request: the consent parameter, else the configured user (undefined: ask). */
export function consentOf(query: URLSearchParams, configured: string | undefined): string | undefined {
  return query.get(SANDBOX_CONSENT_PARAM) ?? configured;
}

/** Redirects back to the client with `params` and the request's `state`. */
export function redirectBack(
  redirectUri: string,
  state: string | null,
  params: Record<string, string>,
): { redirect: string } {
  const target = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
  if (state !== null) target.searchParams.set('state', state);
  return { redirect: target.toString() };
}

/**
 * The page shown when nobody consents yet: the world's owners, each a link that consents as that
 * owner (so a person with a real browser can click through it), and a link that refuses.
 */
export function consentPage(options: {
  world: World;
  url: URL;
  title: string;
  /** HTML, escaped by the caller. */
  intro: string;
  username: (user: WorldUser) => string;
  refuse: string;
}): string {
  const { world, url } = options;
  const hrefWith = (value: string) => {
    const link = new URL(url.toString());
    link.searchParams.set(SANDBOX_CONSENT_PARAM, value);
    return escapeHtml(link.pathname + link.search);
  };
  const choices = world
    .ownerIds()
    .map((id) => world.user(id))
    .filter((user): user is WorldUser => user !== undefined)
    .map(
      (user) =>
        `<li><a href="${hrefWith(user.id)}">Authorize as @${escapeHtml(options.username(user))}</a></li>`,
    );
  return page(
    options.title,
    `<p>${options.intro}</p>` +
      `<ul>${choices.join('')}</ul>` +
      `<p><a href="${hrefWith('deny')}">${escapeHtml(options.refuse)}</a></p>`,
  );
}

/** Answers `reply` (never cached; `headers` added) and counts it in `stats` under `endpoint`. */
export function sendOAuthReply(
  res: ServerResponse,
  stats: SandboxStats,
  endpoint: string,
  reply: OAuthReply,
  headers: Record<string, string> = {},
): void {
  if ('redirect' in reply) {
    res.writeHead(302, { location: reply.redirect, 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
    stats.record(endpoint, { status: 302 });
    return;
  }
  const html = typeof reply.body === 'string';
  const text = html ? (reply.body as string) : JSON.stringify(reply.body);
  const type = html ? 'text/html; charset=utf-8' : JSON_TYPE;
  writeText(res, reply.status, { 'cache-control': 'no-store', ...headers }, type, text);
  stats.record(endpoint, { status: reply.status });
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** A small HTML page; a `body` that does not start with a tag is one escaped paragraph. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body.startsWith('<') ? body : `<p>${escapeHtml(body)}</p>`}</body></html>`;
}
