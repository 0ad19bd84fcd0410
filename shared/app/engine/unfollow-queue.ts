/**
 * The owner's chosen unfollows on Bluesky and Mastodon, queued durably and carried out paced under
 * the account's caps: at once as far as the caps allow (from the console), the rest on later ticks.
 * followback never unfollows on its own: only people a person chose are queued (enqueueUnfollows is
 * called by the console's use case, never by the engine).
 *
 * Each person: claim the item (a conditional write with a lease) → look at the network (does the
 * owner still follow them? do they follow back? do they exist? did the owner re-follow them by hand
 * since choosing, as an observation of the following list saw?) → take a slot from the follow
 * limiters (the same items act uses, so follows and unfollows together stay under the caps) → call
 * → mark done. A crash anywhere leaves either a queued item or an expired lease; the next claim
 * looks before calling, so a call that took effect is not repeated and a person skipped stays
 * skipped, each with its reason.
 */
import { randomBytes } from 'node:crypto';
import type { AccountRecord } from '../../domain/account.ts';
import {
  claimable,
  claimUnfollow,
  decideBeforeCall,
  finishUnfollow,
  isOpenUnfollow,
  MAX_UNFOLLOW_ATTEMPTS,
  queueUnfollow,
  releaseUnfollow,
  skipUnfollow,
  UNFOLLOW_SKIP_TEXT,
  type UnfollowActor,
  type UnfollowItem,
  type UnfollowSkipReason,
} from '../../domain/engine/unfollow.ts';
import { ConflictError, RateLimitedError, UserGoneError, ValidationError } from '../../domain/errors.ts';
import { idCodecFor } from '../../domain/idset/index.ts';
import { defined } from '../../domain/invariant.ts';
import type { Clock } from '../../ports/clock.ts';
import type { AuditStore, UnfollowRecordStore } from '../../ports/console.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Platform } from '../../ports/platform.ts';
import type { AccountStateStore, GraphStore } from '../../ports/store.ts';
import type { BucketStore } from '../../ports/tasks.ts';
import type { StoredUnfollow, UnfollowQueueStore } from '../../ports/unfollows.ts';
import { blockUntil, loadFollowLimiters, refundFollow, takeFollow } from './limits.ts';
import { appDailyCapOf, type EngineSettings, policyOf } from './policy-of.ts';

export interface UnfollowQueueDeps {
  queue: UnfollowQueueStore;
  store: BucketStore & GraphStore & AccountStateStore;
  clock: Clock;
  /** Where each carried-out batch is recorded, under the person who chose it. */
  audit?: AuditStore | undefined;
  /** People unfollowed, hidden from the one-sided list until an observation sees it. */
  unfollowed?: UnfollowRecordStore | undefined;
  engine?: EngineSettings | undefined;
  logger?: Logger | undefined;
}

export interface UnfollowRunOptions {
  /** This worker's name on claims (default: random). */
  worker?: string | undefined;
  timeLeftMs?: (() => number) | undefined;
  /** How long a claim holds if the worker dies (default 2 minutes). */
  leaseMs?: number | undefined;
  /** Only these people (the console's batch); default every open item. */
  only?: ReadonlySet<string> | undefined;
  /** Most calls in this run (default 50). */
  maxCalls?: number | undefined;
  /** Between two calls (default 250 ms): paced, never a burst. */
  pauseMs?: number | undefined;
  pause?: ((ms: number) => Promise<void>) | undefined;
}

export interface UnfollowRunReport {
  done: string[];
  skipped: { targetId: string; reason: UnfollowSkipReason }[];
  /** Open items left for a later tick. */
  remaining: number;
  /** When the caps (or the network) allow the next one, if the run stopped for them. */
  nextAt?: number | undefined;
  stopped?: 'caps' | 'rate_limited' | 'error' | 'deadline' | 'max' | undefined;
}

/** The networks whose rules allow a chosen batch (X forbids bulk unfollowing). */
export function queuesUnfollows(account: Pick<AccountRecord, 'network'>): boolean {
  return account.network === 'bluesky' || account.network === 'mastodon';
}

/** Queues the chosen people; one already queued is left as it is. */
export async function enqueueUnfollows(
  deps: { queue: UnfollowQueueStore; clock: Clock },
  actor: UnfollowActor,
  account: AccountRecord,
  targets: readonly { targetId: string; handle?: string | undefined }[],
): Promise<{ queued: string[]; already: string[] }> {
  if (!queuesUnfollows(account)) {
    throw new ValidationError(
      "on X each unfollow is its own click: X's rules forbid automated and bulk unfollowing",
    );
  }
  const result = { queued: [] as string[], already: [] as string[] };
  for (const target of targets) {
    for (let race = 0; ; race += 1) {
      const stored = await deps.queue.getUnfollow(account, target.targetId);
      const next = queueUnfollow(stored?.item, { ...target, actor, at: deps.clock.now() });
      if (next === undefined) {
        result.already.push(target.targetId);
        break;
      }
      try {
        await deps.queue.putUnfollow(account, next, stored?.version ?? 0);
        result.queued.push(target.targetId);
        break;
      } catch (error) {
        if (!(error instanceof ConflictError) || race >= 3) throw error;
      }
    }
  }
  return result;
}

