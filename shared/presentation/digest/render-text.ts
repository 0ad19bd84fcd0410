/**
 * The digest's plain-text part: the same facts as the HTML, for clients that prefer text and for
 * spam filters that compare the two parts. Strangers' text is cleaned (newlines folded, control and
 * bidi characters dropped) so a bio cannot fake a line such as "Approve all: http://…".
 */

import {
  formatCount,
  formatCounted,
  formatDateTime,
  formatDay,
  formatDuration,
  formatHandle,
  formatPct,
  formatShortDay,
  formatSigned,
  networkName,
  profileUrlOf,
} from '../../domain/digest/format.ts';
import { cleanText, safeHttpUrl } from '../../domain/digest/html.ts';
import {
  type AccountDigest,
  approvalLinkScope,
  type DigestModel,
  type DigestUser,
  digestSubject,
  nothingConnectedLine,
  periodNoun,
  reasonLabel,
  spamSignalLabel,
  statusLabel,
} from '../../domain/digest/model.ts';
import type { Network } from '../../domain/network.ts';
import { renderChartText } from './render-chart.ts';
import { type ListLimits, listLimits, type RenderOptions } from './render-html.ts';

/** `Alice Example (@alice) · 1,234 followers` on one line. */
export function userTextLine(user: DigestUser, locale?: string, network?: Network): string {
  const name = cleanText(user.name, 80);
  const handle = cleanText(formatHandle(user.handle), 80);
  // No handle (a profile never read): the link by id, where the network has one, not "()".
  const link = handle === '' && network !== undefined ? profileUrlOf(network, user) : undefined;
  const who =
    handle === ''
      ? `${name}${link === undefined ? '' : ` ${link}`}`
      : name === ''
        ? handle
        : `${name} (${handle})`;
  return user.followersCount === undefined
    ? who
    : `${who} · ${formatCounted(user.followersCount, 'follower', locale)}`;
}

function underline(text: string, char: string): string {
  return `${text}\n${char.repeat(Math.min(72, [...text].length))}`;
}

function list(lines: string[], max: number, total: number, where: string): string[] {
  const out = lines.slice(0, max).map((l) => `  - ${l}`);
  if (total > Math.min(max, lines.length))
    out.push(`  …and ${formatCount(total - Math.min(max, lines.length))} more ${where}.`);
  return out;
}

