/**
 * The hourly digest tick: which clients' digests are due now (their own weekday, hour and zone),
 * leaving out those already sent for the period. On AWS the dispatcher puts one message per due
 * client on the digest queue and the worker calls `sendClientDigest(deps, clientId, at)`; on one
 * machine `sendDueDigests` does both. A client listed twice (a duplicate tick) is still sent once:
 * the run item decides, not this list.
 */
import type { ClientRecord } from '../../domain/account.ts';
import type { DigestRunStore } from '../../ports/digest-store.ts';
import type { Logger } from '../../ports/logger.ts';
import type { RegistryStore } from '../../ports/store.ts';
import { type RollupResult, rollupScheduleOf, sendDueRollup } from './rollup.ts';
import { DEFAULT_CATCH_UP_MS, type DigestPeriod, digestDue, digestScheduleOf } from './schedule.ts';
import { type ClientDigestResult, type DigestSendDeps, sendClientDigest } from './send.ts';

export interface DueDigest {
  clientId: string;
  periodKey: string;
  period: DigestPeriod;
  /** The scheduled send instant (the worker passes it back as `at`). */
  sendAt: number;
}

export interface DispatchDeps {
  store: Pick<RegistryStore, 'listClients'>;
  runs: DigestRunStore;
  logger?: Logger | undefined;
  catchUpMs?: number | undefined;
}

/** Clients whose digest is due at `now` and not sent (nor given up on) for its period. */
export async function dueDigests(deps: DispatchDeps, now: number): Promise<DueDigest[]> {
  const due: DueDigest[] = [];
  for (const client of await deps.store.listClients()) {
    const entry = await dueFor(deps, client, now);
    if (entry !== undefined) due.push(entry);
  }
  return due.sort((a, b) => a.sendAt - b.sendAt || (a.clientId < b.clientId ? -1 : 1));
}

async function dueFor(deps: DispatchDeps, client: ClientRecord, now: number): Promise<DueDigest | undefined> {
  if (client.digestOptOut === true || client.digestEmails.length === 0) return undefined;
  let check: ReturnType<typeof digestDue>;
  try {
    check = digestDue(digestScheduleOf(client), now, deps.catchUpMs ?? DEFAULT_CATCH_UP_MS);
  } catch (error) {
    // One client's bad settings must not stop the others' digests.
    deps.logger?.error('digest: client schedule is invalid', {
      clientId: client.clientId,
      error: (error as Error).message,
    });
    return undefined;
  }
  if (!check.due) return undefined;
  const run = await deps.runs.getRun({
    scope: 'client',
    clientId: client.clientId,
    periodKey: check.period.key,
  });
  const state = run?.run.state;
  if (state === 'sent' || state === 'uncertain') return undefined;
  if (state === 'failed' && (run?.run.retryAt === undefined || run.run.retryAt > now)) return undefined;
  return {
    clientId: client.clientId,
    periodKey: check.period.key,
    period: check.period,
    sendAt: check.sendAt,
  };
}

/** Whether the roll-up is due at `now` and not yet sent. */
export async function rollupIsDue(
  deps: Pick<DigestSendDeps, 'agency' | 'runs' | 'catchUpMs'>,
  now: number,
): Promise<boolean> {
  if ((deps.agency.operatorEmails ?? []).length === 0) return false;
  const check = digestDue(rollupScheduleOf(deps), now, deps.catchUpMs ?? DEFAULT_CATCH_UP_MS);
  if (!check.due) return false;
  const run = await deps.runs.getRun({ scope: 'agency', periodKey: check.period.key });
  return (
    run === undefined ||
    run.run.state === 'claimed' ||
    run.run.state === 'sending' ||
    (run.run.state === 'failed' && run.run.retryAt !== undefined && run.run.retryAt <= now)
  );
}

export interface SendDueResult {
  digests: ClientDigestResult[];
  rollup: RollupResult;
}

/**
 * Sends every due digest, then the roll-up if due: the whole hourly tick in one process (the CLI's
 * `digest send`, the local runtime). A failure of one client is reported and the others go on.
 */
export async function sendDueDigests(
  deps: DigestSendDeps,
  now: number = deps.clock.now(),
): Promise<SendDueResult> {
  const digests: ClientDigestResult[] = [];
  for (const due of await dueDigests(deps, now)) {
    try {
      digests.push(await sendClientDigest(deps, due.clientId, now));
    } catch (error) {
      deps.logger?.error('digest: send failed', { clientId: due.clientId, error: (error as Error).message });
      digests.push({
        clientId: due.clientId,
        periodKey: due.periodKey,
        period: due.period,
        outcome: 'failed',
        error: (error as Error).message,
      });
    }
  }
  const rollup = await sendDueRollup(deps, now);
  return { digests, rollup };
}
