/**
 * Exactly one message per key (a client's period, or the agency's roll-up period), however often
 * the tick is delivered, retried, or raced by other workers.
 *
 * The run item (DigestRunStore) is a small state machine, every move a conditional write on the
 * version read:
 *
 *   (none) ──claim──▶ claimed ──▶ sending ──mailer took it──▶ sent
 *                        ▲           │ └────mailer refused───▶ failed ──(retryAt)──▶ claimed …
 *                        │           └──crash, lease expired──▶ recovery (below)
 *                        └── a lease that expired (a worker died while building) is taken over
 *
 * - Two workers racing: both read "none", both try to create the item; one wins, the other reads
 *   a live claim and stops (`busy`). A duplicate or retried tick after the send reads `sent`.
 * - The message is built only under the claim, and the state says `sending` (durably) before the
 *   mailer is called. A worker whose lease ran out cannot move to `sending` or `sent` (version).
 * - A crash after `sending` (before or after the mailer took the message, we cannot know which)
 *   leaves `sending` under an expired lease. The next worker asks the mailer (`check`):
 *   `sent` → the run is marked sent, nothing is sent again (the outbox can tell);
 *   `not_sent` → it is sent now;
 *   `unknown` (SES cannot be asked) → the choice below.
 *
 * The choice for `unknown` is at-most-once by default: the run becomes `uncertain` and nothing is
 * sent again, because invariant 5 ("one digest per client per period") matters more than one
 * week's mail, the window is one DynamoDB write wide, and the next period's digest repeats
 * whatever is still waiting. `onUncertain: 'at-least-once'` sends again instead (with the same
 * Message-ID, so many mail clients fold the two). The same rule applies when the mailer itself
 * says it does not know (MailUncertainError: a timeout, a 5xx).
 */
import { randomBytes } from 'node:crypto';
import { ConflictError, ValidationError } from '../../domain/errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { DigestRun, DigestRunKey, DigestRunStore, StoredDigestRun } from '../../ports/digest-store.ts';
import type { Logger } from '../../ports/logger.ts';
import { type Mailer, type MailKey, MailRejectedError } from '../../ports/mailer.ts';

export type UncertainPolicy = 'at-most-once' | 'at-least-once';

export interface DeliverDeps {
  runs: DigestRunStore;
  mailer: Mailer;
  clock: Clock;
  logger?: Logger | undefined;
  /** This worker's name on claims (default: random per call). */
  holder?: string | undefined;
  /** How long a claim keeps others off while building and sending (default 10 minutes). */
  leaseMs?: number | undefined;
  /** Wait after a refused send before the next try (default 15 minutes). */
  retryDelayMs?: number | undefined;
  /** Mailer calls before giving up on a period (default 5). */
  maxAttempts?: number | undefined;
  onUncertain?: UncertainPolicy | undefined;
}

export interface ComposedMail {
  raw: Uint8Array;
  from: string;
  to: readonly string[];
  html?: string | undefined;
}

export interface DeliveryRequest {
  key: DigestRunKey;
  kind: 'digest' | 'rollup';
  period: { start: number; end: number };
  mailKey: MailKey;
  messageId: string;
  /** Builds the message; called only by the worker holding the claim. */
  compose(): Promise<ComposedMail>;
}

export type DeliveryResult =
  | { outcome: 'sent'; providerId: string; attempts: number; recovered?: string | undefined }
  /** An earlier run sent it (or a crashed one did, and the mailer confirmed it). */
  | { outcome: 'already_sent'; recovered?: string | undefined }
  /** Another worker holds a live claim. */
  | { outcome: 'busy'; until: number }
  /** A send may or may not have happened and will not be repeated (at-most-once). */
  | { outcome: 'uncertain' }
  /** The mailer refused; `retryAt` when it may be tried again, none when given up. */
  | { outcome: 'failed'; error: string; retryAt?: number | undefined };

