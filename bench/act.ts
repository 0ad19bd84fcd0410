/**
 * `npm run bench -- act`: the follow-back engine under X's limits (50 follows per 15 minutes, 400 a
 * day, as the sandbox enforces them), through the real tick loop (`simulate`: observe, reconcile,
 * act every 15 virtual minutes) on dynalite, the X sandbox and the X adapter.
 *
 * 1. Backlog: an X account in `approve` mode (X's default) whose owner approved a backlog of 5,000
 *    follow-backs at once, plus about 100 new followers a day, each approved at the tick that found
 *    it, for seven simulated days. The backlog is built through the use cases: 5,000 users follow
 *    after the connection, a head scan finds them, reconcile queues them for approval (spam filters
 *    set to `flag`, so the owner decides on every one), and `decideApprovals(…, 'all')` approves
 *    them, which starts their promise clock. Figures: follows done against the most the policy's
 *    caps allow (X's defaults, 40 per 15 minutes and 350 a day, with the quiet hours 23:00–07:00
 *    kept and counted), 429s received, promise kept % against the most promises the caps could
 *    keep, DynamoDB units per follow-back, wall time.
 * 2. Easy load: the same account with only the 100 new followers a day: the distribution of
 *    follow-back delays (from the promise start, the approval) against the promise window.
 *
 * DynamoDB units are what dynalite reports (reads; writes without the GSI) and what
 * `attachCapacityMeter` estimates from item sizes (writes with the GSI), over the measured week:
 * observe, reconcile, act and the approvals of new followers, not the one-off backlog approval
 * (printed apart). `BENCH_ACT_DEBUG=1` also lists the new followers whose promise was not kept.
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createWorld } from '../sandbox/world.ts';
import { startXSandbox } from '../sandbox/x/server.ts';
import { VirtualClock } from '../shared/adapters/clock.ts';
import { attachCapacityMeter } from '../shared/adapters/dynamo/capacity.ts';
import { DynamoStore } from '../shared/adapters/dynamo/store.ts';
import { silentLogger } from '../shared/adapters/logger.ts';
import { XPlatform } from '../shared/adapters/x/x-platform.ts';
import { decideApprovals } from '../shared/app/engine/approve.ts';
import { policyOf } from '../shared/app/engine/policy-of.ts';
import { runAccountTick } from '../shared/app/tick.ts';
import { resolveObserveSettings } from '../shared/config/observe-settings.ts';
import { resolveAppDailyCap } from '../shared/config/policy.ts';
import type { AccountRecord } from '../shared/domain/account.ts';
import { newLimiter } from '../shared/domain/engine/limiter.ts';
import {
  accountLimiterConfig,
  appLimiterConfig,
  type EnginePolicy,
  quietCalendarOf,
} from '../shared/domain/engine/policy.ts';
import { CapacityCursor, type CapacityModel, slotTimes } from '../shared/domain/engine/schedule.ts';
import type { FollowTask } from '../shared/domain/engine/task.ts';
import { defined } from '../shared/domain/invariant.ts';
import { DEFAULT_START } from '../shared/runtime/local.ts';
import { startLocalDynamo } from '../shared/runtime/local-dynamo.ts';
import { simulate } from '../shared/runtime/simulate.ts';
import { type BenchFigures, type BenchOptions, met, quantile, round, show, table } from './support/bench.ts';

const HOUR = 3_600_000;
/** Simulated days of each scenario: 7, or `BENCH_ACT_DAYS` for a shorter look (figures per follow-back). */
const DAYS = Number(process.env.BENCH_ACT_DAYS ?? 7);
const TARGETS = { utilizationPct: 98, http429: 0, promiseKeptPct: 100, stillFollowsReadUnits: 5 };

/** Spam filters that flag but never skip: in approve mode the owner decides on every follower. */
const FLAG_ONLY = {
  emptyProfile: 'flag',
  defaultAvatar: 'flag',
  newAccount: { action: 'flag' },
  ratio: { action: 'flag' },
  keywords: { action: 'flag' },
};

interface Scenario {
  label: string;
  backlog: number;
  followersPerDay: number;
  seed: number;
}

