/**
 * The agency roll-up: one line per client and account across every client, for the operator,
 * problems first (reconnect needed, promise at risk, failures, promise missed, paused). The model
 * only: its renderings are in shared/presentation/digest/render-rollup.ts.
 */

import type { AccountStatus } from '../account.ts';
import type { Network } from '../network.ts';
import { assertTimeZone, DEFAULT_LOCALE, formatPeriodLabel } from './format.ts';
import type { DigestModel } from './model.ts';

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

/** The severity of a row's worst problem (0: none). */
export function worst(problems: readonly RollupProblem[]): number {
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
