import { defined } from '../invariant.ts';
import { CapacityCursor, type CapacityModel } from './capacity.ts';
import { byDeadline, type Entry, EntryHeap } from './entry-heap.ts';
import type { TaskLease, TaskState } from './task.ts';

/**
 * Serving follow-back tasks: the rules `pickNext` (schedule.ts) and `forecast` replay.
 *
 * Every open task is in one lane:
 *
 * - on_time: promised tasks that can still keep their promise, served earliest deadline first (EDF);
 * - late: promised tasks past their deadline, or that cannot make it given the capacity ahead of
 *   them, served oldest deadline first, with LEFTOVER capacity only;
 * - backfill: followers who predate the connection (no promise), after the late ones, same rule.
 *
 * "Can make it" is decided on the slot sequence S = the times at which takes would succeed if the
 * account acted continuously from now (limiters + quiet hours). Released on-time tasks sorted by
 * deadline take S[0], S[1], ... in turn; one whose slot falls after its deadline is demoted to late
 * (Moore–Hodgson's rule for unit jobs: a late task would only push every task behind it late too).
 *
 * Not quite work-conserving: the earliest-deadline released task is served only if the on-time
 * tasks with EARLIER deadlines that are not released yet can each still find a slot by their
 * deadline afterwards (the same slot count, on that prefix); otherwise the account waits for the next
 * release. A take moves the next slot (the pace bucket, the window slots), so without this a task
 * released a moment earlier with a later deadline takes the slot a tighter one needed. With it, the
 * property "when a feasible schedule exists, every task is served inside its window" held on 30,000
 * random instances with windows down to zero slack (test/domain/engine-schedule.test.ts).
 *
 * "Leftover" is made exact with slack. Let D be every promised task not yet late, released or not
 * (tasks due later are known: reconcile planned them). With C(d) = number of slots of S at or
 * before d, slack = min over D, sorted by deadline, of C(d_i) - (rank_i + 1). A late or backfill task
 * may take the next slot only when slack >= 1 + reserve. Taking the first slot lowers every C(d) by
 * one and nothing else, and the intervals that do not contain the first slot are untouched, so by
 * Hall's theorem the on-time set stays feasible exactly when slack >= 1 (release times included;
 * exact for an account that keeps acting, which it does while late work is waiting).
 * `reserve` keeps further slots free for followers not yet detected. Default 0: the 24-hour window
 * regenerates within a day, which a promise of a day or more absorbs (measured: 0 late of 1,758 with
 * a 3,000 backlog and 150 new a day under 400/day). For promises shorter than a day pass
 * `suggestedReserve(growth, policy)` (policy.ts, the arrivals over `day − promise`): with a 12-hour
 * promise, 99 of 3,316 new followers were late with reserve 0, 1 with 20 and none with 75 (what it
 * suggests), the backlog draining at 264, 255, 220/day. A reserve is held at every decision, so each
 * slot of it is a slot of the daily cap lost while a backlog waits: never keep more than needed.
 *
 * Why not plain EDF: with a late backlog of 5,000 and 100 new followers a day under 400/day, plain
 * EDF serves the backlog first (earliest deadlines, all past), so each new follower waits behind
 * weeks of backlog and is late too. Here new followers are on_time and served first; the backlog
 * drains with the ~300/day left over and is reported by the forecast.
 */

/** What pickNext and forecast read of a task (a FollowTask fits). */
export interface SchedulableTask {
  targetId: string;
  state: TaskState;
  dueAt?: number | undefined;
  deadline?: number | undefined;
  retryAt?: number | undefined;
  backfill?: boolean | undefined;
  lease?: TaskLease | undefined;
}

export type Lane = 'on_time' | 'late' | 'backfill';

/** When the task may be acted on: its due time, or its backoff if later. */
export function releaseOf(task: SchedulableTask): number {
  return Math.max(task.dueAt ?? Number.POSITIVE_INFINITY, task.retryAt ?? Number.NEGATIVE_INFINITY);
}

