/**
 * The world's agenda: its future events (the Poisson streams of each owner, the acceptances of
 * follow requests) in one queue, taken in time order, ties in the order they were scheduled, so
 * advancing in one call or in many processes the same events in the same order.
 */
import { EventHeap } from './heap.ts';
import type { RandomGenerator } from './rng.ts';
import type { OwnerState } from './world-types.ts';

export type StreamKind = 'gain' | 'unfollow' | 'gone';

export interface StreamItem {
  at: number;
  seq: number;
  kind: StreamKind;
  owner: OwnerState;
  timing: RandomGenerator;
  ratePerMs: number;
}

export interface AcceptItem {
  at: number;
  seq: number;
  kind: 'accept';
  owner: OwnerState;
  target: number;
  /** The request this acceptance answers (a cancelled and renewed request gets its own). */
  requestedAt: number;
}

export type AgendaItem = StreamItem | AcceptItem;

/** An item as it is scheduled: the agenda gives it its place in the order (`seq`). */
type Unsequenced<T> = T extends AgendaItem ? Omit<T, 'seq'> : never;

export class Agenda {
  readonly #heap = new EventHeap<AgendaItem>();
  #seq = 0;

  /** Adds an event at `item.at`, after every event already scheduled for the same time. */
  schedule(item: Unsequenced<AgendaItem>): void {
    this.#heap.push({ ...item, seq: this.#seq++ } as AgendaItem);
  }

  /** Puts a stream's item back at its next time (`item.at` already moved), after the others scheduled so far. */
  reschedule(item: AgendaItem): void {
    item.seq = this.#seq++;
    this.#heap.push(item);
  }

  /** The next event at or before `at`, taken off the agenda; undefined when there is none. */
  takeDue(at: number): AgendaItem | undefined {
    const next = this.#heap.peek();
    if (next === undefined || next.at > at) return undefined;
    this.#heap.pop();
    return next;
  }
}
