/**
 * The operator console's pages and the client's invite pages, as HTML strings built with the
 * escape-by-default `html` template. No inline style attributes and no script: one stylesheet per
 * page whose hash the Content-Security-Policy names (webPageHeaders), forms that POST with a CSRF
 * token. Branding: the agency's name everywhere; on a client's invite page, the client's display
 * name, accent colour (validated `#rrggbb`) and https logo.
 */
import { createHash } from 'node:crypto';
import type { OneSidedPage } from '../../app/console/one-sided.ts';
import type { ClientDetail, ClientSummary } from '../../app/console/overview.ts';
import type { AccountStatusReport } from '../../app/engine/status.ts';
import { accentTextColour, safeAccent, safeLogoUrl } from '../../domain/branding.ts';
import { scaleChart } from '../../domain/digest/chart.ts';
import { formatCount, formatHandle, networkName, profileUrl } from '../../domain/digest/format.ts';
import { cleanText, safeHttpUrl } from '../../domain/digest/html.ts';
import { spamSignalLabel, type WeeklyPoint } from '../../domain/digest/model.ts';
import { UNFOLLOW_SKIP_TEXT, type UnfollowItem } from '../../domain/engine/unfollow.ts';
import type { InviteRecord } from '../../domain/invites/invite.ts';
import type { AuditEntry } from '../../ports/console.ts';
import type { Network } from '../../ports/platform.ts';
import { html, raw, type SafeHtml } from '../html.ts';
import { actorLabel } from './actor-label.ts';

export interface Branding {
  /** The agency (deployment) or the client's display name. */
  name: string;
  /** `#rrggbb`; anything else is ignored. */
  accent?: string | undefined;
  /** https only; anything else is ignored. */
  logoUrl?: string | undefined;
}

const BASE_STYLE = `
:root{color-scheme:light;--bg:#f5f6f8;--card:#fff;--text:#111827;--muted:#6b7280;--line:#e5e7eb;--accent:#1d4fbf;--accent-text:#fff;--warn-bg:#fef3c7;--warn:#92400e;--bad-bg:#fee2e2;--bad:#b91c1c;--ok:#047857}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
header.top{background:var(--card);border-bottom:3px solid var(--accent);padding:10px 16px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header.top .brand{font-weight:800;display:flex;gap:8px;align-items:center}
header.top img{height:28px;width:auto}
header.top nav a{margin-right:12px;color:var(--accent);text-decoration:none;font-weight:600}
header.top form{margin-left:auto}
main{max-width:1200px;margin:0 auto;padding:20px 16px 48px}
h1{font-size:24px;margin:4px 0 12px}
h2{font-size:17px;margin:0 0 10px}
a{color:var(--accent)}
.muted{color:var(--muted);font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px;align-items:start}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px;margin-bottom:16px}
.net{display:inline-block;font-size:12px;font-weight:700;padding:1px 8px;border-radius:999px;background:var(--accent);color:var(--accent-text)}
.problem{display:block;background:var(--bad-bg);color:var(--bad);border-radius:6px;padding:4px 8px;margin:4px 0;font-size:13px;font-weight:600}
.okline{color:var(--ok);font-weight:600;font-size:13px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top;font-size:14px}
th{font-size:12px;text-transform:uppercase;color:var(--muted)}
td.num,th.num{text-align:right}
.badge{display:inline-block;font-size:12px;font-weight:700;padding:1px 7px;margin:2px 4px 0 0;border-radius:5px;background:var(--warn-bg);color:var(--warn)}
.bio{font-size:13px;color:var(--muted);overflow-wrap:anywhere}
button,.button{font:inherit;font-weight:700;border-radius:8px;padding:8px 14px;border:1px solid var(--accent);background:var(--card);color:var(--accent);cursor:pointer;text-decoration:none;display:inline-block}
button.primary,.button.primary{background:var(--accent);color:var(--accent-text)}
button.danger{border-color:var(--bad);color:var(--bad)}
input[type=text],input[type=password],input[type=number],input[type=search],select{font:inherit;padding:7px 9px;border:1px solid var(--line);border-radius:6px;min-width:0;max-width:100%}
label.field{display:block;margin:8px 0}
label.field span{display:block;font-size:13px;color:var(--muted)}
.row{display:flex;gap:8px;flex-wrap:wrap;align-items:end}
.notice{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:24px;max-width:620px;margin:32px auto}
.flash{background:#ecfdf5;border:1px solid #a7f3d0;color:var(--ok);border-radius:8px;padding:10px 12px;margin-bottom:16px;font-weight:600}
.error{background:var(--bad-bg);border:1px solid #fecaca;color:var(--bad);border-radius:8px;padding:10px 12px;margin-bottom:16px;font-weight:600}
.link{font-family:ui-monospace,Menlo,monospace;font-size:13px;overflow-wrap:anywhere;background:var(--bg);padding:8px;border-radius:6px;display:block}
svg.chart rect.bar{fill:var(--accent)}
svg.chart rect.missing{fill:#d5d9e0}
svg.chart text{font-size:10px;fill:#6b7280}
.pager a,.pager span{margin-right:8px}
`;

