/**
 * One unit of account work, wherever it runs (the AWS account worker for one SQS message, the local
 * runtime's ticks): the account's tick, and what becomes of a failure. The policy lives here so the
 * two behave the same:
 *
 * - Refused or missing credentials (an AuthError: the platform refused the token, X refused to
 *   refresh it, nothing is stored) mark the account `token_expired`, conditional on the record
 *   still being there with the status it had (a removal, pause or reconnect meanwhile wins), and the
 *   work is dropped: a person must reconnect the account.
 * - Credentials that do not open for this account (VaultOpenError: sealed for another tenant,
 *   account or purpose, or altered), a configuration or input that cannot work (ConfigError,
 *   ValidationError), an account no longer registered: dropped, never retried.
 * - Anything else (DynamoDB, KMS, the network, a token endpoint out of reach, a refresh lock held
 *   too long) may pass: retried (SQS redelivers the message; locally, the next tick runs it again).
 */
import type { AccountRecord, AccountRef, AccountStatus } from '../domain/account.ts';
import { AuthError, ConfigError, ValidationError } from '../domain/errors.ts';
import type { Platform } from '../ports/platform.ts';
import type { RegistryStore } from '../ports/store.ts';
import { VaultOpenError } from '../ports/vault.ts';
import {
  type EngineStore,
  runAccountTick,
  type TickDeps,
  type TickOptions,
  type TickReport,
} from './tick.ts';

/** Sets an account's status only if the record still exists with the status it had (DynamoStore). */
export interface AccountStatusStore {
  setAccountStatus(ref: AccountRef, to: AccountStatus, options: { from: AccountStatus }): Promise<boolean>;
}

export interface AccountWorkDeps extends Omit<TickDeps, 'platform' | 'store'> {
  store: EngineStore & AccountStatusStore & Pick<RegistryStore, 'getAccount'>;
  /**
   * The account's platform. A composition that can open the credentials first (read, refreshed if
   * about to expire) does so here, so a credential problem surfaces before the tick changes state.
   */
  platformFor: (account: AccountRecord) => Platform | Promise<Platform>;
}

/**
 * Why work was dropped or is to be retried:
 * - `unregistered`: the account is gone from the registry;
 * - `credentials_refused`: refused or missing credentials (the account is marked `token_expired`;
 *   a retry only when that mark could not be written);
 * - `credentials_unusable`: stored credentials that do not open for this account;
 * - `not_workable`: the work cannot be done as configured;
 * - `failed`: a failure that may pass.
 */
export type AccountWorkReason =
  | 'unregistered'
  | 'credentials_refused'
  | 'credentials_unusable'
  | 'not_workable'
  | 'failed';

/**
 * What became of the work: `done` (the tick ran, or had nothing to do: not due, leased, inactive),
 * `dropped` (retrying cannot help; logged with the reason), `retry` (a failure that may pass).
 * `report` is the tick's, when it got that far (a tick whose act met refused credentials is dropped
 * with its report).
 */
export interface AccountWorkResult {
  outcome: 'done' | 'dropped' | 'retry';
  reason?: AccountWorkReason | undefined;
  report?: TickReport | undefined;
  /** The account is now `token_expired` (this work marked it). */
  markedTokenExpired?: boolean | undefined;
  error?: unknown;
}

/** The account's work by its reference: it is read from the registry first. */
export async function workAccount(
  ref: AccountRef,
  deps: AccountWorkDeps,
  options: TickOptions,
): Promise<AccountWorkResult> {
  let account: AccountRecord | undefined;
  try {
    account = await deps.store.getAccount(ref);
  } catch (error) {
    return classifyFailure(error, undefined, deps);
  }
  if (account === undefined) {
    deps.logger.warn('account is no longer registered; dropping its work');
    return { outcome: 'dropped', reason: 'unregistered' };
  }
  return workAccountRecord(account, deps, options);
}

/** The account's work, its record already read. */
export async function workAccountRecord(
  account: AccountRecord,
  deps: AccountWorkDeps,
  options: TickOptions,
): Promise<AccountWorkResult> {
  const logger = deps.logger;
  try {
    if (account.status !== 'active') {
      logger.info('account is not active; nothing to do', { status: account.status });
      return { outcome: 'done' };
    }
    const platform = await deps.platformFor(account);
    const { platformFor: _platformFor, ...tickDeps } = deps;
    const report = await runAccountTick(account, { ...tickDeps, platform }, options);
    if (report.ran && report.act.stopped?.reason === 'auth') {
      // Act met refused credentials (observe would have thrown AuthError): the same as below.
      return { ...(await markTokenExpired(account, deps)), report };
    }
    return { outcome: 'done', report };
  } catch (error) {
    return classifyFailure(error, account, deps);
  }
}

/**
 * The platform refused the credentials (or there are none, or X refused to refresh them): a person
 * must reconnect the account. Mark it so the dispatcher stops sending work and the digest can say
 * so, and drop the work. The mark is conditional on the record still being there and still with the
 * status it had: an `account remove` (which pauses, purges, then deletes) or a pause or reconnect
 * that ran meanwhile wins, and no removed account comes back.
 */
async function markTokenExpired(account: AccountRecord, deps: AccountWorkDeps): Promise<AccountWorkResult> {
  const logger = deps.logger;
  let marked: boolean;
  try {
    marked = await deps.store.setAccountStatus(account, 'token_expired', { from: account.status });
  } catch (markError) {
    logger.error('could not mark the account token_expired; will retry', { error: markError });
    return { outcome: 'retry', reason: 'credentials_refused', error: markError };
  }
  if (marked) logger.warn('account marked token_expired; it must be reconnected');
  else logger.warn('account changed or was removed meanwhile; left as it is');
  return { outcome: 'dropped', reason: 'credentials_refused', markedTokenExpired: marked };
}

async function classifyFailure(
  error: unknown,
  account: AccountRecord | undefined,
  deps: AccountWorkDeps,
): Promise<AccountWorkResult> {
  const logger = deps.logger;
  if (error instanceof AuthError && account !== undefined) {
    logger.warn('credentials missing or refused; the account must be reconnected', {
      error: error.message,
      errorName: error.name,
    });
    return markTokenExpired(account, deps);
  }
  if (error instanceof VaultOpenError) {
    // Sealed for another tenant, account or purpose, or altered: never retried, never used.
    logger.error('stored credentials do not open for this account; dropping its work', {
      error: error.message,
    });
    return { outcome: 'dropped', reason: 'credentials_unusable', error };
  }
  if (error instanceof ValidationError || error instanceof ConfigError) {
    logger.error('account work cannot be done as configured; dropping it', { error });
    return { outcome: 'dropped', reason: 'not_workable', error };
  }
  logger.error('account tick failed; it will be retried', { error });
  return { outcome: 'retry', reason: 'failed', error };
}
