/**
 * Gathers the facts of one client's period from the store and builds the digest model
 * (shared/domain/digest), then its three renderings.
 *
 * Where each fact comes from, per account:
 * - followers now, at the period's end and start: the observe state's count, less the follower
 *   changesets after the instant asked for (only while the follower list is complete: a baseline
 *   changeset in between makes the start unknown, and the model falls back to new − lost);
 * - new followers and who left: ids added to / removed from the follower list by the period's head
 *   and full-scan changesets, with profiles from the changesets, else from the follow tasks;
 * - follow-backs done, promise outcomes, waiting approvals, skips by reason, failures: the tasks;
 * - one-sided follows: the following snapshot minus the followers snapshot (loadGraph), when both
 *   lists are complete; people the account followed back and who since left come first;
 * - the 12-week chart: follower samples (`STATS#<day>` items, FollowerSampleStore) written by this
 *   builder at each period's start and end, plus the two instants computed here;
 * - promise at risk: the engine's forecast (accountStatus).
 */
import type { AccountRecord, ClientRecord } from '../../domain/account.ts';
import type { AccountState } from '../../domain/account-state.ts';
import type { ApprovalKeys } from '../../domain/approval/token.ts';
import { digestLocale } from '../../domain/digest/format.ts';
import {
  type AccountDigestInput,
  type ApprovalCandidate,
  buildDigestModel,
  type DigestModel,
  type FollowBackDone,
  type FollowerChange,
  type FollowerSample,
  type OneSidedFollow,
  type PromiseAtRisk,
  type PromiseOutcome,
  type SkipRecord,
  WEEK_MS,
} from '../../domain/digest/index.ts';
import type { FollowTask } from '../../domain/engine/task.ts';
import { type IdCodec, idCodecFor } from '../../domain/idset/index.ts';
import { leftByCount, type SnapshotTrust, snapshotTrust } from '../../domain/observe-plan.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ClientBranding } from '../../ports/console.ts';
import type { FollowerSampleStore } from '../../ports/digest-store.ts';
import type { Logger } from '../../ports/logger.ts';
import type { PlatformUser } from '../../ports/platform.ts';
import type { AccountStateStore, Changeset, GraphStore, RegistryStore } from '../../ports/store.ts';
import type { BucketStore, TaskStore } from '../../ports/tasks.ts';
import { renderDigestCsv, renderDigestHtml, renderDigestText } from '../../presentation/digest/index.ts';
import {
  batchLink,
  candidateLink,
  type LinkSigner,
  MAX_BATCH_LINK_TARGETS,
  unsubscribeLink,
} from '../approval/links.ts';
import { type EngineSettings, policyOf } from '../engine/policy-of.ts';
import { accountStatus } from '../engine/status.ts';
import { loadGraph } from '../observe/graph-repo.ts';
import { candidateOfTask, skipReasonCode, unknownUser, userOfProfile, userOfTask } from './users.ts';

export type DigestFactsStore = RegistryStore & AccountStateStore & GraphStore & TaskStore & BucketStore;

/** The agency as the digest names it. */
export interface AgencyInfo {
  name: string;
  /** The From address: a verified SES identity in the cloud. */
  senderAddress: string;
  replyTo?: string | undefined;
  /** The operator's zone, for the roll-up (default UTC). */
  timeZone?: string | undefined;
  /** Where the roll-up goes. */
  operatorEmails?: readonly string[] | undefined;
  /** The roll-up's local weekday and hour in `timeZone` (default Monday 08:00). */
  rollupWeekday?: number | undefined;
  rollupHour?: number | undefined;
}

export interface DigestBuildDeps {
  store: DigestFactsStore;
  /** Follower samples for the chart; without it the chart shows only what this period tells. */
  samples?: FollowerSampleStore | undefined;
  clock: Clock;
  agency: AgencyInfo;
  /** The clients' branding (display name, accent colour, logo), shown in their digests. */
  branding?: { getBranding(clientId: string): Promise<ClientBranding | undefined> } | undefined;
  /** Signing keys and the public base URL for approval and unsubscribe links. */
  keys: ApprovalKeys;
  baseUrl: string;
  engine?: EngineSettings | undefined;
  logger?: Logger | undefined;
}

export interface BuildOptions {
  /** Put approval links in (default true; the roll-up needs none). */
  links?: boolean | undefined;
  /** Compute one-sided follows (default true; loads both snapshots). */
  oneSided?: boolean | undefined;
  /** Record follower samples at the period's start and end (default true, once the period is over). */
  recordSamples?: boolean | undefined;
  /** Most one-sided follows listed (default 50; the total is always given). */
  maxOneSided?: number | undefined;
}

