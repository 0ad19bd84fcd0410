/**
 * Fault injection for the sandboxes (X, Bluesky, Mastodon), over any set of endpoint names: make the
 * next answers of an endpoint fail the ways a platform fails. Faults are taken in the order they
 * were added; probabilistic ones draw from a seeded generator of their own.
 */
import type { ServerResponse } from 'node:http';
import { type RandomGenerator, streamRng, uniform } from '../rng.ts';
import type { SandboxStats } from '../stats.ts';
import { hold, JSON_TYPE, type JsonAnswer, writeText } from './http.ts';

/**
 * - `500`, `503`: server errors in the platform's shapes.
 * - `429`: an injected rate-limit answer (remaining 0, the window's real reset).
 * - `timeout`: the socket is held without an answer, for `holdMs` (then dropped) or until close.
 * - `malformed`: 200 with a JSON body that is not the documented shape.
 * - `truncated`: 200 whose body is not valid JSON.
 */
export type FaultKind = '500' | '503' | '429' | 'timeout' | 'malformed' | 'truncated';

export interface FaultSpec<E extends string> {
  endpoint: E | '*';
  kind: FaultKind;
  /** How many answers this fault replaces. Default 1, or unlimited when `probability` is given. */
  times?: number;
  /** Chance (0-1) that a matching request gets the fault. Default 1. */
  probability?: number;
  /** Only requests by this user (the world id of the token's owner). */
  userId?: string;
  /** For `timeout`: real milliseconds to hold the socket before dropping it. Default: until close. */
  holdMs?: number;
  /** For writes: the request takes effect before the fault answers (the answer was lost). */
  apply?: boolean;
}

export interface ActiveFault<E extends string> extends Readonly<FaultSpec<E>> {
  readonly id: number;
  /** Answers still to replace (Infinity when unlimited). */
  readonly remaining: number;
}

interface FaultEntry<E extends string> {
  id: number;
  spec: FaultSpec<E>;
  remaining: number;
}

export class SandboxFaults<E extends string> {
  readonly #rng: RandomGenerator;
  #entries: FaultEntry<E>[] = [];
  #nextId = 1;

  /** `label` names the generator's stream (one per network), so networks draw independently. */
  constructor(seed: number, label: string) {
    this.#rng = streamRng(seed, label);
  }

  /** Queues a fault; returns its id (for remove). */
  add(spec: FaultSpec<E>): number {
    const probability = spec.probability ?? 1;
    if (!(probability >= 0 && probability <= 1))
      throw new RangeError(`probability must be 0-1, got ${probability}`);
    const times = spec.times ?? (spec.probability === undefined ? 1 : Number.POSITIVE_INFINITY);
    if (!(times >= 0)) throw new RangeError(`times must be >= 0, got ${times}`);
    const id = this.#nextId++;
    this.#entries.push({ id, spec: { ...spec }, remaining: times });
    return id;
  }

  remove(id: number): boolean {
    const before = this.#entries.length;
    this.#entries = this.#entries.filter((entry) => entry.id !== id);
    return this.#entries.length < before;
  }

  clear(): void {
    this.#entries = [];
  }

  /** Faults still queued. */
  pending(): ActiveFault<E>[] {
    return this.#entries.map((entry) => ({ ...entry.spec, id: entry.id, remaining: entry.remaining }));
  }

  /** The fault for this request, if any (consumes one use). */
  take(endpoint: E, userId: string | undefined): ActiveFault<E> | undefined {
    for (const entry of this.#entries) {
      const { spec } = entry;
      if (entry.remaining <= 0) continue;
      if (spec.endpoint !== '*' && spec.endpoint !== endpoint) continue;
      if (spec.userId !== undefined && spec.userId !== userId) continue;
      if (spec.probability !== undefined && uniform(this.#rng) >= spec.probability) continue;
      entry.remaining--;
      if (entry.remaining <= 0) this.#entries = this.#entries.filter((other) => other !== entry);
      return { ...spec, id: entry.id, remaining: entry.remaining };
    }
    return undefined;
  }
}

/** A sandbox's answers to injected faults, in its platform's shapes. */
export interface FaultShapes {
  /** Body of a `500`. */
  serverError: unknown;
  /** Body of a `503`, or a raw answer (a proxy's HTML page). */
  unavailable: { body: unknown } | { contentType: string; text: string };
  /** Body of a `429`. */
  rateLimited: unknown;
  /** Sets the rate-limit headers of an injected `429` (the window's real reset, remaining 0). */
  exhaustHeaders: () => void;
  /** A 200 body that is not the documented shape. */
  malformed: unknown;
  /** A 200 body cut short (not valid JSON). */
  truncated: string;
}

/**
 * Answers `fault` in place of the real answer: JSON answers go through `send` (the sandbox's own,
 * which counts them as faults); raw and truncated ones are written here and counted in `stats`; a
 * timeout holds the socket (in `held`).
 */
export function serveFault(
  res: ServerResponse,
  fault: { kind: FaultKind; holdMs?: number | undefined },
  context: {
    endpoint: string;
    headers: Record<string, string>;
    stats: SandboxStats;
    held: Set<ServerResponse>;
    send: (answer: JsonAnswer) => void;
  },
  shapes: FaultShapes,
): void {
  const { endpoint, headers, stats, send } = context;
  switch (fault.kind) {
    case '500':
      send({ status: 500, body: shapes.serverError });
      return;
    case '503':
      if ('body' in shapes.unavailable) {
        send({ status: 503, body: shapes.unavailable.body });
      } else {
        writeText(res, 503, headers, shapes.unavailable.contentType, shapes.unavailable.text);
        stats.record(endpoint, { status: 503, fault: true });
      }
      return;
    case '429':
      shapes.exhaustHeaders();
      send({ status: 429, body: shapes.rateLimited });
      return;
    case 'malformed':
      send({ status: 200, body: shapes.malformed });
      return;
    case 'truncated':
      writeText(res, 200, headers, JSON_TYPE, shapes.truncated);
      stats.record(endpoint, { status: 200, fault: true });
      return;
    case 'timeout':
      stats.record(endpoint, { fault: true });
      hold(res, context.held, fault.holdMs);
      return;
  }
}
