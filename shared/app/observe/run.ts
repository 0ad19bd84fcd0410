import type { AccountRecord, GraphKind } from '../../domain/account.ts';
import type { AccountState, ObserveState } from '../../domain/account-state.ts';
import { type IdCodec, idCodecFor } from '../../domain/idset/index.ts';
import { readRefusal, readToday, recordSpend } from '../../domain/observe-plan.ts';
import type { Logger } from '../../ports/logger.ts';
import type { GraphPage } from '../../ports/platform.ts';
import type { Changeset } from '../../ports/store.ts';
import type { StateCell } from '../state-cell.ts';
import { Stop, stopFor } from './stop.ts';
import type { ObserveDeps, ObserveOptions, ObserveReport } from './types.ts';

/** Time an invocation must still have left to start one more request. */
const MIN_TIME_FOR_A_REQUEST_MS = 2_000;

/**
 * One observe run's context, shared by its steps (head scan, full scan, baseline, feed): the account,
 * the state as the run sees it, the report, and the two things every step does: read a list page
 * with its cost accounted for, and commit what it learned.
 */
export class ObserveRun {
  readonly report: ObserveReport = {
    requests: 0,
    usersRead: 0,
    usersBilled: 0,
    newFollowers: [],
    lostFollowers: [],
    ownerFollowed: [],
    ownerUnfollowed: [],
    committed: [],
    headScan: 'not_due',
  };
  readonly log: Logger;
  /** How this network's ids are parsed, compared, diffed and stored (numeric on X, strings elsewhere). */
  readonly ids: IdCodec;
  /** Users X has billed today (the anchor's members read today), then every user this run read. */
  readonly billedToday: Set<string>;
  /** The observe state as this run sees it: what was committed plus spend not yet written. */
  #working: ObserveState;

  constructor(
    readonly account: AccountRecord,
    readonly cell: StateCell,
    readonly deps: ObserveDeps,
    readonly options: ObserveOptions,
  ) {
    this.log = deps.logger.child({
      clientId: account.clientId,
      accountId: account.accountId,
      useCase: 'observe',
    });
    // This version writes a removal mark with every changeset that removes followers: from now on
    // act's "still follows" check may trust them (kept with the run's first commit).
    this.#working =
      cell.state.observe.removalMarksSince === undefined
        ? { ...cell.state.observe, removalMarksSince: deps.clock.now() }
        : cell.state.observe;
    this.ids = idCodecFor(account.network);
    this.billedToday = new Set(readToday(cell.state.observe, deps.clock.now()));
  }

  get observe(): ObserveState {
    return this.#working;
  }

  /** One list request, with the budget, the time left and the platform's answer all accounted for. */
  async read(kind: GraphKind, cursor: string | undefined, pageSize: number): Promise<GraphPage> {
    const refusal = readRefusal(this.observe.spend, pageSize, this.account.observe, this.deps.clock.now());
    if (refusal !== undefined) throw new Stop('budget', refusal.message, refusal.until, refusal.cap);
    if (this.options.timeLeftMs() < MIN_TIME_FOR_A_REQUEST_MS)
      throw new Stop('deadline', 'time budget spent');
    const userId = this.account.platformUserId;
    let page: GraphPage;
    try {
      page =
        kind === 'followers'
          ? await this.deps.platform.listFollowers(userId, { cursor, pageSize })
          : await this.deps.platform.listFollowing(userId, { cursor, pageSize });
    } catch (error) {
      throw stopFor(error);
    }
    const billed = this.bill(page.users.map((user) => user.id));
    this.report.requests += 1;
    this.report.usersRead += page.users.length;
    const observe = {
      ...this.observe,
      spend: recordSpend(this.observe.spend, page.users.length, this.account.observe, billed),
    };
    // Do not spend the window to the last request: wait for its reset instead of meeting a 429.
    if (page.rateLimit && page.rateLimit.remaining <= 0) observe.readBlockedUntil = page.rateLimit.resetAt;
    // The day's last allowed request: reads pause until the next UTC day now, so that no tick is
    // woken before then only to find the cap spent.
    const spent = readRefusal(observe.spend, 0, this.account.observe, this.deps.clock.now());
    if (spent?.cap === 'readRequestsPerDay') observe.readsPaused = { until: spent.until, cap: spent.cap };
    this.keepObserve(observe);
    return page;
  }

  /** How many of these users X bills: those not yet returned to this app today, as far as known. */
  bill(ids: readonly string[]): number {
    let billed = 0;
    for (const id of ids) {
      if (this.billedToday.has(id)) continue;
      this.billedToday.add(id);
      billed += 1;
    }
    this.report.usersBilled += billed;
    return billed;
  }

  /** Stops the run while the platform's rate window is spent. */
  assertNotBlocked(): void {
    const until = this.observe.readBlockedUntil;
    if (until !== undefined && until > this.deps.clock.now()) {
      throw new Stop('rate_limited', 'rate window spent', until);
    }
  }

  async putChangeset(changeset: Changeset): Promise<void> {
    await this.deps.store.putChangeset(this.cell.ref, changeset, this.cell.fence);
  }

  /** Keeps a change (spend, rate-limit state) for the next commit. */
  keepObserve(observe: ObserveState): void {
    this.#working = observe;
  }

  /** Commits the observe state with the rest of the account's state. */
  async commitObserve(observe: ObserveState): Promise<void> {
    this.#working = observe;
    await this.cell.commit({ ...this.cell.state, observe } satisfies AccountState);
  }
}
