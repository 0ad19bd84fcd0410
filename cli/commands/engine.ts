import { decideApprovals, listCandidates } from '../../shared/app/engine/approve.ts';
import { type AccountStatusReport, accountStatus } from '../../shared/app/engine/status.ts';
import { SKIP_REASON_TEXT } from '../../shared/domain/engine/task.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { openContext, printJson, type StoreOptions, selectAccounts } from '../context.ts';
import { field, say } from '../output.ts';

interface Selection extends StoreOptions {
  client?: string;
  account?: string;
  json?: boolean;
}

const when = (ms: number | undefined | null) => (ms ? new Date(ms).toISOString().replace('.000Z', 'Z') : '-');
const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`;

/** `followback status`: per account, followers, tasks by state, approvals, next actions, promise kept, forecast. */
export async function statusCommand(options: Selection): Promise<void> {
  const context = await openContext(options);
  try {
    const accounts = await selectAccounts(context.store, options);
    const now = context.clock.now();
    const reports: AccountStatusReport[] = [];
    for (const account of accounts) {
      reports.push(await accountStatus(account, { tasks: context.store, state: context.store }, now));
    }
    if (options.json) return printJson({ at: now, accounts: reports });
    if (reports.length === 0) {
      say(`no accounts in the ${context.where}\n`);
      return;
    }
    for (const r of reports) {
      const f = r.forecast;
      say(
        `${[
          `${field(r.clientId)}/${field(r.accountId)}  @${field(r.handle)} on ${r.network}  (${r.status}, mode ${r.mode})`,
          ...r.warnings.map((warning) => `  note: ${field(warning)}`),
          `  followers        ${r.followers ?? 'not observed yet'}`,
          `  tasks            ${
            Object.entries(r.tasks)
              .filter(([, n]) => n > 0)
              .map(([state, n]) => `${state} ${n}`)
              .join(', ') || 'none'
          }`,
          `  awaiting approval ${r.awaitingApproval}`,
          `  skips            ${
            Object.entries(r.skipsByReason)
              .map(
                ([reason, n]) =>
                  `${n} ${SKIP_REASON_TEXT[reason as keyof typeof SKIP_REASON_TEXT] ?? reason}`,
              )
              .join('; ') || 'none'
          }`,
          `  promise kept     ${r.promiseKeptPct === null ? 'nothing judged yet' : `${r.promiseKeptPct}% of ${r.promisesJudged}`}`,
          `  next actions     ${r.nextActions.map((a) => `@${field(a.handle || a.targetId, 80)} at ${when(a.dueAt)}`).join(', ') || 'none'}`,
          f.atRisk > 0
            ? `  forecast         ${f.atRisk} promise(s) at risk, the worst ${hours(f.maxLatenessMs)} late; backlog done by ${when(f.promisedCompletionAt)}`
            : `  forecast         every open promise kept (${f.onTime} on time)`,
          r.blockedUntil && r.blockedUntil > now ? `  rate limited until ${when(r.blockedUntil)}` : '',
        ]
          .filter(Boolean)
          .join('\n')}\n\n`,
      );
    }
  } finally {
    await context.close();
  }
}

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
    if (!/^[\w:.@-]{1,256}$/.test(id)) throw new ValidationError(`${flag}: "${id}" is not a user id`);
  }
  return ids;
}

/** `followback approve`: list candidates with the facts that matter; approve or skip one, several, or all. */
export async function approveCommand(options: ApproveOptions): Promise<void> {
  if (!options.client || !options.account) throw new ValidationError('approve needs --client and --account');
  const approveAll = options.approve === 'all';
  const approve = approveAll ? 'all' : idList(options.approve, '--approve');
  const skip = idList(options.skip, '--skip');
  const context = await openContext(options);
  try {
    const [account] = await selectAccounts(context.store, options);
    if (!account) throw new ValidationError(`no account ${options.client}/${options.account}`);
    if (!approveAll && approve.length === 0 && skip.length === 0) {
      const candidates = await listCandidates(context.store, account);
      if (options.json) return printJson({ account: `${account.clientId}/${account.accountId}`, candidates });
      if (candidates.length === 0) {
        say('nobody is waiting for approval\n');
        return;
      }
      for (const task of candidates) {
        const p = task.profile;
        const signals = task.signals.map((s) => field(s.detail, 200)).join('; ');
        say(
          `${field(task.targetId, 256)}  @${field(p.handle, 80)} (${field(p.name, 80)})  ${p.followersCount ?? '?'} followers, ${p.followingCount ?? '?'} following` +
            `${p.protected ? ', protected' : ''}\n    ${field(p.bio, 140) || '(no bio)'}` +
            `${signals ? `\n    signals: ${signals}` : ''}\n`,
        );
      }
      say(
        `\n${candidates.length} waiting. Approve with --approve <id,id,...> or --approve all; skip with --skip <id,...>.\n`,
      );
      return;
    }
    const result = await decideApprovals(
      account,
      { approve, skip },
      {
        tasks: context.store,
        state: context.store,
        clock: context.clock,
      },
    );
    if (options.json) return printJson(result);
    say(
      `approved ${result.approved.length}, skipped ${result.skipped.length}` +
        (result.notWaiting.length
          ? `; not waiting for approval: ${result.notWaiting.map((id) => field(id, 256)).join(', ')}`
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
    if (!paused && account.status === 'token_expired') {
      throw new ValidationError(
        'the account token expired: reconnect it (followback connect) instead of resuming',
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
