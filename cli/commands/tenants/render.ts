import type { AccountRecord, ClientRecord } from '../../../shared/domain/account.ts';
import { networkName } from '../../../shared/domain/digest/format.ts';
import type { FieldChange, Plan, PlanStep } from '../../../shared/domain/tenants/plan.ts';
import { UNKNOWN_PLATFORM_USER_ID, weekdayName } from '../../../shared/domain/tenants/tenant.ts';
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

export function clientLine(client: ClientRecord, accounts: number): string {
  return [
    field(client.clientId).padEnd(16),
    field(client.name, 60).padEnd(24),
    field(client.timeZone).padEnd(20),
    `${weekdayName(client.digestWeekday)} ${String(client.digestHour ?? 8).padStart(2, '0')}:00`.padEnd(10),
    String(accounts).padStart(8),
    `  ${client.digestEmails.map((e) => field(e)).join(', ') || '-'}`,
  ].join(' ');
}

export function clientHeader(): string {
  return [
    'client'.padEnd(16),
    'name'.padEnd(24),
    'time zone'.padEnd(20),
    'digest'.padEnd(10),
    'accounts'.padStart(8),
    '  digest to',
  ].join(' ');
}

export function accountLine(account: AccountRecord): string {
  const mode = (account.policy as { mode?: string } | undefined)?.mode ?? 'default';
  return [
    `${field(account.clientId)}/${field(account.accountId)}`.padEnd(28),
    account.network.padEnd(9),
    `@${field(account.handle, 80)}`.padEnd(22),
    (account.platformUserId === UNKNOWN_PLATFORM_USER_ID ? '-' : field(account.platformUserId)).padEnd(20),
    account.status.padEnd(14),
    mode,
  ].join(' ');
}

export function accountHeader(): string {
  return [
    'account'.padEnd(28),
    'network'.padEnd(9),
    'handle'.padEnd(22),
    'platform id'.padEnd(20),
    'status'.padEnd(14),
    'mode',
  ].join(' ');
}

/** What to tell the operator about an account that still needs `followback connect`. */
export function connectHint(account: AccountRecord): string {
  return `connect it: followback connect ${account.network} --client ${field(account.clientId)} --account ${field(account.accountId)}`;
}