export interface BuiltDigest {
  model: DigestModel;
  html: string;
  text: string;
  csv: string;
  /** The one-click unsubscribe URL (List-Unsubscribe). */
  unsubscribeUrl: string;
}

const CHART_SPAN_MS = 12 * WEEK_MS;

/** The client's digest model for the period [start, end). */
export async function buildClientDigestModel(
  deps: DigestBuildDeps,
  client: ClientRecord,
  period: { start: number; end: number },
  options: BuildOptions = {},
): Promise<DigestModel> {
  const now = deps.clock.now();
  const signer: LinkSigner = { keys: deps.keys, baseUrl: deps.baseUrl, now };
  const accounts = (await deps.store.listAccounts(client.clientId)).sort((a, b) =>
    a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0,
  );
  const inputs: AccountDigestInput[] = [];
  for (const account of accounts) {
    inputs.push(await gatherAccountFacts(deps, account, period, signer, options));
  }
  const branding = await deps.branding?.getBranding(client.clientId);
  return buildDigestModel({
    client: {
      id: client.clientId,
      name: branding?.displayName ?? client.name,
      timeZone: client.timeZone,
      ...(branding?.accent === undefined ? {} : { accent: branding.accent }),
      ...(branding?.logoUrl === undefined ? {} : { logoUrl: branding.logoUrl }),
      locale: digestLocale(client.locale),
    },
    agency: {
      name: deps.agency.name,
      senderAddress: deps.agency.senderAddress,
      ...(deps.agency.replyTo === undefined ? {} : { replyTo: deps.agency.replyTo }),
    },
    period,
    accounts: inputs,
    links: { unsubscribe: unsubscribeLink(signer, client.clientId) },
  });
}

/** The model and its HTML, text and CSV renderings. */
export async function buildClientDigest(
  deps: DigestBuildDeps,
  client: ClientRecord,
  period: { start: number; end: number },
  options: BuildOptions = {},
): Promise<BuiltDigest> {
  const model = await buildClientDigestModel(deps, client, period, options);
  return {
    model,
    html: renderDigestHtml(model),
    text: renderDigestText(model),
    csv: renderDigestCsv(model),
    unsubscribeUrl: model.links.unsubscribe,
  };
}

// ---------------------------------------------------------------------------------------------
// One account

