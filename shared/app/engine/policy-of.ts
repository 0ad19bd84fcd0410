import { resolveAppDailyCap, resolvePolicy } from '../../config/policy.ts';
import type { AccountRecord } from '../../domain/account.ts';
import type { EngineState } from '../../domain/account-state.ts';
import type { EnginePolicy } from '../../domain/engine/policy.ts';

/** The account's engine policy: the network's defaults with the account's overrides, validated. */
export function policyOf(account: AccountRecord): EnginePolicy {
  return resolvePolicy(account.network, account.policy ?? {});
}

/** Engine settings of the deployment (the app-wide caps shared by every account). */
export interface EngineSettings {
  /** Follows per day per network for the whole deployment; null: none; undefined: the network's default. */
  appDailyCap?: Partial<Record<AccountRecord['network'], number | null>>;
  /** Lease on a task while its follow call is in flight. */
  taskLeaseMs?: number;
}

export function appDailyCapOf(account: AccountRecord, settings: EngineSettings): number | null {
  return resolveAppDailyCap(account.network, settings.appDailyCap?.[account.network]);
}

export function emptyEngineState(): EngineState {
  return { reconciledSeq: 0, nextActAt: 0 };
}
