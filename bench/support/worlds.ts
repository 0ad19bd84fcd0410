/**
 * The accounts the observe bench measures: a seeded sandbox world with one owner, served by the X
 * sandbox on loopback, read through the real X adapter.
 */
import { createWorld, type World, type WorldUser } from '../../sandbox/world.ts';
import { startXSandbox, type XSandbox } from '../../sandbox/x/server.ts';
import { VirtualClock } from '../../shared/adapters/clock.ts';
import { XPlatform } from '../../shared/adapters/x/x-platform.ts';
import { DEFAULT_START } from '../../shared/runtime/local.ts';

export interface AccountProfile {
  /** '10k', '100k': the suffix of the JSON keys. */
  label: string;
  followers: number;
  followersPerDay: number;
  unfollowsPerDay: number;
  deletionsPerDay: number;
  seed: number;
  /** The owner's list-order noise (share of newcomers listed below the newest); the world's default else. */
  orderNoise?: number;
  /** How many places below the top a newcomer hit by order noise may be listed (default: one). */
  orderDisplacement?: number;
}

/**
 * Growing accounts: unfollows about a tenth of the gains (X's churn for an account that grows),
 * deletions and suspensions a few per 100,000 followers a day. The world's default order noise
 * (a newcomer sometimes listed just below the newest) stays on: X's order is not a contract.
 */
export const PROFILES: readonly [AccountProfile, ...AccountProfile[]] = [
  {
    label: '10k',
    followers: 10_000,
    followersPerDay: 50,
    unfollowsPerDay: 5,
    deletionsPerDay: 0.5,
    seed: 10,
  },
  {
    label: '100k',
    followers: 100_000,
    followersPerDay: 500,
    unfollowsPerDay: 50,
    deletionsPerDay: 5,
    seed: 100,
  },
];

export interface WorldSetup {
  clock: VirtualClock;
  world: World;
  owner: WorldUser;
  sandbox: XSandbox;
  platform: XPlatform;
  close(): Promise<void>;
}

/** The profile's world at DEFAULT_START (a Monday, early in a month), its sandbox and an adapter. */
export async function startWorld(profile: AccountProfile): Promise<WorldSetup> {
  const clock = new VirtualClock(DEFAULT_START);
  const world = createWorld({ seed: profile.seed, clock });
  const owner = world.addOwner({
    handle: `acct${profile.label}`,
    initialFollowers: profile.followers,
    followersPerDay: profile.followersPerDay,
    unfollowsPerDay: profile.unfollowsPerDay,
    deletionsPerDay: profile.deletionsPerDay,
    ...(profile.orderNoise === undefined ? {} : { orderNoise: profile.orderNoise }),
    ...(profile.orderDisplacement === undefined ? {} : { orderDisplacement: profile.orderDisplacement }),
  });
  const sandbox = await startXSandbox({ world, clock });
  const platform = new XPlatform({
    baseUrl: sandbox.baseUrl,
    accessToken: sandbox.issueToken(owner.id),
    timeoutMs: 10_000,
  });
  return { clock, world, owner, sandbox, platform, close: () => sandbox.close() };
}
