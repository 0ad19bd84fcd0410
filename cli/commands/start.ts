import { join, resolve } from 'node:path';
import { DynamoDigestStore } from '../../shared/adapters/dynamo/digest-store.ts';
import { JsonLogger } from '../../shared/adapters/logger.ts';
import { mimeComposer } from '../../shared/adapters/mime/mime-composer.ts';
import { OutboxMailer } from '../../shared/adapters/outbox/outbox-mailer.ts';
import { previewDigests } from '../../shared/app/digest/preview.ts';
import { policyOf } from '../../shared/app/engine/policy-of.ts';
import { roundUsd } from '../../shared/app/engine/status.ts';
import { loadRuntimeEnv } from '../../shared/config/env.ts';
import { policyWarnings } from '../../shared/config/policy.ts';
import { formatDuration, networkName } from '../../shared/domain/digest/format.ts';
import { SKIP_REASON_TEXT, type SkipReason } from '../../shared/domain/engine/task.ts';
import type { Network } from '../../shared/ports/platform.ts';
import { loadLocalApprovalKeys } from '../../shared/runtime/approval-key.ts';
import { localApprovalBaseUrl } from '../../shared/runtime/approval-server.ts';
import { approveDemoCandidates, seedDemo } from '../../shared/runtime/demo.ts';
import { openLocalRuntime } from '../../shared/runtime/local.ts';
import { type DayFigures, localUnfollows, simulate } from '../../shared/runtime/simulate.ts';
import { counted, localDate, localTime, thousands } from '../format.ts';
import { field, printJsonLine, say } from '../output.ts';

export interface StartOptions {
  days: number;
  reset: boolean;
  realtime: boolean;
  tickSeconds: number;
  dir: string;
  json: boolean;
}

const number = new Intl.NumberFormat('en-US');

