import { type LimiterConfig, LimiterSimulator, type LimiterState } from './limiter.ts';
import type { QuietCalendar } from './quiet-hours.ts';

/**
 * Capacity as a sequence of slots: the limiters (account caps, app-wide cap or share) and quiet
 * hours, stepped through as the times at which takes would succeed.
 */

/** What the account may do: its limiters (account caps, app-wide cap or share) and quiet hours. */
export interface CapacityModel {
  limiters: ReadonlyArray<{ config: LimiterConfig; state: LimiterState }>;
  quiet?: QuietCalendar | undefined;
}

/** Steps through the capacity: the next time a take fits every limiter outside quiet hours. */
export class CapacityCursor {
  private constructor(
    private readonly sims: LimiterSimulator[],
    private readonly quiet: QuietCalendar | undefined,
  ) {}

  static from(capacity: CapacityModel): CapacityCursor {
    return new CapacityCursor(
      capacity.limiters.map((l) => LimiterSimulator.from(l.state, l.config)),
      capacity.quiet,
    );
  }

  clone(): CapacityCursor {
    return new CapacityCursor(
      this.sims.map((s) => s.clone()),
      this.quiet,
    );
  }

  /** Earliest time ≥ from at which one take fits (Infinity when never). */
  nextSlot(from: number): number {
    let at = from;
    for (const sim of this.sims) at = Math.max(at, sim.availableAt(from));
    if (!Number.isFinite(at)) return at;
    // Limiters only get more permissive as time passes, so a later instant still fits them.
    return this.quiet ? this.quiet.nextActive(at) : at;
  }

  /** Records a take at `at` in every limiter (`at` must come from nextSlot). */
  take(at: number): void {
    for (const sim of this.sims) sim.record(at);
  }

  states(): LimiterState[] {
    return this.sims.map((s) => s.toState());
  }
}

/** The times of the next `count` takes if the account acted continuously from `from` (stops at `until`). */
export function slotTimes(capacity: CapacityModel, from: number, count: number, until = Infinity): number[] {
  const cursor = CapacityCursor.from(capacity);
  const out: number[] = [];
  let at = from;
  while (out.length < count) {
    at = cursor.nextSlot(at);
    if (!(at <= until)) break;
    cursor.take(at);
    out.push(at);
  }
  return out;
}