const MIN_TIME_FOR_AN_UNFOLLOW_MS = 3_000;

/** Carries out the account's queued unfollows as far as the caps allow now. */
export async function runUnfollowQueue(
  account: AccountRecord,
  platform: Platform,
  deps: UnfollowQueueDeps,
  options: UnfollowRunOptions = {},
): Promise<UnfollowRunReport> {
  const report: UnfollowRunReport = { done: [], skipped: [], remaining: 0 };
  if (!queuesUnfollows(account)) return report;
  const worker = options.worker ?? `unfollow-${randomBytes(6).toString('hex')}`;
  const leaseMs = options.leaseMs ?? 2 * 60_000;
  const maxCalls = options.maxCalls ?? 50;
  const pause = options.pause ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const start = deps.clock.now();
  const open = (await deps.queue.listUnfollows(account)).filter(
    (s) => isOpenUnfollow(s.item) && (options.only === undefined || options.only.has(s.item.targetId)),
  );
  const todo = open.filter((s) => claimable(s.item, start));
  report.remaining = open.length;
  if (todo.length === 0) return report;

  const limiters = await loadFollowLimiters(
    deps.store,
    account,
    policyOf(account),
    appDailyCapOf(account, deps.engine ?? {}),
  );
  const reFollowed = await reFollowedSince(deps, account, Math.min(...todo.map((s) => s.item.queuedAt)));
  const finished: { item: UnfollowItem; gone: boolean }[] = [];
  let calls = 0;

  for (const entry of todo) {
    if (options.timeLeftMs !== undefined && options.timeLeftMs() < MIN_TIME_FOR_AN_UNFOLLOW_MS) {
      report.stopped = 'deadline';
      break;
    }
    if (calls >= maxCalls) {
      report.stopped = 'max';
      break;
    }
    const now = deps.clock.now();
    let claimed: StoredUnfollow;
    try {
      const item = claimUnfollow(entry.item, worker, now, leaseMs);
      claimed = { item, version: await deps.queue.putUnfollow(account, item, entry.version) };
    } catch (error) {
      if (error instanceof ConflictError) continue; // another worker has it
      throw error;
    }
    const { item } = claimed;
    const write = async (next: UnfollowItem) => {
      claimed = { item: next, version: await deps.queue.putUnfollow(account, next, claimed.version) };
    };

    // Look first: what the network shows now decides whether to call at all.
    let seen: Seen;
    try {
      seen = await look(platform, account, item, reFollowed);
    } catch (error) {
      // The network could not be asked: nothing was called; the person waits for a later run.
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      await write(releaseUnfollow(item, now, { called: false, lastError: message }));
      if (error instanceof RateLimitedError) {
        await blockUntil(deps.store, limiters, error.resetAt, error.details);
        report.nextAt = error.resetAt;
      }
      report.stopped = error instanceof RateLimitedError ? 'rate_limited' : 'error';
      deps.logger?.warn('could not look before an unfollow; left in the queue', {
        clientId: account.clientId,
        accountId: account.accountId,
        error: message,
      });
      break;
    }
    const decision = decideBeforeCall(item, seen);
    if (decision.outcome === 'done') {
      await write(finishUnfollow(item, now));
      finished.push({ item: claimed.item, gone: false });
      report.done.push(item.targetId);
      report.remaining -= 1;
      continue;
    }
    if (decision.outcome === 'skip') {
      await write(skipUnfollow(item, decision.reason, now));
      if (decision.reason === 'gone') finished.push({ item: claimed.item, gone: true });
      report.skipped.push({ targetId: item.targetId, reason: decision.reason });
      report.remaining -= 1;
      continue;
    }

    const take = await takeFollow(deps.store, limiters, now);
    if (!take.ok) {
      await write(releaseUnfollow(item, now, { called: false }));
      report.stopped = 'caps';
      report.nextAt = take.availableAt;
      break;
    }
    if (calls > 0) await pause(options.pauseMs ?? 250);
    calls += 1;
    try {
      await platform.unfollow(account.platformUserId, item.targetId);
    } catch (error) {
      const at = deps.clock.now();
      if (error instanceof UserGoneError) {
        await write(skipUnfollow(item, 'gone', at));
        finished.push({ item: claimed.item, gone: true });
        report.skipped.push({ targetId: item.targetId, reason: 'gone' });
        report.remaining -= 1;
        continue;
      }
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      if (error instanceof RateLimitedError) {
        await refundFollow(deps.store, limiters, take.takenAt);
        await blockUntil(deps.store, limiters, error.resetAt, error.details);
        await write(releaseUnfollow(item, at, { called: true, lastError: message }));
        report.stopped = 'rate_limited';
        report.nextAt = error.resetAt;
        break;
      }
      if (item.attempts >= MAX_UNFOLLOW_ATTEMPTS) {
        await write(skipUnfollow(item, 'failed', at, message));
        report.skipped.push({ targetId: item.targetId, reason: 'failed' });
        report.remaining -= 1;
      } else {
        await write(releaseUnfollow(item, at, { called: true, lastError: message }));
      }
      deps.logger?.warn('unfollow failed; left in the queue', {
        clientId: account.clientId,
        accountId: account.accountId,
        attempts: item.attempts,
        error: message,
      });
      report.stopped = 'error';
      break;
    }
    const at = deps.clock.now();
    await write(finishUnfollow(item, at));
    await deps.unfollowed?.recordUnfollow(account, item.targetId, at);
    finished.push({ item: claimed.item, gone: false });
    report.done.push(item.targetId);
    report.remaining -= 1;
  }
  await auditRun(deps, account, finished, report);
  return report;
}