interface ScenarioResult {
  policy: EnginePolicy;
  backlog: number;
  backlogApprovalMs: number;
  /** DynamoDB units of approving the backlog (once, not counted per follow-back). */
  backlogApprovalUnits: { read: number; write: number };
  followsDone: number;
  alreadyFollowing: number;
  maxAllowed: number;
  http429: number;
  /** Promises judged (deadline within the run) and needing a follow; kept; the most the caps could keep. */
  judged: number;
  kept: number;
  keepable: number;
  newJudged: number;
  newKept: number;
  newFollowers: number;
  backlogLeft: number;
  readUnits: number;
  writeUnits: number;
  estimatedWriteUnits: number;
  /** Follow-back delays of judged tasks: from the promise start (approval), and from the follow on X. */
  delays: number[];
  delaysFromFollow: number[];
  /** Read and write units of the week by operation and item kind (dynalite's figures). */
  breakdown: Map<string, { calls: number; units: number }>;
  setupMs: number;
  wallMs: number;
}

export async function run({ out, progress }: BenchOptions): Promise<BenchFigures> {
  const backlog = await runScenario(
    { label: 'backlog', backlog: 5_000, followersPerDay: 100, seed: 7 },
    progress,
  );
  // `BENCH_ACT_ONLY=backlog` skips the easy load (its figures then repeat the backlog's).
  const easy =
    process.env.BENCH_ACT_ONLY === 'backlog'
      ? backlog
      : await runScenario({ label: 'easy', backlog: 0, followersPerDay: 100, seed: 8 }, progress);
  const figures = report(out, backlog, easy);
  return figures;
}

