/**
 * The console's sign-in on one machine: `followback serve --local` prints a one-time link
 * (`/console/auth?code=…`, good for 15 minutes, used once) that opens a session in memory. The
 * session id and its CSRF token are random; the cookie is HttpOnly, Secure (browsers accept it on
 * loopback), SameSite=Strict, and lasts 12 hours.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../ports/clock.ts';
import { type ConsoleAuth, type ConsoleSession, clearCookie, cookie } from './auth.ts';

export const LOCAL_SESSION_COOKIE = 'fb_console';
const CODE_TTL_MS = 15 * 60_000;
const SESSION_TTL_MS = 12 * 3_600_000;

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

export class LocalConsoleAuth implements ConsoleAuth {
  readonly #clock: Clock;
  readonly #user: string;
  /** sha256(code) -> expiry */
  readonly #codes = new Map<string, number>();
  /** sha256(session id) -> session */
  readonly #sessions = new Map<string, ConsoleSession & { until: number }>();

  constructor(options: { clock: Clock; user?: string | undefined }) {
    this.#clock = options.clock;
    this.#user = options.user ?? 'operator@localhost';
  }

  /** A new one-time sign-in path (`/console/auth?code=…`). */
  issueSignInPath(): string {
    const code = randomBytes(24).toString('base64url');
    this.#codes.set(digest(code), this.#clock.now() + CODE_TTL_MS);
    return `/console/auth?code=${code}`;
  }

  async session(cookies: Readonly<Record<string, string>>): Promise<ConsoleSession | undefined> {
    const id = cookies[LOCAL_SESSION_COOKIE];
    if (id === undefined || id.length > 200) return undefined;
    const found = this.#sessions.get(digest(id));
    if (found === undefined || found.until <= this.#clock.now()) return undefined;
    return { user: found.user, csrf: found.csrf };
  }

  async loginRedirect(): Promise<undefined> {
    return undefined;
  }

  async signIn(query: URLSearchParams): Promise<Awaited<ReturnType<ConsoleAuth['signIn']>>> {
    const code = query.get('code') ?? '';
    const key = digest(code);
    const until = this.#codes.get(key);
    // A code opens one session: it is deleted whether it was still good or not.
    this.#codes.delete(key);
    if (code === '' || until === undefined || until <= this.#clock.now()) {
      return {
        ok: false,
        status: 403,
        message:
          'This sign-in link was used already or has expired. Run `followback serve --local` again for a new one.',
      };
    }
    const id = randomBytes(24).toString('base64url');
    this.#sessions.set(digest(id), {
      user: this.#user,
      csrf: randomBytes(24).toString('base64url'),
      until: this.#clock.now() + SESSION_TTL_MS,
    });
    return {
      ok: true,
      cookies: [cookie(LOCAL_SESSION_COOKIE, id, { maxAgeSeconds: SESSION_TTL_MS / 1000 })],
      redirect: '/console',
    };
  }

  async signOut(cookies: Readonly<Record<string, string>>): Promise<{ cookies: string[]; redirect: string }> {
    const id = cookies[LOCAL_SESSION_COOKIE];
    if (id !== undefined) this.#sessions.delete(digest(id));
    return { cookies: [clearCookie(LOCAL_SESSION_COOKIE)], redirect: '/console' };
  }
}

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
