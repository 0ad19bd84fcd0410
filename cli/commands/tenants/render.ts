import type { AccountRecord, ClientRecord } from '../../../shared/domain/account.ts';
import type { FieldChange, Plan, PlanStep } from '../../../shared/domain/tenants/plan.ts';
import { UNKNOWN_PLATFORM_USER_ID, weekdayName } from '../../../shared/domain/tenants/tenant.ts';

/** How the tenant commands show things to people (JSON output is the records themselves). */

export function value(v: unknown): string {
  if (v === undefined) return '(none)';
  return JSON.stringify(v);
}

export function renderChanges(changes: readonly FieldChange[], indent = '    '): string[] {
  return changes.map((change) =>
    change.from === undefined
      ? `${indent}+ ${change.path}: ${value(change.to)}`
      : change.to === undefined
        ? `${indent}- ${change.path}: ${value(change.from)}`
        : `${indent}~ ${change.path}: ${value(change.from)} -> ${value(change.to)}`,
  );
}

function stepTitle(step: PlanStep): string {
  const what =
    step.kind === 'client' ? `client ${step.clientId}` : `account ${step.ref.clientId}/${step.ref.accountId}`;
  switch (step.op) {
    case 'create':
      return `+ create ${what}`;
    case 'update':
      return `~ update ${what}`;
    case 'remove':
      return step.kind === 'client'
        ? `- remove ${what}`
        : `- remove ${what} (@${step.current?.handle} on ${step.current?.network}, with its data and tokens)`;
    case 'keep':
      return `= keep ${what}: not in the file (--prune removes it${step.kind === 'client' ? ', its accounts, their data and tokens' : ', its data and tokens'})`;
  }
}

/** The plan as lines: one title per step, then its field changes (created records show every field). */
export function renderPlan(plan: Plan): string[] {
  const lines: string[] = [];
  for (const step of plan.steps) {
    lines.push(stepTitle(step));
    if (step.op === 'create' || step.op === 'update') lines.push(...renderChanges(step.changes));
  }
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
    client.clientId.padEnd(16),
    client.name.padEnd(24),
    client.timeZone.padEnd(20),
    `${weekdayName(client.digestWeekday)} ${String(client.digestHour ?? 8).padStart(2, '0')}:00`.padEnd(10),
    String(accounts).padStart(8),
    `  ${client.digestEmails.join(', ') || '-'}`,
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
    `${account.clientId}/${account.accountId}`.padEnd(28),
    account.network.padEnd(9),
    `@${account.handle}`.padEnd(22),
    (account.platformUserId === UNKNOWN_PLATFORM_USER_ID ? '-' : account.platformUserId).padEnd(20),
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
  return `connect it: followback connect ${account.network} --client ${account.clientId} --account ${account.accountId}`;
}
