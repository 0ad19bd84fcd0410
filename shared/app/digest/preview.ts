/**
 * The digest as it would go out now, written to the outbox as `<client>/<period>-preview.eml` and
 * `.html`, without sending it and without touching the digest run (so the real send still happens,
 * once). Used by `followback digest preview` and at the end of `npm start`'s simulated week.
 */
import type { ClientRecord } from '../../domain/account.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { MailComposer } from '../../ports/mail-composer.ts';
import type { KeptMailer } from '../../ports/mailer.ts';
import type { AgencyInfo, DigestBuildDeps } from './build.ts';
import { type DigestPeriod, digestScheduleOf, latestPeriod } from './schedule.ts';
import { composeDigest, digestMessageId } from './send.ts';

/** The agency of a local run (no SES: the address only has to look like one). */
export const LOCAL_AGENCY: AgencyInfo = {
  name: 'followback (local)',
  senderAddress: 'digest@followback.localhost',
  operatorEmails: ['operator@followback.localhost'],
};

export interface PreviewDeps extends Omit<DigestBuildDeps, 'agency'> {
  /** The outbox (adapters/outbox/outbox-mailer.ts): a mailer that keeps each message as files. */
  outbox: KeptMailer;
  /** Builds the raw message (adapters/mime/mime-composer.ts `mimeComposer`). */
  composer: MailComposer;
  agency?: AgencyInfo | undefined;
}

export interface PreviewOptions {
  /** Only this client (default: every client). */
  clientId?: string | undefined;
  /** The instant whose latest period is shown (default: now). */
  at?: number | undefined;
}

export interface PreviewResult {
  clientId: string;
  clientName: string;
  /** The client's zone (the period's bounds are local midnights there). */
  timeZone: string;
  periodKey: string;
  period: DigestPeriod;
  /** The raw message and its HTML part, in the outbox. */
  eml: string;
  html: string;
  recipients: string[];
  /** Candidates waiting for approval, over all accounts. */
  awaitingApproval: number;
  /** Approval page links in the digest: each candidate's, then each account's "approve all". */
  approvalLinks: string[];
}

/**
 * Writes the digest of each client (or one) for the period of its latest send time at or before
 * `at` to the outbox, and returns where. A client that does not exist is a ValidationError.
 */
export async function previewDigests(
  deps: PreviewDeps,
  options: PreviewOptions = {},
): Promise<PreviewResult[]> {
  const outbox = deps.outbox;
  const buildDeps: DigestBuildDeps & { composer: MailComposer } = {
    ...deps,
    agency: deps.agency ?? LOCAL_AGENCY,
  };
  const at = options.at ?? deps.clock.now();
  let clients: ClientRecord[];
  if (options.clientId === undefined) {
    clients = await deps.store.listClients();
  } else {
    const client = await deps.store.getClient(options.clientId);
    if (client === undefined) {
      throw new ValidationError(`client: no client ${JSON.stringify(options.clientId)}`, {
        details: { field: 'client' },
      });
    }
    clients = [client];
  }
  const results: PreviewResult[] = [];
  for (const client of clients.sort((a, b) => (a.clientId < b.clientId ? -1 : 1))) {
    const period = latestPeriod(digestScheduleOf(client), at);
    const messageId = digestMessageId('preview', client.clientId, period.key, buildDeps.agency.senderAddress);
    // A client without addresses still gets a preview (to a placeholder): it is not sent anywhere.
    const target =
      client.digestEmails.length > 0 ? client : { ...client, digestEmails: ['owner@example.invalid'] };
    const mail = await composeDigest(buildDeps, target, period, messageId);
    const key = { clientId: client.clientId, periodKey: period.key, kind: 'preview' };
    await outbox.send({ key, messageId, raw: mail.raw, from: mail.from, to: mail.to, html: mail.html });
    const paths = outbox.pathsOf(key);
    const accounts = mail.model.accounts;
    // Batch links first: each covers every candidate its account listed; a candidate link, one person.
    const links = [
      ...accounts.flatMap((a) => (a.links.approveAll === undefined ? [] : [a.links.approveAll])),
      ...accounts.flatMap((a) =>
        a.awaitingApproval.flatMap((c) => (c.approveUrl === undefined ? [] : [c.approveUrl])),
      ),
    ];
    results.push({
      clientId: client.clientId,
      clientName: client.name,
      timeZone: client.timeZone,
      periodKey: period.key,
      period,
      eml: paths.eml,
      html: paths.html,
      recipients: client.digestEmails,
      awaitingApproval: accounts.reduce((sum, a) => sum + a.awaitingApproval.length, 0),
      approvalLinks: links,
    });
  }
  return results;
}
