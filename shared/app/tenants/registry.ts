import {
  type AccountSpec,
  type AccountSpecInput,
  accountSpecOf,
  buildAccountRecord,
  buildClientRecord,
  type ClientSpecInput,
  clientSpecOf,
  parseAccountSpec,
  parseClientSpec,
  TenantSpecError,
} from '../../config/tenants.ts';
import { type AccountRecord, type AccountRef, accountKey, type ClientRecord } from '../../domain/account.ts';
import { ValidationError } from '../../domain/errors.ts';
import { diffFields, type FieldChange } from '../../domain/tenants/plan.ts';
import { defaultAccountId, UNKNOWN_PLATFORM_USER_ID } from '../../domain/tenants/tenant.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { RegistryStore } from '../../ports/store.ts';

/**
 * Clients (tenants) and their accounts: add, update, remove. Every input goes through the schemas of
 * shared/config/tenants.ts, so a bad value is refused with its field named and nothing is written.
 * Removing an account removes its data and its tokens; removing a client removes its accounts.
 */

/** The registry plus the purge of an account's partition (DynamoStore has both). */
export interface TenantStore extends RegistryStore {
  /**
   * Deletes every item of the account's partition: state, snapshots, changesets, tasks, limiter
   * buckets, the refresh lock and the sealed credentials (`CRED#<network>`), which live there too.
   */
  purgeAccountData(ref: AccountRef): Promise<number>;
}

export interface TenantDeps {
  store: TenantStore;
  clock: Clock;
  logger?: Logger | undefined;
}

/** There is no such client or account. */
export class TenantNotFoundError extends ValidationError {
  override readonly name = 'TenantNotFoundError';
}

/** The client or account exists already. */
export class TenantExistsError extends ValidationError {
  override readonly name = 'TenantExistsError';
}

export async function requireClient(store: RegistryStore, clientId: string): Promise<ClientRecord> {
  const client = await store.getClient(clientId);
  if (client === undefined) {
    throw new TenantNotFoundError(`there is no client ${clientId}`, { details: { clientId } });
  }
  return client;
}

export async function requireAccount(store: RegistryStore, ref: AccountRef): Promise<AccountRecord> {
  const account = await store.getAccount(ref);
  if (account === undefined) {
    throw new TenantNotFoundError(`client ${ref.clientId} has no account ${ref.accountId}`, {
      details: { ...ref },
    });
  }
  return account;
}

export async function addClient(
  deps: TenantDeps,
  clientId: string,
  input: ClientSpecInput,
): Promise<ClientRecord> {
  const spec = parseClientSpec(input, `client ${clientId}`);
  const record = buildClientRecord(clientId, spec, undefined, deps.clock.now());
  if ((await deps.store.getClient(clientId)) !== undefined) {
    throw new TenantExistsError(`client ${clientId} exists already (change it with \`client update\`)`, {
      details: { clientId },
    });
  }
  await deps.store.putClient(record);
  deps.logger?.info('client added', { clientId });
  return record;
}

export interface ClientChanges {
  name?: string | undefined;
  timeZone?: string | undefined;
  locale?: string | undefined;
  digestEmails?: string[] | undefined;
  digestDay?: string | undefined;
  digestHour?: number | undefined;
}

/**
 * Changes some of a client's settings. Accounts whose policy time zone was the client's follow a new
 * client time zone (those with their own keep it).
 */
export async function updateClient(
  deps: TenantDeps,
  clientId: string,
  changes: ClientChanges,
): Promise<{ client: ClientRecord; changes: FieldChange[]; accountsUpdated: string[] }> {
  const existing = await requireClient(deps.store, clientId);
  const current = clientSpecOf(existing);
  const spec = parseClientSpec(
    {
      name: changes.name ?? current.name,
      timeZone: changes.timeZone ?? current.timeZone,
      locale: changes.locale ?? current.locale,
      digest: {
        emails: changes.digestEmails ?? current.digest.emails,
        day: changes.digestDay ?? current.digest.day,
        hour: changes.digestHour ?? current.digest.hour,
      },
    },
    `client ${clientId}`,
  );
  const record = buildClientRecord(clientId, spec, existing, deps.clock.now());
  const fieldChanges = diffFields(existing, record);
  const accountsUpdated: string[] = [];
  if (fieldChanges.length > 0) {
    if (record.timeZone !== existing.timeZone) {
      for (const account of await deps.store.listAccounts(clientId)) {
        if (account.policy?.timeZone !== existing.timeZone) continue;
        await deps.store.putAccount({ ...account, policy: { ...account.policy, timeZone: record.timeZone } });
        accountsUpdated.push(account.accountId);
      }
    }
    await deps.store.putClient(record);
    deps.logger?.info('client updated', { clientId, fields: fieldChanges.map((c) => c.path) });
  }
  return { client: record, changes: fieldChanges, accountsUpdated };
}

/** Removes the client, its accounts, their data and their tokens. Returns what went. */
export async function removeClient(
  deps: TenantDeps,
  clientId: string,
): Promise<{ accounts: string[]; items: number }> {
  await requireClient(deps.store, clientId);
  const removed: string[] = [];
  let items = 0;
  for (const account of await deps.store.listAccounts(clientId)) {
    items += (await removeAccount(deps, account)).items;
    removed.push(account.accountId);
  }
  await deps.store.deleteClient(clientId);
  deps.logger?.info('client removed', { clientId, accounts: removed.length });
  return { accounts: removed, items };
}