export const DEFAULT_LEASE_MS = 10 * 60_000;
const DEFAULT_RETRY_DELAY_MS = 15 * 60_000;
const DEFAULT_MAX_ATTEMPTS = 5;
const MAX_RACES = 8;

export async function deliverOnce(deps: DeliverDeps, request: DeliveryRequest): Promise<DeliveryResult> {
  const holder = deps.holder ?? `worker-${randomBytes(6).toString('hex')}`;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const log = deps.logger?.child({ useCase: 'deliver', kind: request.kind, messageId: request.messageId });

  for (let race = 0; race < MAX_RACES; race++) {
    const claim = await tryClaim(deps, request, holder, leaseMs);
    if (claim === 'lost') continue;
    if ('outcome' in claim) return claim;
    return send(deps, request, claim, holder, log);
  }
  throw new ConflictError(`could not claim ${request.messageId}: ${MAX_RACES} races lost in a row`, {
    details: { messageId: request.messageId },
  });
}

interface Claim {
  run: DigestRun;
  version: number;
  recovered?: string | undefined;
}

/** Claims the run, or says why not. 'lost': another writer changed it between read and write. */
async function tryClaim(
  deps: DeliverDeps,
  request: DeliveryRequest,
  holder: string,
  leaseMs: number,
): Promise<Claim | DeliveryResult | 'lost'> {
  const now = deps.clock.now();
  const stored = await deps.runs.getRun(request.key);
  const claimed = (base: DigestRun | undefined, recovered?: string): DigestRun => ({
    ...(base ?? {
      kind: request.kind,
      periodStart: request.period.start,
      periodEnd: request.period.end,
      messageId: request.messageId,
      attempts: 0,
      claimedAt: now,
    }),
    state: 'claimed',
    holder,
    leaseUntil: now + leaseMs,
    updatedAt: now,
    ...(recovered === undefined ? {} : { recovered }),
  });
  const take = async (run: DigestRun, current: StoredDigestRun | undefined, recovered?: string) => {
    try {
      const version = await deps.runs.putRun(request.key, run, current?.version ?? 0);
      return { run, version, recovered } satisfies Claim;
    } catch (error) {
      if (error instanceof ConflictError) return 'lost' as const;
      throw error;
    }
  };

  if (stored === undefined) return take(claimed(undefined), undefined);
  const { run } = stored;
  switch (run.state) {
    case 'sent':
      return { outcome: 'already_sent', recovered: run.recovered };
    case 'uncertain':
      return { outcome: 'uncertain' };
    case 'claimed':
      if (run.leaseUntil > now && run.holder !== holder) return { outcome: 'busy', until: run.leaseUntil };
      return take(claimed(run), stored);
    case 'failed':
      if (run.retryAt === undefined) return { outcome: 'failed', error: run.error ?? 'gave up' };
      if (run.retryAt > now)
        return { outcome: 'failed', error: run.error ?? 'refused', retryAt: run.retryAt };
      return take(claimed(run), stored);
    case 'sending': {
      if (run.leaseUntil > now && run.holder !== holder) return { outcome: 'busy', until: run.leaseUntil };
      // The worker that was sending died (or its lease ran out): did the mailer take the message?
      const check = await deps.mailer.check({ key: request.mailKey, messageId: run.messageId });
      if (check === 'sent') {
        try {
          await deps.runs.putRun(
            request.key,
            { ...run, state: 'sent', sentAt: now, recovered: 'mailer_had_it', updatedAt: now },
            stored.version,
          );
        } catch (error) {
          if (error instanceof ConflictError) return 'lost';
          throw error;
        }
        deps.logger?.warn('digest send recovered: the mailer had the message', { messageId: run.messageId });
        return { outcome: 'already_sent', recovered: 'mailer_had_it' };
      }
      if (check === 'not_sent') return take(claimed(run, 'mailer_did_not'), stored, 'mailer_did_not');
      if ((deps.onUncertain ?? 'at-most-once') === 'at-least-once') {
        return take(claimed(run, 'unknown_resent'), stored, 'unknown_resent');
      }
      try {
        await deps.runs.putRun(
          request.key,
          {
            ...run,
            state: 'uncertain',
            recovered: 'unknown_not_resent',
            error: 'a send was interrupted and the mailer cannot tell whether it took the message',
            updatedAt: now,
          },
          stored.version,
        );
      } catch (error) {
        if (error instanceof ConflictError) return 'lost';
        throw error;
      }
      deps.logger?.error('digest send interrupted; not sent again (at-most-once)', {
        messageId: run.messageId,
      });
      return { outcome: 'uncertain' };
    }
  }
}

