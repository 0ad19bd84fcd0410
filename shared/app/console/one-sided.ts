/**
 * One-sided follows: people an account follows who do not follow it back (the following snapshot
 * minus the followers snapshot, as the digest computes them), the whole list, paged and
 * searchable, as CSV, and the owner's chosen unfollows.
 *
 * followback never unfollows on its own: every unfollow here is a person's decision in the console.
 * - Bluesky and Mastodon: a chosen batch (at most MAX_UNFOLLOW_BATCH) is carried out one by one,
 *   each taking a slot of the account's follow caps (the same limiter items act uses, so follows
 *   and unfollows together stay under the caps) with a pause between calls; what the caps do not
 *   allow now is reported with the time they allow it, and nothing is queued behind the owner's back.
 * - X: exactly one person per request, each its own click, because X's developer rules forbid
 *   automated and bulk unfollowing.
 */
import type { AccountRecord, AccountRef } from '../../domain/account.ts';
import type { DigestUser } from '../../domain/digest/model.ts';
import type { FollowTask } from '../../domain/engine/task.ts';
import type { UnfollowSkipReason } from '../../domain/engine/unfollow.ts';
import { RateLimitedError, UserGoneError, ValidationError } from '../../domain/errors.ts';
import { idCodecFor } from '../../domain/idset/index.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Actor, AuditStore, UnfollowRecordStore } from '../../ports/console.ts';
import type { Platform, PlatformUser } from '../../ports/platform.ts';
import type { AccountStateStore, GraphStore, RegistryStore } from '../../ports/store.ts';
import type { BucketStore, TaskStore } from '../../ports/tasks.ts';
import type { UnfollowQueueStore } from '../../ports/unfollows.ts';
import { csvRow } from '../../presentation/digest/render-csv.ts';
import { unknownUser, userOfProfile, userOfTask } from '../digest/users.ts';
import { wakeAct } from '../engine/approve.ts';
import { blockUntil, loadFollowLimiters, takeFollow } from '../engine/limits.ts';
import { appDailyCapOf, type EngineSettings, policyOf } from '../engine/policy-of.ts';
import { enqueueUnfollows, runUnfollowQueue } from '../engine/unfollow-queue.ts';
import { loadGraph } from '../observe/graph-repo.ts';
import { requireAccount } from '../tenants/registry.ts';

export interface OneSidedDeps {
  store: RegistryStore & AccountStateStore & GraphStore & TaskStore & BucketStore;
  unfollowed: UnfollowRecordStore;
  clock: Clock;
  /** The account's network with its credentials (for profiles on Bluesky/Mastodon, and unfollows). */
  platformFor(account: AccountRecord): Platform | Promise<Platform>;
  engine?: EngineSettings | undefined;
}

export interface OneSidedEntry {
  user: DigestUser;
  /** Since when the account follows them, when known (it followed them back then). */
  since?: number | undefined;
}

export interface OneSidedPage {
  account: AccountRecord;
  /** False until both lists were read whole once: nothing can be said before. */
  complete: boolean;
  total: number;
  matching: number;
  page: number;
  pages: number;
  entries: OneSidedEntry[];
}

export const ONE_SIDED_PAGE_SIZE = 50;
/** Most profiles looked up for a search (Bluesky and Mastodon reads are free, not endless). */
const MAX_SEARCH_LOOKUPS = 2000;
export const MAX_UNFOLLOW_BATCH = 50;

async function oneSidedIds(
  deps: OneSidedDeps,
  account: AccountRecord,
): Promise<{ ids: string[]; complete: boolean }> {
  const stored = await deps.store.getState(account);
  const state = stored?.state;
  if (state === undefined) return { ids: [], complete: false };
  const { followers, following } = state.observe.graphs;
  if (!followers.complete || !following.complete || following.baseSeq === 0)
    return { ids: [], complete: false };
  const codec = idCodecFor(account.network);
  const [followerIds, followingIds] = await Promise.all([
    loadGraph(deps.store, account, 'followers', followers, state.observe.seq, codec),
    loadGraph(deps.store, account, 'following', following, state.observe.seq, codec),
  ]);
  const unfollowed = await deps.unfollowed.listUnfollowed(account);
  const ids = codec
    .toStrings(codec.diff(followerIds, followingIds).added)
    .filter((id) => id !== account.platformUserId && !unfollowed.has(id));
  return { ids, complete: true };
}

async function profiles(
  deps: OneSidedDeps,
  account: AccountRecord,
  ids: readonly string[],
  tasks: ReadonlyMap<string, FollowTask>,
): Promise<Map<string, PlatformUser | undefined>> {
  const found = new Map<string, PlatformUser | undefined>();
  // On X every user read is billed: only what followback already knows.
  if (account.network === 'x' || ids.length === 0) return found;
  const unknown = ids.filter((id) => !tasks.has(id));
  if (unknown.length === 0) return found;
  try {
    const platform = await deps.platformFor(account);
    for (const user of await platform.lookupUsers(unknown)) found.set(user.id, user);
  } catch {
    // Profiles are a nicety: the list stands without them.
  }
  return found;
}