function report(out: BenchOptions['out'], a: ScenarioResult, b: ScenarioResult): BenchFigures {
  const caps = a.policy.caps;
  const utilization = (100 * a.followsDone) / a.maxAllowed;
  const keptPct = a.keepable === 0 ? 100 : (100 * a.kept) / a.keepable;
  const follows = Math.max(1, a.followsDone);
  const writePerFollow = a.estimatedWriteUnits / follows;
  const readPerFollow = a.readUnits / follows;
  out(
    `Backlog: ${show(a.backlog)} approved follow-backs + ~${show(100)} new followers a day, ${DAYS} simulated days, ` +
      `X limits 50/15 min and 400/day; caps ${caps.per15Minutes}/15 min, ${caps.perDay}/day, ` +
      `pace ${caps.pacePerHour}/h (burst ${caps.paceBurst}), quiet hours ${a.policy.quietHours?.start}–${a.policy.quietHours?.end} ${a.policy.timeZone}`,
  );
  for (const line of table(
    ['figure', 'measured', 'target', 'met'],
    [
      ['follow-backs made (followed or requested)', show(a.followsDone), '', ''],
      [
        `most the caps allow in ${DAYS} days (caps, pace, quiet hours)`,
        show(a.maxAllowed),
        `(${show(caps.perDay * DAYS)} = ${caps.perDay} × ${DAYS})`,
        '',
      ],
      [
        'utilization',
        `${show(utilization, 1)} %`,
        `≥ ${TARGETS.utilizationPct} %`,
        met(utilization >= TARGETS.utilizationPct),
      ],
      ['429s received from X', show(a.http429), String(TARGETS.http429), met(a.http429 === TARGETS.http429)],
      [
        'promise kept, of the most the caps could keep',
        `${show(keptPct, 1)} % (${show(a.kept)} of ${show(a.keepable)})`,
        `${TARGETS.promiseKeptPct} %`,
        met(keptPct >= TARGETS.promiseKeptPct),
      ],
      [
        '  promises judged (deadline in the run)',
        `${show(a.judged)} (${show(a.judged - a.keepable)} beyond the caps)`,
        '',
        '',
      ],
      [
        '  new followers: promise kept',
        `${show(a.newJudged === 0 ? 100 : (100 * a.newKept) / a.newJudged, 1)} % (${show(a.newKept)} of ${show(a.newJudged)})`,
        '',
        '',
      ],
      ['backlog still open at the end', show(a.backlogLeft), '', ''],
      ['DynamoDB write units per follow-back (estimated, GSI incl.)', show(writePerFollow, 2), '', ''],
      ['  as dynalite reports them (no GSI writes)', show(a.writeUnits / follows, 2), '', ''],
      ['DynamoDB read units per follow-back', show(readPerFollow, 2), '', ''],
      [
        '  of which the "still follows" check on X (removal marks)',
        show(stillFollowsUnits(a.breakdown) / follows, 2),
        `≤ ${TARGETS.stillFollowsReadUnits}`,
        met(stillFollowsUnits(a.breakdown) / follows <= TARGETS.stillFollowsReadUnits),
      ],
      [
        'approving the backlog (once)',
        `${show(a.backlogApprovalUnits.read)} RU, ${show(a.backlogApprovalUnits.write)} WU, ${show(a.backlogApprovalMs / 1000, 1)} s`,
        '',
        '',
      ],
      [
        'wall time of the week (setup apart)',
        `${show(a.wallMs / 1000, 1)} s (+ ${show(a.setupMs / 1000, 1)} s)`,
        '',
        '',
      ],
    ],
  )) {
    out(line);
  }
  out('');
  out(`DynamoDB units of the backlog week by operation (dynalite's figures), per follow-back:`);
  const rows = [...a.breakdown]
    .sort((x, y) => y[1].units - x[1].units)
    .slice(0, 10)
    .map(([label, entry]) => [
      label,
      show(entry.calls),
      show(entry.units, 0),
      show(entry.units / follows, 2),
    ]);
  for (const line of table(['operation / item', 'calls', 'units', 'per follow-back'], rows)) out(line);
  out('');
  const delays = [...b.delays].sort((x, y) => x - y).map((ms) => ms / HOUR);
  const fromFollow = [...b.delaysFromFollow].sort((x, y) => x - y).map((ms) => ms / HOUR);
  const window = b.policy.promise;
  const p50 = quantile(delays, 0.5);
  const p95 = quantile(delays, 0.95);
  const max = delays[delays.length - 1] ?? Number.NaN;
  out(
    `Easy load: ~${show(100)} new followers a day, no backlog, ${DAYS} days; promise window ` +
      `${window.notBeforeHours}–${window.withinHours} h after approval (approved at the tick that found them); ` +
      `${show(delays.length)} follow-backs whose deadline fell in the run`,
  );
  for (const line of table(
    ['follow-back delay (h)', 'p50', 'p95', 'max', 'window'],
    [
      [
        'from the promise start (approval)',
        show(p50, 1),
        show(p95, 1),
        show(max, 1),
        `${window.notBeforeHours}–${window.withinHours}`,
      ],
      [
        'from the follow on X (incl. detection)',
        show(quantile(fromFollow, 0.5), 1),
        show(quantile(fromFollow, 0.95), 1),
        show(fromFollow[fromFollow.length - 1] ?? Number.NaN, 1),
        '',
      ],
    ],
  )) {
    out(line);
  }
  out(
    `promise kept ${show(b.newJudged === 0 ? 100 : (100 * b.newKept) / b.newJudged, 1)} %, 429s ${b.http429}, ` +
      `${show(b.followsDone)} follow-backs, ${show(b.estimatedWriteUnits / Math.max(1, b.followsDone), 2)} WU and ` +
      `${show(b.readUnits / Math.max(1, b.followsDone), 2)} RU per follow-back, wall ${show(b.wallMs / 1000, 1)} s`,
  );
  return {
    follows_done: a.followsDone,
    follows_max_allowed: a.maxAllowed,
    utilization_pct: round(utilization, 2),
    http_429: a.http429,
    promise_kept_pct: round(keptPct, 2),
    write_units_per_follow: round(writePerFollow, 3),
    read_units_per_follow: round(readPerFollow, 3),
    still_follows_read_units_per_follow: round(stillFollowsUnits(a.breakdown) / follows, 3),
    delay_p50_h: round(p50, 2),
    delay_p95_h: round(p95, 2),
    delay_max_h: round(max, 2),
    window_h: window.withinHours,
  };
}