/** `followback start`: the main job, locally, on embedded defaults. */
export async function startCommand(options: StartOptions): Promise<void> {
  const env = loadRuntimeEnv();
  const logger = new JsonLogger({ level: env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL });
  const dir = resolve(options.dir);
  // Token refreshes and stored Bluesky sessions are logged (at info; never a secret).
  const runtime = await openLocalRuntime({ dir, reset: options.reset, logger });
  const out = (line: string) => {
    if (!options.json) say(`${line}\n`);
  };
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  try {
    const { client, accounts } = await seedDemo(runtime);
    const startedAt = runtime.clock.now();
    const samples = new DynamoDigestStore({
      client: runtime.dynamo.client,
      tableName: runtime.dynamo.tableName,
    });
    const approvals = { approved: 0, skipped: 0 };
    const wallStart = performance.now();
    out(
      `followback: ${runtime.fresh ? 'new local run' : 'continuing the local run'} in ${dir} ` +
        `(dynalite; sandboxes: X at ${runtime.sandbox.baseUrl}, Bluesky at ${runtime.bluesky.baseUrl}, ` +
        `Mastodon at ${runtime.mastodon.baseUrl}; ${options.realtime ? 'real-time' : 'virtual'} clock)`,
    );
    out(
      `client ${field(client.name)}: ${accounts.map((a) => `@${field(a.handle)} on ${a.network}`).join(', ')}`,
    );
    for (const account of accounts) {
      for (const warning of policyWarnings(policyOf(account))) out(`@${field(account.handle)}: ${warning}`);
    }
    const zone = client.timeZone;
    out(
      options.realtime
        ? `running on the wall clock from ${localTime(startedAt, zone)}: a tick every ${counted(options.tickSeconds, 'second')} ` +
            `(each moves the clock on by as much), a line per tick, for up to ${counted(options.days, 'day')}; Ctrl-C stops and sums up`
        : `simulating ${counted(options.days, 'day')} from ${localTime(startedAt, zone)}, a tick every 15 minutes`,
    );
    out('');
    out(
      pad([
        'day',
        'date',
        'followers',
        'new',
        'lost',
        'followed',
        'skipped',
        'approval',
        'queued',
        'late',
        'requests',
      ]),
    );

    const byNetwork = new Map<Network, { newFollowers: number; followedBack: number }>();
    let ticks = 0;
    const days = await simulate(
      {
        store: runtime.store,
        clock: runtime.clock,
        logger,
        platformFor: (account) => runtime.platforms.open(account),
        samples,
        unfollows: localUnfollows(runtime.dynamo),
        accounts: () => runtime.store.listAccounts(client.clientId),
      },
      {
        days: options.days,
        signal: controller.signal,
        ...(options.realtime ? { realtimeTickMs: options.tickSeconds * 1000 } : {}),
        onTickEnd: (tick, at) => {
          ticks += 1;
          if (!options.realtime) return;
          out(
            `  tick ${thousands(ticks)} at ${localTime(at, zone, { seconds: true })}: +${thousands(tick.newFollowers)} new, -${thousands(tick.lostFollowers)} lost, ` +
              `${counted(tick.followedBack, 'follow-back')}, ${counted(tick.requests, 'request')}`,
          );
        },
        onTick: (account, report) => {
          if (!report.ran) return;
          const figures = byNetwork.get(account.network) ?? { newFollowers: 0, followedBack: 0 };
          figures.newFollowers += report.observe.newFollowers.length;
          const acted = report.act;
          figures.followedBack += acted.followed + acted.requested + acted.alreadyFollowing;
          byNetwork.set(account.network, figures);
        },
        onDay: async (day) => {
          const followers = await followersNow(runtime, accounts);
          const open = await openTasks(runtime, accounts);
          out(
            pad([
              `${day.day}${day.partial ? '*' : ''}`,
              localDate(day.from, zone),
              number.format(followers),
              `+${day.newFollowers}`,
              `-${day.lostFollowers}`,
              String(day.followedBack),
              String(Object.values(day.skipped).reduce((sum, n) => sum + n, 0)),
              String(open.awaitingApproval),
              String(open.scheduled),
              String(day.late),
              String(day.requests),
            ]),
          );
          // Once a day the owner of the approve-mode account decides, through the same use case as the
          // CLI, except on the last day: the week's digest then has candidates to approve from the mail.
          const lastDay = day.day === options.days || day.partial === true;
          const decided = lastDay
            ? { approved: 0, skipped: 0 }
            : await approveDemoCandidates(runtime, accounts);
          approvals.approved += decided.approved;
          approvals.skipped += decided.skipped;
          await runtime.save();
        },
      },
    );

    const networks = await perNetwork(runtime, accounts, byNetwork);
    const summary = {
      ...(await summarize(runtime, accounts, days, startedAt)),
      ticks,
      stopped: days.at(-1)?.partial === true,
      approvals,
      networks,
    };
    const wallMs = Math.round(performance.now() - wallStart);
    if (options.json) {
      const [digest] = await previewDigests(
        {
          store: runtime.store,
          samples,
          clock: runtime.clock,
          keys: await loadLocalApprovalKeys(dir),
          baseUrl: localApprovalBaseUrl(),
          outbox: new OutboxMailer({ dir: join(dir, 'outbox') }),
          composer: mimeComposer,
        },
        { clientId: client.clientId },
      );
      // One line (scripts read the last line of the output).
      printJsonLine({
        ...summary,
        wallMs,
        perDay: days,
        digest:
          digest === undefined
            ? null
            : {
                periodKey: digest.periodKey,
                html: digest.html,
                eml: digest.eml,
                awaitingApproval: digest.awaitingApproval,
                approvalLink: digest.approvalLinks[0] ?? null,
              },
      });
    } else {
      out('');
      const stopped = days.at(-1)?.partial === true;
      if (stopped) out('* stopped part way through the day: its figures are for the ticks that ran.');
      const span = stopped
        ? `stopped after ${counted(ticks, 'tick')} (${formatDuration(runtime.clock.now() - startedAt)} of clock time)`
        : `${counted(days.length, 'day')} simulated`;
      out(
        `${span} in ${(wallMs / 1000).toFixed(1)} s: ` +
          `${summary.newFollowers} new followers detected (${summary.actualNewFollowers} really followed), ` +
          `${summary.lostFollowers} lost, ${summary.requests} requests, ${number.format(summary.usersRead)} users read, ` +
          `$${summary.usdSpent.toFixed(2)} of X reads this month.`,
      );
      out(
        `follow-backs: ${summary.followedBack} made (${summary.late} late), ${summary.failed} failed; ` +
          `the owner approved ${approvals.approved} and declined ${approvals.skipped} candidates.`,
      );
      out('per network:');
      for (const [network, figures] of Object.entries(networks)) {
        out(
          `  ${networkName(network as Network).padEnd(9)} ${String(figures.accounts).padStart(2)} account${figures.accounts === 1 ? ' ' : 's'} ` +
            `${number.format(figures.followers).padStart(7)} followers ${`+${figures.newFollowers}`.padStart(6)} new ` +
            `${String(figures.followedBack).padStart(5)} follow-back${figures.followedBack === 1 ? '' : 's'}`,
        );
      }
      const skips = Object.entries(summary.skipped).sort((a, b) => b[1] - a[1]);
      if (skips.length > 0) {
        out(
          `skipped: ${skips.map(([reason, n]) => `${n} ${SKIP_REASON_TEXT[reason as SkipReason] ?? reason}`).join('; ')}.`,
        );
      }
      const [digest] = await previewDigests(
        {
          store: runtime.store,
          samples,
          clock: runtime.clock,
          keys: await loadLocalApprovalKeys(dir),
          baseUrl: localApprovalBaseUrl(),
          outbox: new OutboxMailer({ dir: join(dir, 'outbox') }),
          composer: mimeComposer,
        },
        { clientId: client.clientId },
      );
      if (digest) {
        out(
          `the week's digest for ${field(digest.clientName)} (${digest.periodKey}) is in the outbox: ${digest.html}`,
        );
        out(`  the raw message (MIME, as it would be mailed): ${digest.eml}`);
        if (digest.approvalLinks[0]) {
          out(
            `  ${counted(digest.awaitingApproval, 'candidate')} ${digest.awaitingApproval === 1 ? 'awaits' : 'await'} approval: run \`npm run followback -- serve --local\` ` +
              `and open ${digest.approvalLinks[0]}`,
          );
        }
      }
      out(`state kept in ${dir}; run again to continue, or with --reset to start over.`);
      out(`see where each account stands: npm run followback -- status --local`);
    }
  } finally {
    process.off('SIGINT', stop);
    await runtime.close();
  }
}

