/**
 * Branding as every page and mail shows it: the agency's name (per deployment) and, per client, a
 * display name, an accent colour and an optional logo. Only validated values get through: the
 * accent is `#rrggbb` (it goes into style sheets and style attributes), the logo an https URL with
 * no credentials, quotes, spaces or angle brackets (it goes into `src`). Anything else is dropped and
 * the defaults show, so a stored value can never become markup, a script URL or a CSS injection.
 */

export const DEFAULT_ACCENT = '#1d4fbf';
const HEX = /^#[0-9a-fA-F]{6}$/;
export const MAX_LOGO_URL_LENGTH = 2048;

export interface ClientBrand {
  /** The name shown (the client's display name, else its name). */
  name: string;
  accent?: string | undefined;
  logoUrl?: string | undefined;
}

/** `#rrggbb` in lower case, or undefined. */
export function safeAccent(value: string | undefined | null): string | undefined {
  if (typeof value !== 'string' || !HEX.test(value.trim())) return undefined;
  return value.trim().toLowerCase();
}

/** The URL as an https href, or undefined (javascript:, data:, http:, credentials, odd characters…). */
export function safeLogoUrl(value: string | undefined | null): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text.length === 0 || text.length > MAX_LOGO_URL_LENGTH) return undefined;
  // Nothing that could close an attribute or a url() or hide in whitespace, even before parsing.
  if (/[\s"'<>`\\()\p{Cc}]/u.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.hostname === '') {
    return undefined;
  }
  return url.href.length > MAX_LOGO_URL_LENGTH ? undefined : url.href;
}

/** The logo's origin (`https://host[:port]`), for a CSP source. */
export function logoOrigin(logoUrl: string | undefined): string | undefined {
  const safe = safeLogoUrl(logoUrl);
  return safe === undefined ? undefined : new URL(safe).origin;
}

function channel(c: number): number {
  const s = c / 255;
  return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

function luminance(hex: string): number {
  const n = Number.parseInt(hex.slice(1), 16);
  return 0.2126 * channel((n >> 16) & 255) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255);
}

/** White or near-black text on the accent, whichever contrasts more (WCAG relative luminance). */
export function accentTextColour(accent: string): '#ffffff' | '#111827' {
  const l = luminance(safeAccent(accent) ?? DEFAULT_ACCENT);
  const onWhite = 1.05 / (l + 0.05);
  const onDark = (l + 0.05) / (luminance('#111827') + 0.05);
  return onWhite >= onDark ? '#ffffff' : '#111827';
}
