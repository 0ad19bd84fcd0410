/** The audit log as the console shows and exports it. */
import { csvRow } from '../../domain/digest/render-csv.ts';
import type { AuditEntry, AuditStore } from '../../ports/console.ts';

export const AUDIT_CSV_HEADER = [
  'at',
  'client',
  'account',
  'network',
  'actor',
  'actor_id',
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
        e.action,
        (e.targets ?? []).join(' '),
        e.detail,
      ]),
    ),
  ].join('\r\n')}\r\n`;
}