/** Scheduled, or in progress under an expired lease (its worker crashed), with a plan. */
export function isClaimable<T extends SchedulableTask>(
  task: T,
  now: number,
): task is T & { dueAt: number; deadline: number } {
  if (task.dueAt === undefined || task.deadline === undefined) return false;
  if (task.state === 'scheduled') return true;
  return task.state === 'in_progress' && (task.lease === undefined || task.lease.until <= now);
}

export interface ServiceDecision<T> {
  task: T;
  lane: Lane;
  /** The slot the task is served in. */
  at: number;
}

export interface DispatchOptions {
  /** Slots kept free for followers not yet detected: late work needs slack >= 1 + reserve. Default 0. */
  reserve?: number | undefined;
}

/** Slack is computed up to this value; more is "plenty". */
const SLACK_CAP = 64;

/**
 * The serving rules as a step machine: each `next()` is the next follow the account would make
 * (which task, in which lane, when), advancing a private copy of the capacity. pickNext runs it over
 * the next few slots; forecast runs it to the end. Tasks are taken as they are: no new follower
 * arrives, nothing fails.
 */
export class Dispatcher<T extends SchedulableTask> {
  private readonly cursor: CapacityCursor;
  private readonly reserve: number;
  private time: number;
  /** Not yet released, by release time (descending, so the next is at the end). */
  private readonly pending: Entry<T>[];
  /** Released on-time tasks by deadline from `rHead`; onTime[rHead + i] is served at ahead[x + i]. */
  private onTime: Entry<T>[] = [];
  private rHead = 0;
  private readonly late = new EntryHeap<T>();
  private readonly backfill = new EntryHeap<T>();
  /** Promised tasks by deadline (D of the slack rule); `inD` marks the live ones. */
  private readonly promised: Entry<T>[];
  /** Continuous slot sequence from `aheadFrom`, computed lazily on a clone of the cursor. */
  private ahead: number[] = [];
  private aheadCursor: CapacityCursor | undefined;
  private aheadAt = 0;
  private x = 0;
  /** First index of `promised` that may still be in D. */
  private dHead = 0;
  private slack: number | undefined;
  /** Slack is counted up to this (SLACK_CAP above the reserve). */
  private readonly slackCap: number;
  /** The cached slack hit the cap: the true value may be larger. */
  private slackCapped = false;

  constructor(tasks: readonly T[], now: number, capacity: CapacityModel, options: DispatchOptions = {}) {
    this.cursor = CapacityCursor.from(capacity);
    this.reserve = Math.max(0, Math.floor(options.reserve ?? 0));
    this.slackCap = SLACK_CAP + this.reserve;
    this.time = now;
    const entries: Entry<T>[] = [];
    tasks.forEach((task, seq) => {
      if (!isClaimable(task, now)) return;
      entries.push({
        task,
        seq,
        release: releaseOf(task),
        deadline: task.deadline,
        backfill: Boolean(task.backfill),
        dIndex: -1,
        inD: false,
        released: false,
      });
    });
    this.promised = entries
      .filter((e) => !e.backfill && e.deadline >= Math.max(now, e.release))
      .sort(byDeadline);
    this.promised.forEach((e, i) => {
      e.dIndex = i;
      e.inD = true;
    });
    this.pending = entries.sort((a, b) => b.release - a.release || byDeadline(b, a));
    this.releaseUpTo(now);
  }

