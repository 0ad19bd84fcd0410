/**
 * The CSV attachment: one row per event of the period (RFC 4180: CRLF, fields quoted when they
 * hold a comma, semicolon, quote or line break). Names and bios come from strangers, so every cell
 * is cleaned (cleanText: no controls, no bidi controls, line breaks folded) and no part of it can
 * become a formula (OWASP "CSV injection"): a formula trigger (= + - @, or their full-width forms)
 * at the start of the cell, or after a comma or semicolon (where de-DE and fr-FR Excel split a
 * line that they do not read as comma-separated) gets an apostrophe before it, quotes and spaces
 * in between notwithstanding.
 */

import { formatCsvDate, formatDuration } from '../../domain/digest/format.ts';
import type { DigestModel } from '../../domain/digest/model.ts';
import { spamSignalLabel } from '../../domain/digest/model.ts';
import type { Network } from '../../domain/network.ts';
import { cleanText } from '../../domain/text.ts';

export type DigestEventType =
  | 'new_follower'
  | 'lost_follower'
  | 'followed_back'
  | 'skipped'
  | 'awaiting_approval';

/** One row of the CSV, before formatting. */
export interface DigestEvent {
  at: number;
  accountId: string;
  accountHandle: string;
  network: Network;
  type: DigestEventType;
  userId: string;
  handle: string;
  name: string;
  detail: string;
}

export const CSV_HEADER = [
  'date',
  'account',
  'network',
  'event',
  'user_id',
  'handle',
  'name',
  'detail',
] as const;

const EVENT_ORDER: Readonly<Record<DigestEventType, number>> = {
  new_follower: 0,
  followed_back: 1,
  awaiting_approval: 2,
  skipped: 3,
  lost_follower: 4,
};

/** Every event of the period, by time, then account, then kind, then user id. */
export function digestEvents(model: DigestModel): DigestEvent[] {
  const events: DigestEvent[] = [];
  model.accounts.forEach((a) => {
    const base = { accountId: a.accountId, accountHandle: a.handle, network: a.network };
    const push = (
      type: DigestEventType,
      at: number,
      user: { id: string; handle: string; name: string },
      detail: string,
    ) => events.push({ ...base, type, at, userId: user.id, handle: user.handle, name: user.name, detail });
    for (const f of a.newFollowers) {
      push(
        'new_follower',
        f.at,
        f.user,
        f.user.followersCount === undefined ? '' : `followers=${f.user.followersCount}`,
      );
    }
    for (const f of a.lost) push('lost_follower', f.at, f.user, '');
    for (const d of a.followBacksDone) {
      push('followed_back', d.at, d.user, `${d.outcome}; after ${formatDuration(d.at - d.followedAt)}`);
    }
    for (const s of a.skips) push('skipped', s.at, s.user, s.reason);
    for (const c of a.awaitingApproval) {
      push('awaiting_approval', c.at, c.user, c.spamSignals.map(spamSignalLabel).join('; '));
    }
  });
  const accountOrder = new Map(model.accounts.map((a, i) => [a.accountId, i]));
  return events.sort(
    (x, y) =>
      x.at - y.at ||
      (accountOrder.get(x.accountId) ?? 0) - (accountOrder.get(y.accountId) ?? 0) ||
      EVENT_ORDER[x.type] - EVENT_ORDER[y.type] ||
      (x.userId < y.userId ? -1 : x.userId > y.userId ? 1 : 0),
  );
}

/** Longest cell (a bio is far shorter; anything longer is cut with an ellipsis). */
const MAX_CELL_LENGTH = 2000;

/**
 * A formula trigger at the start of the text or of any part a spreadsheet could split off (after
 * a comma or a semicolon), possibly behind quotes and spaces.
 */
const FORMULA_TRIGGER = /(^|[,;])([\s"]*)(?=[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])/g;

/** Cleans the text, neutralises every formula trigger, then quotes when needed. */
export function csvCell(value: string | number | null | undefined): string {
  let text = cleanText(value, MAX_CELL_LENGTH).replace(FORMULA_TRIGGER, "$1$2'");
  if (/[",;]/.test(text)) text = `"${text.replace(/"/g, '""')}"`;
  return text;
}

export function csvRow(cells: readonly (string | number | null | undefined)[]): string {
  return cells.map(csvCell).join(',');
}

export interface CsvOptions {
  /** Start with a UTF-8 byte order mark so Excel reads accents and emoji right (default true). */
  bom?: boolean;
}

/** The week's changes as CSV text (CRLF line ends, dates in the client's zone with their offset). */
export function renderDigestCsv(model: DigestModel, options: CsvOptions = {}): string {
  const lines = [csvRow(CSV_HEADER)];
  for (const e of digestEvents(model)) {
    lines.push(
      csvRow([
        formatCsvDate(e.at, model.client.timeZone),
        e.accountHandle,
        e.network,
        e.type,
        e.userId,
        e.handle,
        e.name,
        e.detail,
      ]),
    );
  }
  return `${options.bom === false ? '' : '\uFEFF'}${lines.join('\r\n')}\r\n`;
}

/** A file name for the attachment, e.g. `acme-bakery-2026-03-02.csv`. */
export function digestCsvFilename(model: DigestModel): string {
  const slug =
    model.client.name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'digest';
  const start = formatCsvDate(model.period.start, model.client.timeZone).slice(0, 10);
  return `${slug}-${start}.csv`;
}
