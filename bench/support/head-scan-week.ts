/**
 * The head-scan design over simulated time: the real observe use case, run by `simulate` (a tick
 * every 15 virtual minutes, `runAccountTick` each), on dynalite, the X sandbox and the X adapter.
 * The tick also reconciles and acts; on X the default mode is `approve`, so nothing is followed in
 * the week, and head-scan changesets carry the profiles reconcile vets (no lookups).
 */
import { randomBytes } from 'node:crypto';
import { attachCapacityMeter } from '../../shared/adapters/dynamo/capacity.ts';
import { DynamoStore } from '../../shared/adapters/dynamo/store.ts';
import { silentLogger } from '../../shared/adapters/logger.ts';
import { runAccountTick } from '../../shared/app/tick.ts';
import { resolveObserveSettings } from '../../shared/config/observe-settings.ts';
import type { AccountRecord, ObserveSettings } from '../../shared/domain/account.ts';
import { startLocalDynamo } from '../../shared/runtime/local-dynamo.ts';
import { simulate } from '../../shared/runtime/simulate.ts';
import { Detections } from './detection.ts';
import { type AccountProfile, startWorld, type WorldSetup } from './worlds.ts';

const DAY = 86_400_000;

/**
 * Observe settings of the measured account: X's defaults, with a read budget that never cuts a head
 * scan and lets the connection take a complete baseline (a full scan of 100,000 followers costs
 * $1,000 at $0.010 a user), and full scans kept off for the measured week by `fullScanMinDays`.
 */
export const HEAD_SCAN_OVERRIDES: Partial<ObserveSettings> = {
  readBudgetUsdPerMonth: 5_000,
  fullScanMinDays: 30,
};

export interface HeadScanWeek {
  setup: WorldSetup;
  /** Virtual time of the connection tick (the baseline); measurement starts after it. */
  from: number;
  to: number;
  settings: ObserveSettings;
  detections: Detections;
  /** Users returned by the API during the measured span, every endpoint (the sandbox's count). */
  usersRead: number;
  /** Of those, users X bills (once per app, user and UTC day: the sandbox's billing). */
  usersBilled: number;
  /** Ticks that ran while the account's own read cap was spent and read nothing (wasted invocations). */
  wastedInvocations: number;
  /** Ticks the account's read cap stopped, naming the cap. */
  budgetStops: number;
  /** The last observe state (counts, anchor, overlap). */
  finalState?: import('../../shared/domain/account-state.ts').AccountState | undefined;
  /** Of those, what observe read (list pages and the owner's refreshes), as its reports say. */
  observeUsersRead: number;
  /** Of those, profile lookups (reconcile vets new followers whose profiles a changeset lacks). */
  lookupUsersRead: number;
  requests: number;
  headScans: number;
  partialHeadScans: number;
  fullScans: number;
  /** Users read by the connection tick (baseline full scans), not counted above. */
  baselineUsersRead: number;
  /** DynamoDB capacity the measured span consumed (as dynalite reports it). */
  readUnits: number;
  writeUnits: number;
  wallMs: number;
}

/** Something that happens to the world at a time of the measured span (a burst, a wave, a mass unfollow). */
export interface ScriptedEvent {
  /** Hours after the connection. */
  atHours: number;
  name: string;
  run(setup: WorldSetup): void;
}

/** Per scripted event: list requests and new followers detected from it until the next event. */
export interface ScriptedEventFigures {
  name: string;
  requests: number;
  detected: number;
}

/** What a bench may look at once the span is over, before the store and the sandbox close. */
export interface HeadScanWeekEnd {
  store: DynamoStore;
  account: AccountRecord;
  setup: WorldSetup;
  from: number;
  to: number;
}

