import { DynamoConsoleStore } from '../../shared/adapters/dynamo/console-store.ts';
import { auditDecision } from '../../shared/app/console/audit.ts';
import { decideApprovals, listCandidates } from '../../shared/app/engine/approve.ts';
import { policyOf } from '../../shared/app/engine/policy-of.ts';
import { type AccountStatusReport, accountStatus } from '../../shared/app/engine/status.ts';
import { needsConnect } from '../../shared/domain/account.ts';
import { formatDuration, networkName } from '../../shared/domain/digest/format.ts';
import { type FollowTask, SKIP_REASON_TEXT } from '../../shared/domain/engine/task.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { openContext, printJson, type StoreOptions, selectAccounts } from '../context.ts';
import { counted, localTime, thousands, usd } from '../format.ts';
import { field, say } from '../output.ts';
import { connectHint } from './tenants/render.ts';

interface Selection extends StoreOptions {
  client?: string;
  account?: string;
  json?: boolean;
}

/** `followback status`: per account, followers, tasks by state, approvals, next actions, promise kept, forecast. */
export async function statusCommand(options: Selection): Promise<void> {
  const context = await openContext(options);
  try {
    const accounts = await selectAccounts(context.store, options);
    const now = context.clock.now();
    const reports: Array<{ account: (typeof accounts)[number]; report: AccountStatusReport }> = [];
    for (const account of accounts) {
      reports.push({
        account,
        report: await accountStatus(account, { tasks: context.store, state: context.store }, now),
      });
    }
    if (options.json) return printJson({ at: now, accounts: reports.map(({ report }) => report) });
    if (reports.length === 0) {
      say(`no accounts in the ${context.where}\n`);
      return;
    }
    for (const { account, report } of reports) {
      say(`${statusLines(report, policyOf(account).timeZone, now).join('\n')}\n\n`);
    }
  } finally {
    await context.close();
  }
}

