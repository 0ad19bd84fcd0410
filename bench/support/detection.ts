/**
 * Scoring an observer against the sandbox world's ground truth: who really followed and when
 * (`world.events`, `world.followedAt`), against when the observer first reported each of them.
 */
import type { World } from '../../sandbox/world.ts';
import { quantile } from './bench.ts';

const HOUR = 3_600_000;

/** When an observer first reported each id as a new follower (virtual time of the tick). */
export class Detections {
  readonly #times = new Map<string, number[]>();
  #total = 0;

  record(ids: readonly string[], at: number): void {
    for (const id of ids) {
      const times = this.#times.get(id);
      if (times) times.push(at);
      else this.#times.set(id, [at]);
      this.#total += 1;
    }
  }

  /** Reports of new followers, counting an id again when it was reported again. */
  get total(): number {
    return this.#total;
  }

  /** The first report of `id` in [from, before), if any. */
  first(id: string, from: number, before: number): number | undefined {
    return this.#times.get(id)?.find((at) => at >= from && at < before);
  }

  ids(): IterableIterator<[string, number[]]> {
    return this.#times.entries();
  }
}

export interface DetectionScore {
  /** Follows in the scored cohort (see scoreDetections). */
  followed: number;
  detected: number;
  /** Not detected, and gone (unfollowed, deleted, suspended) before the observer could see them. */
  leftFirst: number;
  /** Not detected although still following at the end. */
  missed: number;
  /** Of the missed: follows by a former follower (a re-follow). */
  missedRefollows: number;
  /** detected / (followed - leftFirst). */
  recall: number;
  /** Detection delay of the detected, hours. */
  p50Hours: number;
  p95Hours: number;
  maxHours: number;
  /** Reports that match no follow in the run (an old follower reported as new). */
  falseReports: number;
}

/**
 * Scores the follows of `ownerId` made in (from, to - graceMs]: those made later may not be due yet
 * (the observer's cadence), so they are left out of the cohort. A follow is detected when the
 * observer reported the id at or after the follow and before the same user's next follow.
 */
export function scoreDetections(input: {
  world: World;
  ownerId: string;
  from: number;
  to: number;
  graceMs: number;
  detections: Detections;
}): DetectionScore {
  const { world, ownerId, from, to, graceMs, detections } = input;
  const events = world.events({ ownerId, since: from + 1 }).filter((event) => event.at <= to);
  const follows = new Map<string, number[]>();
  const leaves = new Map<string, number[]>();
  for (const event of events) {
    const into = event.kind === 'followed' ? follows : event.kind === 'accepted' ? undefined : leaves;
    if (!into) continue;
    const list = into.get(event.userId);
    if (list) list.push(event.at);
    else into.set(event.userId, [event.at]);
  }

  // Anyone who ever left this owner (before the run too): a follow of theirs is a re-follow.
  const everLeft = new Set(world.events({ ownerId, kinds: ['unfollowed'] }).map((event) => event.userId));
  const delays: number[] = [];
  let followed = 0;
  let leftFirst = 0;
  let missed = 0;
  let missedRefollows = 0;
  const matched = new Set<string>();
  for (const [userId, times] of follows) {
    times.forEach((at, index) => {
      const nextFollow = times[index + 1] ?? Number.POSITIVE_INFINITY;
      const seen = detections.first(userId, at, nextFollow);
      if (seen !== undefined) matched.add(`${userId}@${seen}`);
      if (at > to - graceMs) return;
      followed += 1;
      if (seen !== undefined) {
        delays.push((seen - at) / HOUR);
        return;
      }
      const left = (leaves.get(userId) ?? []).some((leftAt) => leftAt >= at);
      if (left) leftFirst += 1;
      else {
        missed += 1;
        if (index > 0 || everLeft.has(userId)) missedRefollows += 1;
      }
    });
  }
  let falseReports = 0;
  for (const [userId, times] of detections.ids()) {
    for (const at of times) if (!matched.has(`${userId}@${at}`)) falseReports += 1;
  }
  delays.sort((a, b) => a - b);
  const detected = delays.length;
  return {
    followed,
    detected,
    leftFirst,
    missed,
    missedRefollows,
    recall: followed - leftFirst > 0 ? detected / (followed - leftFirst) : Number.NaN,
    p50Hours: quantile(delays, 0.5),
    p95Hours: quantile(delays, 0.95),
    maxHours: delays.at(-1) ?? Number.NaN,
    falseReports,
  };
}
