/** What every sandbox server (X, Bluesky, Mastodon) is started with; each adds its platform's own. */
import type { Clock } from '../../shared/ports/clock.ts';
import type { SandboxStats } from '../stats.ts';
import type { World } from '../world.ts';
import type { FaultSpec } from './faults.ts';

export interface SandboxOptions<E extends string, L> {
  world: World;
  /** Default: the world's clock. The server reads time only from it. */
  clock?: Clock;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** The platform's limits, over its defaults. */
  limits?: L;
  /** Faults queued from the start (more can be added through `faults`). */
  faults?: readonly FaultSpec<E>[];
  /** Seed of probabilistic faults. Default: the world's seed. */
  faultSeed?: number;
  /** Where requests are counted. Default: the world's stats. */
  stats?: SandboxStats;
}