function pad(cells: string[]): string {
  const widths = [4, 11, 10, 6, 6, 9, 8, 9, 7, 5, 9];
  return cells.map((cell, index) => cell.padStart(widths[index] ?? 8)).join(' ');
}

async function followersNow(
  runtime: Awaited<ReturnType<typeof openLocalRuntime>>,
  accounts: { clientId: string; accountId: string }[],
): Promise<number> {
  let total = 0;
  for (const account of accounts) total += await followersOf(runtime, account);
  return total;
}

async function followersOf(
  runtime: Awaited<ReturnType<typeof openLocalRuntime>>,
  account: { clientId: string; accountId: string },
): Promise<number> {
  const state = await runtime.store.getState(account);
  const observe = state?.state.observe;
  if (!observe) return 0;
  const graph = observe.graphs.followers;
  return graph.complete ? graph.count : (observe.owner?.followers ?? graph.count);
}

interface NetworkFigures {
  accounts: number;
  followers: number;
  newFollowers: number;
  followedBack: number;
}

/** Followers now, and what this run saw and did, per network (X, Bluesky, Mastodon order). */
async function perNetwork(
  runtime: Awaited<ReturnType<typeof openLocalRuntime>>,
  accounts: { clientId: string; accountId: string; network: Network }[],
  seen: ReadonlyMap<Network, { newFollowers: number; followedBack: number }>,
): Promise<Partial<Record<Network, NetworkFigures>>> {
  const out: Partial<Record<Network, NetworkFigures>> = {};
  for (const network of ['x', 'bluesky', 'mastodon'] as const) {
    const mine = accounts.filter((account) => account.network === network);
    if (mine.length === 0) continue;
    let followers = 0;
    for (const account of mine) followers += await followersOf(runtime, account);
    out[network] = {
      accounts: mine.length,
      followers,
      newFollowers: seen.get(network)?.newFollowers ?? 0,
      followedBack: seen.get(network)?.followedBack ?? 0,
    };
  }
  return out;
}

async function openTasks(
  runtime: Awaited<ReturnType<typeof openLocalRuntime>>,
  accounts: { clientId: string; accountId: string }[],
): Promise<{ awaitingApproval: number; scheduled: number }> {
  let awaitingApproval = 0;
  let scheduled = 0;
  for (const account of accounts) {
    awaitingApproval += (await runtime.store.listAwaitingApproval(account)).length;
    scheduled += (await runtime.store.listActive(account, { now: 0, from: 'onTime', limit: 100_000 })).length;
  }
  return { awaitingApproval, scheduled };
}

async function summarize(
  runtime: Awaited<ReturnType<typeof openLocalRuntime>>,
  accounts: { clientId: string; accountId: string; platformUserId: string; network: Network }[],
  days: DayFigures[],
  since: number,
) {
  let usdSpent = 0;
  let actualNewFollowers = 0;
  for (const account of accounts) {
    const state = await runtime.store.getState(account);
    usdSpent += state?.state.observe.spend.monthUsd ?? 0;
    actualNewFollowers += runtime.world.events({
      ownerId: worldIdOf(runtime, account),
      since,
      kinds: ['followed'],
    }).length;
  }
  return {
    days: days.length,
    followers: await followersNow(runtime, accounts),
    newFollowers: days.reduce((sum, day) => sum + day.newFollowers, 0),
    actualNewFollowers,
    lostFollowers: days.reduce((sum, day) => sum + day.lostFollowers, 0),
    requests: days.reduce((sum, day) => sum + day.requests, 0),
    usersRead: days.reduce((sum, day) => sum + day.usersRead, 0),
    followedBack: days.reduce((sum, day) => sum + day.followedBack, 0),
    late: days.reduce((sum, day) => sum + day.late, 0),
    failed: days.reduce((sum, day) => sum + day.failed, 0),
    skipped: days.reduce<Record<string, number>>((all, day) => {
      for (const [reason, n] of Object.entries(day.skipped)) all[reason] = (all[reason] ?? 0) + n;
      return all;
    }, {}),
    usdSpent: roundUsd(usdSpent),
  };
}

/** The sandbox world's id of an account's owner (the platform id is a DID on Bluesky, an instance id on Mastodon). */
function worldIdOf(
  runtime: Awaited<ReturnType<typeof openLocalRuntime>>,
  account: { platformUserId: string; network: Network },
): string {
  switch (account.network) {
    case 'bluesky':
      return runtime.world.userIdForDid(account.platformUserId) ?? account.platformUserId;
    case 'mastodon':
      return runtime.mastodon.userIdOf(account.platformUserId) ?? account.platformUserId;
    default:
      return account.platformUserId;
  }
}