function accountText(model: DigestModel, account: AccountDigest, options: ListLimits): string {
  const { timeZone, locale } = model.client;
  const noun = periodNoun(model.period);
  const out: string[] = [];
  out.push(
    underline(`${networkName(account.network)} · ${cleanText(formatHandle(account.handle), 80)}`, '-'),
  );
  if (account.status !== 'active') out.push(`Status: ${statusLabel(account.status)}`);
  if (account.status === 'token_expired') {
    out.push(
      `${networkName(account.network)} no longer accepts this account's access; it needs reconnecting.`,
    );
  }
  if (account.status === 'not_connected') {
    out.push(
      `This account has not been connected yet, so nothing is observed or followed back. ${cleanText(model.agency.name, 80)} connects it with your go-ahead (you sign in to ${networkName(account.network)} once).`,
    );
  }
  if (account.atRisk !== null) {
    const r = account.atRisk;
    out.push(
      `PROMISE AT RISK: ${formatCount(r.count, locale)} follow-back${r.count === 1 ? '' : 's'} may miss the promised window` +
        (r.earliestDueBy === undefined
          ? '.'
          : ` (earliest due ${formatDateTime(r.earliestDueBy, timeZone, locale)}).`) +
        (r.reason === undefined ? '' : ` ${cleanText(r.reason, 200)}`),
    );
  }
  out.push(
    `Followers: ${formatCount(account.followersNow, locale)} (${formatSigned(account.netChange, locale)} ${noun})`,
    `New followers: ${formatCount(account.newFollowers.length, locale)}`,
    `Follow-backs done: ${formatCount(account.followBacksDone.length, locale)}`,
    `Promise kept: ${formatPct(account.promiseKeptPct)}${account.promiseJudged > 0 ? ` of ${formatCount(account.promiseJudged, locale)} due` : ''}`,
    `Longest wait: ${formatDuration(account.longestDelayMs)}`,
  );
  const first = account.weeklyFollowers[0];
  const last = account.weeklyFollowers[account.weeklyFollowers.length - 1];
  if (first !== undefined && last !== undefined) {
    out.push(
      `Followers, ${account.weeklyFollowers.length} weeks (${formatShortDay(first.weekStart, timeZone, locale)} to ${formatShortDay(last.weekStart, timeZone, locale)}): ${renderChartText(account.weeklyFollowers)}`,
    );
  }

  if (account.awaitingApproval.length > 0) {
    out.push('', `Waiting for your approval (${formatCount(account.awaitingApproval.length, locale)}):`);
    const lines = account.awaitingApproval.map((c) => {
      const signals = c.spamSignals.length === 0 ? '' : ` [${c.spamSignals.map(spamSignalLabel).join(', ')}]`;
      const url = safeHttpUrl(c.approveUrl);
      return `${userTextLine(c.user, locale, account.network)}${signals}${url === undefined ? '' : `\n    Review: ${url}`}`;
    });
    out.push(...list(lines, options.maxCandidates, lines.length, 'on the approval page'));
    const all = safeHttpUrl(account.links.approveAll);
    const page = safeHttpUrl(account.links.approvalPage ?? model.links.approvalPage);
    if (all !== undefined) {
      const scope = approvalLinkScope(
        account.awaitingApproval.length,
        account.links.approveAllCovers ?? account.awaitingApproval.length,
        (n) => formatCount(n, locale),
      );
      out.push(`  ${scope.textLabel}: ${all}`, `  ${scope.note}`);
    }
    if (page !== undefined) out.push(`  Approval page: ${page}`);
  }

  out.push('', `New followers (${formatCount(account.newFollowers.length, locale)}):`);
  if (account.newFollowers.length === 0) out.push(`  None ${noun}.`);
  out.push(
    ...list(
      account.newFollowers.map(
        (f) => `${userTextLine(f.user, locale, account.network)} · ${formatDay(f.at, timeZone, locale)}`,
      ),
      options.maxListed,
      account.newFollowers.length,
      'in the attached CSV',
    ),
  );

  if (account.leftCount > account.lost.length) {
    // The owner's counts say more left than a full scan could name yet.
    out.push(
      '',
      `Stopped following: ${formatCount(account.leftCount, locale)} by the follower count` +
        (account.lost.length > 0 ? `, ${formatCount(account.lost.length, locale)} named below.` : '.'),
    );
  }
  if (account.snapshot !== 'complete') {
    out.push(
      account.snapshot === 'partial'
        ? 'The follower list is not fully read yet: who left is counted, not named.'
        : 'The follower list has drifted from the count since its last full read: some who left are not named.',
    );
  }
  if (account.lost.length > 0) {
    out.push('', `Stopped following (${formatCount(account.lost.length, locale)}):`);
    out.push(
      ...list(
        account.lost.map((f) => userTextLine(f.user, locale, account.network)),
        options.maxListed,
        account.lost.length,
        'in the attached CSV',
      ),
    );
  }

  if (account.skipsByReason.length > 0) {
    out.push('', `Not followed back (${formatCount(account.skips.length, locale)}):`);
    for (const s of account.skipsByReason)
      out.push(`  - ${reasonLabel(s.reason)}: ${formatCount(s.count, locale)}`);
  }

  if (account.oneSidedTotal > 0) {
    out.push('', `You follow, they do not follow back (${formatCount(account.oneSidedTotal, locale)}):`);
    out.push(
      ...list(
        account.oneSided.map(
          (o) =>
            `${userTextLine(o.user, locale, account.network)}${o.since === undefined ? '' : ` · since ${formatDay(o.since, timeZone, locale)}`}`,
        ),
        options.maxListed,
        account.oneSidedTotal,
        'to review',
      ),
    );
  }
  return out.join('\n');
}

/** The digest email's text part. */
export function renderDigestText(model: DigestModel, options: RenderOptions = {}): string {
  const opts = listLimits(options);
  const agency = cleanText(model.agency.name, 100);
  const client = cleanText(model.client.name, 100);
  const out: string[] = [underline(digestSubject(model), '='), ''];
  const idle = nothingConnectedLine({ ...model, agency: { ...model.agency, name: agency } });
  if (idle !== undefined) out.push(idle, '');
  else for (const account of model.accounts) out.push(accountText(model, account, opts), '');
  const unsubscribe = safeHttpUrl(model.links.unsubscribe);
  out.push(
    '--',
    `Sent by ${agency} for ${client}. Times are in ${model.client.timeZone}.`,
    ...(unsubscribe === undefined ? [] : [`Unsubscribe: ${unsubscribe}`]),
  );
  return `${out.join('\n')}\n`;
}