/** One account's status for people: counts with separators, times in the account's zone, X's read spend. */
export function statusLines(r: AccountStatusReport, timeZone: string, now: number): string[] {
  const f = r.forecast;
  const at = (ms: number | undefined | null) => localTime(ms, timeZone);
  const row = (label: string, value: string) => `  ${label.padEnd(18)} ${value}`;
  const tasks = Object.entries(r.tasks)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${state.replace('_', ' ')} ${thousands(n)}`)
    .join(', ');
  const skips = Object.entries(r.skipsByReason)
    .map(
      ([reason, n]) =>
        `${thousands(n)} ${SKIP_REASON_TEXT[reason as keyof typeof SKIP_REASON_TEXT] ?? reason}`,
    )
    .join('; ');
  const reads = r.reads;
  return [
    `${field(r.clientId)}/${field(r.accountId)}  @${field(r.handle, 80)} on ${networkName(r.network)}  (${r.status.replace('_', ' ')}, mode ${r.mode}; times in ${timeZone})`,
    ...r.warnings.map((warning) => `  note: ${field(warning)}`),
    row('followers', r.followers === null ? 'not observed yet' : thousands(r.followers)),
    ...(r.snapshot !== null && r.snapshot !== 'complete' ? [row('snapshot', SNAPSHOT_TEXT[r.snapshot])] : []),
    row('tasks', tasks || 'none'),
    row('awaiting approval', thousands(r.awaitingApproval)),
    row('skips', skips || 'none'),
    row(
      'promise kept',
      r.promiseKeptPct === null
        ? 'nothing judged yet'
        : `${r.promiseKeptPct}% of ${counted(r.promisesJudged, 'follow-back')}`,
    ),
    row(
      'next actions',
      r.nextActions.map((a) => `@${field(a.handle || a.targetId, 40)} at ${at(a.dueAt)}`).join(', ') ||
        'none',
    ),
    ...(r.network === 'x'
      ? [
          row(
            'X reads',
            `${usd(reads.monthUsd)} this month of ${usd(reads.budgetUsdPerMonth)}${r.readsThisMonth.billedUsers > 0 ? ` (${counted(r.readsThisMonth.billedUsers, 'user')} billed)` : ''}; today ${thousands(reads.requestsToday)} of ${counted(reads.requestsPerDay, 'request')}, ${counted(reads.usersToday, 'user')} read`,
          ),
        ]
      : []),
    ...(reads.pausedUntil !== null && reads.pausedUntil > now
      ? [row('reads paused', `a read cap is spent: until ${at(reads.pausedUntil)}`)]
      : []),
    f.atRisk > 0
      ? row(
          'forecast',
          `${counted(f.atRisk, 'promise')} at risk, the worst ${formatDuration(f.maxLatenessMs)} late; backlog done by ${at(f.promisedCompletionAt)}`,
        )
      : row('forecast', `every open promise kept (${thousands(f.onTime)} on time)`),
    ...(r.blockedUntil && r.blockedUntil > now ? [row('rate limited', `until ${at(r.blockedUntil)}`)] : []),
  ];
}

/** What a snapshot that is not the whole list means to the operator. */
const SNAPSHOT_TEXT = {
  partial: 'not the whole list yet: only followers seen since connection (a full scan is to come)',
  drifted: "the owner's count is off the snapshot: some who left are not named yet",
} as const;

interface ApproveOptions extends Selection {
  approve?: string;
  skip?: string;
}

function idList(value: string | undefined, flag: string): string[] {
  if (value === undefined) return [];
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  for (const id of ids) {
    if (!/^[\w:.@-]{1,256}$/.test(id)) {
      throw new ValidationError(`${flag}: "${field(id, 80)}" is neither a user id nor a handle`);
    }
  }
  return ids;
}

const bareHandle = (handle: string) => handle.trim().replace(/^@+/, '').toLowerCase();

/**
 * The candidates' ids for what the operator typed: a user id, or a handle (with or without @, any
 * case) of someone waiting. What matches nobody waiting is returned as unknown, as typed.
 */
export function resolveCandidates(
  typed: readonly string[],
  waiting: readonly FollowTask[],
): { ids: string[]; unknown: string[] } {
  const ids: string[] = [];
  const unknown: string[] = [];
  for (const entry of typed) {
    const byId = waiting.find((task) => task.targetId === entry);
    const byHandle = byId ?? waiting.find((task) => bareHandle(task.profile.handle) === bareHandle(entry));
    if (byHandle === undefined) unknown.push(entry);
    else if (!ids.includes(byHandle.targetId)) ids.push(byHandle.targetId);
  }
  return { ids, unknown };
}

/** Nothing the command was asked to do was done: exit 1 with the reason. */
export class NothingDoneError extends ValidationError {
  override readonly name = 'NothingDoneError';
}

function candidateLines(task: FollowTask, now: number, prefix = ''): string {
  const p = task.profile;
  const signals = task.signals.map((s) => field(s.detail, 200)).join('; ');
  return (
    `${prefix}${field(task.targetId, 256)}  @${field(p.handle, 80)} (${field(p.name, 80)})  ${counted(p.followersCount, 'follower')}, ${p.followingCount === undefined ? '? following' : `${thousands(p.followingCount)} following`}` +
    `${p.protected ? ', protected' : ''}; waiting ${formatDuration(now - task.detectedAt)}\n    ${field(p.bio, 140) || '(no bio)'}` +
    `${signals ? `\n    signals: ${signals}` : ''}\n`
  );
}

const CLI_ACTOR = { kind: 'cli', id: 'cli' } as const;

/**
 * `followback approve`: list candidates with the facts that matter (one account, or every account
 * of a client); approve or skip one, several, or all, by id or by handle.
 */
export async function approveCommand(options: ApproveOptions): Promise<void> {
  if (!options.client) throw new ValidationError('approve needs --client (and --account to decide)');
  const approveAll = options.approve === 'all';
  const approve = approveAll ? [] : idList(options.approve, '--approve');
  const skip = idList(options.skip, '--skip');
  const deciding = approveAll || approve.length > 0 || skip.length > 0;
  if (deciding && !options.account) {
    throw new ValidationError('approve: to approve or skip, name the account with --account', {
      details: { hint: `see who waits where: followback approve --client ${field(options.client)}` },
    });
  }
  const context = await openContext(options);
  try {
    const accounts = await selectAccounts(context.store, options);
    const now = context.clock.now();
    if (!deciding) {
      const lists = [];
      for (const account of accounts) {
        lists.push({ account, candidates: await listCandidates(context.store, account) });
      }
      if (options.json) {
        return printJson({
          at: now,
          accounts: lists.map(({ account, candidates }) => ({
            account: `${account.clientId}/${account.accountId}`,
            network: account.network,
            handle: account.handle,
            candidates: candidates.map((task) => ({ ...task, waitingMs: now - task.detectedAt })),
          })),
          // One account asked for: its candidates at the top level too, as before.
          ...(options.account && lists[0] ? { candidates: lists[0].candidates } : {}),
        });
      }
      const total = lists.reduce((sum, l) => sum + l.candidates.length, 0);
      if (total === 0) {
        say(
          `nobody is waiting for approval${options.account ? '' : ` in any account of ${field(options.client)}`}\n`,
        );
        return;
      }
      for (const { account, candidates } of lists) {
        if (candidates.length === 0) continue;
        if (!options.account) {
          say(
            `${field(account.clientId)}/${field(account.accountId)}  @${field(account.handle, 80)} on ${account.network}: ${candidates.length} waiting\n`,
          );
        }
        for (const task of candidates) say(candidateLines(task, now, options.account ? '' : '  '));
        if (!options.account) say('\n');
      }
      say(
        `\n${total} waiting. Approve with --account A --approve <id or @handle,...> or --approve all; skip with --skip <id or @handle,...>.\n`,
      );
      return;
    }
    const [account] = accounts;
    if (!account) throw new ValidationError(`no account ${options.client}/${options.account}`);
    const waiting = await listCandidates(context.store, account, 5000);
    const approved = resolveCandidates(approve, waiting);
    const skipped = resolveCandidates(skip, waiting);
    const result = await decideApprovals(
      account,
      { approve: approveAll ? 'all' : approved.ids, skip: skipped.ids },
      { tasks: context.store, state: context.store, clock: context.clock },
    );
    // In the audit log as the console's decisions are: who (the CLI) and when.
    const audit = { audit: new DynamoConsoleStore(context.table), clock: context.clock };
    await auditDecision(audit, CLI_ACTOR, account, 'approve', result.approved);
    await auditDecision(audit, CLI_ACTOR, account, 'decline', result.skipped);
    const notWaiting = [...approved.unknown, ...skipped.unknown, ...result.notWaiting];
    const done = result.approved.length + result.skipped.length;
    const where = `${account.clientId}/${account.accountId}`;
    if (done === 0) {
      throw new NothingDoneError(
        notWaiting.length > 0
          ? `nothing changed: ${notWaiting.map((id) => field(id, 80)).join(', ')} ${notWaiting.length === 1 ? 'is' : 'are'} not waiting for approval in ${where}`
          : `nothing changed: nobody is waiting for approval in ${where}`,
        {
          details: {
            hint: `see who is waiting: followback approve --client ${account.clientId} --account ${account.accountId}`,
            notWaiting,
          },
        },
      );
    }
    if (options.json) return printJson({ ...result, notWaiting });
    say(
      `approved ${result.approved.length}, skipped ${result.skipped.length}` +
        (notWaiting.length
          ? `; not waiting for approval: ${notWaiting.map((id) => field(id, 80)).join(', ')}`
          : '') +
        '\n',
    );
  } finally {
    await context.close();
  }
}

/** `followback pause` / `resume`: stop or restart all work on an account. */
export async function setPausedCommand(options: Selection, paused: boolean): Promise<void> {
  if (!options.client || !options.account)
    throw new ValidationError(`${paused ? 'pause' : 'resume'} needs --client and --account`);
  const context = await openContext(options);
  try {
    const [account] = await selectAccounts(context.store, options);
    if (!account) throw new ValidationError(`no account ${options.client}/${options.account}`);
    if (!paused && needsConnect(account.status)) {
      throw new ValidationError(
        account.status === 'not_connected'
          ? 'the account was never connected: connect it (followback connect) instead of resuming'
          : 'the account token expired: reconnect it (followback connect) instead of resuming',
        { details: { hint: connectHint(account) } },
      );
    }
    const status = paused ? 'paused' : 'active';
    await context.store.putAccount({ ...account, status });
    if (options.json) return printJson({ account: `${account.clientId}/${account.accountId}`, status });
    say(`${account.clientId}/${account.accountId} is ${status}\n`);
  } finally {
    await context.close();
  }
}
