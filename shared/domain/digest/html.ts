/**
 * Safe-output helpers shared by the digest email, the roll-up and the approval page.
 *
 * Everything a stranger on a social network can set (name, handle, bio, avatar URL) passes through
 * here before it is shown: stripped of control and bidi-override characters (which can make a name
 * read backwards or fake a line), cut to a sane length, and URLs kept only when http(s). Escaping
 * for HTML is not done here but by the `html` template (shared/presentation/html.ts), which escapes
 * every value put into it.
 */

import { cleanText } from '../text.ts';

export { cleanText };

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Returns the normalised URL when it is http(s) (and has no credentials), otherwise undefined.
 * With `httpsOnly`, plain http is accepted only for loopback hosts (the local demo).
 */
export function safeHttpUrl(
  value: string | undefined | null,
  options: { httpsOnly?: boolean } = {},
): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.username !== '' || url.password !== '') return undefined;
  if (url.protocol === 'https:') return url.href;
  if (url.protocol === 'http:' && (!options.httpsOnly || LOOPBACK_HOSTS.has(url.hostname))) return url.href;
  return undefined;
}

/** An avatar may be shown only from an https URL: never a data:, javascript: or plain-http one. */
export function safeAvatarUrl(value: string | undefined | null): string | undefined {
  const url = safeHttpUrl(value);
  return url?.startsWith('https:') ? url : undefined;
}
