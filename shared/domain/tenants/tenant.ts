import type { AccountRecord, ClientRecord } from '../account.ts';

/**
 * Tenants as the agency declares them: clients with a digest schedule, accounts that may not be
 * connected yet.
 */

/** Ids of clients and accounts: they go into table keys and URLs, so a small, safe alphabet. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const TENANT_ID_RULE = '1-64 letters, digits, ".", "_" or "-", starting with a letter or digit';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** When the weekly digest goes out, in the client's time zone. */
export interface DigestSchedule {
  day: Weekday;
  /** Local hour, 0-23. */
  hour: number;
}

export const DEFAULT_DIGEST_SCHEDULE: DigestSchedule = { day: 'mon', hour: 8 };

/**
 * A client record with its digest schedule. The schedule is an extra attribute of the client item
 * (the store keeps attributes it does not know); absent means DEFAULT_DIGEST_SCHEDULE.
 */
export type TenantClient = ClientRecord & { digestSchedule?: DigestSchedule | undefined };

export function digestScheduleOf(client: ClientRecord): DigestSchedule {
  const schedule = (client as TenantClient).digestSchedule;
  return schedule ?? DEFAULT_DIGEST_SCHEDULE;
}

/**
 * The platform user id of an account declared before it was connected. `followback connect` learns
 * the real one from the platform (`me()`); until then the account waits in status `token_expired`
 * ("needs connecting"), which the dispatcher skips and `resume` refuses.
 */
export const UNKNOWN_PLATFORM_USER_ID = 'unknown';

export function isConnectable(account: Pick<AccountRecord, 'platformUserId'>): boolean {
  return account.platformUserId !== UNKNOWN_PLATFORM_USER_ID;
}

/** Lower case, no leading "@". */
export function normalizeTenantHandle(handle: string): string {
  return handle.trim().replace(/^@/, '');
}

/** The default id of an account: `<network>-<handle>`, squeezed into the id alphabet. */
export function defaultAccountId(network: string, handle: string): string {
  const squeezed = normalizeTenantHandle(handle)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '');
  return `${network}-${squeezed || 'account'}`.slice(0, 64);
}
