import type { AccountRecord } from '../account.ts';

/**
 * Tenants as the agency declares them: clients with a digest schedule, accounts that may not be
 * connected yet.
 */

/** Ids of clients and accounts: they go into table keys and URLs, so a small, safe alphabet. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const TENANT_ID_RULE = '1-64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** Weekday names people write (clients.yaml, --digest-day); the record keeps ISO numbers (1 = Monday). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** `mon` -> 1 ... `sun` -> 7 (ClientRecord.digestWeekday). */
export function weekdayNumber(day: Weekday): number {
  return WEEKDAYS.indexOf(day) + 1;
}

/** 1 -> `mon` ... 7 -> `sun`; anything else -> `mon` (the default). */
export function weekdayName(weekday: number | undefined): Weekday {
  return WEEKDAYS[(weekday ?? 1) - 1] ?? 'mon';
}

/** The digest goes out on Mondays at 08:00 local time unless the client says otherwise. */
export const DEFAULT_DIGEST_DAY: Weekday = 'mon';
export const DEFAULT_DIGEST_HOUR = 8;

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

/**
 * One key per account on a network, to tell whether two handles name the same account: no "@",
 * any case, a Mastodon name with its instance's host (`acme` on example.social is
 * `acme@example.social`, the handle connect learns).
 */
export function handleKey(account: {
  network: string;
  handle: string;
  instance?: string | undefined;
  instanceUrl?: string | undefined;
}): string {
  const bare = normalizeTenantHandle(account.handle).toLowerCase();
  const instance = account.instance ?? account.instanceUrl;
  if (account.network !== 'mastodon' || bare.includes('@') || instance === undefined)
    return `${account.network}:${bare}`;
  let host: string;
  try {
    host = new URL(instance).host.toLowerCase();
  } catch {
    host = instance.toLowerCase();
  }
  return `${account.network}:${bare}@${host}`;
}

/**
 * Whether two handles of an account's network name the same account (see handleKey). On Mastodon a
 * name written without its domain matches the full handle of that name: the instance is the
 * account's own (its `instanceUrl`), and the handle's domain may differ from the instance's host.
 */
export function sameHandle(
  account: { network: string; instanceUrl?: string | undefined },
  a: string,
  b: string,
): boolean {
  if (account.network === 'mastodon') {
    const [nameA, domainA] = normalizeTenantHandle(a).toLowerCase().split('@');
    const [nameB, domainB] = normalizeTenantHandle(b).toLowerCase().split('@');
    return nameA === nameB && (domainA === undefined || domainB === undefined || domainA === domainB);
  }
  return handleKey({ ...account, handle: a }) === handleKey({ ...account, handle: b });
}

/** The default id of an account: `<network>-<handle>`, squeezed into the id alphabet. */
export function defaultAccountId(network: string, handle: string): string {
  const squeezed = normalizeTenantHandle(handle)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '');
  return `${network}-${squeezed || 'account'}`.slice(0, 64);
}