interface Seen {
  exists: boolean;
  following: boolean;
  followedBy: boolean;
  reFollowed: boolean;
}

async function look(
  platform: Platform,
  account: AccountRecord,
  item: UnfollowItem,
  reFollowed: (targetId: string, since: number) => boolean,
): Promise<Seen> {
  if (platform.relationships === undefined) {
    // Bluesky and Mastodon both have one; without it nothing can be said: call (idempotent).
    return {
      exists: true,
      following: true,
      followedBy: false,
      reFollowed: reFollowed(item.targetId, item.queuedAt),
    };
  }
  const relationship = (await platform.relationships(account.platformUserId, [item.targetId])).get(
    item.targetId,
  );
  if (relationship === undefined) {
    // No relationship answer: deleted, suspended, or only not followed any more.
    const users = await platform.lookupUsers([item.targetId]);
    return { exists: users.length > 0, following: false, followedBy: false, reFollowed: false };
  }
  return {
    exists: true,
    following: relationship.following || relationship.requested,
    followedBy: relationship.followedBy,
    reFollowed: reFollowed(item.targetId, item.queuedAt),
  };
}

/**
 * Whether an observation of the owner's following list since `since` saw the person leave or join
 * it: the owner unfollowed (and, being followed now, followed again) by hand after choosing.
 */
async function reFollowedSince(
  deps: UnfollowQueueDeps,
  account: AccountRecord,
  since: number,
): Promise<(targetId: string, since: number) => boolean> {
  const state = (await deps.store.getState(account))?.state;
  if (state === undefined || state.observe.seq === 0) return () => false;
  const codec = idCodecFor(account.network);
  const changes = (await deps.store.getChangesetsSince(account, since, state.observe.seq)).filter(
    (c) => c.kind === 'following',
  );
  const touched = changes.map((c) => ({
    at: c.at,
    ids: new Set([...codec.toStrings(codec.decode(c.added)), ...codec.toStrings(codec.decode(c.removed))]),
  }));
  return (targetId, queuedAt) => touched.some((c) => c.at > queuedAt && c.ids.has(targetId));
}

/** One audit entry per person who chose them: who, and that followback carried it out now. */
async function auditRun(
  deps: UnfollowQueueDeps,
  account: AccountRecord,
  finished: readonly { item: UnfollowItem; gone: boolean }[],
  report: UnfollowRunReport,
): Promise<void> {
  if (deps.audit === undefined || finished.length === 0) return;
  const byActor = new Map<string, { item: UnfollowItem; gone: boolean }[]>();
  for (const f of finished) {
    const key = `${f.item.queuedBy.kind}\u0000${f.item.queuedBy.id}`;
    byActor.set(key, [...(byActor.get(key) ?? []), f]);
  }
  const skippedOther = report.skipped.filter((s) => s.reason !== 'gone');
  for (const group of byActor.values()) {
    const unfollowed = group.filter((f) => !f.gone).map((f) => f.item.targetId);
    const gone = group.filter((f) => f.gone).map((f) => f.item.targetId);
    const parts = [`${unfollowed.length} unfollowed on @${account.handle}`];
    if (gone.length > 0) parts.push(`${gone.length} gone`);
    if (skippedOther.length > 0) {
      parts.push(
        `${skippedOther.length} skipped (${[...new Set(skippedOther.map((s) => UNFOLLOW_SKIP_TEXT[s.reason]))].join('; ')})`,
      );
    }
    if (report.remaining > 0) parts.push(`${report.remaining} still queued for the caps`);
    await deps.audit.appendAudit({
      at: deps.clock.now(),
      clientId: account.clientId,
      accountId: account.accountId,
      network: account.network,
      actor: defined(group[0], 'the first unfollow of a group by actor').item.queuedBy,
      action: 'unfollow',
      targets: [...unfollowed, ...gone],
      detail: parts.join(', '),
    });
  }
}

/** The account's queue as the console shows it: open first, then the latest finished. */
export async function unfollowQueueOf(
  queue: UnfollowQueueStore,
  account: AccountRecord,
): Promise<{ open: UnfollowItem[]; finished: UnfollowItem[] }> {
  const items = (await queue.listUnfollows(account)).map((s) => s.item);
  return {
    open: items.filter(isOpenUnfollow),
    finished: items
      .filter((item) => !isOpenUnfollow(item))
      .sort((a, b) => (b.doneAt ?? 0) - (a.doneAt ?? 0))
      .slice(0, 200),
  };
}