export async function runHeadScanWeek(
  profile: AccountProfile,
  options: {
    days?: number;
    overrides?: Partial<ObserveSettings>;
    script?: readonly ScriptedEvent[];
    /** Called at the end of the span, with the store still open (e.g. to build the digest model). */
    atEnd?: (end: HeadScanWeekEnd) => Promise<void>;
  } = {},
): Promise<HeadScanWeek & { events: ScriptedEventFigures[] }> {
  const days = options.days ?? 7;
  const setup = await startWorld(profile);
  const { clock, world, owner, platform } = setup;
  const dynamo = await startLocalDynamo({ tableName: `bench-${randomBytes(4).toString('hex')}` });
  try {
    const store = new DynamoStore({ client: dynamo.client, tableName: dynamo.tableName, clock });
    const settings = resolveObserveSettings('x', { ...HEAD_SCAN_OVERRIDES, ...options.overrides });
    const account: AccountRecord = {
      clientId: 'bench',
      accountId: `x-${profile.label}`,
      network: 'x',
      platformUserId: owner.id,
      handle: owner.username,
      status: 'active',
      observe: settings,
      createdAt: clock.now(),
    };
    await store.putAccount(account);
    let scans = 0;
    const newId = () => `scan-${++scans}`;
    const started = performance.now();

    // Connection: the baseline of both lists, in the first tick.
    const from = clock.now();
    const baseline = await runAccountTick(
      account,
      { platform, store, clock, logger: silentLogger, newId },
      { worker: 'bench', timeLeftMs: () => 60_000 },
    );
    if (!baseline.ran || baseline.observe.stopped) {
      throw new Error(`the baseline tick did not complete: ${JSON.stringify(baseline)}`);
    }

    // The measured span: a tick every 15 minutes.
    const meter = attachCapacityMeter(dynamo.client);
    const statsBefore = world.stats.snapshot();
    const detections = new Detections();
    const pending = [...(options.script ?? [])].sort((a, b) => a.atHours - b.atHours);
    const events: ScriptedEventFigures[] = [];
    /** When act asked to run again, as the last tick that ran left it (its idle recheck wakes the account). */
    let lastActDueAt = 0;
    const week: Omit<
      HeadScanWeek,
      | 'setup'
      | 'from'
      | 'to'
      | 'settings'
      | 'detections'
      | 'wallMs'
      | 'readUnits'
      | 'writeUnits'
      | 'usersRead'
      | 'usersBilled'
      | 'lookupUsersRead'
      | 'finalState'
    > = {
      observeUsersRead: 0,
      requests: 0,
      headScans: 0,
      partialHeadScans: 0,
      fullScans: 0,
      baselineUsersRead: baseline.observe.usersRead,
      wastedInvocations: 0,
      budgetStops: 0,
    };
    await simulate(
      {
        store,
        clock,
        logger: silentLogger,
        platformFor: () => platform,
        accounts: async () => [account],
        newId,
      },
      {
        days,
        onTick: async (_account, report, at) => {
          const actDueAt = lastActDueAt;
          if (report.ran) lastActDueAt = (await store.getState(account))?.state.engine?.nextActAt ?? 0;
          for (let event = pending[0]; event && at >= from + event.atHours * 3_600_000; event = pending[0]) {
            pending.shift();
            world.advanceTo(at);
            event.run(setup);
            events.push({ name: event.name, requests: 0, detected: 0 });
          }
          if (!report.ran) return;
          const { observe } = report;
          const current = events[events.length - 1];
          if (current) {
            current.requests += observe.requests;
            current.detected += observe.newFollowers.length;
          }
          week.observeUsersRead += observe.usersRead;
          if (observe.stopped?.reason === 'budget') {
            if (observe.stopped.cap !== undefined) week.budgetStops += 1;
            // Woken while the cap was spent, to read nothing, and not for act's own recheck.
            if (observe.requests === 0 && !(actDueAt <= at)) week.wastedInvocations += 1;
          }
          week.requests += observe.requests;
          if (observe.headScan === 'done') week.headScans += 1;
          if (observe.headScan === 'partial') week.partialHeadScans += 1;
          if (observe.fullScan?.state === 'finished') week.fullScans += 1;
          detections.record(observe.newFollowers, at);
        },
      },
    );
    world.advanceTo(clock.now());
    await options.atEnd?.({ store, account, setup, from, to: from + days * DAY });
    const statsAfter = world.stats.snapshot();
    const usersOf = (snapshot: typeof statsAfter, endpoint: string) =>
      snapshot.endpoints[endpoint]?.usersReturned ?? 0;
    return {
      usersRead: statsAfter.totals.usersReturned - statsBefore.totals.usersReturned,
      usersBilled: statsAfter.totals.usersBilled - statsBefore.totals.usersBilled,
      finalState: (await store.getState(account))?.state,
      lookupUsersRead: usersOf(statsAfter, 'users') - usersOf(statsBefore, 'users'),
      setup,
      from,
      to: from + days * DAY,
      settings,
      detections,
      events,
      ...week,
      readUnits: meter.readUnits,
      writeUnits: meter.writeUnits,
      wallMs: performance.now() - started,
    };
  } finally {
    await dynamo.close();
    await setup.close();
  }
}