async function runScenario(scenario: Scenario, progress: BenchOptions['progress']): Promise<ScenarioResult> {
  const setupStarted = performance.now();
  const clock = new VirtualClock(DEFAULT_START);
  const world = createWorld({ seed: scenario.seed, clock });
  const owner = world.addOwner({
    handle: 'bigshop',
    initialFollowers: 3_000,
    initialFollowing: 500,
    followersPerDay: scenario.followersPerDay,
    unfollowsPerDay: 0,
    deletionsPerDay: 0,
    spamShare: 0,
    refollowShare: 0,
  });
  const sandbox = await startXSandbox({ world, clock });
  const dynamo = await startLocalDynamo({ tableName: `bench-act-${randomBytes(4).toString('hex')}` });
  try {
    const platform = new XPlatform({
      baseUrl: sandbox.baseUrl,
      accessToken: sandbox.issueToken(owner.id),
      timeoutMs: 10_000,
    });
    const store = new DynamoStore({ client: dynamo.client, tableName: dynamo.tableName, clock });
    const account: AccountRecord = {
      clientId: 'bench',
      accountId: 'x-bigshop',
      network: 'x',
      platformUserId: owner.id,
      handle: owner.username,
      status: 'active',
      // Reads are not what this bench measures: a budget that never stops a head scan, no full scan.
      observe: resolveObserveSettings('x', { readBudgetUsdPerMonth: 5_000, fullScanMinDays: 30 }),
      policy: { mode: 'approve', spam: FLAG_ONLY },
      createdAt: clock.now(),
    };
    await store.putAccount(account);
    const policy = policyOf(account);
    let ids = 0;
    const newId = () => `scan-${++ids}`;
    const tick = () =>
      runAccountTick(
        account,
        { platform, store, clock, logger: silentLogger, newId },
        { worker: 'bench', timeLeftMs: () => 60_000 },
      );
    const approvalDeps = { tasks: store, state: store, clock };

    // Connection: baselines of both lists.
    progress(`act/${scenario.label}: connecting (baselines of 3,000 followers and 500 followings)…`);
    for (let i = 0; i < 4; i += 1) {
      await tick();
      clock.advance(15 * 60_000);
    }

    // The backlog: followers found by a head scan, queued by reconcile, approved all at once.
    let backlogApprovalMs = 0;
    const backlogApprovalUnits = { read: 0, write: 0 };
    if (scenario.backlog > 0) {
      progress(
        `act/${scenario.label}: ${show(scenario.backlog)} new followers, detected and queued for approval…`,
      );
      for (let i = 0; i < scenario.backlog; i += 1) world.userFollows(world.createUser().id, owner.id);
      for (let i = 0; i < 16; i += 1) {
        clock.advance(15 * 60_000);
        await tick();
        if ((await store.listAwaitingApproval(account)).length >= scenario.backlog) break;
      }
      progress(`act/${scenario.label}: approving them all…`);
      const meter = attachCapacityMeter(dynamo.client);
      const started = performance.now();
      const approved = await decideApprovals(account, { approve: 'all', skip: [] }, approvalDeps);
      backlogApprovalMs = performance.now() - started;
      backlogApprovalUnits.read = meter.readUnits;
      backlogApprovalUnits.write = meter.estimatedWriteUnits;
      meter.detach();
      if (approved.approved.length < scenario.backlog) {
        throw new Error(`only ${approved.approved.length} of ${scenario.backlog} follow-backs were approved`);
      }
    }
    const setupMs = performance.now() - setupStarted;

    // The measured week: a tick every 15 minutes; the owner approves new candidates as they come.
    const from = clock.now();
    const meter = attachCapacityMeter(dynamo.client);
    const breakdown = attachBreakdown(dynamo.client);
    const started = performance.now();
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
        days: DAYS,
        onTick: async () => {
          await decideApprovals(account, { approve: 'all', skip: [] }, approvalDeps);
        },
        onDay: (day) => {
          progress(
            `act/${scenario.label}: day ${day.day}: ${day.followedBack} follow-backs, ${day.newFollowers} new followers`,
          );
        },
      },
    );
    const wallMs = performance.now() - started;
    const to = clock.now();
    meter.detach();
    breakdown.detach();

    const calls = world.followCalls(owner.id).filter((call) => call.at > from && call.at <= to);
    const tasks = (await store.listTasks(account)).map((entry) => entry.task);
    const promised = tasks.filter(
      (task): task is FollowTask & { approvedAt: number; deadline: number; windowStart: number } =>
        !task.backfill &&
        task.approvedAt !== undefined &&
        task.deadline !== undefined &&
        task.windowStart !== undefined &&
        task.deadline <= to &&
        ['done', 'requested', 'scheduled', 'in_progress'].includes(task.state),
    );
    const isKept = (task: (typeof promised)[number]) =>
      (task.state === 'done' || task.state === 'requested') &&
      task.doneAt !== undefined &&
      task.doneAt <= task.deadline;
    const fresh = promised.filter((task) => task.approvedAt > from);
    if (process.env.BENCH_ACT_DEBUG) {
      const iso = (t: number | undefined) => (t === undefined ? '-' : new Date(t).toISOString().slice(5, 16));
      for (const task of fresh.filter((t) => !isKept(t))) {
        progress(
          `late ${task.targetId} approved ${iso(task.approvedAt)} due ${iso(task.dueAt)} deadline ${iso(task.deadline)} done ${iso(task.doneAt)} ${task.state} attempts ${task.attempts} retry ${iso(task.retryAt)}`,
        );
      }
    }
    const judgedDone = promised.flatMap((task) =>
      (task.state === 'done' || task.state === 'requested') && task.doneAt !== undefined
        ? [{ ...task, doneAt: task.doneAt }]
        : [],
    );
    return {
      policy,
      backlog: scenario.backlog,
      backlogApprovalMs,
      backlogApprovalUnits,
      followsDone: calls.filter((call) => call.outcome === 'followed' || call.outcome === 'pending').length,
      alreadyFollowing: calls.filter((call) => call.outcome.startsWith('already')).length,
      maxAllowed: maxFollows(policy, from, to),
      http429: sandbox.stats.snapshot().totals.rateLimited,
      judged: promised.length,
      kept: promised.filter(isKept).length,
      keepable: mostKeepable(policy, from, to, promised),
      newJudged: fresh.length,
      newKept: fresh.filter(isKept).length,
      newFollowers: tasks.filter((task) => task.approvedAt !== undefined && task.approvedAt > from).length,
      backlogLeft: tasks.filter(
        (task) => task.approvedAt === from && (task.state === 'scheduled' || task.state === 'in_progress'),
      ).length,
      readUnits: meter.readUnits,
      writeUnits: meter.writeUnits,
      estimatedWriteUnits: meter.estimatedWriteUnits,
      delays: judgedDone.map((task) => task.doneAt - task.approvedAt),
      delaysFromFollow: judgedDone.flatMap((task) => {
        const followedAt = world.followedAt(owner.id, task.targetId);
        return followedAt === undefined ? [] : [task.doneAt - followedAt];
      }),
      breakdown: breakdown.units,
      setupMs,
      wallMs,
    };
  } finally {
    await sandbox.close();
    await dynamo.close();
  }
}

