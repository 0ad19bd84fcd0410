/**
 * What the operator console shows, read-only: every client with its problems first, and one
 * client's accounts side by side with their candidates and chart. Built on the same use cases as
 * `followback status` (accountStatus) and the digest (follower samples, candidateOfTask).
 */
import type { AccountRecord, ClientRecord } from '../../domain/account.ts';
import type { ApprovalCandidate, WeeklyPoint } from '../../domain/digest/model.ts';
import { WEEK_MS, weeklySeries } from '../../domain/digest/model.ts';
import type { DigestRun, DigestRunHistory, FollowerSampleStore } from '../../ports/digest-store.ts';
import type { AccountStateStore, RegistryStore } from '../../ports/store.ts';
import type { BucketStore, TaskStore } from '../../ports/tasks.ts';
import { candidateOfTask } from '../digest/users.ts';
import type { EngineSettings } from '../engine/policy-of.ts';
import { type AccountStatusReport, accountStatus } from '../engine/status.ts';
import { requireClient } from '../tenants/registry.ts';

export interface ConsoleReadDeps {
  store: RegistryStore & AccountStateStore & TaskStore & BucketStore;
  samples: FollowerSampleStore;
  /** The clients' digest runs: a failed latest send is a problem until a later one goes out. */
  runs?: DigestRunHistory | undefined;
  engine?: EngineSettings | undefined;
}

export type ProblemKind = 'reconnect' | 'promises_at_risk' | 'read_budget' | 'digest_failed';

export interface Problem {
  kind: ProblemKind;
  accountId?: string | undefined;
  text: string;
}

export interface AccountSummary {
  account: AccountRecord;
  report: AccountStatusReport;
  /** Followers now minus a week ago, when both are known. */
  netWeek: number | null;
  readBudgetUsd: number;
}

export interface ClientSummary {
  client: ClientRecord;
  accounts: AccountSummary[];
  problems: Problem[];
  followers: number;
  netWeek: number | null;
  promiseKeptPct: number | null;
  atRisk: number;
  spendUsd: number;
  awaitingApproval: number;
}

/** Share of the month's read budget at which spend counts as a problem. */
export const READ_BUDGET_WARNING = 0.8;

async function summarise(
  deps: ConsoleReadDeps,
  account: AccountRecord,
  now: number,
): Promise<AccountSummary> {
  const report = await accountStatus(
    account,
    { tasks: deps.store, state: deps.store, ...(deps.engine === undefined ? {} : { engine: deps.engine }) },
    now,
  );
  const samples = await deps.samples.listFollowerSamples(account, now - 8 * 86_400_000, now + 1);
  const weekAgo = samples.filter((s) => s.at <= now - WEEK_MS).at(-1);
  const netWeek =
    report.followers !== null && weekAgo !== undefined ? report.followers - weekAgo.followers : null;
  return { account, report, netWeek, readBudgetUsd: account.observe.readBudgetUsdPerMonth };
}

function problemsOf(accounts: readonly AccountSummary[]): Problem[] {
  const problems: Problem[] = [];
  for (const { account, report, readBudgetUsd } of accounts) {
    if (account.status === 'token_expired') {
      problems.push({
        kind: 'reconnect',
        accountId: account.accountId,
        text: `@${account.handle} needs to be connected again`,
      });
    }
    if (report.forecast.atRisk > 0) {
      problems.push({
        kind: 'promises_at_risk',
        accountId: account.accountId,
        text: `${report.forecast.atRisk} promise(s) of @${account.handle} at risk`,
      });
    }
    if (readBudgetUsd > 0 && report.readsThisMonthUsd >= READ_BUDGET_WARNING * readBudgetUsd) {
      problems.push({
        kind: 'read_budget',
        accountId: account.accountId,
        text: `@${account.handle} spent $${report.readsThisMonthUsd.toFixed(2)} of its $${readBudgetUsd.toFixed(2)} read budget`,
      });
    }
  }
  return problems;
}

/**
 * The client's digest problem, if any: the latest run that is not in progress decides. A refused
 * send (an SES error, a bad address) or one whose outcome is unknown is a problem until a later
 * period's digest is sent; a retry that succeeds for the same period clears it too.
 */