function entryOf(
  id: string,
  tasks: ReadonlyMap<string, FollowTask>,
  looked: ReadonlyMap<string, PlatformUser | undefined>,
): OneSidedEntry {
  const task = tasks.get(id);
  if (task !== undefined)
    return { user: userOfTask(task), ...(task.doneAt === undefined ? {} : { since: task.doneAt }) };
  const profile = looked.get(id);
  return { user: profile === undefined ? unknownUser(id) : userOfProfile(id, profile) };
}

function matches(entry: OneSidedEntry, query: string): boolean {
  const q = query.toLowerCase();
  return (
    entry.user.id.toLowerCase().includes(q) ||
    entry.user.handle.toLowerCase().includes(q) ||
    entry.user.name.toLowerCase().includes(q)
  );
}

export async function listOneSided(
  deps: OneSidedDeps,
  ref: AccountRef,
  options: { page?: number | undefined; query?: string | undefined; pageSize?: number | undefined } = {},
): Promise<OneSidedPage> {
  const account = await requireAccount(deps.store, ref);
  const { ids, complete } = await oneSidedIds(deps, account);
  const tasks = new Map((await deps.store.listTasks(account)).map((s) => [s.task.targetId, s.task]));
  // Those it followed back and who left since come first; then the rest in id order.
  const ordered = [...ids.filter((id) => tasks.has(id)), ...ids.filter((id) => !tasks.has(id))];
  const size = Math.min(Math.max(options.pageSize ?? ONE_SIDED_PAGE_SIZE, 1), 500);
  const query = (options.query ?? '').trim().slice(0, 100);
  let candidates = ordered;
  let looked = new Map<string, PlatformUser | undefined>();
  if (query !== '') {
    looked = await profiles(deps, account, ordered.slice(0, MAX_SEARCH_LOOKUPS), tasks);
    candidates = ordered.filter((id) => matches(entryOf(id, tasks, looked), query));
  }
  const pages = Math.max(1, Math.ceil(candidates.length / size));
  const page = Math.min(Math.max(Math.floor(options.page ?? 1), 1), pages);
  const slice = candidates.slice((page - 1) * size, page * size);
  if (query === '') looked = await profiles(deps, account, slice, tasks);
  return {
    account,
    complete,
    total: ids.length,
    matching: candidates.length,
    page,
    pages,
    entries: slice.map((id) => entryOf(id, tasks, looked)),
  };
}

export const ONE_SIDED_CSV_HEADER = [
  'account',
  'network',
  'user_id',
  'handle',
  'name',
  'followers',
  'following',
  'following_since',
] as const;

/** The whole list as CSV (cells a spreadsheet would run as formulas are neutralised by csvRow). */
export async function oneSidedCsv(deps: OneSidedDeps, ref: AccountRef): Promise<string> {
  const first = await listOneSided(deps, ref, { page: 1, pageSize: 500 });
  const rows = [csvRow([...ONE_SIDED_CSV_HEADER])];
  const add = (entries: readonly OneSidedEntry[]) => {
    for (const e of entries) {
      rows.push(
        csvRow([
          first.account.handle,
          first.account.network,
          e.user.id,
          e.user.handle,
          e.user.name,
          e.user.followersCount ?? '',
          e.user.followingCount ?? '',
          e.since === undefined ? '' : new Date(e.since).toISOString(),
        ]),
      );
    }
  };
  add(first.entries);
  for (let page = 2; page <= first.pages; page += 1) {
    add((await listOneSided(deps, ref, { page, pageSize: 500 })).entries);
  }
  return `${rows.join('\r\n')}\r\n`;
}

export interface UnfollowDeps extends OneSidedDeps {
  audit: AuditStore;
  /** The durable queue of chosen unfollows (Bluesky and Mastodon). */
  queue: UnfollowQueueStore;
  /** Between two unfollows of a batch (default 250 ms). */
  pause?: ((ms: number) => Promise<void>) | undefined;
  pauseMs?: number | undefined;
}

export interface UnfollowResult {
  unfollowed: string[];
  gone: string[];
  /** Not one-sided follows of the account (any more): nothing done. */
  refused: string[];
  /** Looked at and not unfollowed, each with its reason (they follow back now, the owner re-followed…). */
  skipped: { targetId: string; reason: UnfollowSkipReason }[];
  /** Queued: carried out on later ticks as the caps allow, from `availableAt`. */
  deferred: string[];
  availableAt?: number | undefined;
}

/**
 * The owner's choice from the one-sided list. On Bluesky and Mastodon the batch is queued durably
 * and carried out at once as far as the caps allow; the rest stays queued and later ticks carry it
 * out, paced under the caps (runUnfollowQueue). On X: one person, at once, or nothing.
 */
