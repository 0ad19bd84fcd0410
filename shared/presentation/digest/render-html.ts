/**
 * The digest as an HTML email that common mail clients render: table layout, inline styles, no
 * scripts, nothing external required (avatars are optional images with alt text), a table-cell bar
 * chart, bulletproof table buttons, 600px wide and fluid on phones.
 *
 * Every string that a stranger can set (names, handles, bios, avatar URLs) is cleaned, and every
 * URL checked to be http(s) before it becomes an href; the markup is written with `html`
 * (../html.ts), so every value, in text and in attributes, is escaped unless it is itself markup.
 */

import { accentTextColour, safeAccent, safeLogoUrl } from '../../domain/branding.ts';
import {
  formatCount,
  formatCounted,
  formatDateTime,
  formatDay,
  formatDuration,
  formatHandle,
  formatPct,
  formatSigned,
  networkName,
  profileUrlOf,
} from '../../domain/digest/format.ts';
import { cleanText, safeAvatarUrl, safeHttpUrl } from '../../domain/digest/html.ts';
import {
  type AccountDigest,
  type ApprovalCandidate,
  approvalLinkScope,
  type DigestModel,
  type DigestUser,
  digestSubject,
  nothingConnectedLine,
  periodNoun,
  reasonLabel,
  spamSignalLabel,
} from '../../domain/digest/model.ts';
import type { Network } from '../../domain/network.ts';
import { type HtmlValue, html, joinHtml, type SafeHtml } from '../html.ts';
import { renderChartHtml } from './render-chart.ts';

export interface ListLimits {
  /** Most people listed per list (new followers, who left, one-sided); the CSV has all. */
  maxListed: number;
  /** Most approval candidates listed per account; the approval page has all. */
  maxCandidates: number;
}

export interface RenderOptions extends Partial<ListLimits> {
  /**
   * Size budget of the HTML in bytes: Gmail clips a message over 102 KB. While over budget, the
   * lists are halved (never below one) and the HTML rendered again; "…and N more" says the rest.
   */
  maxBytes?: number;
}

export const DEFAULT_MAX_LISTED = 10;
export const DEFAULT_MAX_CANDIDATES = 15;
export const DEFAULT_MAX_HTML_BYTES = 90_000;

export function listLimits(options: RenderOptions = {}): ListLimits {
  return {
    maxListed: Math.max(1, Math.floor(options.maxListed ?? DEFAULT_MAX_LISTED)),
    maxCandidates: Math.max(1, Math.floor(options.maxCandidates ?? DEFAULT_MAX_CANDIDATES)),
  };
}

// ---------------------------------------------------------------------------------------------
// Building blocks (exported for the roll-up, which shares the layout)

export const FONT = 'font-family:Segoe UI,Helvetica,Arial,sans-serif;';
export const COLOURS = {
  page: '#f3f4f6',
  card: '#ffffff',
  text: '#111827',
  muted: '#6b7280',
  border: '#e5e7eb',
  primary: '#1d4fbf',
  good: '#047857',
  bad: '#b91c1c',
  warnBg: '#fef3c7',
  warnText: '#92400e',
  badBg: '#fee2e2',
} as const;

export interface EmailDocumentInput {
  title: string;
  /** Hidden preview text shown by inboxes after the subject. */
  preheader: string;
  /** Rows (`<tr>…</tr>`) of the 600px card. */
  rows: SafeHtml;
  lang?: string;
  /** Links' colour: the client's accent (validated `#rrggbb`), default the primary blue. */
  accent?: string | undefined;
}