export interface NewAccount extends AccountSpecInput {
  /** Default: `<network>-<handle>`. */
  accountId?: string | undefined;
}

/** Adds an account to a client. It waits in `not_connected` until `followback connect`. */
export async function addAccount(
  deps: TenantDeps,
  clientId: string,
  input: NewAccount,
): Promise<AccountRecord> {
  const { accountId: requested, ...rest } = input;
  const client = await requireClient(deps.store, clientId);
  const spec = parseAccountSpec(rest, 'account');
  const accountId = requested ?? defaultAccountId(spec.network, spec.handle);
  const record = buildAccountRecord(client, accountId, spec, undefined, deps.clock.now());
  if ((await deps.store.getAccount(record)) !== undefined) {
    throw new TenantExistsError(
      `client ${clientId} has an account ${accountId} already (change it with \`account update\`)`,
      {
        details: { clientId, accountId },
      },
    );
  }
  await refuseDuplicates(deps.store, record);
  await deps.store.putAccount(record);
  deps.logger?.info('account added', { clientId, accountId, network: record.network });
  return record;
}

export interface AccountChanges {
  handle?: string | undefined;
  platformUserId?: string | undefined;
  paused?: boolean | undefined;
  /** Merged into the policy overrides (nested objects merge; anything else, null too, replaces). */
  policy?: Record<string, unknown> | undefined;
  /** Merged into the observe settings. */
  observe?: Record<string, unknown> | undefined;
}

export async function updateAccount(
  deps: TenantDeps,
  ref: AccountRef,
  changes: AccountChanges,
): Promise<{ account: AccountRecord; changes: FieldChange[] }> {
  const existing = await requireAccount(deps.store, ref);
  const client = await requireClient(deps.store, ref.clientId);
  const current: AccountSpec = accountSpecOf(existing);
  const input: Record<string, unknown> = {
    ...current,
    ...(changes.handle === undefined ? {} : { handle: changes.handle }),
    ...(changes.platformUserId === undefined ? {} : { platformUserId: changes.platformUserId }),
    ...(changes.paused === undefined ? {} : { paused: changes.paused }),
    policy:
      changes.policy === undefined ? current.policy : mergeOverrides(current.policy ?? {}, changes.policy),
    observe:
      changes.observe === undefined
        ? current.observe
        : mergeOverrides(current.observe ?? {}, changes.observe),
  };
  const spec = parseAccountSpec(input, `account ${accountKey(ref)}`);
  const record = buildAccountRecord(client, ref.accountId, spec, existing, deps.clock.now());
  const fieldChanges = diffFields(existing, record);
  if (fieldChanges.length > 0) {
    await refuseDuplicates(deps.store, record);
    await deps.store.putAccount(record);
    deps.logger?.info('account updated', { ...ref, fields: fieldChanges.map((c) => c.path) });
  }
  return { account: record, changes: fieldChanges };
}

/**
 * Removes an account with its data and tokens: paused first (the dispatcher stops sending it work),
 * then everything in its partition, its sealed tokens included, and the record last (a crash half
 * way leaves the record, so running the removal again finishes it).
 */
export async function removeAccount(deps: TenantDeps, ref: AccountRef): Promise<{ items: number }> {
  const account = await requireAccount(deps.store, ref);
  const key = { clientId: account.clientId, accountId: account.accountId };
  if (account.status !== 'paused') {
    // Stop the dispatcher sending it work while it goes.
    await deps.store.putAccount({ ...account, status: 'paused' });
  }
  const items = await deps.store.purgeAccountData(key);
  await deps.store.deleteAccount(key);
  deps.logger?.info('account removed', { ...key, items });
  return { items };
}

/** Refuses a second account for the same platform user, or the same handle twice in one client. */
async function refuseDuplicates(store: RegistryStore, record: AccountRecord): Promise<void> {
  for (const other of await store.listAccounts()) {
    if (accountKey(other) === accountKey(record) || other.network !== record.network) continue;
    if (
      record.platformUserId !== UNKNOWN_PLATFORM_USER_ID &&
      other.platformUserId === record.platformUserId
    ) {
      throw new TenantSpecError(`account ${record.accountId}`, [
        {
          path: ['platformUserId'],
          message: `${record.network} user ${record.platformUserId} is already the account ${accountKey(other)}`,
        },
      ]);
    }
    if (other.clientId === record.clientId && other.handle.toLowerCase() === record.handle.toLowerCase()) {
      throw new TenantSpecError(`account ${record.accountId}`, [
        {
          path: ['handle'],
          message: `@${record.handle} on ${record.network} is already the account ${accountKey(other)}`,
        },
      ]);
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Nested objects merge; anything else (arrays, null: `quietHours: null` means none) replaces. */
export function mergeOverrides(
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (isPlainObject(value) && isPlainObject(out[key]))
      out[key] = mergeOverrides(out[key] as Record<string, unknown>, value);
    else out[key] = value;
  }
  return out;
}
