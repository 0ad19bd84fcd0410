/**
 * Where the contract suites (platform-observe, platform-act) run: every network's sandbox (npm test),
 * or the real atproto reference network (npm run test:real sets FOLLOWBACK_TARGET=real). The suites
 * are the same; only the harness differs.
 */
import type { Network } from '../../shared/ports/platform.ts';
import { startRealHarness } from '../real/real-harness.ts';
import type { DynamoTarget } from './dynalite.ts';
import {
  type ContractHarness,
  NETWORKS,
  type PlatformHarnessOptions,
  startPlatformHarness,
} from './platform-harness.ts';

export const REAL_TARGET = process.env.FOLLOWBACK_TARGET === 'real';

/** The networks the contract suites run on here. */
export const CONTRACT_NETWORKS: readonly Network[] = REAL_TARGET ? ['bluesky'] : NETWORKS;

export function startContractHarness(
  target: DynamoTarget,
  options: PlatformHarnessOptions,
): Promise<ContractHarness> {
  return REAL_TARGET ? startRealHarness(target, options) : startPlatformHarness(target, options);
}