/** The outer document: a centred 600px card on a grey page, fluid under 620px. */
export function emailDocument(input: EmailDocumentInput): SafeHtml {
  return html`<!DOCTYPE html>
<html lang="${input.lang ?? 'en'}" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="color-scheme" content="light">
<meta name="supported-color-schemes" content="light">
<title>${input.title}</title>
<style>
body{margin:0;padding:0;-webkit-text-size-adjust:100%;-ms-text-size-adjust:100%;}
table{border-collapse:collapse;}
img{border:0;outline:none;text-decoration:none;-ms-interpolation-mode:bicubic;}
a{color:${safeAccent(input.accent) ?? COLOURS.primary};}
@media only screen and (max-width:620px){
.fb-container{width:100%!important;}
.fb-stack{display:block!important;width:100%!important;box-sizing:border-box;}
.fb-pad{padding-left:16px!important;padding-right:16px!important;}
}
</style>
</head>
<body style="margin:0;padding:0;background-color:${COLOURS.page};">
<div style="display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;mso-hide:all;font-size:1px;line-height:1px;color:${COLOURS.page};">${input.preheader}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="${COLOURS.page}" style="background-color:${COLOURS.page};">
<tr><td align="center" style="padding:24px 8px;">
<!--[if mso]><table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->
<table role="presentation" class="fb-container" width="600" cellpadding="0" cellspacing="0" border="0" bgcolor="${COLOURS.card}" style="width:100%;max-width:600px;background-color:${COLOURS.card};border:1px solid ${COLOURS.border};border-radius:8px;">
${input.rows}
</table>
<!--[if mso]></td></tr></table><![endif]-->
</td></tr>
</table>
</body>
</html>
`;
}

/** A full-width row of the card with the standard padding. */
export function row(content: HtmlValue, padding = '16px 24px', extra = ''): SafeHtml {
  return html`<tr><td class="fb-pad" style="padding:${padding};${FONT}font-size:14px;line-height:20px;color:${COLOURS.text};${extra}">${content}</td></tr>`;
}

/** A bulletproof button: a table cell with a background and a padded link (works in Outlook). */
export function button(
  href: string,
  label: string,
  options: { primary?: boolean; testId?: string; accent?: string | undefined } = {},
): SafeHtml {
  const url = safeHttpUrl(href);
  if (url === undefined) return html``;
  const primary = options.primary ?? true;
  const accent = safeAccent(options.accent) ?? COLOURS.primary;
  const bg = primary ? accent : COLOURS.card;
  const fg = primary ? accentTextColour(accent) : accent;
  const testId = options.testId === undefined ? '' : html` data-link="${options.testId}"`;
  return html`<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="display:inline-table;margin:4px 8px 4px 0;"><tr><td align="center" bgcolor="${bg}" style="border-radius:6px;background-color:${bg};border:1px solid ${accent};"><a href="${url}"${testId} target="_blank" style="display:inline-block;padding:10px 18px;${FONT}font-size:14px;line-height:18px;font-weight:bold;color:${fg};text-decoration:none;border-radius:6px;">${label}</a></td></tr></table>`;
}

/** The client's accent (validated when the model was built), else the primary blue. */
function accentOf(model: DigestModel): string {
  return safeAccent(model.client.accent) ?? COLOURS.primary;
}

export function heading(text: string, level: 2 | 3 = 3): SafeHtml {
  const size = level === 2 ? 18 : 15;
  return html`<h${level} style="margin:0 0 8px 0;${FONT}font-size:${size}px;line-height:${size + 6}px;color:${COLOURS.text};">${text}</h${level}>`;
}

/** A muted paragraph; `content` is plain text (escaped) or a fragment of `html`. */
export function muted(content: HtmlValue): SafeHtml {
  return html`<p style="margin:4px 0;${FONT}font-size:13px;line-height:18px;color:${COLOURS.muted};">${content}</p>`;
}

/** A small coloured label; `tone` picks the colours. `text` is plain text. */
export function badge(text: string, tone: 'warn' | 'bad' | 'neutral' = 'neutral'): SafeHtml {
  const [bg, fg] =
    tone === 'bad'
      ? [COLOURS.badBg, COLOURS.bad]
      : tone === 'warn'
        ? [COLOURS.warnBg, COLOURS.warnText]
        : ['#eef2ff', COLOURS.primary];
  return html`<span style="display:inline-block;margin:2px 4px 2px 0;padding:1px 6px;border-radius:4px;background-color:${bg};color:${fg};${FONT}font-size:11px;line-height:16px;font-weight:bold;white-space:nowrap;">${text}</span>`;
}

