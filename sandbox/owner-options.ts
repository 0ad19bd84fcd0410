/** An owner's options, checked and with their defaults (see OwnerOptions in world-types.ts). */
import { ValidationError } from '../shared/domain/errors.ts';
import type { OwnerOptions, ResolvedOwnerOptions } from './world-types.ts';

const YEAR_MS = 365.25 * 86_400_000;

/** What resolving an owner's options needs to know of the world. */
export interface OwnerOptionsContext {
  handleTaken(handle: string): boolean;
  idTaken(id: string): boolean;
  /** The world's order noise, the default of the owner's. */
  orderNoise: number;
}

export function resolveOwnerOptions(
  options: OwnerOptions,
  now: number,
  world: OwnerOptionsContext,
): ResolvedOwnerOptions & { id: string | undefined } {
  const handle = options.handle;
  if (!/^[A-Za-z0-9_]{1,15}$/.test(handle ?? '')) {
    throw new ValidationError(
      `handle must be 1-15 letters, digits or underscores, got ${JSON.stringify(handle)}`,
    );
  }
  if (world.handleTaken(handle)) {
    throw new ValidationError(`handle ${JSON.stringify(handle)} is already taken in this world`);
  }
  if (options.id !== undefined && (!/^[0-9]{1,19}$/.test(options.id) || world.idTaken(options.id))) {
    throw new ValidationError(`id must be 1-19 digits and unused, got ${JSON.stringify(options.id)}`);
  }
  const count = (value: number | undefined, fallback: number, field: string) => {
    const n = nonNegative(value ?? fallback, field);
    if (!Number.isInteger(n)) throw new ValidationError(`${field} must be an integer, got ${n}`);
    return n;
  };
  return {
    handle,
    name: options.name ?? handle.charAt(0).toUpperCase() + handle.slice(1),
    description: options.description ?? 'Late follow backs!',
    id: options.id,
    createdAt: Math.min(options.createdAt ?? now - 5 * YEAR_MS, now),
    protected: options.protected ?? false,
    initialFollowers: count(options.initialFollowers, 1000, 'initialFollowers'),
    initialFollowing: count(options.initialFollowing, 300, 'initialFollowing'),
    initialMutualShare: share(options.initialMutualShare ?? 0.5, 'initialMutualShare'),
    followersPerDay: nonNegative(options.followersPerDay ?? 20, 'followersPerDay'),
    unfollowsPerDay: nonNegative(options.unfollowsPerDay ?? 2, 'unfollowsPerDay'),
    recentUnfollowShare: share(options.recentUnfollowShare ?? 0.5, 'recentUnfollowShare'),
    recentWindow: count(options.recentWindow, 200, 'recentWindow'),
    deletionsPerDay: nonNegative(options.deletionsPerDay ?? 0.5, 'deletionsPerDay'),
    suspendedShare: share(options.suspendedShare ?? 0.4, 'suspendedShare'),
    spamShare: share(options.spamShare ?? 0.15, 'spamShare'),
    protectedShare: share(options.protectedShare ?? 0.05, 'protectedShare'),
    refollowShare: share(options.refollowShare ?? 0.03, 'refollowShare'),
    pendingAcceptShare: share(options.pendingAcceptShare ?? 0.5, 'pendingAcceptShare'),
    pendingAcceptMeanHours: nonNegative(options.pendingAcceptMeanHours ?? 24, 'pendingAcceptMeanHours'),
    orderNoise: share(options.orderNoise ?? world.orderNoise, 'orderNoise'),
    orderDisplacement: count(options.orderDisplacement, 0, 'orderDisplacement'),
  };
}

export function share(value: number, field: string): number {
  if (!(value >= 0 && value <= 1))
    throw new ValidationError(`${field} must be between 0 and 1, got ${value}`);
  return value;
}

export function nonNegative(value: number, field: string): number {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new ValidationError(`${field} must be a finite number >= 0, got ${value}`);
  }
  return value;
}