/** Raw facts about one account for the period, read from the store. */
export async function gatherAccountFacts(
  deps: DigestBuildDeps,
  account: AccountRecord,
  period: { start: number; end: number },
  signer: LinkSigner,
  options: BuildOptions = {},
): Promise<AccountDigestInput> {
  const now = deps.clock.now();
  const inPeriod = (at: number | undefined): at is number =>
    at !== undefined && at >= period.start && at < period.end;
  const stored = await deps.store.getState(account);
  const state = stored?.state;
  const seq = state?.observe.seq ?? 0;
  const changesets = seq > 0 ? await deps.store.getChangesetsSince(account, period.start, seq) : [];
  const followerChanges = changesets.filter((c) => c.kind === 'followers');
  const codec = idCodecFor(account.network);
  const tasks = (await deps.store.listTasks(account)).map((entry) => entry.task);
  const taskById = new Map(tasks.map((task) => [task.targetId, task]));

  // --- counts -------------------------------------------------------------------------------
  const counts = followerCounts(state, followerChanges, period);

  // --- new followers and who left -----------------------------------------------------------
  const profiles = new Map<string, PlatformUser>();
  const added = new Map<string, number>();
  const removed = new Map<string, number>();
  for (const c of followerChanges) {
    if (!inPeriod(c.at) || c.source === 'baseline') continue;
    for (const p of c.profiles) profiles.set(p.id, p);
    // Refollowed: already in the snapshot (they left unnoticed between full scans), followed again.
    for (const id of [...codec.toStrings(codec.decode(c.added)), ...(c.refollowed ?? [])]) {
      added.set(id, Math.min(added.get(id) ?? c.at, c.at));
    }
    for (const id of codec.toStrings(codec.decode(c.removed))) {
      removed.set(id, Math.min(removed.get(id) ?? c.at, c.at));
    }
  }
  const person = (id: string) => {
    const profile = profiles.get(id);
    if (profile !== undefined && (profile.handle !== '' || profile.name !== ''))
      return userOfProfile(id, profile);
    const task = taskById.get(id);
    return task === undefined ? unknownUser(id) : userOfTask(task);
  };
  const newFollowers: FollowerChange[] = [...added].map(([id, at]) => ({ user: person(id), at }));
  const lost: FollowerChange[] = [...removed].map(([id, at]) => ({ user: person(id), at }));

  // --- tasks --------------------------------------------------------------------------------
  const followBacksDone: FollowBackDone[] = [];
  const promiseOutcomes: PromiseOutcome[] = [];
  const waiting: FollowTask[] = [];
  const skips: SkipRecord[] = [];
  let failures = 0;
  for (const task of tasks) {
    const finished = task.state === 'done' || task.state === 'requested';
    if (finished && inPeriod(task.doneAt)) {
      followBacksDone.push({
        user: userOfTask(task),
        followedAt: task.followedAt ?? task.detectedAt,
        at: task.doneAt,
        outcome: task.state === 'requested' ? 'requested' : 'followed',
        dueBy: task.deadline,
      });
    }
    if (
      !task.backfill &&
      task.deadline !== undefined &&
      ['scheduled', 'in_progress', 'done', 'requested', 'failed'].includes(task.state) &&
      (inPeriod(task.deadline) || (finished && inPeriod(task.doneAt)))
    ) {
      promiseOutcomes.push({
        followedAt: task.approvedAt ?? task.followedAt ?? task.detectedAt,
        dueBy: task.deadline,
        ...(finished && task.doneAt !== undefined ? { doneAt: task.doneAt } : {}),
      });
    }
    if (task.state === 'pending_approval' && task.detectedAt <= now) waiting.push(task);
    if (task.state === 'skipped' && inPeriod(task.closedAt) && !isUnfollowMarker(task, added)) {
      skips.push({ user: userOfTask(task), at: task.closedAt, reason: skipReasonCode(task.skipReason) });
    }
    if (task.state === 'gone' && inPeriod(task.closedAt)) {
      skips.push({ user: userOfTask(task), at: task.closedAt, reason: 'gone' });
    }
    if (task.state === 'failed' && inPeriod(task.closedAt)) failures += 1;
  }
  const links = options.links ?? true;
  const ref = { clientId: account.clientId, accountId: account.accountId };
  waiting.sort((a, b) => a.detectedAt - b.detectedAt);
  const awaitingApproval: ApprovalCandidate[] = waiting.map((task) =>
    candidateOfTask(task, links ? candidateLink(signer, ref, task.targetId) : undefined),
  );
  const approveAll = links
    ? batchLink(
        signer,
        ref,
        waiting.map((task) => task.targetId),
      )
    : undefined;

  // --- one-sided follows, chart, forecast ---------------------------------------------------
  const oneSided =
    (options.oneSided ?? true) && state !== undefined
      ? await oneSidedFollows(deps, account, state, taskById, codec, options.maxOneSided ?? 50)
      : { list: [], total: 0 };
  const followerSamples = await chartSamples(deps, account, period, counts, options, now);
  const mode = modeOf(account);
  const atRisk = mode === 'off' ? null : await promiseAtRisk(deps, account, now);

  return {
    accountId: account.accountId,
    network: account.network,
    handle: account.handle,
    status: account.status,
    ...(mode === undefined ? {} : { mode }),
    followersNow: counts.atEnd,
    ...(counts.atStart === undefined ? {} : { followersAtStart: counts.atStart }),
    newFollowers,
    lost,
    ...leaversByCount(state, period, newFollowers.length),
    followBacksDone,
    promiseOutcomes,
    awaitingApproval,
    skips,
    oneSided: oneSided.list,
    oneSidedTotal: oneSided.total,
    followerSamples,
    atRisk,
    failures,
    links:
      approveAll === undefined
        ? {}
        : { approveAll, approveAllCovers: Math.min(waiting.length, MAX_BATCH_LINK_TARGETS) },
  };
}

/**
 * How many left in the period by the owner's own counts (whoever a full scan named), and whether
 * the snapshot behind the names is the whole list.
 */
function leaversByCount(
  state: AccountState | undefined,
  period: { start: number; end: number },
  newCount: number,
): { leftByCount?: number; snapshot?: SnapshotTrust } {
  if (state === undefined) return {};
  const left = leftByCount(state.observe, period.start, newCount);
  return { ...(left === undefined ? {} : { leftByCount: left }), snapshot: snapshotTrust(state.observe) };
}

/**
 * A marker, not a follower: reconcile records "the owner unfollowed them" for people who do not
 * follow the account, so that a later follow from them is skipped. Born skipped, and not among
 * the period's new followers.
 */
function isUnfollowMarker(task: FollowTask, added: ReadonlyMap<string, number>): boolean {
  return (
    task.skipReason === 'owner_unfollowed' && task.closedAt === task.detectedAt && !added.has(task.targetId)
  );
}

function modeOf(account: AccountRecord): 'auto' | 'approve' | 'off' | undefined {
  try {
    return policyOf(account).mode;
  } catch {
    return undefined;
  }
}

interface FollowerCounts {
  atEnd: number;
  atStart: number | undefined;
  following: number | undefined;
}

/**
 * The follower count at the period's end and start. While the list is complete the stored count is
 * exact, and each changeset's net change walks it back in time; a `baseline` changeset (the list
 * becoming complete) changes the count without saying by how much, so the walk stops there.
 */
