/**
 * One seeded simulated day of the real engine (shared/app/tick.ts runAccountTick and
 * shared/app/engine/approve.ts) on in-process fakes: the World of the sandboxes behind FakePlatform
 * (X approve, X auto, Bluesky or Mastodon, by seed), MemoryStore, a VirtualClock. Faults are drawn
 * from the seed; at the end the invariants of DESIGN.md section 10 are checked against the world's
 * ground truth (its follow calls, events and graph), not the engine's own records.
 */
import { type FakeFaultKind, FakePlatform } from '../sandbox/fake-platform.ts';
import { createWorld, type World } from '../sandbox/world.ts';
import { VirtualClock } from '../shared/adapters/clock.ts';
import { MemoryStore } from '../shared/adapters/memory/memory-store.ts';
import { decideApprovals } from '../shared/app/engine/approve.ts';
import { runAccountTick, type TickReport } from '../shared/app/tick.ts';
import { resolveObserveSettings } from '../shared/config/observe-settings.ts';
import type { AccountRecord } from '../shared/domain/account.ts';
import { seededRandom } from '../shared/domain/engine/schedule.ts';
import { type FollowTask, isFinal } from '../shared/domain/engine/task.ts';
import { defined } from '../shared/domain/invariant.ts';
import type { Clock } from '../shared/ports/clock.ts';
import type { Logger } from '../shared/ports/logger.ts';
import type { Network } from '../shared/ports/platform.ts';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
const START = Date.UTC(2026, 0, 5, 9, 0, 0);

export type Invariant = '1' | '2' | '3' | '4' | '6' | '9' | '10';

export interface Violation {
  seed: number;
  invariant: Invariant;
  story: string;
}

export interface SeedResult {
  seed: number;
  variant: Variant;
  violations: Violation[];
  ticks: number;
  follows: number;
  followers: number;
  faults: number;
  crashes: number;
  /** The fault classes this seed turned on. */
  faultClasses: FaultClass[];
}

export type Variant = 'x-approve' | 'x-auto' | 'bluesky' | 'mastodon';
const VARIANTS: Variant[] = ['x-approve', 'x-auto', 'bluesky', 'mastodon'];

export class InjectedCrash extends Error {
  override readonly name = 'InjectedCrash';
}

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silent,
};

/** A worker's view of the time: the world's clock, off by `skewMs`. */
function skewed(clock: Clock, skewMs: number): Clock {
  return { now: () => clock.now() + skewMs };
}

interface Notes {
  /** Per target (world id): what happened to it, for the stories. */
  of(target: string): string[];
  add(target: string, note: string): void;
  global: string[];
}

export const FAULT_CLASSES = [
  'follow_5xx_timeout_malformed',
  'follow_429',
  'read_faults',
  '429_storm',
  'crash',
  'unfollow_refollow',
  'refollow_wave',
  'burst',
  'hostile_profile',
  'block',
  'gone_before_follow',
  'owner_undo',
  'owner_undo_in_backoff',
  'owner_hand_follow',
  'owner_hand_unfollow',
  'deny_list',
  'approve_twice',
  'concurrent_delivery',
  'duplicate_delivery',
  'clock_skew',
  'budget_runs_out',
  'feed_cleared',
] as const;
export type FaultClass = (typeof FAULT_CLASSES)[number];

const FAULT_HOURS = 24;
const CALM_HOURS = 12;
const DETECTION_DELAY_HOURS = 1;
const STEP = 15 * MINUTE;
const CAPS = { per15Minutes: 6, perDay: 60, pacePerHour: 24, paceBurst: 6 };

/** What a debugging session may look at once a seed has run. */
export interface SeedInternals {
  world: World;
  ownerId: string;
  store: MemoryStore;
  account: AccountRecord;
  platform: FakePlatform;
  start: number;
}