/** The account's capacity from a fresh start: its caps and pace, the app-wide cap, quiet hours. */
function capacityOf(policy: EnginePolicy): CapacityModel {
  const account = accountLimiterConfig(policy);
  const limiters = [{ config: account, state: newLimiter(account) }];
  const appCap = resolveAppDailyCap('x');
  if (appCap !== null) {
    const app = appLimiterConfig(appCap);
    limiters.push({ config: app, state: newLimiter(app) });
  }
  return { limiters, quiet: quietCalendarOf(policy) };
}

/** The most follows the caps allow in [from, to]: the slots of an account that acted continuously. */
function maxFollows(policy: EnginePolicy, from: number, to: number): number {
  return slotTimes(capacityOf(policy), from, Number.MAX_SAFE_INTEGER, to).length;
}

/**
 * The most promises the caps could keep: unit jobs (window [windowStart, deadline]) served one per
 * slot of the caps, taking a slot as soon as a job is released and not expired, earliest deadline
 * first (Glover's greedy for interval-shaped matching, with the limiter advanced only by real takes:
 * a slot with nothing to serve is not spent, so it costs no later capacity). Release is the window's
 * start, not the engine's jittered due time, so this bounds the engine from above.
 */
function mostKeepable(
  policy: EnginePolicy,
  from: number,
  to: number,
  tasks: ReadonlyArray<{ windowStart: number; deadline: number }>,
): number {
  const cursor = CapacityCursor.from(capacityOf(policy));
  const jobs = tasks
    .map((task) => ({ release: task.windowStart, deadline: task.deadline }))
    .sort((a, b) => a.release - b.release);
  const deadlines = new MinHeap();
  let next = 0;
  let matched = 0;
  let at = from;
  for (;;) {
    at = cursor.nextSlot(at);
    if (!(at <= to)) break;
    for (let job = jobs[next]; job && job.release <= at; job = jobs[++next]) deadlines.push(job.deadline);
    for (let first = deadlines.peek(); first !== undefined && first < at; first = deadlines.peek())
      deadlines.pop();
    if (deadlines.size === 0) {
      const job = jobs[next];
      if (job === undefined) break;
      at = job.release;
      continue;
    }
    deadlines.pop();
    cursor.take(at);
    matched += 1;
  }
  return matched;
}

