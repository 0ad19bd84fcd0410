import type { AccountRecord, ClientRecord } from '../../../shared/domain/account.ts';
import { networkName } from '../../../shared/domain/digest/format.ts';
import type { FieldChange, Plan, PlanStep } from '../../../shared/domain/tenants/plan.ts';
import { UNKNOWN_PLATFORM_USER_ID, weekdayName } from '../../../shared/domain/tenants/tenant.ts';
import { table, thousands } from '../../format.ts';
import { field } from '../../output.ts';

/** How the tenant commands show things to people (JSON output is the records themselves). */

export function value(v: unknown): string {
  if (v === undefined) return '(none)';
  return field(JSON.stringify(v), 1000);
}

export function renderChanges(changes: readonly FieldChange[], indent = '    '): string[] {
  return changes.map((change) =>
    change.from === undefined
      ? `${indent}+ ${field(change.path)}: ${value(change.to)}`
      : change.to === undefined
        ? `${indent}- ${field(change.path)}: ${value(change.from)}`
        : `${indent}~ ${field(change.path)}: ${value(change.from)} -> ${value(change.to)}`,
  );
}

function stepTitle(step: PlanStep): string {
  const what =
    step.kind === 'client'
      ? `client ${field(step.clientId)}`
      : `account ${field(step.ref.clientId)}/${field(step.ref.accountId)}`;
  switch (step.op) {
    case 'create':
      return step.kind === 'account' && step.desired?.status === 'not_connected'
        ? `+ create ${what} (@${field(step.desired.handle)} on ${networkName(step.desired.network)}; connect it once applied)`
        : `+ create ${what}`;
    case 'update':
      return `~ update ${what}`;
    case 'remove':
      return step.kind === 'client'
        ? `- remove ${what}`
        : `- remove ${what} (@${field(step.current?.handle)} on ${step.current?.network}, with its data and tokens)`;
    case 'keep':
      return `= keep ${what}: not in the file (--prune removes it${step.kind === 'client' ? ', its accounts, their data and tokens' : ', its data and tokens'})`;
  }
}

/**
 * The plan as lines: one title per step, then its field changes, in the file's words where the
 * plan carries them (`shown`: created records show what the file declares, not the defaults).
 */
export function renderPlan(plan: Plan & { shown?: readonly FieldChange[][] }): string[] {
  const lines: string[] = [];
  plan.steps.forEach((step, index) => {
    lines.push(stepTitle(step));
    if (step.op === 'create' || step.op === 'update')
      lines.push(...renderChanges(plan.shown?.[index] ?? step.changes));
  });
  const { create, update, remove, keep } = plan.summary;
  if (create + update + remove === 0) {
    lines.push(`No changes: the registry matches the file.${keep > 0 ? ` (${keep} kept outside it)` : ''}`);
  } else {
    lines.push(
      `Plan: ${create} to create, ${update} to update, ${remove} to remove${keep > 0 ? `, ${keep} kept outside the file` : ''}.`,
    );
  }
  return lines;
}

/** The clients as an aligned table (long ids and names cut with an ellipsis). */
export function clientTable(
  clients: readonly ClientRecord[],
  accountsOf: (clientId: string) => number,
): string[] {
  return table(
    [
      { title: 'client', max: 24 },
      { title: 'name', max: 32 },
      { title: 'time zone', max: 24 },
      { title: 'digest' },
      { title: 'accounts', align: 'right' },
      { title: 'digest to', max: 80 },
    ],
    clients.map((client) => [
      client.clientId,
      client.name,
      client.timeZone,
      `${weekdayName(client.digestWeekday)} ${String(client.digestHour ?? 8).padStart(2, '0')}:00`,
      thousands(accountsOf(client.clientId)),
      client.digestEmails.join(', ') || '-',
    ]),
  );
}

/** The accounts as an aligned table (long ids, handles and platform ids cut with an ellipsis). */
export function accountTable(accounts: readonly AccountRecord[]): string[] {
  return table(
    [
      { title: 'account', max: 36 },
      { title: 'network' },
      { title: 'handle', max: 32 },
      { title: 'platform id', max: 24 },
      { title: 'status' },
      { title: 'mode' },
    ],
    accounts.map((account) => [
      `${account.clientId}/${account.accountId}`,
      networkName(account.network),
      `@${account.handle}`,
      account.platformUserId === UNKNOWN_PLATFORM_USER_ID ? '-' : account.platformUserId,
      account.status.replace('_', ' '),
      (account.policy as { mode?: string } | undefined)?.mode ?? 'default',
    ]),
  );
}

/** What to tell the operator about an account that still needs `followback connect`. */
export function connectHint(account: AccountRecord): string {
  return `connect it: followback connect ${account.network} --client ${field(account.clientId)} --account ${field(account.accountId)}`;
}