export async function unfollowChosen(
  deps: UnfollowDeps,
  actor: Actor,
  ref: AccountRef,
  targetIds: readonly string[],
): Promise<UnfollowResult> {
  const account = await requireAccount(deps.store, ref);
  const chosen = [...new Set(targetIds)];
  if (chosen.length === 0) throw new ValidationError('choose at least one person to unfollow');
  if (account.network === 'x' && chosen.length > 1) {
    throw new ValidationError(
      "on X each unfollow is its own click: X's rules forbid automated and bulk unfollowing",
    );
  }
  if (chosen.length > MAX_UNFOLLOW_BATCH) {
    throw new ValidationError(`at most ${MAX_UNFOLLOW_BATCH} people at once`);
  }
  const { ids } = await oneSidedIds(deps, account);
  const oneSided = new Set(ids);
  const result: UnfollowResult = { unfollowed: [], gone: [], refused: [], skipped: [], deferred: [] };
  const allowed = chosen.filter((id) => {
    if (oneSided.has(id)) return true;
    result.refused.push(id);
    return false;
  });
  const [first] = allowed;
  if (first === undefined) return result;
  if (account.network === 'x') return unfollowOneOnX(deps, actor, account, first, result);

  const tasks = new Map((await deps.store.listTasks(account)).map((s) => [s.task.targetId, s.task]));
  await enqueueUnfollows(
    { queue: deps.queue, clock: deps.clock },
    actor,
    account,
    allowed.map((targetId) => ({ targetId, handle: tasks.get(targetId)?.profile.handle })),
  );
  const platform = await deps.platformFor(account);
  const run = await runUnfollowQueue(
    account,
    platform,
    {
      queue: deps.queue,
      store: deps.store,
      clock: deps.clock,
      audit: deps.audit,
      unfollowed: deps.unfollowed,
      engine: deps.engine,
    },
    { only: new Set(allowed), pause: deps.pause, pauseMs: deps.pauseMs },
  );
  const skipped = new Map(run.skipped.map((s) => [s.targetId, s.reason]));
  const done = new Set(run.done);
  for (const id of allowed) {
    const reason = skipped.get(id);
    if (done.has(id)) result.unfollowed.push(id);
    else if (reason === 'gone') result.gone.push(id);
    else if (reason !== undefined) result.skipped.push({ targetId: id, reason });
    else result.deferred.push(id);
  }
  result.availableAt = run.nextAt;
  if (result.deferred.length > 0) {
    // Later ticks carry them out: tell the account's next tick there is work.
    await wakeAct(account, { state: deps.store, clock: deps.clock });
    await deps.audit.appendAudit({
      at: deps.clock.now(),
      clientId: account.clientId,
      accountId: account.accountId,
      network: account.network,
      actor,
      action: 'unfollow-queued',
      targets: result.deferred,
      detail: `${result.deferred.length} queued on @${account.handle}: carried out on later ticks under the caps${run.nextAt === undefined ? '' : `, from ${new Date(run.nextAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`}`,
    });
  }
  return result;
}

/** X: one person, one click, at once through the account's limiter; never queued. */
async function unfollowOneOnX(
  deps: UnfollowDeps,
  actor: Actor,
  account: AccountRecord,
  targetId: string,
  result: UnfollowResult,
): Promise<UnfollowResult> {
  const platform = await deps.platformFor(account);
  const limiters = await loadFollowLimiters(
    deps.store,
    account,
    policyOf(account),
    appDailyCapOf(account, deps.engine ?? {}),
  );
  const now = deps.clock.now();
  const take = await takeFollow(deps.store, limiters, now);
  if (!take.ok) {
    result.deferred.push(targetId);
    result.availableAt = take.availableAt;
    return result;
  }
  try {
    await platform.unfollow(account.platformUserId, targetId);
    result.unfollowed.push(targetId);
    await deps.unfollowed.recordUnfollow(account, targetId, now);
  } catch (error) {
    if (error instanceof UserGoneError) {
      result.gone.push(targetId);
      await deps.unfollowed.recordUnfollow(account, targetId, now);
    } else if (error instanceof RateLimitedError) {
      await blockUntil(deps.store, limiters, error.resetAt);
      result.deferred.push(targetId);
      result.availableAt = error.resetAt;
      return result;
    } else {
      throw error;
    }
  }
  await deps.audit.appendAudit({
    at: deps.clock.now(),
    clientId: account.clientId,
    accountId: account.accountId,
    network: account.network,
    actor,
    action: 'unfollow',
    targets: [...result.unfollowed, ...result.gone],
    detail: `${result.unfollowed.length} unfollowed on @${account.handle}${result.gone.length > 0 ? ', gone' : ''}`,
  });
  return result;
}