async function send(
  deps: DeliverDeps,
  request: DeliveryRequest,
  claim: Claim,
  holder: string,
  log: Logger | undefined,
): Promise<DeliveryResult> {
  let { run, version } = claim;
  const write = async (next: DigestRun): Promise<boolean> => {
    try {
      version = await deps.runs.putRun(request.key, next, version);
      run = next;
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  };

  let mail: ComposedMail;
  try {
    mail = await request.compose();
  } catch (error) {
    // Nothing was sent. A bad input (an address, a setting) will not fix itself: give up on the
    // period; anything else (the store) may: the next tick tries again.
    const now = deps.clock.now();
    const permanent = error instanceof ValidationError;
    await write({
      ...run,
      state: 'failed',
      error: `building the message failed: ${(error as Error).message}`.slice(0, 500),
      retryAt: permanent ? undefined : now,
      updatedAt: now,
    });
    throw error;
  }

  const sendingAt = deps.clock.now();
  const attempts = run.attempts + 1;
  const sending: DigestRun = {
    ...run,
    state: 'sending',
    holder,
    attempts,
    sendingAt,
    recipients: mail.to.length,
    updatedAt: sendingAt,
  };
  if (!(await write(sending))) {
    // Our claim was taken over (the lease ran out while building): the other worker sends.
    return { outcome: 'busy', until: sendingAt };
  }

  let sent: { providerId: string };
  try {
    sent = await deps.mailer.send({
      key: request.mailKey,
      raw: mail.raw,
      from: mail.from,
      to: mail.to,
      messageId: request.messageId,
      html: mail.html,
    });
  } catch (error) {
    const now = deps.clock.now();
    if (error instanceof MailRejectedError) {
      const maxAttempts = deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
      const retryAt =
        error.retryable && attempts < maxAttempts
          ? now + (deps.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS)
          : undefined;
      await write({ ...run, state: 'failed', error: error.message.slice(0, 500), retryAt, updatedAt: now });
      log?.warn('the mailer refused the message', { attempts, retryAt, error: error.message });
      return { outcome: 'failed', error: error.message, retryAt };
    }
    // Anything else: the mailer may have taken it.
    const resend = (deps.onUncertain ?? 'at-most-once') === 'at-least-once';
    await write({
      ...run,
      state: resend ? 'failed' : 'uncertain',
      error: `send outcome unknown: ${(error as Error).message}`.slice(0, 500),
      ...(resend ? { retryAt: now } : {}),
      updatedAt: now,
    });
    log?.error('send outcome unknown', { attempts, resend, error: (error as Error).message });
    return resend
      ? { outcome: 'failed', error: (error as Error).message, retryAt: now }
      : { outcome: 'uncertain' };
  }
  // A failure to record it (the store) propagates: the run stays `sending`, and the retry's
  // recovery asks the mailer (see above).
  const now = deps.clock.now();
  const marked = await write({
    ...run,
    state: 'sent',
    sentAt: now,
    providerId: sent.providerId,
    updatedAt: now,
  });
  if (!marked) log?.warn('sent, but the run was taken over meanwhile (lease too short?)', { holder });
  log?.info('sent', { attempts, recipients: mail.to.length });
  return { outcome: 'sent', providerId: sent.providerId, attempts, recovered: claim.recovered };
}
