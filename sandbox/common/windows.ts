/**
 * Fixed rate-limit windows that open with their first hit and count points (a request is 1 point; a
 * Bluesky write costs 1 to 3), on the injected clock only; a cost can be checked before it is taken.
 * The X sandbox exports PointsWindow as FixedWindow.
 */

export interface WindowState {
  limit: number;
  remaining: number;
  /** Epoch ms when the window closes (or would close, if one opened now). */
  resetAt: number;
  windowMs: number;
}

export class PointsWindow {
  #start: number | undefined;
  #used = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  state(now: number): WindowState {
    this.#roll(now);
    const start = this.#start ?? now;
    return {
      limit: this.limit,
      remaining: Math.max(0, this.limit - this.#used),
      resetAt: start + this.windowMs,
      windowMs: this.windowMs,
    };
  }

  /** Whether `points` fit in what is left now. */
  fits(now: number, points = 1): boolean {
    this.#roll(now);
    return this.#used + points <= this.limit;
  }

  /** Counts `points` if they fit; false (and nothing counted) when they do not. */
  take(now: number, points = 1): boolean {
    if (!this.fits(now, points)) return false;
    this.#start ??= now;
    this.#used += points;
    return true;
  }

  #roll(now: number): void {
    if (this.#start !== undefined && now >= this.#start + this.windowMs) {
      this.#start = undefined;
      this.#used = 0;
    }
  }
}

/** Windows by key (an account and a bucket), created on first use. */
export class WindowMap {
  readonly #windows = new Map<string, PointsWindow>();

  get(key: string, limit: number, windowMs: number): PointsWindow {
    let window = this.#windows.get(key);
    if (!window) {
      window = new PointsWindow(limit, windowMs);
      this.#windows.set(key, window);
    }
    return window;
  }
}
