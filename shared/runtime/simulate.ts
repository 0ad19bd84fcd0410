import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoConsoleStore } from '../adapters/dynamo/console-store.ts';
import { DynamoUnfollowQueue } from '../adapters/dynamo/unfollow-store.ts';
import { type EngineStore, runAccountTick, type TickDeps, type TickReport } from '../app/tick.ts';
import type { AccountRecord } from '../domain/account.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { Platform } from '../ports/platform.ts';

export const TICK_MS = 15 * 60_000;

/** The queued unfollows' stores on a local table (the console queues, the ticks carry out). */
export function localUnfollows(table: { client: DynamoDBClient; tableName: string }): TickDeps['unfollows'] {
  const consoleStore = new DynamoConsoleStore(table);
  return { queue: new DynamoUnfollowQueue(table), audit: consoleStore, unfollowed: consoleStore };
}
const DAY_MS = 24 * 3_600_000;

export interface DayFigures {
  day: number;
  /** Start of the simulated day (epoch ms). */
  from: number;
  newFollowers: number;
  lostFollowers: number;
  requests: number;
  usersRead: number;
  /** Follow-backs made (followed, requested, or found already following). */
  followedBack: number;
  /** Follow-backs made after their deadline. */
  late: number;
  /** Followers skipped, by reason (at reconcile, or because they left before the follow-back). */
  skipped: Record<string, number>;
  failed: number;
}

export interface SimulationDeps {
  store: EngineStore;
  clock: Clock & { set(at: number): void };
  logger: Logger;
  platformFor(account: AccountRecord): Platform;
  accounts(): Promise<AccountRecord[]>;
  newId?: () => string;
  samples?: TickDeps['samples'];
  /** The owner's queued unfollows, carried out by the ticks (as on AWS). */
  unfollows?: TickDeps['unfollows'];
}

export interface SimulationOptions {
  days: number;
  tickMs?: number;
  /** Called after every tick of every account. */
  onTick?: (account: AccountRecord, report: TickReport, at: number) => void | Promise<void>;
  onDay?: (figures: DayFigures) => void | Promise<void>;
  /** Real-time mode: wait this many wall-clock ms between ticks (and let the clock follow the wall). */
  realtimeTickMs?: number;
  signal?: AbortSignal;
}

/**
 * Fires the same ticks the scheduler fires on AWS, on a virtual clock: every `tickMs`, every account,
 * one tick each (observe; later reconcile and act). Returns the figures per simulated day.
 */
export async function simulate(deps: SimulationDeps, options: SimulationOptions): Promise<DayFigures[]> {
  const tickMs = options.tickMs ?? TICK_MS;
  const newId = deps.newId ?? randomUUID;
  const start = deps.clock.now();
  const end = start + options.days * DAY_MS;
  const days: DayFigures[] = [];
  let current = emptyDay(1, start);
  const platforms = new Map<string, Platform>();

  for (let at = start + tickMs; at <= end; at += tickMs) {
    if (options.signal?.aborted) break;
    if (options.realtimeTickMs !== undefined) await sleep(options.realtimeTickMs, options.signal);
    deps.clock.set(at);
    for (const account of await deps.accounts()) {
      const key = `${account.clientId}/${account.accountId}`;
      let platform = platforms.get(key);
      if (!platform) {
        platform = deps.platformFor(account);
        platforms.set(key, platform);
      }
      const report = await runAccountTick(
        account,
        {
          platform,
          store: deps.store,
          clock: deps.clock,
          logger: deps.logger,
          newId,
          samples: deps.samples,
          unfollows: deps.unfollows,
        },
        { worker: 'local', timeLeftMs: () => 60_000 },
      );
      if (report.ran) {
        current.newFollowers += report.observe.newFollowers.length;
        current.lostFollowers += report.observe.lostFollowers.length;
        current.requests += report.observe.requests;
        current.usersRead += report.observe.usersRead;
        const acted = report.act;
        current.followedBack += acted.followed + acted.requested + acted.alreadyFollowing;
        current.late += acted.late;
        current.failed += acted.failed;
        for (const [reason, n] of Object.entries(report.reconcile.skipped)) {
          current.skipped[reason] = (current.skipped[reason] ?? 0) + (n ?? 0);
        }
        if (acted.leftBeforeFollowBack > 0) {
          current.skipped.left_before_followback =
            (current.skipped.left_before_followback ?? 0) + acted.leftBeforeFollowBack;
        }
      }
      await options.onTick?.(account, report, at);
    }
    if (at - current.from >= DAY_MS || at === end) {
      days.push(current);
      await options.onDay?.(current);
      current = emptyDay(current.day + 1, current.from + DAY_MS);
    }
  }
  return days;
}

function emptyDay(day: number, from: number): DayFigures {
  return {
    day,
    from,
    newFollowers: 0,
    lostFollowers: 0,
    requests: 0,
    usersRead: 0,
    followedBack: 0,
    late: 0,
    skipped: {},
    failed: 0,
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