  /** The next follow, or undefined when nothing is left (or capacity never comes back). */
  next(until = Infinity): ServiceDecision<T> | undefined {
    for (;;) {
      if (this.onTimeCount() === 0 && this.late.size === 0 && this.backfill.size === 0) {
        const next = this.pending[this.pending.length - 1];
        if (!next) return undefined;
        this.idleUntil(next.release);
        continue;
      }
      const slot = this.slotAt(0);
      if (!Number.isFinite(slot) || slot > until) return undefined;
      this.releaseUpTo(slot);
      for (let head = this.onTimeHead(); head && head.deadline < slot; head = this.onTimeHead())
        this.demote(this.shiftOnTime());
      let entry: Entry<T> | undefined;
      let lane: Lane = 'on_time';
      const first = this.onTimeHead();
      if (first) {
        if (this.safeToServe(first)) {
          entry = this.shiftOnTime();
          this.removeFromD(entry);
          this.slack = undefined;
        }
      } else if ((this.late.size > 0 || this.backfill.size > 0) && this.slackValue() >= 1 + this.reserve) {
        entry = this.late.pop();
        if (entry) lane = 'late';
        else {
          entry = this.backfill.pop();
          lane = 'backfill';
        }
        if (this.slack !== undefined) {
          this.slack -= 1;
          // A capped value may hide more slack: look again before it would block.
          if (this.slackCapped && this.slack <= this.reserve + 1) this.slack = undefined;
        }
      }
      if (!entry) {
        // On-time work due later needs this slot (see safeToServe), or only late work is waiting and
        // on-time work needs every slot: wait for the next release.
        const next = this.pending[this.pending.length - 1];
        if (!next) return undefined;
        this.idleUntil(Math.max(next.release, slot));
        continue;
      }
      this.cursor.take(slot);
      this.x++;
      this.time = slot;
      return { task: entry.task, lane, at: slot };
    }
  }

  private onTimeCount(): number {
    return this.onTime.length - this.rHead;
  }

  /** The earliest-deadline released on-time task, if any. */
  private onTimeHead(): Entry<T> | undefined {
    return this.onTime[this.rHead];
  }

  private shiftOnTime(): Entry<T> {
    const entry = defined(this.onTimeHead(), 'the head of a non-empty on-time lane');
    this.rHead++;
    if (this.rHead > 1024 && this.rHead * 2 > this.onTime.length) {
      this.onTime = this.onTime.slice(this.rHead);
      this.rHead = 0;
    }
    return entry;
  }

  /** Time of the next slot if the account acts continuously (Infinity when none). */
  peekSlot(): number {
    return this.slotAt(0);
  }

  /** Released tasks in serving order, without serving them: on-time (EDF), then late, then backfill. */
  queue(): Array<{ task: T; lane: Lane }> {
    return [
      ...this.onTime.slice(this.rHead).map((e) => ({ task: e.task, lane: 'on_time' as const })),
      ...this.late.sorted().map((e) => ({ task: e.task, lane: 'late' as const })),
      ...this.backfill.sorted().map((e) => ({ task: e.task, lane: 'backfill' as const })),
    ];
  }

  /** Late or backfill follows allowed now without putting on-time tasks at risk (counted up to 64). */
  lateAllowance(): number {
    return Math.max(0, this.slackValue() - this.reserve);
  }

  /** Next release time of a task not released yet (Infinity when none). */
  nextRelease(): number {
    return this.pending[this.pending.length - 1]?.release ?? Number.POSITIVE_INFINITY;
  }

  private idleUntil(at: number): void {
    if (at > this.time) {
      this.time = at;
      this.invalidateAhead();
    }
    this.releaseUpTo(this.time);
  }

  private invalidateAhead(): void {
    this.ahead = [];
    this.aheadCursor = undefined;
    this.x = 0;
    this.slack = undefined;
  }

  /** ahead[x + i]: the i-th next slot of continuous service from the current state. */
  private slotAt(i: number): number {
    if (!this.aheadCursor) {
      this.aheadCursor = this.cursor.clone();
      this.aheadAt = this.time;
      this.ahead = [];
      this.x = 0;
    }
    while (this.ahead.length <= this.x + i) {
      const at = this.aheadCursor.nextSlot(this.aheadAt);
      if (!Number.isFinite(at)) return at;
      this.aheadCursor.take(at);
      this.aheadAt = at;
      this.ahead.push(at);
    }
    if (this.x > 4096 && this.x * 2 > this.ahead.length) {
      this.ahead = this.ahead.slice(this.x);
      this.x = 0;
    }
    return defined(this.ahead[this.x + i], 'a slot just computed ahead');
  }