export function followerCounts(
  state: AccountState | undefined,
  followerChanges: readonly Changeset[],
  period: { start: number; end: number },
): FollowerCounts {
  if (state === undefined) return { atEnd: 0, atStart: undefined, following: undefined };
  const graph = state.observe.graphs.followers;
  const following = state.observe.graphs.following.complete
    ? state.observe.graphs.following.count
    : state.observe.owner?.following;
  const net = (list: readonly Changeset[]) => list.reduce((s, c) => s + c.addedCount - c.removedCount, 0);
  const after = followerChanges.filter((c) => c.at >= period.end);
  const during = followerChanges.filter((c) => c.at >= period.start && c.at < period.end);
  if (!graph.complete) {
    return { atEnd: state.observe.owner?.followers ?? graph.count, atStart: undefined, following };
  }
  if (after.some((c) => c.source === 'baseline')) {
    return { atEnd: state.observe.owner?.followers ?? graph.count, atStart: undefined, following };
  }
  const atEnd = Math.max(0, graph.count - net(after));
  const atStart = during.some((c) => c.source === 'baseline') ? undefined : Math.max(0, atEnd - net(during));
  return { atEnd, atStart, following };
}

async function chartSamples(
  deps: DigestBuildDeps,
  account: AccountRecord,
  period: { start: number; end: number },
  counts: FollowerCounts,
  options: BuildOptions,
  now: number,
): Promise<FollowerSample[]> {
  const computed: FollowerSample[] = [];
  // The start count belongs to the week before (the last instant of it); the end count is added by
  // the model itself as followersNow.
  if (counts.atStart !== undefined) computed.push({ at: period.start - 1, count: counts.atStart });
  if (deps.samples === undefined) return computed;
  const stored = await deps.samples.listFollowerSamples(account, period.end - CHART_SPAN_MS, period.end);
  if ((options.recordSamples ?? true) && now >= period.end) {
    await deps.samples.putFollowerSample(account, {
      at: period.end - 1,
      followers: counts.atEnd,
      ...(counts.following === undefined ? {} : { following: counts.following }),
    });
    if (counts.atStart !== undefined) {
      await deps.samples.putFollowerSample(account, { at: period.start - 1, followers: counts.atStart });
    }
  }
  return [...stored.map((s) => ({ at: s.at, count: s.followers })), ...computed];
}

async function oneSidedFollows(
  deps: DigestBuildDeps,
  account: AccountRecord,
  state: AccountState,
  taskById: ReadonlyMap<string, FollowTask>,
  codec: IdCodec,
  max: number,
): Promise<{ list: OneSidedFollow[]; total: number }> {
  const { followers, following } = state.observe.graphs;
  // Without both whole lists, "they do not follow back" cannot be told from "not seen yet".
  if (!followers.complete || !following.complete || following.baseSeq === 0) return { list: [], total: 0 };
  const seq = state.observe.seq;
  const [followerIds, followingIds] = await Promise.all([
    loadGraph(deps.store, account, 'followers', followers, seq, codec),
    loadGraph(deps.store, account, 'following', following, seq, codec),
  ]);
  const ids = codec
    .toStrings(codec.diff(followerIds, followingIds).added)
    .filter((id) => id !== account.platformUserId);
  // People the account followed back and who left since first (their profile and date are known).
  const known = ids.filter((id) => taskById.has(id));
  const rest = ids.filter((id) => !taskById.has(id));
  const list = [...known, ...rest].slice(0, Math.max(0, max)).map((id): OneSidedFollow => {
    const task = taskById.get(id);
    if (task === undefined) return { user: unknownUser(id) };
    return { user: userOfTask(task), ...(task.doneAt === undefined ? {} : { since: task.doneAt }) };
  });
  return { list, total: ids.length };
}

async function promiseAtRisk(
  deps: DigestBuildDeps,
  account: AccountRecord,
  now: number,
): Promise<PromiseAtRisk | null> {
  try {
    const report = await accountStatus(
      account,
      { tasks: deps.store, state: deps.store, ...(deps.engine === undefined ? {} : { engine: deps.engine }) },
      now,
    );
    const count = report.forecast.atRisk;
    if (count <= 0) return null;
    const deadlines = report.forecast.late.map((l) => l.deadline);
    return {
      count,
      ...(deadlines.length === 0 ? {} : { earliestDueBy: Math.min(...deadlines) }),
      reason: 'the backlog does not fit in the promised window at the current caps',
    };
  } catch (error) {
    deps.logger?.warn('digest: no forecast for the account', {
      clientId: account.clientId,
      accountId: account.accountId,
      error: (error as Error).message,
    });
    return null;
  }
}