class MinHeap {
  readonly #items: number[] = [];
  get size(): number {
    return this.#items.length;
  }
  peek(): number | undefined {
    return this.#items[0];
  }
  push(value: number): void {
    const items = this.#items;
    let i = items.length;
    items.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = defined(items[parent], 'the parent of a heap slot');
      if (above <= value) break;
      items[i] = above;
      i = parent;
    }
    items[i] = value;
  }
  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= items.length) break;
        let m = l;
        let child = defined(items[l], 'the left child of a heap slot');
        const right = items[l + 1];
        if (right !== undefined && right < child) {
          m = l + 1;
          child = right;
        }
        if (child >= last) break;
        items[i] = child;
        i = m;
      }
      items[i] = last;
    }
    return top;
  }
}

/**
 * Read units of act's "still follows" check: the removal marks' queries (`RMV#`), plus the list
 * replays of the rare targets a removal after their detection names (counted with the other
 * changeset reads, `Query CHG`, which are mostly observe's and reconcile's).
 */
function stillFollowsUnits(breakdown: Map<string, { calls: number; units: number }>): number {
  return breakdown.get('Query RMV')?.units ?? 0;
}

/**
 * Capacity units by operation and item kind (the sort key's or queue's first segment), to show where
 * the units per follow-back go. Asks for TOTAL consumed capacity itself.
 */
function attachBreakdown(client: DynamoDBClient): {
  units: Map<string, { calls: number; units: number }>;
  detach(): void;
} {
  const units = new Map<string, { calls: number; units: number }>();
  const name = `actBenchBreakdown${randomBytes(3).toString('hex')}`;
  const kindOf = (value: { S?: string } | undefined) => {
    const [kind = '?'] = (value?.S ?? '?').split('#');
    return kind;
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context.commandName ?? '').replace(/Command$/, '');
      const input = args.input as Record<string, unknown>;
      const result = await next({
        ...args,
        input: { ...input, ReturnConsumedCapacity: 'TOTAL' },
      } as typeof args);
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
      if (consumed === undefined || Array.isArray(consumed)) return result;
      let what = '';
      if (command === 'GetItem') what = kindOf((input.Key as Record<string, { S?: string }>)?.sk);
      else if (command === 'PutItem') what = kindOf((input.Item as Record<string, { S?: string }>)?.sk);
      else if (command === 'Query') {
        const values = input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined;
        const queue = values?.[':q']?.S;
        what = queue
          ? `${input.IndexName ?? 'table'} ${queue.split('#').pop()}`
          : kindOf(values?.[':prefix'] ?? values?.[':from']);
      }
      const label = `${command} ${what}`.trim();
      const entry = units.get(label) ?? { calls: 0, units: 0 };
      entry.calls += 1;
      entry.units += consumed.CapacityUnits ?? 0;
      units.set(label, entry);
      return result;
    },
    { step: 'initialize', name },
  );
  return { units, detach: () => client.middlewareStack.remove(name) };
}