/** A coloured notice box spanning the row. */
export function notice(content: SafeHtml, tone: 'warn' | 'bad'): SafeHtml {
  const [bg, fg] = tone === 'bad' ? [COLOURS.badBg, COLOURS.bad] : [COLOURS.warnBg, COLOURS.warnText];
  return html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0;"><tr><td bgcolor="${bg}" style="padding:10px 12px;background-color:${bg};border-radius:6px;${FONT}font-size:13px;line-height:18px;color:${fg};">${content}</td></tr></table>`;
}

/** Name, handle (linked to the profile when the handle has the network's shape), counts, bio. */
export function userLine(
  user: DigestUser,
  network: Network,
  extra: SafeHtml | '' = '',
  locale?: string,
): SafeHtml {
  const avatar = safeAvatarUrl(user.avatarUrl);
  const name = cleanText(user.name, 80);
  const handleText = cleanText(formatHandle(user.handle), 80) || (user.handle === '' ? 'profile' : '');
  const link = profileUrlOf(network, user);
  const handle =
    link === undefined
      ? handleText
      : html`<a href="${link}" target="_blank" style="color:${COLOURS.muted};text-decoration:none;">${handleText}</a>`;
  const counts: string[] = [];
  if (user.followersCount !== undefined)
    counts.push(`${formatCounted(user.followersCount, 'follower', locale)}`);
  if (user.followingCount !== undefined) counts.push(`${formatCount(user.followingCount, locale)} following`);
  const bio = cleanText(user.bio, 140);
  const avatarCell =
    avatar === undefined
      ? ''
      : html`<td width="40" valign="top" style="padding:2px 8px 0 0;"><img src="${avatar}" width="32" height="32" alt="${name === '' ? 'avatar' : name}" style="display:block;width:32px;height:32px;border-radius:16px;font-size:10px;color:${COLOURS.muted};"></td>`;
  const countsLine =
    counts.length > 0
      ? html`<br><span style="font-size:12px;color:${COLOURS.muted};">${counts.join(' · ')}</span>`
      : '';
  const bioLine = bio === '' ? '' : html`<br><span style="font-size:12px;color:#374151;">${bio}</span>`;
  return html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 10px 0;" data-user-id="${user.id}"><tr>${avatarCell}<td valign="top" style="${FONT}font-size:14px;line-height:19px;color:${COLOURS.text};"><strong>${name === '' ? handleText : name}</strong> <span style="color:${COLOURS.muted};">${handle}</span>${countsLine}${bioLine}${extra}</td></tr></table>`;
}

/** One compact line (no avatar, no bio): for the longer, less important lists. */
export function compactUserLine(
  user: DigestUser,
  network: Network,
  extraText = '',
  locale?: string,
): SafeHtml {
  const name = cleanText(user.name, 60);
  const handleText = cleanText(formatHandle(user.handle), 60) || (user.handle === '' ? 'profile' : '');
  const link = profileUrlOf(network, user);
  const handle =
    link === undefined
      ? handleText
      : html`<a href="${link}" target="_blank" style="color:${COLOURS.muted};">${handleText}</a>`;
  const facts = [
    ...(user.followersCount === undefined
      ? []
      : [`${formatCounted(user.followersCount, 'follower', locale)}`]),
    ...(extraText === '' ? [] : [extraText]),
  ].join(' · ');
  return html`<div style="margin:0 0 4px 0;${FONT}font-size:13px;line-height:18px;" data-user-id="${user.id}"><strong>${name === '' ? handleText : name}</strong> ${handle}${facts === '' ? '' : html` <span style="color:${COLOURS.muted};">· ${facts}</span>`}</div>`;
}