export function digestProblem(runs: readonly DigestRun[], now: number): Problem | undefined {
  const latest = runs.find((run) => run.state !== 'claimed' && run.state !== 'sending');
  if (latest === undefined || latest.state === 'sent') return undefined;
  const day = new Date(latest.periodStart).toISOString().slice(0, 10);
  const error = (latest.error ?? 'refused').replace(/[\p{Cc}]/gu, ' ').slice(0, 200);
  if (latest.state === 'uncertain') {
    return {
      kind: 'digest_failed',
      text: `the digest of the week from ${day} may not have been sent: ${error}`,
    };
  }
  const retry =
    latest.retryAt === undefined
      ? 'given up for that week'
      : latest.retryAt > now
        ? `retried from ${new Date(latest.retryAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`
        : 'retried on the next tick';
  return {
    kind: 'digest_failed',
    text: `the digest of the week from ${day} failed after ${latest.attempts} attempt(s) (${retry}): ${error}`,
  };
}

function sum(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
}

async function clientSummary(
  deps: ConsoleReadDeps,
  client: ClientRecord,
  now: number,
): Promise<ClientSummary> {
  const accounts = await Promise.all(
    (await deps.store.listAccounts(client.clientId))
      .sort((a, b) => (a.accountId < b.accountId ? -1 : 1))
      .map((account) => summarise(deps, account, now)),
  );
  const problems = problemsOf(accounts);
  const digest =
    deps.runs === undefined
      ? undefined
      : digestProblem(await deps.runs.listClientRuns(client.clientId, { limit: 5 }), now);
  if (digest !== undefined) problems.push(digest);
  const judged = accounts.reduce((n, a) => n + a.report.promisesJudged, 0);
  const kept = accounts.reduce(
    (n, a) => n + ((a.report.promiseKeptPct ?? 0) / 100) * a.report.promisesJudged,
    0,
  );
  return {
    client,
    accounts,
    problems,
    followers: accounts.reduce((n, a) => n + (a.report.followers ?? 0), 0),
    netWeek: sum(accounts.map((a) => a.netWeek)),
    promiseKeptPct: judged === 0 ? null : Math.floor((kept / judged) * 1000) / 10,
    atRisk: accounts.reduce((n, a) => n + a.report.forecast.atRisk, 0),
    spendUsd: accounts.reduce((n, a) => n + a.report.readsThisMonthUsd, 0),
    awaitingApproval: accounts.reduce((n, a) => n + a.report.awaitingApproval, 0),
  };
}

/** Every client, those with problems first (most problems first), then by name. */
export async function clientsOverview(deps: ConsoleReadDeps, now: number): Promise<ClientSummary[]> {
  const clients = await deps.store.listClients();
  const summaries = await Promise.all(clients.map((client) => clientSummary(deps, client, now)));
  return summaries.sort(
    (a, b) => b.problems.length - a.problems.length || a.client.name.localeCompare(b.client.name),
  );
}

export interface AccountCandidates {
  account: AccountRecord;
  candidates: ApprovalCandidate[];
}

export interface ClientDetail extends ClientSummary {
  chart: { accountId: string; handle: string; points: WeeklyPoint[] }[];
  candidates: AccountCandidates[];
}

/** Most candidates shown per account (the rest wait for the next page load). */
export const MAX_CONSOLE_CANDIDATES = 200;

export async function clientDetail(
  deps: ConsoleReadDeps,
  clientId: string,
  now: number,
): Promise<ClientDetail> {
  const client = await requireClient(deps.store, clientId);
  const summary = await clientSummary(deps, client, now);
  const chart = await Promise.all(
    summary.accounts.map(async ({ account, report }) => {
      const samples = await deps.samples.listFollowerSamples(account, now - 12 * WEEK_MS, now + 1);
      const series = samples.map((s) => ({ at: s.at, count: s.followers }));
      if (report.followers !== null) series.push({ at: now, count: report.followers });
      return { accountId: account.accountId, handle: account.handle, points: weeklySeries(series, now + 1) };
    }),
  );
  const candidates = await Promise.all(
    summary.accounts.map(async ({ account }) => ({
      account,
      candidates: (await deps.store.listAwaitingApproval(account, { limit: MAX_CONSOLE_CANDIDATES })).map(
        (entry) => candidateOfTask(entry.task),
      ),
    })),
  );
  return { ...summary, chart, candidates };
}