function styleFor(branding: Branding): string {
  const accent = safeAccent(branding.accent);
  return accent === undefined
    ? BASE_STYLE
    : `${BASE_STYLE}:root{--accent:${accent};--accent-text:${accentTextColour(accent)}}\n`;
}

function hash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export interface WebPage {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Headers of every page: a strict CSP (only this page's stylesheet, no script at all, https
 * images, forms to 'self' and the given origins), a referrer only to this origin (so a POST carries its Origin), no caching, no framing.
 */
export function webPageHeaders(style: string, formOrigins: readonly string[] = []): Record<string, string> {
  return {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': [
      "default-src 'none'",
      `style-src ${hash(style)}`,
      "script-src 'none'",
      'img-src https: data:',
      `form-action 'self'${formOrigins.map((o) => ` ${o}`).join('')}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'X-Robots-Tag': 'noindex, nofollow',
  };
}

function documentOf(
  title: string,
  branding: Branding,
  body: SafeHtml,
  nav?: SafeHtml,
  head?: SafeHtml,
): { body: string; style: string } {
  const style = styleFor(branding);
  const logo = safeLogoUrl(branding.logoUrl);
  const doc = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${
  head === undefined
    ? ''
    : html`${head}
`
}<meta name="referrer" content="same-origin">
<meta name="robots" content="noindex, nofollow">
<title>${title} · ${branding.name}</title>
<style>${raw(style)}</style>
</head>
<body>
<header class="top"><span class="brand">${logo === undefined ? '' : html`<img src="${logo}" alt="" referrerpolicy="no-referrer" data-brand-logo>`}<span data-brand>${branding.name}</span></span>${nav ?? ''}</header>
<main>
${body}
</main>
</body>
</html>
`;
  return { body: doc.value, style };
}

export function page(
  status: number,
  title: string,
  branding: Branding,
  body: SafeHtml,
  options: {
    nav?: SafeHtml;
    /** More of the head, before the referrer policy (a meta refresh). */
    head?: SafeHtml;
    formOrigins?: readonly string[];
    headers?: Record<string, string>;
  } = {},
): WebPage {
  const doc = documentOf(title, branding, body, options.nav, options.head);
  return {
    status,
    headers: { ...webPageHeaders(doc.style, options.formOrigins), ...(options.headers ?? {}) },
    body: doc.body,
  };
}

// ---------------------------------------------------------------------------------------------
// Console

export interface ConsoleView {
  agency: Branding;
  user: string;
  csrf: string;
}

export function consoleNav(view: ConsoleView): SafeHtml {
  return html`<nav><a href="/console">Clients</a></nav><span class="muted">${view.user}</span><form method="post" action="/console/signout"><input type="hidden" name="csrf" value="${view.csrf}"><button type="submit">Sign out</button></form>`;
}

function csrfField(view: ConsoleView): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${view.csrf}">`;
}

function pct(value: number | null): string {
  return value === null ? '–' : `${value.toFixed(1)} %`;
}

function signed(value: number | null): string {
  if (value === null) return '–';
  return value > 0 ? `+${formatCount(value)}` : formatCount(value);
}

function clientPath(clientId: string): string {
  return `/console/clients/${encodeURIComponent(clientId)}`;
}

function accountPath(clientId: string, accountId: string): string {
  return `${clientPath(clientId)}/accounts/${encodeURIComponent(accountId)}`;
}

function flashBox(flash?: { ok?: string | undefined; error?: string | undefined }): SafeHtml {
  return html`${flash?.ok === undefined ? '' : html`<div class="flash" role="status" data-flash>${flash.ok}</div>`}${flash?.error === undefined ? '' : html`<div class="error" role="alert" data-error>${flash.error}</div>`}`;
}

export function clientsPage(view: ConsoleView, clients: readonly ClientSummary[]): WebPage {
  const rows = clients.map(
    (c) => html`<tr data-client="${c.client.clientId}">
<td><a href="${clientPath(c.client.clientId)}"><strong>${c.client.name}</strong></a><div class="muted">${c.client.clientId}</div></td>
<td>${c.problems.length === 0 ? html`<span class="okline">no problems</span>` : c.problems.map((p) => html`<span class="problem" data-problem="${p.kind}">${p.text}</span>`)}</td>
<td>${c.accounts.map((a) => html`<div><span class="net">${networkName(a.account.network)}</span> @${a.account.handle}</div>`)}</td>
<td class="num">${formatCount(c.followers)}</td>
<td class="num">${signed(c.netWeek)}</td>
<td class="num">${pct(c.promiseKeptPct)}</td>
<td class="num">${c.atRisk === 0 ? 'on track' : `${c.atRisk} at risk`}</td>
<td class="num">$${c.spendUsd.toFixed(2)}</td>
<td class="num">${c.awaitingApproval}</td>
</tr>`,
  );
  const body = html`<h1>Clients</h1>
<p class="muted">Clients with problems first: reconnect needed, promises at risk, read spend near budget, digests failed.</p>
<div class="card"><table data-clients>
<thead><tr><th>client</th><th>problems</th><th>accounts</th><th class="num">followers</th><th class="num">7 days</th><th class="num">promise kept</th><th class="num">forecast</th><th class="num">reads this month</th><th class="num">awaiting approval</th></tr></thead>
<tbody>${rows}</tbody></table>${clients.length === 0 ? html`<p class="muted">No clients yet: add one with <code>followback client add</code> or <code>followback apply clients.yaml</code>.</p>` : ''}</div>`;
  return page(200, 'Clients', view.agency, body, { nav: consoleNav(view) });
}

function chartSvg(points: readonly WeeklyPoint[]): SafeHtml {
  const bars = scaleChart(points, { maxHeight: 60, minHeight: 2 });
  const w = 18;
  const width = bars.length * (w + 4);
  return html`<svg class="chart" role="img" aria-label="followers over 12 weeks" width="${width}" height="80" viewBox="0 0 ${width} 80">${bars.map(
    (b, i) =>
      html`<rect class="${b.missing ? 'missing' : 'bar'}" x="${i * (w + 4)}" y="${b.missing ? 62 : 64 - b.height}" width="${w}" height="${b.missing ? 2 : b.height}"><title>${b.count === null ? 'no data' : formatCount(b.count)}</title></rect>`,
  )}${(() => {
    const last = bars.at(-1);
    return last?.count == null
      ? ''
      : html`<text x="${width}" y="78" text-anchor="end">${formatCount(last.count)}</text>`;
  })()}</svg>`;
}

function accountCard(
  view: ConsoleView,
  clientId: string,
  report: AccountStatusReport,
  netWeek: number | null,
  points: readonly WeeklyPoint[] | undefined,
): SafeHtml {
  const path = accountPath(clientId, report.accountId);
  return html`<section class="card" data-account="${report.accountId}">
<h2><span class="net">${networkName(report.network)}</span> @${report.handle}</h2>
<div class="muted">${report.accountId} · ${report.status} · mode ${report.mode}</div>
${report.warnings.map((w) => html`<p class="problem">${w}</p>`)}
<table><tbody>
<tr><td>followers</td><td class="num" data-followers>${report.followers === null ? '–' : formatCount(report.followers)}</td></tr>
<tr><td>last 7 days</td><td class="num">${signed(netWeek)}</td></tr>
<tr><td>promise kept</td><td class="num">${pct(report.promiseKeptPct)}</td></tr>
<tr><td>forecast</td><td class="num">${report.forecast.atRisk === 0 ? 'on track' : `${report.forecast.atRisk} at risk`}</td></tr>
<tr><td>awaiting approval</td><td class="num" data-awaiting>${report.awaitingApproval}</td></tr>
<tr><td>reads this month</td><td class="num">$${report.readsThisMonthUsd.toFixed(2)}</td></tr>
</tbody></table>
${points === undefined ? '' : chartSvg(points)}
<p><a href="${path}/one-sided" data-link="one-sided">One-sided follows</a></p>
<details><summary>Settings</summary>
<form method="post" action="${path}/settings" data-form="settings">${csrfField(view)}
<div class="row">
<label class="field"><span>mode</span><select name="mode"><option value="">(as is: ${report.mode})</option><option value="auto">auto</option><option value="approve">approve</option><option value="off">off</option></select></label>
${report.network === 'x' ? html`<label class="field"><span>acknowledge X's automation rules</span><input type="checkbox" name="acknowledgeXAutomationPolicy" value="true"></label>` : ''}
<label class="field"><span>promise within (hours)</span><input type="number" name="withinHours" min="1" step="1"></label>
<label class="field"><span>not before (hours)</span><input type="number" name="notBeforeHours" min="0" step="1"></label>
<label class="field"><span>cap per 15 min</span><input type="number" name="per15Minutes" min="1" step="1"></label>
<label class="field"><span>cap per day</span><input type="number" name="perDay" min="1" step="1"></label>
<label class="field"><span>quiet from (HH:MM, or none)</span><input type="text" name="quietStart" maxlength="5"></label>
<label class="field"><span>quiet until (HH:MM)</span><input type="text" name="quietEnd" maxlength="5"></label>
<label class="field"><span>digest day</span><select name="digestDay"><option value="">(as is)</option>${['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => html`<option value="${d}">${d}</option>`)}</select></label>
<label class="field"><span>digest hour (0–23)</span><input type="number" name="digestHour" min="0" max="23" step="1"></label>
</div>
<p class="muted">Empty fields stay as they are. The values are checked like clients.yaml: a bad one names the field and nothing changes.</p>
<button type="submit">Save settings</button></form></details>
</section>`;
}

export function clientPage(
  view: ConsoleView,
  detail: ClientDetail,
  flash?: { ok?: string | undefined; error?: string | undefined },
  invite?: { url: string; invite: InviteRecord } | undefined,
): WebPage {
  const clientId = detail.client.clientId;
  const chart = new Map(detail.chart.map((c) => [c.accountId, c.points]));
  const cards = detail.accounts.map((a) =>
    accountCard(view, clientId, a.report, a.netWeek, chart.get(a.account.accountId)),
  );
  const candidates = detail.candidates.flatMap((group) =>
    group.candidates.map((c) => {
      const u = c.user;
      const facts: string[] = [];
      if (u.followersCount !== undefined) facts.push(`${formatCount(u.followersCount)} followers`);
      if (u.followingCount !== undefined) facts.push(`${formatCount(u.followingCount)} following`);
      if (u.createdAt !== undefined) facts.push(`joined ${new Date(u.createdAt).toISOString().slice(0, 10)}`);
      if (u.protected === true) facts.push('protected');
      const value = `${group.account.accountId}:${u.id}`;
      const link = profileUrl(group.account.network, u.handle);
      return html`<tr data-candidate="${value}">
<td><input type="checkbox" name="pick" value="${value}" aria-label="pick ${cleanText(u.handle, 60)}"${c.spamSignals.length === 0 ? raw(' checked') : ''}></td>
<td><span class="net">${networkName(group.account.network)}</span> @${group.account.handle}</td>
<td><strong>${cleanText(u.name, 80)}</strong> ${link === undefined ? cleanText(formatHandle(u.handle), 80) : html`<a href="${link}" rel="noopener noreferrer" target="_blank">${cleanText(formatHandle(u.handle), 80)}</a>`}<div class="bio">${cleanText(u.bio, 200)}</div></td>
<td>${facts.join(' · ')}</td>
<td>${c.spamSignals.map((s) => html`<span class="badge">${spamSignalLabel(s)}</span>`)}</td>
</tr>`;
    }),
  );
  const total = detail.candidates.reduce((n, g) => n + g.candidates.length, 0);
  const base = clientPath(clientId);
  const body = html`<p class="muted"><a href="/console">Clients</a> /</p>
<h1>${detail.client.name}</h1>
${flashBox(flash)}
${invite === undefined ? '' : html`<div class="card" data-invite><h2>Invite link</h2><p>Send this link to ${detail.client.name}. It works once and until ${new Date(invite.invite.expiresAt).toISOString().slice(0, 16).replace('T', ' ')} UTC${invite.invite.network === undefined ? '' : ` for ${networkName(invite.invite.network)}`}.</p><code class="link" data-invite-url>${invite.url}</code></div>`}
${detail.problems.map((p) => html`<span class="problem" data-problem="${p.kind}">${p.text}</span>`)}
<div class="row">
<form method="post" action="${base}/invites" data-form="invite">${csrfField(view)}<label class="field"><span>network</span><select name="network"><option value="">any (the client picks)</option><option value="x">X</option><option value="bluesky">Bluesky</option><option value="mastodon">Mastodon</option></select></label> <button type="submit" class="primary">Create invite</button></form>
<a class="button" href="${base}/audit">Audit log</a>
</div>
<details class="card"><summary>Branding of ${detail.client.name}'s invite pages</summary>
<form method="post" action="${base}/branding" data-form="branding">${csrfField(view)}<div class="row">
<label class="field"><span>display name</span><input type="text" name="displayName" maxlength="100"></label>
<label class="field"><span>accent colour (#rrggbb)</span><input type="text" name="accent" maxlength="7"></label>
<label class="field"><span>logo URL (https)</span><input type="text" name="logoUrl" maxlength="2048"></label>
</div><button type="submit">Save branding</button></form></details>
<div class="grid">${cards}</div>
<section class="card"><h2>Awaiting approval across all accounts (${total})</h2>
${
  total === 0
    ? html`<p class="muted">Nothing waits for approval.</p>`
    : html`<form method="post" action="${base}/decide" data-form="decide">${csrfField(view)}
<table><thead><tr><th></th><th>account</th><th>who</th><th>facts</th><th>signals</th></tr></thead><tbody>${candidates}</tbody></table>
<p class="row"><button type="submit" name="action" value="approve" class="primary">Approve ticked</button><button type="submit" name="action" value="skip">Decline ticked</button></p>
<p class="muted">Approving starts the promise clock now; the follow-backs are carried out paced and late, inside each account's caps.</p></form>`
}
</section>`;
  return page(200, detail.client.name, view.agency, body, { nav: consoleNav(view) });
}

export function oneSidedPage(
  view: ConsoleView,
  clientName: string,
  list: OneSidedPage,
  query: string,
  now: number,
  flash?: { ok?: string | undefined; error?: string | undefined },
  queue?: { open: readonly UnfollowItem[]; finished: readonly UnfollowItem[] } | undefined,
): WebPage {
  const a = list.account;
  const path = accountPath(a.clientId, a.accountId);
  const isX = a.network === 'x';
  const rows = list.entries.map((e) => {
    const link = profileUrl(a.network, e.user.handle);
    const facts: string[] = [];
    if (e.user.followersCount !== undefined) facts.push(`${formatCount(e.user.followersCount)} followers`);
    if (e.user.followingCount !== undefined) facts.push(`${formatCount(e.user.followingCount)} following`);
    return html`<tr data-one-sided="${e.user.id}">
<td>${isX ? '' : html`<input type="checkbox" name="target" value="${e.user.id}" form="unfollow-batch" aria-label="choose ${cleanText(e.user.handle, 60)}">`}</td>
<td><strong>${cleanText(e.user.name, 80)}</strong> ${link === undefined ? cleanText(formatHandle(e.user.handle), 80) : html`<a href="${link}" rel="noopener noreferrer" target="_blank">${cleanText(formatHandle(e.user.handle), 80)}</a>`}<div class="bio">${cleanText(e.user.bio, 160)}</div></td>
<td>${facts.join(' · ')}</td>
<td>${e.since === undefined ? html`<span class="muted">before followback saw it</span>` : `${Math.max(0, Math.floor((now - e.since) / 86_400_000))} days (followed back ${new Date(e.since).toISOString().slice(0, 10)})`}</td>
<td>${isX ? html`<form method="post" action="${path}/unfollow">${csrfField(view)}<input type="hidden" name="target" value="${e.user.id}"><button type="submit" class="danger">Unfollow</button></form>` : ''}</td>
</tr>`;
  });
  const pageLink = (n: number) =>
    `${path}/one-sided?page=${n}${query === '' ? '' : `&q=${encodeURIComponent(query)}`}`;
  const body = html`<p class="muted"><a href="/console">Clients</a> / <a href="${clientPath(a.clientId)}">${clientName}</a> /</p>
<h1>One-sided follows of @${a.handle} <span class="net">${networkName(a.network)}</span></h1>
${flashBox(flash)}
<p>People @${a.handle} follows who do not follow back: <strong data-total>${formatCount(list.total)}</strong>${query === '' ? '' : html`, <span data-matching>${formatCount(list.matching)}</span> matching “${query}”`}. followback never unfollows anyone on its own: only what you choose here.</p>
${isX ? html`<p class="problem" data-x-rule>On X each unfollow is one click for one person: X's developer rules forbid automated and bulk unfollowing, so there is no batch here.</p>` : html`<p class="muted">On ${networkName(a.network)} a chosen batch (up to 50) is carried out one by one, paced, inside the account's caps; what the caps do not allow now is queued and carried out on later ticks (below).</p>`}
${list.complete ? '' : html`<p class="problem">Both lists have not been read whole yet: the list fills in after the first full scans.</p>`}
<form method="get" action="${path}/one-sided" class="row"><label class="field"><span>search name, handle or id</span><input type="search" name="q" value="${query}" maxlength="100"></label><button type="submit">Search</button> <a class="button" href="${path}/one-sided.csv" data-link="csv">Export CSV</a></form>
<div class="card"><table data-one-sided-list><thead><tr><th></th><th>who</th><th>profile</th><th>one-sided for</th><th></th></tr></thead><tbody>${rows}</tbody></table>
<p class="pager">${list.page > 1 ? html`<a href="${pageLink(list.page - 1)}">← previous</a>` : ''}<span>page ${list.page} of ${list.pages}</span>${list.page < list.pages ? html`<a href="${pageLink(list.page + 1)}" data-link="next">next →</a>` : ''}</p>
${isX ? '' : html`<form method="post" action="${path}/unfollow" id="unfollow-batch">${csrfField(view)}<button type="submit" class="danger">Unfollow the chosen people</button></form>`}
</div>
${queue === undefined ? '' : unfollowQueueCard(a.network, queue)}`;
  return page(200, `One-sided follows of @${a.handle}`, view.agency, body, { nav: consoleNav(view) });
}

const UNFOLLOW_STATE_TEXT: Record<UnfollowItem['state'], string> = {
  queued: 'queued',
  in_progress: 'in progress',
  done: 'done',
  skipped: 'skipped',
};

/** The account's chosen unfollows: what waits for the caps, and what was done or skipped, and why. */
function unfollowQueueCard(
  network: Network,
  queue: { open: readonly UnfollowItem[]; finished: readonly UnfollowItem[] },
): SafeHtml {
  const when = (at: number | undefined) =>
    at === undefined ? '' : new Date(at).toISOString().slice(0, 16).replace('T', ' ');
  const rowOf = (item: UnfollowItem) =>
    html`<tr data-unfollow="${item.targetId}" data-unfollow-state="${item.state}"><td>${item.handle === undefined ? item.targetId : cleanText(formatHandle(item.handle), 80)}</td><td><strong>${UNFOLLOW_STATE_TEXT[item.state]}</strong>${item.skipReason === undefined ? '' : html`: ${UNFOLLOW_SKIP_TEXT[item.skipReason]}`}</td><td>${when(item.queuedAt)}</td><td>${when(item.doneAt)}</td><td>${item.queuedBy.kind === 'console' ? item.queuedBy.id : item.queuedBy.kind}</td></tr>`;
  const rows = [...queue.open, ...queue.finished].map(rowOf);
  return html`<div class="card" data-unfollow-queue><h2>Chosen unfollows: <span data-queued>${formatCount(queue.open.length)}</span> queued, <span data-done>${formatCount(queue.finished.filter((i) => i.state === 'done').length)}</span> done</h2>
<p class="muted">What the caps do not allow at once waits here and is carried out on later ticks, one by one under ${networkName(network)}'s caps (shared with follow-backs). Someone who follows back by then, whom the owner re-followed or unfollowed by hand, or whose account is gone, is skipped with the reason.</p>
${rows.length === 0 ? html`<p class="muted">Nothing chosen yet.</p>` : html`<table><thead><tr><th>who</th><th>state</th><th>chosen (UTC)</th><th>done (UTC)</th><th>chosen by</th></tr></thead><tbody>${rows}</tbody></table>`}
</div>`;
}

export function auditPage(
  view: ConsoleView,
  clientId: string,
  clientName: string,
  entries: readonly AuditEntry[],
  retentionDays: number,
): WebPage {
  const rows = entries.map(
    (e) =>
      html`<tr data-audit="${e.action}"><td>${new Date(e.at).toISOString().slice(0, 19).replace('T', ' ')}</td><td data-actor="${e.actor.kind}">${actorLabel(e.actor)}</td><td><strong>${e.action}</strong></td><td>${e.accountId ?? ''}</td><td>${e.detail}</td></tr>`,
  );
  const body = html`<p class="muted"><a href="/console">Clients</a> / <a href="${clientPath(clientId)}">${clientName}</a> /</p>
<h1>Audit log</h1>
<p class="muted">Every approval, decline, unfollow, invite, connect and settings change, with who and when (UTC); kept ${retentionDays} days. <a href="${clientPath(clientId)}/audit.csv" data-link="audit-csv">Export CSV</a></p>
<div class="card"><table data-audit-log><thead><tr><th>when</th><th>who</th><th>what</th><th>account</th><th>detail</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  return page(200, 'Audit log', view.agency, body, { nav: consoleNav(view) });
}

export function noticePage(
  status: number,
  title: string,
  message: string,
  branding: Branding,
  extra?: SafeHtml,
): WebPage {
  return page(
    status,
    title,
    branding,
    html`<div class="notice"><h1>${title}</h1><p>${message}</p>${extra ?? ''}</div>`,
  );
}

// ---------------------------------------------------------------------------------------------
// Invite pages (the client's browser)

export interface InviteView {
  agency: Branding;
  client: Branding;
  /** The signed invite token (the forms post it back). */
  token: string;
  csrf: string;
  networks: readonly Network[];
  action: string;
  error?: string | undefined;
}

export function invitePage(view: InviteView): WebPage {
  const field = html`<input type="hidden" name="i" value="${view.token}"><input type="hidden" name="csrf" value="${view.csrf}">`;
  const x = html`<section class="card" data-network="x"><h2>X</h2><p>You sign in on X itself and allow followback to read your followers and follow back the people you approve. Your X password never comes here.</p>
<form method="post" action="${view.action}/start">${field}<input type="hidden" name="network" value="x"><button type="submit" class="primary">Connect X</button></form></section>`;
  const mastodon = html`<section class="card" data-network="mastodon"><h2>Mastodon</h2><p>Say which server your account is on; you sign in there and allow followback to read your followers and follow back.</p>
<form method="post" action="${view.action}/start">${field}<input type="hidden" name="network" value="mastodon"><label class="field"><span>your server (e.g. mastodon.social)</span><input type="text" name="instance" required maxlength="253"></label><button type="submit" class="primary">Connect Mastodon</button></form></section>`;
  const bluesky = html`<section class="card" data-network="bluesky"><h2>Bluesky</h2>
<p>Bluesky connects apps with an <strong>app password</strong>, not your account password. Make one in the Bluesky app under <em>Settings → Privacy and security → App passwords → Add App Password</em>, name it “followback”, and paste it here. It looks like <code>xxxx-xxxx-xxxx-xxxx</code>.</p>
<p class="muted">Why not your password: an app password can do less, you can revoke it on its own at any time without changing your password, and followback never sees your real one. It is encrypted as soon as it arrives and never written to a log.</p>
<form method="post" action="${view.action}/bluesky" autocomplete="off">${field}<label class="field"><span>your handle (e.g. shop.bsky.social)</span><input type="text" name="identifier" required maxlength="253"></label><label class="field"><span>app password</span><input type="password" name="appPassword" required maxlength="19" autocomplete="off"></label><button type="submit" class="primary">Connect Bluesky</button></form></section>`;
  const sections = { x, mastodon, bluesky } as const;
  const body = html`<p class="muted" data-agency>${view.agency.name} invites</p>
<h1 data-client-name>${view.client.name}</h1>
<p>to connect an account to followback, which follows back your new followers for you, at a human pace, and sends you a weekly summary.</p>
${view.error === undefined ? '' : html`<div class="error" role="alert" data-error>${view.error}</div>`}
<div class="grid">${view.networks.map((n) => sections[n])}</div>
<p class="muted">This link works once. You can disconnect at any time by revoking followback's access in your network's settings.</p>`;
  return page(
    view.error === undefined ? 200 : 400,
    `Connect an account for ${view.client.name}`,
    view.client,
    body,
  );
}

/**
 * The step from the invite page to the network's sign-in. A 303 after the form would be blocked by
 * the CSP's form-action (which also governs the redirect after a form), so this page sends the
 * browser on with a meta refresh, and a link for when it does not.
 */
export function continueToNetworkPage(client: Branding, network: Network, url: string): WebPage {
  const target = safeHttpUrl(url) ?? '/';
  return page(
    200,
    `Continue to ${networkName(network)}`,
    client,
    html`<div class="notice" data-continue="${network}"><h1>Taking you to ${networkName(network)}…</h1><p>Sign in there and allow followback; you come back here when it is done.</p><p><a class="button primary" href="${target}" rel="noreferrer">Continue to ${networkName(network)}</a></p></div>`,
    { head: html`<meta http-equiv="refresh" content="0;url=${target}">` },
  );
}

export function inviteDonePage(
  agency: Branding,
  client: Branding,
  network: Network,
  handle: string,
): WebPage {
  return page(
    200,
    'Connected',
    client,
    html`<div class="notice" data-connected="${network}"><p class="muted">${agency.name}</p><h1>Connected: ${networkName(network)} @${handle}</h1><p>Thank you. ${client.name}'s account is connected; ${agency.name} takes it from here. You can close this page.</p></div>`,
  );
}
