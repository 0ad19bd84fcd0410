/**
 * The audit log as the console shows and exports it, and the one way approvals and declines are
 * written to it, whoever made them: a console user, the digest's approval link, or the CLI.
 */
import type { AccountRecord } from '../../domain/account.ts';
import type { Actor, AuditEntry, AuditStore } from '../../ports/console.ts';
import { actorLabel } from '../../presentation/console/actor-label.ts';
import { csvRow } from '../../presentation/digest/render-csv.ts';

export { actorLabel };

/** Most target ids one entry keeps (the detail gives the full count). */
export const MAX_AUDIT_TARGETS = 500;

/**
 * Records an approval or a decline of `changed` on the account (nothing when nobody changed).
 * `key` makes it at most once (the approval link's token: a retried POST does not log it twice);
 * `at` defaults to now.
 */
export async function auditDecision(
  deps: { audit: AuditStore; clock: { now(): number } },
  actor: Actor,
  account: Pick<AccountRecord, 'clientId' | 'accountId' | 'network' | 'handle'>,
  action: 'approve' | 'decline',
  changed: readonly string[],
  options: { at?: number | undefined; key?: string | undefined; note?: string | undefined } = {},
): Promise<void> {
  if (changed.length === 0) return;
  const verb = action === 'approve' ? 'approved' : 'declined';
  const via = actor.kind === 'console' ? '' : ` through the ${actorLabel(actor)}`;
  await deps.audit.appendAudit(
    {
      at: options.at ?? deps.clock.now(),
      clientId: account.clientId,
      accountId: account.accountId,
      network: account.network,
      actor,
      action,
      targets: changed.slice(0, MAX_AUDIT_TARGETS),
      detail: `${changed.length} candidate(s) ${verb} on @${account.handle}${via}${options.note ? ` (${options.note})` : ''}`,
    },
    options.key === undefined ? {} : { key: options.key },
  );
}

export const AUDIT_CSV_HEADER = [
  'at',
  'client',
  'account',
  'network',
  'actor',
  'actor_id',
  'who',
  'action',
  'targets',
  'detail',
] as const;

export async function listAudit(audit: AuditStore, clientId: string, limit = 500): Promise<AuditEntry[]> {
  return audit.listAudit(clientId, { limit });
}

export function auditCsv(entries: readonly AuditEntry[]): string {
  return `${[
    csvRow([...AUDIT_CSV_HEADER]),
    ...entries.map((e) =>
      csvRow([
        new Date(e.at).toISOString(),
        e.clientId,
        e.accountId ?? '',
        e.network ?? '',
        e.actor.kind,
        e.actor.id,
        actorLabel(e.actor),
        e.action,
        (e.targets ?? []).join(' '),
        e.detail,
      ]),
    ),
  ].join('\r\n')}\r\n`;
}
