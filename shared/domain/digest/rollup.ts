/**
 * The agency roll-up: one line per client and account across every client, for the operator,
 * problems first (reconnect needed, promise at risk, failures, promise missed, paused).
 */

import type { AccountStatus } from '../account.ts';
import type { Network } from '../network.ts';
import {
  assertTimeZone,
  DEFAULT_LOCALE,
  formatCount,
  formatCounted,
  formatHandle,
  formatPct,
  formatPeriodLabel,
  formatSigned,
  networkName,
} from './format.ts';
import { cleanText, escapeHtml, userText } from './html.ts';
import type { DigestModel } from './model.ts';
import { badge, COLOURS, emailDocument, FONT, muted, row } from './render-html.ts';

export type RollupProblem =
  | 'token_expired'
  | 'not_connected'
  | 'promise_at_risk'
  | 'failures'
  | 'promise_missed'
  | 'paused'
  | 'no_accounts';

/** Severity, highest first: the order problems are listed and rows are sorted by. */
export const ROLLUP_PROBLEM_SEVERITY: Readonly<Record<RollupProblem, number>> = {
  token_expired: 60,
  not_connected: 55,
  promise_at_risk: 50,
  failures: 40,
  promise_missed: 30,
  paused: 20,
  no_accounts: 10,
};

const PROBLEM_LABELS: Readonly<Record<RollupProblem, string>> = {
  token_expired: 'Reconnect needed',
  not_connected: 'Not connected: run followback connect',
  promise_at_risk: 'Promise at risk',
  failures: 'Failures',
  promise_missed: 'Promise missed',
  paused: 'Paused',
  no_accounts: 'No accounts',
};

export function problemLabel(problem: RollupProblem): string {
  return PROBLEM_LABELS[problem];
}

export interface RollupRow {
  clientId: string;
  clientName: string;
  /** Empty for a client without accounts. */
  accountId: string;
  network: Network | null;
  handle: string;
  status: AccountStatus | null;
  followersNow: number;
  netChange: number;
  newFollowers: number;
  followBacksDone: number;
  awaitingApproval: number;
  promiseKeptPct: number | null;
  atRiskCount: number;
  failures: number;
  /** Highest severity first; empty when all is well. */
  problems: RollupProblem[];
}

export interface RollupModel {
  agency: { name: string; senderAddress: string; timeZone: string; locale: string };
  period: { start: number; end: number; label: string };
  /** Problems first (by worst problem, then number of problems), then client name, then handle. */
  rows: RollupRow[];
  totals: {
    clients: number;
    accounts: number;
    rowsWithProblems: number;
    newFollowers: number;
    followBacksDone: number;
    awaitingApproval: number;
  };
}

export interface RollupInput {
  agency: { name: string; senderAddress: string; timeZone?: string | undefined; locale?: string | undefined };
  period: { start: number; end: number };
  digests: readonly DigestModel[];
  /** Below this promise kept %, the row gets `promise_missed` (default 95). */
  promiseTargetPct?: number | undefined;
}

function worst(problems: readonly RollupProblem[]): number {
  return problems.reduce((max, p) => Math.max(max, ROLLUP_PROBLEM_SEVERITY[p]), 0);
}

