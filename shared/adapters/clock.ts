import type { Clock } from '../ports/clock.ts';

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to: simulations and tests run weeks in seconds. */
export class VirtualClock implements Clock {
  #now: number;

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    if (ms < 0) throw new RangeError('a clock does not go back');
    this.#now += ms;
  }

  set(at: number): void {
    if (at < this.#now) throw new RangeError('a clock does not go back');
    this.#now = at;
  }
}
