/**
 * The approval web page and its siblings (refusal, result, unsubscribe), as HTML strings.
 *
 * The page works without JavaScript: one plain form per account that POSTs its token (hidden
 * field), the ticked candidates (`approve` checkboxes, value = target id) and the pressed button
 * (`action` = approve | skip). A tiny script only adds a "Select all" button. No external
 * resources except optional https avatars; no inline style attributes, so a strict
 * Content-Security-Policy (see approvalPageHeaders) holds. Everything shown is escaped: names and
 * bios come from strangers. The markup is written with `html` (shared/presentation/html.ts), which
 * escapes every interpolation; only the page's own stylesheet and script go in as `raw`.
 */
import { createHash } from 'node:crypto';
import type { ApprovalRefusal } from '../../domain/approval/token.ts';
import { accentTextColour, safeAccent, safeLogoUrl } from '../../domain/branding.ts';
import {
  DEFAULT_LOCALE,
  formatCount,
  formatCounted,
  formatDateTime,
  formatHandle,
  formatMonthYear,
  networkName,
  profileUrl,
} from '../../domain/digest/format.ts';
import { cleanText, safeAvatarUrl, safeHttpUrl } from '../../domain/digest/html.ts';
import { type ApprovalCandidate, spamSignalLabel } from '../../domain/digest/model.ts';
import type { Network } from '../../domain/network.ts';
import { html, joinHtml, raw, type SafeHtml } from '../html.ts';

export const APPROVAL_PAGE_STYLE = `
:root{color-scheme:light dark;--bg:#f5f6f8;--card:#fff;--text:#111827;--muted:#6b7280;--line:#e5e7eb;--accent:#1d4fbf;--accent-text:#fff;--warn-bg:#fef3c7;--warn:#92400e;--bad-bg:#fee2e2;--bad:#b91c1c;--ok:#047857}
@media (prefers-color-scheme:dark){:root{--bg:#0f1115;--card:#181b21;--text:#e5e7eb;--muted:#9ca3af;--line:#2a2f38;--accent:#6d96f5;--accent-text:#0f1115;--warn-bg:#3a2e12;--warn:#fcd34d;--bad-bg:#3b1717;--bad:#fca5a5;--ok:#6ee7b7}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px 16px 48px}
header{margin-bottom:20px}
.agency{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
h1{font-size:24px;margin:4px 0}
h2{font-size:17px;margin:0 0 12px;display:flex;align-items:center;gap:8px;flex-wrap:wrap}
p{margin:6px 0}
.muted{color:var(--muted);font-size:13px}
.accounts{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px;align-items:start}
.account{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px}
.net{display:inline-block;font-size:12px;font-weight:700;padding:2px 8px;border-radius:999px;background:var(--accent);color:var(--accent-text)}
.toolbar{display:flex;justify-content:space-between;align-items:center;margin-bottom:8px}
ul.cands{list-style:none;margin:0;padding:0}
li.cand{border-top:1px solid var(--line)}
li.cand label{display:grid;grid-template-columns:auto 40px 1fr;gap:10px;padding:12px 4px;cursor:pointer;align-items:start}
li.cand input[type=checkbox]{width:20px;height:20px;margin:10px 0 0;accent-color:var(--accent)}
.avatar{width:40px;height:40px;border-radius:50%;object-fit:cover;background:var(--line);display:flex;align-items:center;justify-content:center;font-weight:700;color:var(--muted);overflow:hidden}
.who{display:block;overflow-wrap:anywhere}
.name{font-weight:700}
.handle{color:var(--muted)}
.handle a{color:inherit;text-decoration:none}
.counts{display:block;font-size:13px;color:var(--muted)}
.bio{display:block;font-size:14px;margin-top:2px;overflow-wrap:anywhere}
.badges{display:block;margin-top:4px}
.badge{display:inline-block;font-size:12px;font-weight:700;padding:1px 7px;margin:2px 4px 0 0;border-radius:5px;background:var(--warn-bg);color:var(--warn)}
.actions{display:flex;gap:8px;flex-wrap:wrap;margin-top:12px;position:sticky;bottom:0;background:var(--card);padding:8px 0}
button{font:inherit;font-weight:700;border-radius:8px;padding:10px 18px;border:1px solid var(--accent);background:var(--card);color:var(--accent);cursor:pointer;min-height:44px}
button.primary{background:var(--accent);color:var(--accent-text)}
button.link{border:0;padding:4px 0;min-height:0;background:none;color:var(--accent);font-weight:600}
button:focus-visible,input:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.notice{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:24px;max-width:560px;margin:40px auto}
.notice h1{font-size:22px}
img.logo{display:block;height:40px;width:auto;max-width:200px;margin:0 0 8px}
.ok{color:var(--ok)}
.bad{color:var(--bad)}
@media (max-width:480px){main{padding:16px 10px 40px}.account{padding:12px}li.cand label{grid-template-columns:auto 32px 1fr}.avatar{width:32px;height:32px}}
`;