export async function runSeed(
  seed: number,
  options: { inspect?: (internals: SeedInternals) => Promise<void> } = {},
): Promise<SeedResult> {
  const random = seededRandom(`followback-sim/${seed}`);
  const chance = (p: number) => random() < p;
  const pick = <T>(items: readonly T[]): T =>
    defined(items[Math.floor(random() * items.length)], 'a drawn item of a non-empty list');
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const variant = defined(VARIANTS[seed % VARIANTS.length], 'the variant of the seed');
  const network: Network = variant === 'bluesky' ? 'bluesky' : variant === 'mastodon' ? 'mastodon' : 'x';

  const clock = new VirtualClock(START);
  const world = createWorld({ seed, clock, orderNoise: chance(0.5) ? 0.05 : 0 });
  const owner = world.addOwner({
    handle: 'shop',
    initialFollowers: between(120, 400),
    initialFollowing: between(20, 60),
    followersPerDay: between(20, 60),
    unfollowsPerDay: between(1, 6),
    deletionsPerDay: between(0, 3),
    refollowShare: pick([0.03, 0.2]),
    protectedShare: network === 'bluesky' ? 0 : 0.1,
  });
  const platform = new FakePlatform({
    world,
    network,
    ownerId: owner.id,
    // Just above the caps, so any overrun of a cap shows as a real 429.
    limits: {
      xPerWindow: { follow: CAPS.per15Minutes + 2 },
      xFollowsPerDay: CAPS.perDay + 8,
      mastodonFollowsPerDay: CAPS.perDay + 8,
    },
    faultSeed: seed,
  });
  const store = new MemoryStore({ clock });
  const mode = variant === 'x-approve' ? 'approve' : 'auto';
  const account: AccountRecord = {
    clientId: 'acme',
    accountId: `${network}-shop`,
    network,
    platformUserId: platform.ownerPlatformId,
    handle: owner.username,
    status: 'active',
    observe: resolveObserveSettings(network, {
      readBudgetUsdPerMonth: 1_000,
      detectionDelayHours: DETECTION_DELAY_HOURS,
      fullScanMinDays: 0.5,
    }),
    createdAt: START,
    policy: {
      mode,
      ...(network === 'x' ? { acknowledgeXAutomationPolicy: mode === 'auto' } : {}),
      promise: { notBeforeHours: 1, withinHours: 24 },
      caps: CAPS,
      retry: { maxAttempts: 8, baseDelayMinutes: 5, maxDelayMinutes: 60 },
    } as AccountRecord['policy'],
  };
  await store.putAccount(account);

  // ---- fault machinery --------------------------------------------------------------------------
  // Each seed turns on its own subset of fault classes (FoundationDB's "buggify"), so that one loud
  // fault does not mask the others in every seed.
  const enabled = new Set(FAULT_CLASSES.filter(() => chance(0.5)));
  const on = (fault: FaultClass, p: number) => enabled.has(fault) && chance(p);
  const notesByTarget = new Map<string, string[]>();
  const notes: Notes = {
    of: (target) => notesByTarget.get(target) ?? [],
    add: (target, note) => {
      const list = notesByTarget.get(target) ?? [];
      if (list.length < 6) list.push(note);
      notesByTarget.set(target, list);
    },
    global: [],
  };
  const at = () => `+${((clock.now() - START) / HOUR).toFixed(2)}h`;
  const noted = new Set<string>();
  /** The first time each kind of fault hit the seed (for the stories). */
  const globalNote = (note: string) => {
    const kind = note.replace(/\d+/g, 'N');
    if (noted.has(kind) || notes.global.length >= 12) return;
    noted.add(kind);
    notes.global.push(`${note} at ${at()}`);
  };
  const worldIdOf = (platformId: string) => platform.worldIdOf(platformId) ?? platformId;

  let crashArmed: { point: string; countdown: number } | undefined;
  let crashes = 0;
  let faultCount = 0;
  const hit = (point: string, target?: string) => {
    if (crashArmed && (crashArmed.point === point || crashArmed.point === '*')) {
      if (crashArmed.countdown-- > 0) return;
      crashArmed = undefined;
      crashes += 1;
      if (target) notes.add(target, `crash at ${point} ${at()}`);
      else globalNote(`crash at ${point}`);
      throw new InjectedCrash(`crash at ${point}`);
    }
  };
  // Crashes at every store write.
  for (const method of [
    'putState',
    'putBaseChunks',
    'putChangeset',
    'putScanPage',
    'deleteScanPages',
    'deleteBaseChunks',
    'createTask',
    'putTask',
    'putBucket',
  ] as const) {
    const original = (store[method] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (store as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      const task = method === 'putTask' || method === 'createTask' ? (args[1] as FollowTask) : undefined;
      hit(method === 'putTask' ? `putTask:${task?.state}` : method, task?.targetId);
      return original(...args);
    };
  }
  // Crashes around every platform call; deletions, suspensions and owner undos just before a follow.
  const ownerUnfollowed = new Map<string, number>();
  const denied = new Map<string, number>();
  const handUnfollowed = new Map<string, number>();
  const follow = platform.follow.bind(platform);
  let beforeFollow: ((target: string) => void) | undefined;
  platform.follow = async (source, target) => {
    const id = worldIdOf(target);
    beforeFollow?.(id);
    hit('beforeFollow', id);
    const result = await follow(source, target).catch((error: unknown) => {
      notes.add(id, `follow → ${(error as Error).name} ${at()}`);
      throw error;
    });
    hit('afterFollow', id);
    return result;
  };
  for (const method of ['listFollowers', 'listFollowing', 'lookupUsers'] as const) {
    const original = (platform[method] as (...args: unknown[]) => Promise<unknown>).bind(platform);
    (platform as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      hit(`before:${method}`);
      const result = await original(...args);
      hit(`after:${method}`);
      return result;
    };
  }
  const CRASH_POINTS = [
    'putState',
    'putBaseChunks',
    'putChangeset',
    'putScanPage',
    'createTask',
    'putTask:in_progress',
    'putTask:done',
    'putTask:requested',
    'putTask:scheduled',
    'putTask:skipped',
    'putBucket',
    'beforeFollow',
    'afterFollow',
    'before:listFollowers',
    'after:listFollowers',
    'before:listFollowing',
    'after:listFollowing',
    '*',
  ];

  // ---- the scheduler -----------------------------------------------------------------------------
  let scans = 0;
  const tickErrors: { at: number; calm: boolean; error: Error }[] = [];
  const tick = async (worker: string, options: { skewMs?: number; budgetCalls?: number; calm: boolean }) => {
    let calls = 0;
    const budget = options.budgetCalls;
    try {
      return await runAccountTick(
        account,
        {
          platform,
          store,
          clock: options.skewMs ? skewed(clock, options.skewMs) : clock,
          logger: silent,
          newId: () => `scan-${++scans}`,
        },
        {
          worker,
          timeLeftMs: () => (budget === undefined || ++calls <= budget ? 60_000 : 500),
        },
      );
    } catch (error) {
      if (!(error instanceof InjectedCrash))
        tickErrors.push({ at: clock.now(), calm: options.calm, error: error as Error });
      return undefined;
    }
  };
  const approveMode = mode === 'approve';
  const approve = async (twice: boolean) => {
    const waiting = await store.listAwaitingApproval(account, { limit: 50 });
    if (waiting.length === 0) return;
    const ids = waiting.map((entry) => entry.task.targetId).filter(() => chance(0.9));
    const decide = () =>
      decideApprovals(account, { approve: ids, skip: [] }, { tasks: store, state: store, clock }).catch(
        (error: unknown) => {
          if (!(error instanceof InjectedCrash))
            tickErrors.push({ at: clock.now(), calm: false, error: error as Error });
        },
      );
    if (twice) {
      globalNote('approval given twice at once');
      await Promise.all([decide(), decide()]);
    } else await decide();
  };

  const addFault = (
    endpoint: Parameters<typeof platform.faults.add>[0]['endpoint'],
    kind: string,
    apply = false,
  ) => {
    faultCount += 1;
    platform.inject({ endpoint, kind: kind as FakeFaultKind, apply, times: 1 });
    if (endpoint !== 'follow') globalNote(`${endpoint} ${kind}`);
  };
  const engineFollowed = () =>
    world
      .followCalls(owner.id)
      .filter((call) => call.outcome === 'followed' && world.isFollowing(owner.id, call.targetId));

  // Connection: baselines of both lists (a quiet hour).
  for (let i = 0; i < 4; i += 1) {
    await tick('a', { calm: true });
    clock.advance(STEP);
  }
  const start = clock.now();
  const faultsUntil = start + FAULT_HOURS * HOUR;
  const end = faultsUntil + CALM_HOURS * HOUR;
  const waves: { at: number; ids: string[] }[] = [];
  let ticks = 0;

  while (clock.now() + STEP <= end) {
    clock.advance(STEP);
    const now = clock.now();
    const faulty = now <= faultsUntil;
    ticks += 1;
    beforeFollow = undefined;
    // Faults not met in their own step are dropped: they hit the step they were drawn for.
    platform.faults.clear();
    if (faulty) {
      // Platform faults.
      if (on('follow_5xx_timeout_malformed', 0.06))
        addFault('follow', pick(['500', '503', 'timeout', 'malformed', 'truncated']), chance(0.5));
      if (on('follow_429', 0.02)) addFault('follow', pick(['429', '429_no_headers', '429_past_reset']));
      if (on('read_faults', 0.05))
        addFault(
          pick(network === 'x' ? ['followers', 'following'] : ['followers', 'following', 'notices']),
          pick([
            '500',
            'timeout',
            'malformed',
            'truncated',
            '429',
            '429_no_headers',
            '429_past_reset',
            'refuse_cursor',
            'short_page',
          ]),
        );
      if (on('429_storm', 0.02)) {
        // A 429 storm: every read for a while.
        for (let i = 0; i < 6; i += 1)
          addFault('followers', pick(['429', '429_no_headers', '429_past_reset']));
      }
      if (on('crash', 0.05)) crashArmed = { point: pick(CRASH_POINTS), countdown: between(0, 3) };
      // Followers who come and go.
      if (on('unfollow_refollow', 0.08)) {
        const recent = world.events({ ownerId: owner.id, since: now - 6 * HOUR, kinds: ['followed'] });
        if (recent.length > 0) {
          const id = pick(recent).userId;
          if (world.userUnfollows(id, owner.id)) {
            notes.add(id, `unfollowed ${at()}`);
            if (chance(0.7)) waves.push({ at: now + between(1, 8) * STEP, ids: [id] });
          }
        }
      }
      if (network !== 'x' && on('feed_cleared', 0.02)) {
        // The owner clears the notifications in another app: the feed misses whoever they held.
        platform.notifications.clear(owner.id);
        globalNote('notifications cleared');
      }
      if (on('refollow_wave', 0.02)) {
        // A re-follow wave: many pre-connection followers leave, and come back together.
        const ids = world
          .followerIds(owner.id)
          .filter(() => chance(0.3))
          .slice(0, between(55, 120));
        for (const id of ids) world.userUnfollows(id, owner.id);
        waves.push({ at: now + between(2, 12) * STEP, ids });
        globalNote(`re-follow wave of ${ids.length}`);
      }
      if (on('burst', 0.02)) {
        const count = between(60, 250);
        for (let i = 0; i < count; i += 1) world.userFollows(world.createUser().id, owner.id);
        globalNote(`burst of ${count} new followers`);
      }
      if (on('hostile_profile', 0.03)) {
        const user = world.createUser();
        platform.profileOverrides.set(user.id, {
          bio: chance(0.5)
            ? 'x'.repeat(420_000)
            : 'hi\u0000\u001b[31m\u202e<script>alert(1)</script>\r\n=cmd|',
          name: chance(0.5) ? '\u001b]0;pwn\u0007' : 'n'.repeat(5_000),
        });
        world.userFollows(user.id, owner.id);
        notes.add(user.id, `hostile profile ${at()}`);
        globalNote('hostile follower');
      }
      if (network === 'x' && on('block', 0.04)) {
        const user = world.createUser();
        platform.blockedBy.add(user.id);
        world.userFollows(user.id, owner.id);
        notes.add(user.id, `blocks the owner (followed ${at()})`);
      }
      if (on('gone_before_follow', 0.05)) {
        // Deleted or suspended just before the engine's follow.
        beforeFollow = (target) => {
          beforeFollow = undefined;
          if (chance(0.5)) world.deleteUser(target);
          else world.suspendUser(target);
          notes.add(target, `gone just before the follow ${at()}`);
        };
      }
      // The owner acts by hand.
      if (on('owner_undo', 0.04)) {
        const followed = engineFollowed();
        if (followed.length > 0) {
          const target = pick(followed).targetId;
          world.ownerUnfollows(owner.id, target);
          ownerUnfollowed.set(target, now);
          notes.add(target, `owner undid the follow-back ${at()}`);
        }
      }
      if (on('owner_undo_in_backoff', 0.03)) {
        // The owner undoes a follow whose answer was lost, during the retry's backoff.
        const lost = world
          .followCalls(owner.id)
          .filter(
            (call) =>
              call.outcome === 'followed' &&
              call.at > now - 2 * HOUR &&
              world.isFollowing(owner.id, call.targetId),
          );
        if (lost.length > 0) {
          const target = pick(lost).targetId;
          world.ownerUnfollows(owner.id, target);
          ownerUnfollowed.set(target, now);
          notes.add(target, `owner undid a fresh follow ${at()}`);
        }
      }
      if (on('owner_hand_follow', 0.03)) {
        const followers = world.followerIds(owner.id).filter((id) => !world.isFollowing(owner.id, id));
        if (followers.length > 0) {
          const target = pick(followers);
          world.ownerFollows(owner.id, target);
          notes.add(target, `owner followed by hand ${at()}`);
        }
      }
      if (on('owner_hand_unfollow', 0.02)) {
        // Followed long enough for a following scan to have seen it: X's lists cannot show a follow
        // made and undone between two scans (README: what each network lets followback see).
        const following = world
          .followingIds(owner.id)
          .filter((id) => (world.followingSince(owner.id, id) ?? now) < now - 13 * HOUR);
        if (following.length > 0) {
          const target = pick(following);
          world.ownerUnfollows(owner.id, target);
          handUnfollowed.set(target, now);
          notes.add(target, `owner unfollowed by hand ${at()}`);
        }
      }
      if (on('deny_list', 0.03)) {
        const recent = world.events({ ownerId: owner.id, since: now - 12 * HOUR, kinds: ['followed'] });
        if (recent.length > 0) {
          const target = pick(recent).userId;
          if (!denied.has(target)) {
            denied.set(target, now);
            const denyList = [
              ...((account.policy?.denyList as string[] | undefined) ?? []),
              `id:${platform.platformIdOf(target)}`,
            ];
            account.policy = { ...account.policy, denyList } as AccountRecord['policy'];
            await store.putAccount(account);
            notes.add(target, `denied ${at()}`);
          }
        }
      }
    } else {
      crashArmed = undefined;
      platform.faults.clear();
    }
    const due = waves.filter((wave) => wave.at <= now);
    waves.splice(0, waves.length, ...waves.filter((wave) => wave.at > now));
    for (const wave of due) {
      for (const id of wave.ids) if (world.userFollows(id, owner.id)) notes.add(id, `re-followed ${at()}`);
    }

    // Approvals (approve mode): sometimes the same decision twice at once.
    if (approveMode && (chance(0.15) || !faulty))
      await approve(faulty && enabled.has('approve_twice') && chance(0.2));

    // Deliveries of this tick.
    const roll = faulty ? random() : 1;
    if (roll < 0.05 && enabled.has('concurrent_delivery')) {
      await Promise.all([tick('a', { calm: false }), tick('b', { calm: false })]);
    } else if (roll < 0.1 && enabled.has('duplicate_delivery')) {
      await tick('a', { calm: false });
      await tick('b', { calm: false });
    } else if (roll < 0.14 && enabled.has('clock_skew')) {
      // Workers whose clocks disagree by minutes.
      const skewMs = pick([-1, 1]) * between(1, 9) * MINUTE;
      await Promise.all([tick('a', { calm: false }), tick('c', { skewMs, calm: false })]);
    } else if (roll < 0.19 && enabled.has('budget_runs_out')) {
      await tick('a', { budgetCalls: between(1, 20), calm: false });
    } else {
      const report: TickReport | undefined = await tick('a', { calm: !faulty });
      void report;
    }
  }

  await options.inspect?.({ world, ownerId: owner.id, store, account, platform, start });
  const violations = checkInvariants({
    seed,
    world,
    ownerId: owner.id,
    platform,
    start,
    end: clock.now(),
    faultsUntil,
    tasks: new Map(
      (await store.listTasks(account)).map((entry) => [worldIdOf(entry.task.targetId), entry.task]),
    ),
    ownerUnfollowed,
    handUnfollowed,
    denied,
    notes,
    tickErrors,
    approveMode,
  });
  return {
    seed,
    variant,
    violations,
    ticks,
    follows: world.followCalls(owner.id).length,
    followers: world.followerIds(owner.id).length,
    faults: faultCount,
    crashes,
    faultClasses: [...enabled],
  };
}

interface CheckInput {
  seed: number;
  world: World;
  ownerId: string;
  platform: FakePlatform;
  start: number;
  end: number;
  faultsUntil: number;
  tasks: Map<string, FollowTask>;
  ownerUnfollowed: Map<string, number>;
  handUnfollowed: Map<string, number>;
  denied: Map<string, number>;
  notes: Notes;
  tickErrors: { at: number; calm: boolean; error: Error }[];
  approveMode: boolean;
}

function checkInvariants(input: CheckInput): Violation[] {
  const { seed, world, ownerId, tasks, notes } = input;
  const out: Violation[] = [];
  const rel = (t: number) => `+${((t - input.start) / HOUR + 1).toFixed(2)}h`;
  const history = new Map<string, string[]>();
  for (const event of world.events({ ownerId })) {
    const list = history.get(event.userId) ?? [];
    if (list.length < 6) list.push(`${event.kind} ${rel(event.at)}`);
    history.set(event.userId, list);
  }
  const story = (target: string, what: string) => {
    const seen = history.get(target);
    const about = [...(seen ? [`world: ${seen.join(', ')}`] : []), ...notes.of(target)];
    return `${what}${about.length ? ` — ${about.join('; ')}` : ''}${notes.global.length ? ` [seed faults: ${notes.global.slice(0, 5).join('; ')}]` : ''}`;
  };
  const groups = new Map<string, { invariant: Invariant; count: number; story: string }>();
  /** One violation per seed, invariant and kind: the first story, and how many more of the kind. */
  const violation = (invariant: Invariant, text: string, kind = text) => {
    const key = `${invariant}|${kind}`;
    const group = groups.get(key);
    if (group) group.count += 1;
    else groups.set(key, { invariant, count: 1, story: text });
  };
  const calls = world.followCalls(ownerId);

  // 1: no user followed (or asked) twice.
  const effects = new Map<string, number[]>();
  for (const call of calls) {
    if (call.outcome === 'followed' || call.outcome === 'pending') {
      effects.set(call.targetId, [...(effects.get(call.targetId) ?? []), call.at]);
    }
  }
  for (const [target, times] of effects) {
    if (times.length > 1) {
      violation(
        '1',
        story(target, `${target} followed ${times.length} times (${times.map(rel).join(', ')})`),
        'twice',
      );
    }
  }

  // 2: nobody the owner unfollowed or denied is followed afterwards.
  for (const call of calls) {
    if (call.outcome !== 'followed' && call.outcome !== 'pending') continue;
    const undone = input.ownerUnfollowed.get(call.targetId) ?? input.handUnfollowed.get(call.targetId);
    const denied = input.denied.get(call.targetId);
    if (undone !== undefined && call.at > undone) {
      violation(
        '2',
        story(
          call.targetId,
          `${call.targetId} followed at ${rel(call.at)} after the owner unfollowed them at ${rel(undone)}`,
        ),
        'after unfollow',
      );
    } else if (denied !== undefined && call.at > denied + 5 * MINUTE) {
      violation(
        '2',
        story(
          call.targetId,
          `${call.targetId} followed at ${rel(call.at)}, on the deny list since ${rel(denied)}`,
        ),
        'denied',
      );
    }
  }

  // 3: no real 429 (injected ones are faults), and within the caps in every window.
  const real429 = input.platform.served.filter((call) => call.result === '429');
  const [first] = real429;
  if (first !== undefined) {
    violation(
      '3',
      `${real429.length} real 429s from the platform, the first on ${first.endpoint} at ${rel(first.at)}`,
    );
  }
  const times = calls.map((call) => call.at);
  const over15 = maxInWindow(times, 15 * MINUTE);
  const overDay = maxInWindow(times, DAY);
  if (over15 > CAPS.per15Minutes)
    violation('3', `${over15} follow calls in 15 minutes, cap ${CAPS.per15Minutes}`);
  if (overDay > CAPS.perDay) violation('3', `${overDay} follow calls in 24 hours, cap ${CAPS.perDay}`);

  // 4 (and 6, 9, 10): every new follower who stayed has exactly one true final state, or an open task on schedule.
  const detectedBy = input.end - (DETECTION_DELAY_HOURS + 2) * HOUR;
  const followed = new Map<string, number>();
  for (const event of world.events({ ownerId, since: input.start, kinds: ['followed'] })) {
    if (event.at <= detectedBy) followed.set(event.userId, event.at);
  }
  const followBlockedUntil = Math.max(
    0,
    ...input.platform.served.flatMap((call) =>
      call.endpoint === 'follow' && call.resetAt !== undefined ? [call.resetAt] : [],
    ),
  );
  const onTimeOpen = [...tasks.values()].filter(
    (task) => task.state === 'scheduled' && task.deadline !== undefined && task.deadline >= input.end,
  ).length;
  for (const [id, when] of followed) {
    if (!world.isFollower(ownerId, id)) continue;
    const task = tasks.get(id);
    const label = `follower ${id} (followed ${rel(when)})`;
    if (!task) {
      violation('4', story(id, `${label} has no task`), 'no task');
      continue;
    }
    if (!isFinal(task.state)) {
      // Late is a fault only when the caps left room: a burst larger than a day's cap waits its turn.
      const waiting = task.state === 'pending_approval' && input.approveMode;
      const lastDay = calls.filter((call) => call.at > input.end - DAY).length;
      // Room the day window still has is not unused while on-time tasks are owed it: the engine
      // keeps it for them (taking it for late work would make them late too).
      const idle = lastDay + onTimeOpen < CAPS.perDay - CAPS.paceBurst;
      // A platform that answered 429 with a reset past the deadline forbade the follow in time.
      const heldByPlatform = task.deadline !== undefined && followBlockedUntil > task.deadline;
      if (!waiting && idle && !heldByPlatform && (task.deadline === undefined || task.deadline < input.end)) {
        violation(
          '4',
          story(
            id,
            `${label} open (${task.state}) past its deadline with the caps unused (${lastDay} follows in the last day)`,
          ),
          'late',
        );
      }
    } else if (task.state === 'failed') {
      violation(
        '4',
        story(
          id,
          `${label} ended failed after ${task.attempts} attempts (${(task.lastError ?? '').slice(0, 120)})`,
        ),
        'failed',
      );
    } else if (task.state === 'skipped' && task.skipReason === undefined) {
      violation('4', story(id, `${label} skipped without a reason`), 'no reason');
    }
  }
  // Every task closed must tell the truth about the world (at the time: a deleted or suspended
  // account takes the owner's follow of it along).
  const vanished = new Set(
    world.events({ ownerId, kinds: ['deleted', 'suspended'] }).map((event) => event.userId),
  );
  for (const [id, task] of tasks) {
    const made = effects.has(id);
    const undone = input.ownerUnfollowed.has(id) || input.handUnfollowed.has(id);
    if (task.state === 'done' && !made && !world.isFollowing(ownerId, id) && !undone && !vanished.has(id)) {
      violation('4', story(id, `task ${id} done but never followed`), 'done untrue');
    }
    // "Outcome unknown" claims nothing false of a follow that was made and then undone (a crash after
    // the call, the owner's undo before the look): nothing the platform shows can tell it from one
    // never made (README: what each network lets followback see). Still following is a lie.
    const honestUnknown = task.skipReason === 'outcome_unknown' && !world.isFollowing(ownerId, id);
    if (task.state === 'skipped' && made && !honestUnknown) {
      violation(
        '4',
        story(id, `task ${id} closed skipped/${task.skipReason} but the engine's follow is on the platform`),
        `skipped ${task.skipReason}`,
      );
    }
    if ((task.state === 'gone' || task.state === 'failed') && made && world.isFollowing(ownerId, id)) {
      violation(
        '6',
        story(id, `task ${id} closed ${task.state} but the engine's follow is on the platform`),
        `closed ${task.state}`,
      );
    }
  }
  for (const id of effects.keys()) {
    if (!tasks.has(id)) violation('6', story(id, `${id} followed with no task for them`), 'untracked follow');
  }

  // 9/10: a tick must never fail on its own once the faults stop.
  const seen = new Set<string>();
  for (const { at, calm, error } of input.tickErrors) {
    const key = `${error.name}:${error.message.slice(0, 60)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const invariant: Invariant = /size|400 KB|ValidationException/i.test(
      `${error.message} ${String((error as { cause?: Error }).cause?.message)}`,
    )
      ? '10'
      : calm
        ? '9'
        : '6';
    violation(invariant, `tick at ${rel(at)} failed: ${error.name}: ${error.message.slice(0, 160)}`);
  }
  // 9: observation keeps finding new followers once the faults stop.
  const lateFollowers = [...followed].filter(
    ([id, when]) => when > input.faultsUntil + HOUR && world.isFollower(ownerId, id),
  );
  const found = lateFollowers.filter(([id]) => tasks.has(id)).length;
  if (lateFollowers.length >= 3 && found === 0) {
    violation(
      '9',
      `observation wedged: none of the ${lateFollowers.length} followers after the faults stopped (${rel(input.faultsUntil)}) got a task [seed faults: ${notes.global.slice(0, 6).join('; ')}]`,
    );
  }
  for (const { invariant, count, story: text } of groups.values()) {
    out.push({ seed, invariant, story: count > 1 ? `${text} (and ${count - 1} more like it)` : text });
  }
  return out;
}

/** Most of `times` in any half-open interval [t, t + windowMs). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let first = 0;
  for (const [last, at] of sorted.entries()) {
    while (at - defined(sorted[first], 'a time at or before the last') >= windowMs) first += 1;
    best = Math.max(best, last - first + 1);
  }
  return best;
}