  private releaseUpTo(at: number): void {
    for (;;) {
      const next = this.pending[this.pending.length - 1];
      if (!next || next.release > at) return;
      this.pending.pop();
      next.released = true;
      if (next.backfill) this.backfill.push(next);
      else if (!next.inD || next.deadline < at) this.demote(next);
      else this.admit(next);
    }
  }

  /**
   * Inserts a released promised task into the on-time lane if it can make its deadline; otherwise,
   * or if it pushes a task behind it past its deadline, the one that cannot make it goes late.
   */
  private admit(entry: Entry<T>): void {
    const list = this.onTime;
    const head = this.rHead;
    let lo = head;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byDeadline(defined(list[mid], 'the middle of the search range'), entry) <= 0) lo = mid + 1;
      else hi = mid;
    }
    if (this.slotAt(lo - head) > entry.deadline) {
      this.demote(entry);
      return;
    }
    list.splice(lo, 0, entry);
    for (let q = lo + 1; q < list.length; q++) {
      const behind = defined(list[q], 'an on-time task behind the inserted one');
      if (this.slotAt(q - head) > behind.deadline) {
        list.splice(q, 1);
        this.demote(behind);
        return;
      }
    }
  }

  /**
   * Whether serving `entry` (the earliest-deadline released on-time task) now keeps the promises of
   * the on-time tasks with earlier deadlines that are not released yet: each must still find a slot
   * by its deadline behind the ones ahead of it, after this slot is used (Hall's condition again, on
   * the prefix). A task that could not make it even with this slot is doomed: it goes late. Without
   * this, a task released a moment earlier with a later deadline can take the slot a tighter one
   * needed (work-conserving EDF is not optimal when a take moves the next slot).
   */
  private safeToServe(entry: Entry<T>): boolean {
    const promised = this.promised;
    while (
      this.dHead < promised.length &&
      !defined(promised[this.dHead], 'a promised task by deadline rank').inD
    )
      this.dHead++;
    let q = 0;
    for (let k = this.dHead; k < entry.dIndex; k++) {
      const before = defined(promised[k], 'a promised task by deadline rank');
      if (!before.inD || before.released) continue;
      if (this.slotAt(q) > before.deadline) {
        this.removeFromD(before); // doomed: late when it is released
        this.slack = undefined;
        continue;
      }
      if (this.slotAt(q + 1) > before.deadline) return false;
      q++;
    }
    return true;
  }

  private demote(entry: Entry<T>): void {
    this.removeFromD(entry);
    this.slack = undefined;
    this.late.push(entry);
  }

  private removeFromD(entry: Entry<T>): void {
    entry.inD = false;
  }

  /** min over live D of C(d_i) - (rank_i + 1), capped at slackCap (the cap when D is empty). */
  private slackValue(): number {
    if (this.slack !== undefined) return this.slack;
    let slack = this.slackCap;
    let capped = true;
    let rank = 0;
    const promised = this.promised;
    while (
      this.dHead < promised.length &&
      !defined(promised[this.dHead], 'a promised task by deadline rank').inD
    )
      this.dHead++;
    for (let k = this.dHead; k < promised.length; k++) {
      const entry = defined(promised[k], 'a promised task by deadline rank');
      if (!entry.inD) continue;
      if (entry.deadline < this.time) {
        // Its deadline passed while waiting for release: it is late, whatever happens now.
        entry.inD = false;
        continue;
      }
      // C(d) - rank - 1, counting at most rank + 1 + this.slackCap slots.
      let lo = 0;
      let hi = rank + 1 + this.slackCap;
      if (this.slotAt(hi - 1) <= entry.deadline) {
        slack = Math.min(slack, this.slackCap);
      } else {
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (this.slotAt(mid) <= entry.deadline) lo = mid + 1;
          else hi = mid;
        }
        slack = Math.min(slack, lo - rank - 1);
        if (lo - rank - 1 < this.slackCap) capped = false;
      }
      rank++;
      if (slack < 1 + this.reserve && slack < 0) break;
    }
    this.slack = slack;
    this.slackCapped = capped && slack >= this.slackCap;
    return slack;
  }
}
