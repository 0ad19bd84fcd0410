/**
 * How the console knows its operator. Two implementations: a one-time sign-in link on one machine
 * (local-auth.ts, `followback serve --local`) and Amazon Cognito's managed login with PKCE on AWS
 * (cognito-auth.ts). Either way the session lives in an HttpOnly, Secure, SameSite cookie and
 * carries a CSRF token that every state-changing request must send back.
 */
export interface ConsoleSession {
  /** The operator's email (or name), as the audit log records it. */
  user: string;
  /** The CSRF token of this session. */
  csrf: string;
}

export type SignInOutcome =
  | { ok: true; cookies: string[]; redirect: string }
  | { ok: false; status: number; message: string };

export interface ConsoleAuth {
  /** The session the request's cookies carry, if valid. */
  session(cookies: Readonly<Record<string, string>>): Promise<ConsoleSession | undefined>;
  /** Where an anonymous browser goes (Cognito's login), or undefined: a page says how to sign in. */
  loginRedirect(
    cookies: Readonly<Record<string, string>>,
  ): Promise<{ url: string; cookies: string[] } | undefined>;
  /** `GET /console/auth?…`: the one-time link, or Cognito's redirect back. */
  signIn(query: URLSearchParams, cookies: Readonly<Record<string, string>>): Promise<SignInOutcome>;
  /** Cookies that end the session (and where to go after). */
  signOut(cookies: Readonly<Record<string, string>>): Promise<{ cookies: string[]; redirect: string }>;
}

export interface CookieOptions {
  maxAgeSeconds?: number | undefined;
  sameSite?: 'Strict' | 'Lax' | undefined;
  path?: string | undefined;
}

/** `name=value; HttpOnly; Secure; SameSite=…; Path=/` (Secure also on loopback: browsers allow it there). */
export function cookie(name: string, value: string, options: CookieOptions = {}): string {
  const parts = [
    `${name}=${value}`,
    'HttpOnly',
    'Secure',
    `SameSite=${options.sameSite ?? 'Strict'}`,
    `Path=${options.path ?? '/'}`,
  ];
  if (options.maxAgeSeconds !== undefined)
    parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`);
  return parts.join('; ');
}

export function clearCookie(name: string, options: CookieOptions = {}): string {
  return cookie(name, '', { ...options, maxAgeSeconds: 0 });
}

export function parseCookies(header: string | readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const text = Array.isArray(header) ? header.join('; ') : ((header as string | undefined) ?? '');
  for (const part of text.split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    if (name === '' || name in out) continue;
    out[name] = part.slice(index + 1).trim();
  }
  return out;
}