function more(shown: number, total: number, where: string): SafeHtml | '' {
  return total > shown ? muted(`…and ${formatCount(total - shown)} more ${where}.`) : '';
}

// ---------------------------------------------------------------------------------------------
// The digest

function statStrip(account: AccountDigest, locale: string): SafeHtml {
  const stats: [string, string, string?][] = [
    ['Followers', formatCount(account.followersNow, locale), formatSigned(account.netChange, locale)],
    ['New followers', formatCount(account.newFollowers.length, locale)],
    ['Follow-backs', formatCount(account.followBacksDone.length, locale)],
    ['Promise kept', formatPct(account.promiseKeptPct)],
  ];
  const cells = stats.map(([label, value, delta]) => {
    const deltaHtml =
      delta === undefined
        ? ''
        : html` <span style="font-size:13px;color:${account.netChange < 0 ? COLOURS.bad : COLOURS.good};">${delta}</span>`;
    return html`<td class="fb-stack" width="25%" valign="top" style="padding:8px 4px;${FONT}"><div style="font-size:12px;line-height:16px;color:${COLOURS.muted};">${label}</div><div style="font-size:20px;line-height:26px;font-weight:bold;color:${COLOURS.text};" data-stat="${label}">${value}${deltaHtml}</div></td>`;
  });
  return html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>${cells}</tr></table>`;
}

function accountTitle(account: AccountDigest): string {
  return `${networkName(account.network)} · ${cleanText(formatHandle(account.handle), 80)}`;
}

function statusNotices(model: DigestModel, account: AccountDigest): SafeHtml[] {
  const { timeZone, locale } = model.client;
  const parts: SafeHtml[] = [];
  if (account.status === 'token_expired') {
    parts.push(
      notice(
        html`<strong>Reconnect needed.</strong> ${networkName(account.network)} no longer accepts this account's access, so nothing is followed back. ${cleanText(model.agency.name, 80)} can reconnect it in a minute.`,
        'bad',
      ),
    );
  } else if (account.status === 'not_connected') {
    parts.push(
      notice(
        html`<strong>Not connected yet.</strong> This account has not been connected to followback, so nothing is observed or followed back. ${cleanText(model.agency.name, 80)} connects it with your go-ahead (you sign in to ${networkName(account.network)} once).`,
        'warn',
      ),
    );
  } else if (account.status === 'paused') {
    parts.push(
      notice(html`<strong>Paused.</strong> No follow-backs are made while the account is paused.`, 'warn'),
    );
  }
  if (account.atRisk !== null) {
    const r = account.atRisk;
    const due =
      r.earliestDueBy === undefined
        ? ''
        : ` The earliest is due ${formatDateTime(r.earliestDueBy, timeZone, locale)}.`;
    const reason = r.reason === undefined ? '' : ` ${cleanText(r.reason, 200)}`;
    parts.push(
      notice(
        html`<strong>Promise at risk.</strong> ${formatCount(r.count, locale)} follow-back${r.count === 1 ? '' : 's'} may miss the promised window.${due}${reason}`,
        'warn',
      ),
    );
  }
  return parts;
}

