/** What every sandbox server (X, Bluesky, Mastodon) takes and offers; each adds its platform's own. */
import type { Clock } from '../../shared/ports/clock.ts';
import type { SandboxStats } from '../stats.ts';
import type { World } from '../world.ts';
import type { FaultSpec, SandboxFaults } from './faults.ts';

export interface SandboxOptions<E extends string, L> {
  world: World;
  /** Default: the world's clock. The server reads time only from it. */
  clock?: Clock;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** The platform's limits, over its defaults. */
  limits?: L | undefined;
  /** Faults queued from the start (more can be added through `faults`). */
  faults?: readonly FaultSpec<E>[];
  /** Seed of probabilistic faults. Default: the world's seed. */
  faultSeed?: number;
  /** Where requests are counted. Default: the world's stats. */
  stats?: SandboxStats;
}

/** What every running sandbox server offers; each adds its platform's own. */
export interface RunningSandbox<E extends string, L> {
  /** e.g. http://127.0.0.1:40123: the platform's API base URL. */
  readonly baseUrl: string;
  readonly world: World;
  /** Faults to inject from now on. */
  readonly faults: SandboxFaults<E>;
  readonly stats: SandboxStats;
  readonly limits: L;
  /** Errors thrown by the sandbox itself while answering (answered as 500); empty when healthy. */
  readonly internalErrors: readonly unknown[];
  /** Drops held sockets and open connections, then stops listening. */
  close(): Promise<void>;
}