/** Builds the roll-up from the clients' digest models of the same period. */
export function buildRollup(input: RollupInput): RollupModel {
  const timeZone = input.agency.timeZone ?? 'UTC';
  assertTimeZone(timeZone, 'agency.timeZone');
  const locale = input.agency.locale ?? DEFAULT_LOCALE;
  const target = input.promiseTargetPct ?? 95;
  const rows: RollupRow[] = [];
  for (const d of input.digests) {
    if (d.accounts.length === 0) {
      rows.push({
        clientId: d.client.id,
        clientName: d.client.name,
        accountId: '',
        network: null,
        handle: '',
        status: null,
        followersNow: 0,
        netChange: 0,
        newFollowers: 0,
        followBacksDone: 0,
        awaitingApproval: 0,
        promiseKeptPct: null,
        atRiskCount: 0,
        failures: 0,
        problems: ['no_accounts'],
      });
      continue;
    }
    for (const a of d.accounts) {
      const problems: RollupProblem[] = [];
      if (a.status === 'token_expired') problems.push('token_expired');
      if (a.status === 'not_connected') problems.push('not_connected');
      if (a.atRisk !== null) problems.push('promise_at_risk');
      if (a.failures > 0) problems.push('failures');
      if (a.promiseKeptPct !== null && a.promiseKeptPct < target) problems.push('promise_missed');
      if (a.status === 'paused') problems.push('paused');
      problems.sort((x, y) => ROLLUP_PROBLEM_SEVERITY[y] - ROLLUP_PROBLEM_SEVERITY[x]);
      rows.push({
        clientId: d.client.id,
        clientName: d.client.name,
        accountId: a.accountId,
        network: a.network,
        handle: a.handle,
        status: a.status,
        followersNow: a.followersNow,
        netChange: a.netChange,
        newFollowers: a.newFollowers.length,
        followBacksDone: a.followBacksDone.length,
        awaitingApproval: a.awaitingApproval.length,
        promiseKeptPct: a.promiseKeptPct,
        atRiskCount: a.atRisk?.count ?? 0,
        failures: a.failures,
        problems,
      });
    }
  }
  rows.sort(
    (x, y) =>
      worst(y.problems) - worst(x.problems) ||
      y.problems.length - x.problems.length ||
      x.clientName.localeCompare(y.clientName, 'en') ||
      x.handle.localeCompare(y.handle, 'en') ||
      (x.accountId < y.accountId ? -1 : x.accountId > y.accountId ? 1 : 0),
  );
  const accountRows = rows.filter((r) => r.accountId !== '');
  return {
    agency: { name: input.agency.name, senderAddress: input.agency.senderAddress, timeZone, locale },
    period: {
      start: input.period.start,
      end: input.period.end,
      label: formatPeriodLabel(input.period.start, input.period.end, timeZone, locale),
    },
    rows,
    totals: {
      clients: new Set(input.digests.map((d) => d.client.id)).size,
      accounts: accountRows.length,
      rowsWithProblems: rows.filter((r) => r.problems.length > 0).length,
      newFollowers: accountRows.reduce((s, r) => s + r.newFollowers, 0),
      followBacksDone: accountRows.reduce((s, r) => s + r.followBacksDone, 0),
      awaitingApproval: accountRows.reduce((s, r) => s + r.awaitingApproval, 0),
    },
  };
}

export function rollupSubject(model: RollupModel): string {
  const problems = model.totals.rowsWithProblems;
  const head = problems === 0 ? 'all well' : `${problems} need${problems === 1 ? 's' : ''} attention`;
  return `Agency roll-up, ${model.period.label}: ${head}`;
}

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
  const lines = model.rows
    .map((r) => {
      const tint =
        r.problems.length === 0 ? COLOURS.card : worst(r.problems) >= 40 ? COLOURS.badBg : COLOURS.warnBg;
      const badges =
        r.problems.length === 0
          ? badge('OK')
          : r.problems
              .map((p) => badge(problemLabel(p), ROLLUP_PROBLEM_SEVERITY[p] >= 40 ? 'bad' : 'warn'))
              .join('');
      return (
        `<tr data-client-id="${escapeHtml(r.clientId)}" data-account-id="${escapeHtml(r.accountId)}" data-problems="${escapeHtml(r.problems.join(' '))}">` +
        `<td bgcolor="${tint}" valign="top" style="padding:8px;border-bottom:1px solid ${COLOURS.border};background-color:${tint};${FONT}font-size:13px;line-height:18px;color:${COLOURS.text};">` +
        `<strong>${userText(r.clientName, 60)}</strong>${r.network === null ? '' : `<br><span style="color:${COLOURS.muted};">${escapeHtml(accountLabel(r))}</span>`}</td>` +
        `<td bgcolor="${tint}" valign="top" style="padding:8px;border-bottom:1px solid ${COLOURS.border};background-color:${tint};${FONT}font-size:13px;line-height:18px;color:${COLOURS.text};">${badges}<br>${escapeHtml(rowFacts(r, locale))}</td>` +
        '</tr>'
      );
    })
    .join('');
  const summary = `${formatCounted(t.clients, 'client', locale)} · ${formatCounted(t.accounts, 'account', locale)} · ${formatCounted(t.newFollowers, 'new follower', locale)} · ${formatCounted(t.followBacksDone, 'follow-back', locale)} · ${formatCount(t.awaitingApproval, locale)} awaiting approval`;
  const rows = [
    row(
      `<div style="font-size:12px;color:${COLOURS.muted};text-transform:uppercase;letter-spacing:0.04em;">${userText(model.agency.name, 100)}</div>` +
        `<h1 style="margin:4px 0 2px 0;${FONT}font-size:22px;line-height:28px;color:${COLOURS.text};">Agency roll-up</h1>` +
        `<div style="font-size:14px;color:${COLOURS.muted};">${escapeHtml(model.period.label)}</div>` +
        muted(escapeHtml(summary)),
      '24px 24px 8px 24px',
    ),
    row(
      `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" data-section="rollup">${lines}</table>`,
      '8px 24px 16px 24px',
    ),
    row(muted(`Times are in ${escapeHtml(model.agency.timeZone)}.`), '8px 24px 24px 24px'),
  ];
  return emailDocument({ title: rollupSubject(model), preheader: summary, rows: rows.join('\n') });
}