function candidateBlock(model: DigestModel, account: AccountDigest, options: ListLimits): SafeHtml | '' {
  const list = account.awaitingApproval;
  if (list.length === 0) return '';
  const { locale } = model.client;
  const shown = list.slice(0, options.maxCandidates);
  const items = shown.map((c: ApprovalCandidate) => {
    const badges = c.spamSignals.map((s) => badge(spamSignalLabel(s), 'warn'));
    const url = safeHttpUrl(c.approveUrl);
    const link =
      url === undefined
        ? ''
        : html`<br><a href="${url}" target="_blank" data-link="candidate" style="${FONT}font-size:13px;font-weight:bold;color:${accentOf(model)};">Review and approve</a>`;
    const extra = html`${badges.length === 0 ? '' : html`<br>${badges}`}${link}`;
    return html`<div data-candidate-id="${c.user.id}">${userLine(c.user, account.network, extra, locale)}</div>`;
  });
  const approveAll = account.links.approveAll;
  const page = account.links.approvalPage ?? model.links.approvalPage;
  const scope = approvalLinkScope(list.length, account.links.approveAllCovers ?? list.length, (n) =>
    formatCount(n, locale),
  );
  const buttons = html`${
    approveAll === undefined
      ? ''
      : button(approveAll, scope.allLabel, { testId: 'approve-all', accent: accentOf(model) })
  }${
    page === undefined
      ? ''
      : button(page, 'Open the approval page', {
          primary: false,
          testId: 'approval-page',
          accent: accentOf(model),
        })
  }`;
  const why =
    account.network === 'x'
      ? muted(
          html`X's rules do not allow automatic follow-backs, so each one waits for your go-ahead. Approved follow-backs are made later, at an unhurried pace.`,
        )
      : muted('Approved follow-backs are made later, at an unhurried pace.');
  return html`<div data-section="awaiting-approval">${heading(`Waiting for your approval (${formatCount(list.length, locale)})`)}${items}${more(shown.length, list.length, 'on the approval page')}${buttons.value === '' ? '' : html`<div style="margin:8px 0 4px 0;">${buttons}</div>`}${approveAll === undefined ? '' : html`<div data-link-scope>${muted(scope.note)}</div>`}${why}</div>`;
}

interface PeopleListInput<T extends { user: DigestUser }> {
  title: string;
  section: string;
  people: readonly T[];
  empty: string;
  /** Plain text appended to each line. */
  extra?: (item: T) => string;
  /** One line per person instead of the full card (avatar, counts, bio). */
  compact?: boolean;
  /** When `people` is a page of a longer list. */
  total?: number;
  moreWhere?: string;
}

function peopleList<T extends { user: DigestUser }>(
  input: PeopleListInput<T>,
  account: AccountDigest,
  model: DigestModel,
  options: ListLimits,
): SafeHtml {
  const { locale } = model.client;
  const { people, title, section } = input;
  const total = input.total ?? people.length;
  const shown = people.slice(0, options.maxListed);
  const lines = shown.map((p) => {
    const extra = input.extra?.(p) ?? '';
    return input.compact
      ? compactUserLine(p.user, account.network, extra, locale)
      : userLine(
          p.user,
          account.network,
          extra === '' ? '' : html`<br><span style="font-size:12px;color:${COLOURS.muted};">${extra}</span>`,
          locale,
        );
  });
  const body =
    people.length === 0
      ? muted(input.empty)
      : html`${lines}${more(shown.length, total, input.moreWhere ?? 'in the attached CSV')}`;
  return html`<div data-section="${section}" style="margin-top:12px;">${heading(`${title} (${formatCount(total, locale)})`)}${body}</div>`;
}

