/**
 * What the operator changes from the console: approvals across a client's accounts at once, and an
 * account's settings. Each goes through the same use case as the CLI (decideApprovals,
 * updateAccount, updateClient: the validation of clients.yaml) and is written to the audit log.
 */
import { digestSpecSchema } from '../../config/tenants.ts';
import * as z from '../../config/zod.ts';
import type { AccountRef } from '../../domain/account.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Actor, AuditStore } from '../../ports/console.ts';
import type { AccountStateStore } from '../../ports/store.ts';
import type { TaskStore } from '../../ports/tasks.ts';
import { decideApprovals } from '../engine/approve.ts';
import { requireAccount, type TenantStore, updateAccount, updateClient } from '../tenants/registry.ts';
import { auditDecision } from './audit.ts';

export interface DecisionDeps {
  store: TenantStore & TaskStore & AccountStateStore;
  audit: AuditStore;
  clock: Clock;
}

export interface BulkDecision {
  action: 'approve' | 'skip';
  /** `accountId` and target ids; every account must be the client's. */
  picks: readonly { accountId: string; targetId: string }[];
}

export interface BulkResult {
  perAccount: { accountId: string; changed: string[]; notWaiting: string[] }[];
  changed: number;
}

/** Most people one bulk decision covers. */
export const MAX_BULK_PICKS = 2000;

export async function decideAcrossAccounts(
  deps: DecisionDeps,
  actor: Actor,
  clientId: string,
  decision: BulkDecision,
): Promise<BulkResult> {
  if (decision.picks.length === 0) throw new ValidationError('pick at least one candidate');
  if (decision.picks.length > MAX_BULK_PICKS)
    throw new ValidationError(`at most ${MAX_BULK_PICKS} candidates at once`);
  const byAccount = new Map<string, string[]>();
  for (const pick of decision.picks) {
    const list = byAccount.get(pick.accountId) ?? [];
    list.push(pick.targetId);
    byAccount.set(pick.accountId, list);
  }
  // Every account first: one that is not the client's refuses the whole decision, nothing changed.
  const accounts = await Promise.all(
    [...byAccount.keys()].map((accountId) => requireAccount(deps.store, { clientId, accountId })),
  );
  const result: BulkResult = { perAccount: [], changed: 0 };
  for (const account of accounts) {
    const ids = [...new Set(byAccount.get(account.accountId) ?? [])];
    const outcome = await decideApprovals(
      account,
      decision.action === 'approve' ? { approve: ids, skip: [] } : { approve: [], skip: ids },
      { tasks: deps.store, state: deps.store, clock: deps.clock },
    );
    const changed = decision.action === 'approve' ? outcome.approved : outcome.skipped;
    result.perAccount.push({ accountId: account.accountId, changed, notWaiting: outcome.notWaiting });
    result.changed += changed.length;
    await auditDecision(deps, actor, account, decision.action === 'approve' ? 'approve' : 'decline', changed);
  }
  return result;
}

/** The settings form: strings as a browser sends them; empty means "leave as it is". */
export interface SettingsForm {
  mode?: string | undefined;
  acknowledgeXAutomationPolicy?: boolean | undefined;
  withinHours?: string | undefined;
  notBeforeHours?: string | undefined;
  per15Minutes?: string | undefined;
  perDay?: string | undefined;
  quietStart?: string | undefined;
  quietEnd?: string | undefined;
  digestDay?: string | undefined;
  digestHour?: string | undefined;
}

function numberField(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n))
    throw new ValidationError(`${name}: must be a number, got "${value.slice(0, 40)}"`, {
      details: { field: name },
    });
  return n;
}

/**
 * Applies the form to the account (policy) and its client (digest day and hour), with the
 * validation `clients.yaml` gets: a bad value names the field and nothing is written.
 */
export async function updateSettings(
  deps: DecisionDeps,
  actor: Actor,
  ref: AccountRef,
  form: SettingsForm,
): Promise<{ changed: string[] }> {
  const account = await requireAccount(deps.store, ref);
  const policy: Record<string, unknown> = {};
  if (form.mode !== undefined && form.mode !== '') policy.mode = form.mode;
  if (form.acknowledgeXAutomationPolicy !== undefined && account.network === 'x') {
    policy.acknowledgeXAutomationPolicy = form.acknowledgeXAutomationPolicy;
  }
  const within = numberField('promise.withinHours', form.withinHours);
  const notBefore = numberField('promise.notBeforeHours', form.notBeforeHours);
  if (within !== undefined || notBefore !== undefined) {
    policy.promise = {
      ...(within === undefined ? {} : { withinHours: within }),
      ...(notBefore === undefined ? {} : { notBeforeHours: notBefore }),
    };
  }
  const per15 = numberField('caps.per15Minutes', form.per15Minutes);
  const perDay = numberField('caps.perDay', form.perDay);
  if (per15 !== undefined || perDay !== undefined) {
    policy.caps = {
      ...(per15 === undefined ? {} : { per15Minutes: per15 }),
      ...(perDay === undefined ? {} : { perDay }),
    };
  }
  const start = form.quietStart?.trim() ?? '';
  const end = form.quietEnd?.trim() ?? '';
  if (start !== '' || end !== '') {
    policy.quietHours = start === 'none' || end === 'none' ? null : { start, end };
  }
  const digestHour = numberField('digest.hour', form.digestHour);
  const digestDay = form.digestDay?.trim() === '' ? undefined : form.digestDay?.trim();
  // Validate both before writing either: the digest fields here, the policy in updateAccount.
  if (digestHour !== undefined || digestDay !== undefined) {
    const parsed = z.partial(digestSpecSchema).safeParse({
      ...(digestDay === undefined ? {} : { day: digestDay }),
      ...(digestHour === undefined ? {} : { hour: digestHour }),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ValidationError(`digest.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`, {
        details: { field: `digest.${issue?.path.join('.') ?? ''}` },
      });
    }
  }
  const tenantDeps = { store: deps.store, clock: deps.clock };
  const changed: string[] = [];
  const accountResult = await updateAccount(
    tenantDeps,
    ref,
    Object.keys(policy).length === 0 ? {} : { policy },
  );
  changed.push(...accountResult.changes.map((c) => c.path));
  if (digestHour !== undefined || digestDay !== undefined) {
    const clientResult = await updateClient(tenantDeps, ref.clientId, {
      ...(digestDay === undefined ? {} : { digestDay }),
      ...(digestHour === undefined ? {} : { digestHour }),
    });
    changed.push(...clientResult.changes.map((c) => `client.${c.path}`));
  }
  if (changed.length > 0) {
    await deps.audit.appendAudit({
      at: deps.clock.now(),
      clientId: ref.clientId,
      accountId: ref.accountId,
      network: account.network,
      actor,
      action: 'settings',
      detail: `changed ${changed.join(', ')}`.slice(0, 500),
    });
  }
  return { changed };
}
