/**
 * Sending one client's digest for its period, exactly once (deliver.ts): the period comes from the
 * client's own schedule (schedule.ts), the message from the store's facts (build.ts) and the mail
 * composer (a port: MIME by nodemailer in shared/adapters/mime), the delivery from a Mailer (SES v2
 * on AWS, the outbox locally).
 */
import { createHash } from 'node:crypto';
import type { ClientRecord } from '../../domain/account.ts';
import type { DigestModel } from '../../domain/digest/model.ts';
import type { DigestRunStore } from '../../ports/digest-store.ts';
import type { MailComposer } from '../../ports/mail-composer.ts';
import type { Mailer } from '../../ports/mailer.ts';
import { buildClientDigest, type DigestBuildDeps } from './build.ts';
import { type DeliverDeps, type DeliveryResult, deliverOnce } from './deliver.ts';
import { type DigestPeriod, digestDue, digestScheduleOf } from './schedule.ts';

export interface DigestSendDeps
  extends DigestBuildDeps,
    Omit<DeliverDeps, 'runs' | 'mailer' | 'clock' | 'logger'> {
  runs: DigestRunStore;
  mailer: Mailer;
  /** Builds the raw messages (adapters/mime/mime-composer.ts `mimeComposer`). */
  composer: MailComposer;
  /** How long after its send time a missed digest is still sent (default 24 hours). */
  catchUpMs?: number | undefined;
}

export type ClientDigestResult =
  | ({ clientId: string; periodKey: string; period: DigestPeriod } & DeliveryResult)
  | { clientId: string; outcome: 'unknown_client' | 'opted_out' | 'no_recipients' }
  | { clientId: string; outcome: 'not_due'; nextPeriodKey: string };

/**
 * The deterministic Message-ID of a message: `<kind>.<client>.<period>@<sender's domain>`. Ids
 * with characters a Message-ID cannot hold are spelled safely and get a short hash (no two
 * clients share one).
 */
export function digestMessageId(
  kind: string,
  clientId: string,
  periodKey: string,
  senderAddress: string,
): string {
  const domain = senderAddress.split('@')[1] ?? 'followback.invalid';
  const safe = clientId.replace(/[^A-Za-z0-9_-]/g, '_');
  const id =
    safe === clientId
      ? clientId
      : `${safe.slice(0, 60)}-${createHash('sha256').update(clientId, 'utf8').digest('hex').slice(0, 8)}`;
  return `${kind}.${id}.${periodKey}@${domain}`;
}

/**
 * Sends the client's digest for the period whose send time is the latest at or before `at`
 * (default: now), when that send time is less than `catchUpMs` ago. Safe to call any number of
 * times, from any number of workers at once: one message per client and period.
 */
export async function sendClientDigest(
  deps: DigestSendDeps,
  clientId: string,
  at: number = deps.clock.now(),
): Promise<ClientDigestResult> {
  const client = await deps.store.getClient(clientId);
  if (client === undefined) return { clientId, outcome: 'unknown_client' };
  if (client.digestOptOut === true) return { clientId, outcome: 'opted_out' };
  if (client.digestEmails.length === 0) return { clientId, outcome: 'no_recipients' };
  const check = digestDue(digestScheduleOf(client), at, deps.catchUpMs);
  if (!check.due) return { clientId, outcome: 'not_due', nextPeriodKey: check.period.key };
  const result = await sendDigestForPeriod(deps, client, check.period);
  return { clientId, periodKey: check.period.key, period: check.period, ...result };
}

/** Sends the client's digest for this period, exactly once (whether due or not: the caller decided). */
export async function sendDigestForPeriod(
  deps: DigestSendDeps,
  client: ClientRecord,
  period: DigestPeriod,
): Promise<DeliveryResult> {
  const messageId = digestMessageId('digest', client.clientId, period.key, deps.agency.senderAddress);
  return deliverOnce(
    {
      runs: deps.runs,
      mailer: deps.mailer,
      clock: deps.clock,
      logger: deps.logger?.child({ clientId: client.clientId, periodKey: period.key }),
      holder: deps.holder,
      leaseMs: deps.leaseMs,
      retryDelayMs: deps.retryDelayMs,
      maxAttempts: deps.maxAttempts,
      onUncertain: deps.onUncertain,
    },
    {
      key: { scope: 'client', clientId: client.clientId, periodKey: period.key },
      kind: 'digest',
      period,
      mailKey: { clientId: client.clientId, periodKey: period.key, kind: 'digest' },
      messageId,
      compose: () => composeDigest(deps, client, period, messageId),
    },
  );
}

/** The digest of the client's period as a raw message, with its envelope. */
export async function composeDigest(
  deps: DigestBuildDeps & { composer: MailComposer },
  client: ClientRecord,
  period: DigestPeriod,
  messageId: string,
): Promise<{ raw: Uint8Array; from: string; to: string[]; html: string; model: DigestModel }> {
  const built = await buildClientDigest(deps, client, period);
  const raw = await deps.composer.digest({
    model: built.model,
    html: built.html,
    text: built.text,
    csv: built.csv,
    to: client.digestEmails,
    unsubscribeUrl: built.unsubscribeUrl,
    messageId,
    date: deps.clock.now(),
  });
  return {
    raw,
    from: deps.agency.senderAddress,
    to: [...client.digestEmails],
    html: built.html,
    model: built.model,
  };
}