function accountSection(model: DigestModel, account: AccountDigest, options: ListLimits): SafeHtml {
  const { timeZone, locale } = model.client;
  const noun = periodNoun(model.period);
  const followBackFacts: string[] = [];
  const requested = account.followBacksDone.filter((d) => d.outcome === 'requested').length;
  followBackFacts.push(
    `${formatCount(account.followBacksDone.length, locale)} follow-back${account.followBacksDone.length === 1 ? '' : 's'} ${noun}` +
      (requested > 0 ? ` (${formatCount(requested, locale)} as follow requests to protected accounts)` : '') +
      '.',
  );
  if (account.promiseKeptPct !== null) {
    followBackFacts.push(
      `Promise kept: ${formatPct(account.promiseKeptPct)} of ${formatCount(account.promiseJudged, locale)} due.`,
    );
  }
  if (account.longestDelayMs !== null)
    followBackFacts.push(`Longest wait: ${formatDuration(account.longestDelayMs)}.`);
  const skips =
    account.skipsByReason.length === 0
      ? ''
      : html`<div data-section="skips" style="margin-top:12px;">${heading(`Not followed back (${formatCount(account.skips.length, locale)})`)}<table role="presentation" cellpadding="0" cellspacing="0" border="0">${account.skipsByReason.map(
          (s) =>
            html`<tr><td style="padding:2px 16px 2px 0;${FONT}font-size:13px;color:${COLOURS.text};">${reasonLabel(s.reason)}</td><td align="right" style="padding:2px 0;${FONT}font-size:13px;font-weight:bold;color:${COLOURS.text};" data-skip-reason="${s.reason}">${formatCount(s.count, locale)}</td></tr>`,
        )}</table></div>`;
  const oneSided =
    account.oneSidedTotal === 0
      ? ''
      : peopleList(
          {
            title: 'You follow, they do not follow back',
            section: 'one-sided',
            people: account.oneSided,
            empty: '',
            total: account.oneSidedTotal,
            moreWhere: 'to review',
            compact: true,
            extra: (item) =>
              item.since === undefined ? '' : `following since ${formatDay(item.since, timeZone, locale)}`,
          },
          account,
          model,
          options,
        );
  const newFollowers = peopleList(
    {
      title: 'New followers',
      section: 'new-followers',
      people: account.newFollowers,
      empty: `No new followers ${noun}.`,
      extra: (item) => `Followed ${formatDay(item.at, timeZone, locale)}`,
    },
    account,
    model,
    options,
  );
  const lost =
    account.lost.length === 0
      ? ''
      : peopleList(
          { title: 'Stopped following', section: 'lost', people: account.lost, empty: '', compact: true },
          account,
          model,
          options,
        );
  return html`<tr><td class="fb-pad" style="padding:20px 24px 8px 24px;border-top:1px solid ${COLOURS.border};${FONT}color:${COLOURS.text};" data-account-id="${account.accountId}" data-network="${account.network}">${heading(accountTitle(account), 2)}${statusNotices(model, account)}${statStrip(account, locale)}<div style="margin:12px 0 4px 0;" data-section="chart">${renderChartHtml(account.weeklyFollowers, { timeZone, locale })}</div>${candidateBlock(model, account, options)}${newFollowers}<div data-section="follow-backs" style="margin-top:12px;">${heading('Follow-backs')}${muted(followBackFacts.join(' '))}</div>${lost}${skips}${oneSided}</td></tr>`;
}