export const APPROVAL_PAGE_SCRIPT =
  "document.querySelectorAll('[data-select-all]').forEach(function(b){b.hidden=false;b.addEventListener('click',function(){var f=b.closest('form');var x=f.querySelectorAll('input[name=approve]');var all=Array.prototype.every.call(x,function(c){return c.checked});x.forEach(function(c){c.checked=!all});b.textContent=all?'Select all':'Select none'})});";

function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

const SCRIPT_HASH = cspHash(APPROVAL_PAGE_SCRIPT);

/** A client's branding on these pages: its accent colour and logo (validated here again). */
export interface PageBrand {
  accent?: string | undefined;
  logoUrl?: string | undefined;
}

/**
 * The stylesheet of a page: the base, with the client's accent (a validated `#rrggbb` and a text
 * colour that contrasts with it) in light and dark schemes. The CSP names this exact sheet's hash.
 */
export function approvalPageStyle(brand?: PageBrand): string {
  const accent = safeAccent(brand?.accent);
  if (accent === undefined) return APPROVAL_PAGE_STYLE;
  const vars = `:root{--accent:${accent};--accent-text:${accentTextColour(accent)}}`;
  return `${APPROVAL_PAGE_STYLE}${vars}\n@media (prefers-color-scheme:dark){${vars}}\n`;
}

/** The client's logo: an https image, no referrer (the token is in the page's URL), or nothing. */
function brandLogo(brand: PageBrand | undefined, name: string): SafeHtml {
  const logo = safeLogoUrl(brand?.logoUrl);
  return logo === undefined
    ? html``
    : html`<img class="logo" src="${logo}" alt="${cleanText(name, 100)}" referrerpolicy="no-referrer" data-brand-logo>`;
}

/**
 * Response headers for every page here: a strict CSP (only this module's style and script, https
 * avatars, form posts to `formAction`'s origin or 'self'), no referrer (the token is in the URL),
 * no caching, no framing.
 */
