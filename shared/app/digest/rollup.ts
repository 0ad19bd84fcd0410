/**
 * The operator's roll-up: one line per client and account across every client, problems first, once
 * per agency period (the agency's zone, weekday and hour; default Monday 08:00 UTC). The same
 * exactly-once delivery as the digests, on the run item `AGENCY` / `ROLLUP#<period>`.
 */
import { buildRollup, type RollupModel } from '../../domain/digest/index.ts';
import type { DigestModel } from '../../domain/digest/model.ts';
import { renderRollupHtml, renderRollupText } from '../../presentation/digest/index.ts';
import { buildClientDigestModel, type DigestBuildDeps } from './build.ts';
import { type DeliveryResult, deliverOnce } from './deliver.ts';
import { type DigestPeriod, type DigestSchedule, digestDue, digestScheduleOf } from './schedule.ts';
import { type DigestSendDeps, digestMessageId } from './send.ts';

export const AGENCY_KEY = 'agency';

export type RollupResult =
  | ({ periodKey: string; period: DigestPeriod } & DeliveryResult)
  | { outcome: 'no_operator' }
  | { outcome: 'not_due'; nextPeriodKey: string };

/** The agency's roll-up schedule (zone, weekday, hour), checked. */
export function rollupScheduleOf(deps: Pick<DigestBuildDeps, 'agency'>): DigestSchedule {
  return digestScheduleOf({
    timeZone: deps.agency.timeZone ?? 'UTC',
    digestWeekday: deps.agency.rollupWeekday,
    digestHour: deps.agency.rollupHour,
  });
}

/** Sends the roll-up when its send time has come (less than `catchUpMs` ago), once per period. */
export async function sendDueRollup(
  deps: DigestSendDeps,
  at: number = deps.clock.now(),
): Promise<RollupResult> {
  const operators = deps.agency.operatorEmails ?? [];
  if (operators.length === 0) return { outcome: 'no_operator' };
  const check = digestDue(rollupScheduleOf(deps), at, deps.catchUpMs);
  if (!check.due) return { outcome: 'not_due', nextPeriodKey: check.period.key };
  const result = await sendRollupForPeriod(deps, check.period);
  return { periodKey: check.period.key, period: check.period, ...result };
}

export async function sendRollupForPeriod(
  deps: DigestSendDeps,
  period: DigestPeriod,
): Promise<DeliveryResult> {
  const operators = [...(deps.agency.operatorEmails ?? [])];
  const messageId = digestMessageId('rollup', AGENCY_KEY, period.key, deps.agency.senderAddress);
  return deliverOnce(
    {
      runs: deps.runs,
      mailer: deps.mailer,
      clock: deps.clock,
      logger: deps.logger?.child({ rollup: period.key }),
      holder: deps.holder,
      leaseMs: deps.leaseMs,
      retryDelayMs: deps.retryDelayMs,
      maxAttempts: deps.maxAttempts,
      onUncertain: deps.onUncertain,
    },
    {
      key: { scope: 'agency', periodKey: period.key },
      kind: 'rollup',
      period,
      mailKey: { clientId: AGENCY_KEY, periodKey: period.key, kind: 'rollup' },
      messageId,
      compose: async () => {
        const { model, html, text } = await buildRollupParts(deps, period);
        const raw = await deps.composer.rollup({
          model,
          html,
          text,
          to: operators,
          messageId,
          date: deps.clock.now(),
        });
        return { raw, from: deps.agency.senderAddress, to: operators, html };
      },
    },
  );
}

/** The roll-up model and its renderings, from every client's digest model of the agency period. */
export async function buildRollupParts(
  deps: DigestBuildDeps,
  period: { start: number; end: number },
): Promise<{ model: RollupModel; html: string; text: string }> {
  const clients = await deps.store.listClients();
  const digests: DigestModel[] = [];
  for (const client of clients.sort((a, b) => a.name.localeCompare(b.name, 'en'))) {
    digests.push(
      await buildClientDigestModel(deps, client, period, {
        links: false,
        oneSided: false,
        recordSamples: false,
      }),
    );
  }
  const model = buildRollup({
    agency: {
      name: deps.agency.name,
      senderAddress: deps.agency.senderAddress,
      timeZone: deps.agency.timeZone ?? 'UTC',
    },
    period,
    digests,
  });
  return { model, html: renderRollupHtml(model), text: renderRollupText(model) };
}