/** With several accounts, a side-by-side overview first: one column per account, network named. */
function overview(model: DigestModel): SafeHtml {
  if (model.accounts.length < 2) return html``;
  const { locale } = model.client;
  const head = model.accounts.map(
    (a) =>
      html`<th align="left" style="padding:6px 8px;${FONT}font-size:12px;line-height:16px;color:${COLOURS.muted};border-bottom:1px solid ${COLOURS.border};">${networkName(a.network)}<br><span style="color:${COLOURS.text};">${cleanText(formatHandle(a.handle), 40)}</span></th>`,
  );
  const line = (label: string, value: (a: AccountDigest) => string) =>
    html`<tr><td style="padding:6px 8px 6px 0;${FONT}font-size:13px;color:${COLOURS.muted};border-bottom:1px solid ${COLOURS.border};">${label}</td>${model.accounts.map(
      (a) =>
        html`<td style="padding:6px 8px;${FONT}font-size:13px;font-weight:bold;color:${COLOURS.text};border-bottom:1px solid ${COLOURS.border};">${value(a)}</td>`,
    )}</tr>`;
  return row(
    html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" data-section="overview"><tr><th style="border-bottom:1px solid ${COLOURS.border};"></th>${head}</tr>${line(
      'Followers',
      (a) => `${formatCount(a.followersNow, locale)} (${formatSigned(a.netChange, locale)})`,
    )}${line('New followers', (a) => formatCount(a.newFollowers.length, locale))}${line('Follow-backs', (a) =>
      formatCount(a.followBacksDone.length, locale),
    )}${line('Promise kept', (a) => formatPct(a.promiseKeptPct))}${line('Awaiting approval', (a) =>
      formatCount(a.awaitingApproval.length, locale),
    )}</table>`,
    '8px 24px 16px 24px',
  );
}

/** The inbox preview line: the week in one breath. */
export function digestPreheader(model: DigestModel): string {
  const idle = nothingConnectedLine(model);
  if (idle !== undefined) return 'Not connected yet: nothing to report';
  const { locale } = model.client;
  const net = model.accounts.reduce((sum, a) => sum + a.netChange, 0);
  const done = model.accounts.reduce((sum, a) => sum + a.followBacksDone.length, 0);
  const waiting = model.accounts.reduce((sum, a) => sum + a.awaitingApproval.length, 0);
  const parts = [`${formatSigned(net, locale)} followers`, `${formatCounted(done, 'follow-back', locale)}`];
  if (waiting > 0) parts.push(`${formatCount(waiting, locale)} waiting for your approval`);
  return parts.join(' · ');
}

const utf8 = new TextEncoder();

/** The digest email's HTML part, within the size budget when the lists can be shortened enough. */
export function renderDigestHtml(model: DigestModel, options: RenderOptions = {}): string {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_HTML_BYTES;
  let limits = listLimits(options);
  let out = renderDigestHtmlWith(model, limits);
  while (utf8.encode(out).length > maxBytes && (limits.maxListed > 1 || limits.maxCandidates > 1)) {
    limits = {
      maxListed: Math.max(1, Math.floor(limits.maxListed / 2)),
      maxCandidates: Math.max(1, Math.floor(limits.maxCandidates / 2)),
    };
    out = renderDigestHtmlWith(model, limits);
  }
  return out;
}

function renderDigestHtmlWith(model: DigestModel, opts: ListLimits): string {
  const client = cleanText(model.client.name, 100);
  const agency = cleanText(model.agency.name, 100);
  const unsubscribe = safeHttpUrl(model.links.unsubscribe);
  const accent = accentOf(model);
  const logo = safeLogoUrl(model.client.logoUrl);
  const logoImg =
    logo === undefined
      ? ''
      : html`<img src="${logo}" alt="${client}" height="40" style="display:block;height:40px;width:auto;max-width:200px;margin:0 0 8px 0;border:0;" data-brand-logo>`;
  const header = row(
    html`${logoImg}<div style="font-size:12px;line-height:16px;color:${COLOURS.muted};text-transform:uppercase;letter-spacing:0.04em;">${agency}</div><h1 style="margin:4px 0 2px 0;${FONT}font-size:22px;line-height:28px;color:${COLOURS.text};">${client}</h1><div style="font-size:14px;color:${COLOURS.muted};" data-period>${model.period.label}</div>`,
    '24px 24px 8px 24px',
    `border-top:4px solid ${accent};border-radius:8px 8px 0 0;`,
  );
  const idle = nothingConnectedLine({
    ...model,
    agency: { ...model.agency, name: cleanText(model.agency.name, 80) },
  });
  const body =
    idle !== undefined
      ? row(
          html`<div data-not-connected>${notice(html`<strong>Not connected yet.</strong> ${idle}`, 'warn')}</div>`,
        )
      : joinHtml(
          model.accounts.map((a) => accountSection(model, a, opts)),
          '\n',
        );
  const unsubscribeLink =
    unsubscribe === undefined
      ? ''
      : html` <a href="${unsubscribe}" target="_blank" data-link="unsubscribe" style="color:${COLOURS.muted};">Unsubscribe</a>`;
  const footer = row(
    muted(html`Sent by ${agency} for ${client}. Times are in ${model.client.timeZone}.${unsubscribeLink}`),
    '16px 24px 24px 24px',
    `border-top:1px solid ${COLOURS.border};`,
  );
  return emailDocument({
    title: digestSubject(model),
    preheader: digestPreheader(model),
    rows: joinHtml([header, idle === undefined ? overview(model) : html``, body, footer], '\n'),
    accent,
  }).toString();
}