export function approvalPageHeaders(
  options: { formAction?: string | undefined; brand?: PageBrand | undefined } = {},
): Record<string, string> {
  const action = safeHttpUrl(options.formAction);
  const formAction = action === undefined ? "'self'" : `'self' ${new URL(action).origin}`;
  return {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': [
      "default-src 'none'",
      `style-src ${cspHash(approvalPageStyle(options.brand))}`,
      `script-src ${SCRIPT_HASH}`,
      'img-src https: data:',
      `form-action ${formAction}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'X-Robots-Tag': 'noindex, nofollow',
  };
}

function page(title: string, body: SafeHtml, withScript = false, brand?: PageBrand): string {
  // The stylesheet (constants and a validated #rrggbb accent) and the script are this module's own.
  const style = raw(approvalPageStyle(brand));
  const script = withScript ? html`\n<script>${raw(APPROVAL_PAGE_SCRIPT)}</script>` : '';
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${title}</title>
<style>${style}</style>
</head>
<body>
<main>
${body}
</main>${script}
</body>
</html>
`.toString();
}

// ---------------------------------------------------------------------------------------------
// The approval page

export interface ApprovalPageAccount {
  accountId: string;
  network: Network;
  handle: string;
  /** The token this account's form posts back (verified again, and consumed, on POST). */
  token: string;
  candidates: readonly ApprovalCandidate[];
  /**
   * Target ids ticked when the page opens (e.g. the one candidate of a candidate link).
   * Default: every candidate without spam signals.
   */
  selected?: readonly string[] | undefined;
}

export interface ApprovalPageInput {
  agencyName: string;
  clientName: string;
  timeZone: string;
  locale?: string | undefined;
  /** Where the forms POST. */
  actionUrl: string;
  /** One section (and one form) per account, side by side. */
  accounts: readonly ApprovalPageAccount[];
  /** When the links stop working, shown to the owner. */
  expiresAt?: number | undefined;
  /** The client's accent and logo (the client name above is its display name). */
  brand?: PageBrand | undefined;
}

function initial(name: string, handle: string): string {
  const text = cleanText(name, 10) || cleanText(handle.replace(/^@+/, ''), 10) || '?';
  const first = new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(text)[Symbol.iterator]().next();
  return first.done ? '?' : first.value.segment.toUpperCase();
}

function candidateItem(
  c: ApprovalCandidate,
  account: ApprovalPageAccount,
  formIndex: number,
  index: number,
  checked: boolean,
  timeZone: string,
  locale: string,
): SafeHtml {
  const u = c.user;
  const inputId = `c-${formIndex}-${index}`;
  const avatarUrl = safeAvatarUrl(u.avatarUrl);
  const name = cleanText(u.name, 100);
  const handle = cleanText(formatHandle(u.handle), 100);
  const link = profileUrl(account.network, u.handle);
  const avatar =
    avatarUrl === undefined
      ? html`<span class="avatar" aria-hidden="true">${initial(u.name, u.handle)}</span>`
      : html`<img class="avatar" src="${avatarUrl}" alt="${name === '' ? handle : name}" width="40" height="40" loading="lazy" referrerpolicy="no-referrer">`;
  const counts: string[] = [];
  if (u.followersCount !== undefined) counts.push(`${formatCounted(u.followersCount, 'follower', locale)}`);
  if (u.followingCount !== undefined) counts.push(`${formatCount(u.followingCount, locale)} following`);
  if (u.createdAt !== undefined) {
    counts.push(`joined ${formatMonthYear(u.createdAt, timeZone, locale)}`);
  }
  if (u.protected === true) counts.push('protected: the follow will be a request');
  const bio = cleanText(u.bio, 300);
  const badges = c.spamSignals.map(
    (s) => html`<span class="badge" data-signal="${s}">${spamSignalLabel(s)}</span>`,
  );
  const id = u.id;
  const profile =
    link === undefined
      ? handle
      : html`<a href="${link}" target="_blank" rel="noopener noreferrer">${handle}</a>`;
  return html`<li class="cand" data-target-id="${id}" data-spam="${String(c.spamSignals.length > 0)}"><label for="${inputId}"><input type="checkbox" id="${inputId}" name="approve" value="${id}" data-target-id="${id}"${checked ? raw(' checked') : ''}>${avatar}<span><span class="who"><span class="name">${name === '' ? handle : name}</span> <span class="handle">${profile}</span></span>${counts.length === 0 ? '' : html`<span class="counts">${counts.join(' · ')}</span>`}${bio === '' ? '' : html`<span class="bio">${bio}</span>`}${badges.length === 0 ? '' : html`<span class="badges">${badges}</span>`}</span></label></li>`;
}

function accountSection(
  account: ApprovalPageAccount,
  formIndex: number,
  input: ApprovalPageInput,
  actionUrl: string,
  locale: string,
): SafeHtml {
  const selected = account.selected === undefined ? undefined : new Set(account.selected);
  const title = html`<h2><span class="net">${networkName(account.network)}</span> ${cleanText(formatHandle(account.handle), 100)}</h2>`;
  const head = html`<section class="account" data-account-id="${account.accountId}" data-network="${account.network}">${title}`;
  if (account.candidates.length === 0) {
    return html`${head}<p class="muted" data-empty>Nothing is waiting for approval on this account.</p></section>`;
  }
  const items = account.candidates.map((c, i) =>
    candidateItem(
      c,
      account,
      formIndex,
      i,
      selected === undefined ? c.spamSignals.length === 0 : selected.has(c.user.id),
      input.timeZone,
      locale,
    ),
  );
  const n = account.candidates.length;
  return html`${head}<form method="post" action="${actionUrl}" id="form-${formIndex}" data-account-id="${account.accountId}"><input type="hidden" name="token" value="${account.token}"><div class="toolbar"><span class="muted">${formatCount(n, locale)} waiting</span><button type="button" class="link" data-select-all hidden>Select all</button></div><ul class="cands">${joinHtml(items, '\n')}</ul><div class="actions"><button type="submit" name="action" value="approve" class="primary" data-action="approve">Approve selected</button><button type="submit" name="action" value="skip" data-action="skip">Skip selected</button></div></form></section>`;
}

/** The approval page: every account of the client side by side, each with its own form and token. */
export function renderApprovalPage(input: ApprovalPageInput): string {
  const locale = input.locale ?? DEFAULT_LOCALE;
  const actionUrl = safeHttpUrl(input.actionUrl) ?? '';
  const total = input.accounts.reduce((s, a) => s + a.candidates.length, 0);
  const expires =
    input.expiresAt === undefined
      ? ''
      : html` This page works until ${formatDateTime(input.expiresAt, input.timeZone, locale)} (${input.timeZone}).`;
  const sections = input.accounts.map((a, i) => accountSection(a, i, input, actionUrl, locale));
  const body = html`<header>${brandLogo(input.brand, input.clientName)}<div class="agency">${cleanText(input.agencyName, 100)}</div><h1>Follow-backs waiting for approval</h1><p>For ${cleanText(input.clientName, 100)}: ${formatCount(total, locale)} waiting. Tick the people to follow back, then approve; or tick and skip the ones you do not want. Approved follow-backs are made later, at an unhurried pace.${expires}</p></header><div class="accounts">${joinHtml(sections, '\n')}</div>`;
  return page(`Approve follow-backs: ${cleanText(input.clientName, 100)}`, body, true, input.brand);
}

// ---------------------------------------------------------------------------------------------
// Refusals, results, unsubscribe

/** Why a link was refused; `used` and `not_found` come from the store, the rest from verify. */
export type RefusalReason = ApprovalRefusal | 'used' | 'not_found';

/**
 * Three messages only: used, expired, and "not valid" for everything else (tampered, malformed,
 * another tenant's, wrong scope, unknown), so a refusal tells an attacker nothing.
 */
export function refusalKind(reason: RefusalReason): 'used' | 'expired' | 'invalid' {
  return reason === 'used' ? 'used' : reason === 'expired' ? 'expired' : 'invalid';
}

/** HTTP status for a refusal: 410 Gone for used or expired links, 400 otherwise. */
export function refusalHttpStatus(reason: RefusalReason): number {
  return refusalKind(reason) === 'invalid' ? 400 : 410;
}

export interface RefusalPageInput {
  /** Shown when known; left out for invalid links, whose tenant is not trusted. */
  agencyName?: string | undefined;
}

export function renderRefusalPage(reason: RefusalReason, input: RefusalPageInput = {}): string {
  const kind = refusalKind(reason);
  const [title, text] =
    kind === 'used'
      ? [
          'This link has already been used',
          'The approval it carried has been recorded, and a link works only once. The next digest brings fresh links for anything still waiting.',
        ]
      : kind === 'expired'
        ? [
            'This link has expired',
            'Approval links work for a limited time. Nothing was changed. The next digest brings fresh links for anything still waiting.',
          ]
        : [
            'This link is not valid',
            'Nothing was changed. Please use the link exactly as it appears in your latest digest email.',
          ];
  const agency =
    input.agencyName === undefined || kind === 'invalid'
      ? ''
      : html`<div class="agency">${cleanText(input.agencyName, 100)}</div>`;
  return page(
    title,
    html`<div class="notice" data-refusal="${kind}">${agency}<h1 class="bad">${title}</h1><p>${text}</p></div>`,
  );
}

export interface ResultPageInput {
  agencyName: string;
  clientName: string;
  approved: number;
  skipped: number;
  /** Ticked but no longer waiting (already handled, gone): counted, not acted on again. */
  unchanged?: number | undefined;
  locale?: string | undefined;
  brand?: PageBrand | undefined;
}

/** "Approved 2, skipped 1." after a POST that acted. */
export function renderResultPage(input: ResultPageInput): string {
  const locale = input.locale ?? DEFAULT_LOCALE;
  const parts = [
    `Approved ${formatCount(input.approved, locale)}`,
    `skipped ${formatCount(input.skipped, locale)}`,
  ];
  if ((input.unchanged ?? 0) > 0) parts.push(`${formatCount(input.unchanged ?? 0, locale)} already handled`);
  const summary = `${parts.join(', ')}.`;
  const next =
    input.approved > 0
      ? 'The approved follow-backs will be made over the coming hours, at an unhurried pace, within the promised window.'
      : 'Nothing will be followed back from this approval.';
  return page(
    summary,
    html`<div class="notice" data-result data-approved="${input.approved}" data-skipped="${input.skipped}">${brandLogo(input.brand, input.clientName)}<div class="agency">${cleanText(input.agencyName, 100)}</div><h1 class="ok">${summary}</h1><p>${next}</p><p class="muted">For ${cleanText(input.clientName, 100)}. You can close this page.</p></div>`,
    false,
    input.brand,
  );
}

export interface UnsubscribePageInput {
  agencyName: string;
  clientName: string;
  /** Where the confirmation POSTs (the same URL as List-Unsubscribe serves too). */
  actionUrl: string;
  token: string;
  brand?: PageBrand | undefined;
}

/**
 * The page a person sees when they open the unsubscribe link in a browser: a GET never acts, so
 * it asks for one click. (Mail clients use RFC 8058 one-click: a POST with
 * `List-Unsubscribe=One-Click`, which acts directly.)
 */
export function renderUnsubscribePage(input: UnsubscribePageInput): string {
  const action = safeHttpUrl(input.actionUrl) ?? '';
  return page(
    'Unsubscribe from the digest',
    html`<div class="notice">${brandLogo(input.brand, input.clientName)}<div class="agency">${cleanText(input.agencyName, 100)}</div><h1>Unsubscribe from the digest?</h1><p>You will no longer receive the weekly follow-back digest for ${cleanText(input.clientName, 100)}. Follow-backs go on as before.</p><form method="post" action="${action}" id="unsubscribe-form"><input type="hidden" name="token" value="${input.token}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><div class="actions"><button type="submit" class="primary" data-action="unsubscribe">Unsubscribe</button></div></form></div>`,
    false,
    input.brand,
  );
}

export function renderUnsubscribedPage(input: {
  agencyName: string;
  clientName: string;
  brand?: PageBrand | undefined;
}): string {
  return page(
    'Unsubscribed',
    html`<div class="notice" data-unsubscribed>${brandLogo(input.brand, input.clientName)}<div class="agency">${cleanText(input.agencyName, 100)}</div><h1 class="ok">You are unsubscribed</h1><p>This address will no longer receive the digest for ${cleanText(input.clientName, 100)}. Follow-backs go on as before.</p></div>`,
    false,
    input.brand,
  );
}

/** A page for a bad request (the message names the field); same look and CSP as the others. */
export function renderProblemPage(status: number, title: string, message: string): string {
  return page(
    title,
    html`<div class="notice" data-problem="${status}"><h1 class="bad">${title}</h1><p>${message}</p><p class="muted">Nothing was changed.</p></div>`,
  );
}

// ---------------------------------------------------------------------------------------------
// The form, parsed

export type ApprovalAction = 'approve' | 'skip';

export type ApprovalFormResult =
  | { ok: true; token: string; action: ApprovalAction; targetIds: string[] }
  | { ok: false; field: 'token' | 'action' | 'approve'; message: string };

const MAX_FORM_BYTES = 256 * 1024;
const MAX_SELECTED = 1000;

/**
 * Parses and validates a POST body from the approval page (application/x-www-form-urlencoded).
 * Never throws; a bad body names the field. Duplicate ids are merged. Whether the ids belong to
 * the token's account is the caller's check (against the token and the store).
 */
export function parseApprovalForm(body: string | URLSearchParams): ApprovalFormResult {
  if (typeof body === 'string' && body.length > MAX_FORM_BYTES) {
    return { ok: false, field: 'approve', message: 'form too large' };
  }
  const form = typeof body === 'string' ? new URLSearchParams(body) : body;
  const tokens = form.getAll('token');
  const token = tokens[0];
  if (tokens.length !== 1 || token === undefined || token.length === 0 || token.length > 4096) {
    return { ok: false, field: 'token', message: 'exactly one token is required' };
  }
  const actions = form.getAll('action');
  const action = actions[0];
  if (actions.length !== 1 || (action !== 'approve' && action !== 'skip')) {
    return { ok: false, field: 'action', message: 'action must be approve or skip' };
  }
  const ids = [...new Set(form.getAll('approve'))];
  if (ids.length > MAX_SELECTED)
    return { ok: false, field: 'approve', message: `at most ${MAX_SELECTED} at once` };
  if (!ids.every((id) => id.length > 0 && id.length <= 256)) {
    return { ok: false, field: 'approve', message: 'ids must be 1 to 256 characters' };
  }
  return { ok: true, token, action, targetIds: ids };
}
