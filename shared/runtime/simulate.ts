import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoConsoleStore } from '../adapters/dynamo/console-store.ts';
import { DynamoUnfollowQueue } from '../adapters/dynamo/unfollow-store.ts';
import { sleep } from '../adapters/retry.ts';
import { type AccountWorkDeps, workAccountRecord } from '../app/account-work.ts';
import type { TickDeps, TickReport } from '../app/tick.ts';
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
  /** Ticks run in this day. */
  ticks: number;
  /** The run stopped (Ctrl-C) before the day was over: its figures are for the ticks that ran. */
  partial?: boolean;
}

export interface SimulationDeps {
  /** The engine's stores, and the registry's status mark (refused credentials: `token_expired`). */
  store: AccountWorkDeps['store'];
  clock: Clock & { set(at: number): void };
  logger: Logger;
  /**
   * The account's platform, made once per run. A promise (the factory's `open`) opens the
   * credentials first, so a credential problem changes no state, as on AWS.
   */
  platformFor(account: AccountRecord): Platform | Promise<Platform>;
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
  /** Called after every tick of all the accounts, with that tick's figures (`day` is the day it falls in). */
  onTickEnd?: (figures: DayFigures, at: number) => void | Promise<void>;
  /**
   * Real-time mode: wait this many wall-clock ms between ticks, and let the clock follow the wall:
   * each tick moves it on by the same span (unless `tickMs` says otherwise).
   */
  realtimeTickMs?: number;
  signal?: AbortSignal;
}

/**
 * Fires the same ticks the scheduler fires on AWS, on a virtual clock: every `tickMs`, every account,
 * one tick each (observe; later reconcile and act). Returns the figures per simulated day.
 */
export async function simulate(deps: SimulationDeps, options: SimulationOptions): Promise<DayFigures[]> {
  const tickMs = options.tickMs ?? options.realtimeTickMs ?? TICK_MS;
  const newId = deps.newId ?? randomUUID;
  const start = deps.clock.now();
  const end = start + options.days * DAY_MS;
  const days: DayFigures[] = [];
  let current = emptyDay(1, start);
  const platforms = new Map<string, Platform>();

  for (let at = start + tickMs; at <= end; at += tickMs) {
    if (options.signal?.aborted) break;
    if (options.realtimeTickMs !== undefined) await sleep(options.realtimeTickMs, options.signal);
    if (options.signal?.aborted) break;
    deps.clock.set(at);
    const tick = emptyDay(current.day, at);
    for (const account of await deps.accounts()) {
      const key = `${account.clientId}/${account.accountId}`;
      const platformFor = async (): Promise<Platform> => {
        const known = platforms.get(key);
        if (known !== undefined) return known;
        // Kept once it opened: a credential problem is met again on the next tick.
        const opened = await deps.platformFor(account);
        platforms.set(key, opened);
        return opened;
      };
      // The same account work as the AWS account worker runs, with its policy: refused credentials
      // mark the account token_expired, work that cannot be done is dropped, and a failure that may
      // pass is logged and tried again on the next tick (as SQS would deliver it again).
      const worked = await workAccountRecord(
        account,
        {
          platformFor,
          store: deps.store,
          clock: deps.clock,
          logger: deps.logger.child({ clientId: account.clientId, accountId: account.accountId }),
          newId,
          samples: deps.samples,
          unfollows: deps.unfollows,
        },
        { worker: 'local', timeLeftMs: () => 60_000 },
      );
      const report = worked.report;
      if (report?.ran) addTick(tick, report);
      if (report !== undefined) await options.onTick?.(account, report, at);
    }
    tick.ticks = 1;
    addFigures(current, tick);
    await options.onTickEnd?.(tick, at);
    if (at - current.from >= DAY_MS || at === end) {
      days.push(current);
      await options.onDay?.(current);
      current = emptyDay(current.day + 1, current.from + DAY_MS);
    }
  }
  // Stopped part way through a day: its ticks count too, so the summary adds up to what ran.
  if (current.ticks > 0) {
    current.partial = true;
    days.push(current);
    await options.onDay?.(current);
  }
  return days;
}

function addTick(figures: DayFigures, report: TickReport & { ran: true }): void {
  figures.newFollowers += report.observe.newFollowers.length;
  figures.lostFollowers += report.observe.lostFollowers.length;
  figures.requests += report.observe.requests;
  figures.usersRead += report.observe.usersRead;
  const acted = report.act;
  figures.followedBack += acted.followed + acted.requested + acted.alreadyFollowing;
  figures.late += acted.late;
  figures.failed += acted.failed;
  for (const [reason, n] of Object.entries(report.reconcile.skipped)) {
    figures.skipped[reason] = (figures.skipped[reason] ?? 0) + (n ?? 0);
  }
  if (acted.leftBeforeFollowBack > 0) {
    figures.skipped.left_before_followback =
      (figures.skipped.left_before_followback ?? 0) + acted.leftBeforeFollowBack;
  }
}

function addFigures(into: DayFigures, tick: DayFigures): void {
  into.newFollowers += tick.newFollowers;
  into.lostFollowers += tick.lostFollowers;
  into.requests += tick.requests;
  into.usersRead += tick.usersRead;
  into.followedBack += tick.followedBack;
  into.late += tick.late;
  into.failed += tick.failed;
  into.ticks += tick.ticks;
  for (const [reason, n] of Object.entries(tick.skipped))
    into.skipped[reason] = (into.skipped[reason] ?? 0) + n;
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
    ticks: 0,
  };
}
