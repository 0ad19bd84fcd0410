/**
 * The agency roll-up as plain text and as an HTML email (the layout of the digest's).
 */
import {
  formatCount,
  formatCounted,
  formatHandle,
  formatPct,
  formatSigned,
  networkName,
} from '../../domain/digest/format.ts';
import { cleanText } from '../../domain/digest/html.ts';
import {
  problemLabel,
  ROLLUP_PROBLEM_SEVERITY,
  type RollupModel,
  type RollupRow,
  rollupSubject,
  worst,
} from '../../domain/digest/rollup.ts';
import { html, joinHtml } from '../html.ts';
import { badge, COLOURS, emailDocument, FONT, muted, row } from './render-html.ts';

function rowFacts(r: RollupRow, locale: string): string {
  if (r.accountId === '') return 'no accounts connected';
  const parts = [
    `${formatCount(r.followersNow, locale)} followers (${formatSigned(r.netChange, locale)})`,
    `${formatCounted(r.followBacksDone, 'follow-back', locale)}`,
    `promise ${formatPct(r.promiseKeptPct)}`,
  ];
  if (r.awaitingApproval > 0) parts.push(`${formatCount(r.awaitingApproval, locale)} awaiting approval`);
  if (r.atRiskCount > 0) parts.push(`${formatCount(r.atRiskCount, locale)} at risk`);
  if (r.failures > 0) parts.push(`${formatCount(r.failures, locale)} failed`);
  return parts.join(', ');
}

function accountLabel(r: RollupRow): string {
  return r.network === null ? '' : `${networkName(r.network)} ${cleanText(formatHandle(r.handle), 60)}`;
}

/** The roll-up as plain text: one line per client and account. */
export function renderRollupText(model: RollupModel): string {
  const { locale } = model.agency;
  const t = model.totals;
  const out = [
    rollupSubject(model),
    '',
    `${formatCounted(t.clients, 'client', locale)}, ${formatCounted(t.accounts, 'account', locale)}, ${formatCounted(t.newFollowers, 'new follower', locale)}, ${formatCounted(t.followBacksDone, 'follow-back', locale)}, ${formatCount(t.awaitingApproval, locale)} awaiting approval.`,
    '',
  ];
  for (const r of model.rows) {
    const problems = r.problems.length === 0 ? 'ok' : r.problems.map(problemLabel).join(', ').toUpperCase();
    out.push(
      `[${problems}] ${cleanText(r.clientName, 60)}${r.network === null ? '' : ` / ${accountLabel(r)}`}: ${rowFacts(r, locale)}`,
    );
  }
  out.push('', `Times are in ${model.agency.timeZone}.`);
  return `${out.join('\n')}\n`;
}

/** The roll-up as an HTML email: a table, problem rows first and tinted. */
export function renderRollupHtml(model: RollupModel): string {
  const { locale } = model.agency;
  const t = model.totals;
  const lines = model.rows.map((r) => {
    const tint =
      r.problems.length === 0 ? COLOURS.card : worst(r.problems) >= 40 ? COLOURS.badBg : COLOURS.warnBg;
    const badges =
      r.problems.length === 0
        ? badge('OK')
        : r.problems.map((p) => badge(problemLabel(p), ROLLUP_PROBLEM_SEVERITY[p] >= 40 ? 'bad' : 'warn'));
    const account =
      r.network === null ? '' : html`<br><span style="color:${COLOURS.muted};">${accountLabel(r)}</span>`;
    return html`<tr data-client-id="${r.clientId}" data-account-id="${r.accountId}" data-problems="${r.problems.join(' ')}"><td bgcolor="${tint}" valign="top" style="padding:8px;border-bottom:1px solid ${COLOURS.border};background-color:${tint};${FONT}font-size:13px;line-height:18px;color:${COLOURS.text};"><strong>${cleanText(r.clientName, 60)}</strong>${account}</td><td bgcolor="${tint}" valign="top" style="padding:8px;border-bottom:1px solid ${COLOURS.border};background-color:${tint};${FONT}font-size:13px;line-height:18px;color:${COLOURS.text};">${badges}<br>${rowFacts(r, locale)}</td></tr>`;
  });
  const summary = `${formatCounted(t.clients, 'client', locale)} · ${formatCounted(t.accounts, 'account', locale)} · ${formatCounted(t.newFollowers, 'new follower', locale)} · ${formatCounted(t.followBacksDone, 'follow-back', locale)} · ${formatCount(t.awaitingApproval, locale)} awaiting approval`;
  const rows = [
    row(
      html`<div style="font-size:12px;color:${COLOURS.muted};text-transform:uppercase;letter-spacing:0.04em;">${cleanText(model.agency.name, 100)}</div><h1 style="margin:4px 0 2px 0;${FONT}font-size:22px;line-height:28px;color:${COLOURS.text};">Agency roll-up</h1><div style="font-size:14px;color:${COLOURS.muted};">${model.period.label}</div>${muted(summary)}`,
      '24px 24px 8px 24px',
    ),
    row(
      html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" data-section="rollup">${lines}</table>`,
      '8px 24px 16px 24px',
    ),
    row(muted(`Times are in ${model.agency.timeZone}.`), '8px 24px 24px 24px'),
  ];
  return emailDocument({
    title: rollupSubject(model),
    preheader: summary,
    rows: joinHtml(rows, '\n'),
  }).toString();
}
