import { type AccountRecord, type AccountRef, accountKey, type ClientRecord } from '../account.ts';

/**
 * The plan that makes the registry match a declarative file (`followback apply clients.yaml`):
 * pure, from what is stored and what is desired, with field-level differences.
 *
 * - A client or account in the file but not stored: create. In both but different: update (the
 *   changed fields, dotted paths). Equal: nothing (so applying twice is a no-op).
 * - Stored but not in the file: removed only with `prune`; otherwise listed as kept, so an agency
 *   that deletes a block from its file by mistake loses nobody's data or tokens without saying so.
 * - Removing a client removes its accounts (and with them their data and tokens).
 * - `createdAt` is never a difference, nor are attributes the desired record does not set.
 *
 * Steps come in the order they can be applied: clients created or updated, then their accounts
 * created or updated, then accounts removed, then clients removed.
 */

export interface FieldChange {
  /** Dotted path, e.g. `policy.caps.perDay`. */
  path: string;
  /** undefined: the field is new. */
  from: unknown;
  /** undefined: the field goes away. */
  to: unknown;
}

export type StepOp = 'create' | 'update' | 'remove' | 'keep';

export interface ClientStep {
  kind: 'client';
  op: StepOp;
  clientId: string;
  /** The record after the step (create, update). */
  desired?: ClientRecord | undefined;
  /** The record before the step (update, remove, keep). */
  current?: ClientRecord | undefined;
  changes: FieldChange[];
}

export interface AccountStep {
  kind: 'account';
  op: StepOp;
  ref: AccountRef;
  desired?: AccountRecord | undefined;
  current?: AccountRecord | undefined;
  changes: FieldChange[];
}

export type PlanStep = ClientStep | AccountStep;

export interface Plan {
  steps: PlanStep[];
  /** Counts of steps by op (clients and accounts together). */
  summary: Record<StepOp, number>;
}

export interface RegistryContents {
  clients: readonly ClientRecord[];
  accounts: readonly AccountRecord[];
}

const IGNORED = new Set(['createdAt']);

export function planRegistry(
  current: RegistryContents,
  desired: RegistryContents,
  options: { prune: boolean },
): Plan {
  const storedClients = new Map(current.clients.map((c) => [c.clientId, c]));
  const storedAccounts = new Map(current.accounts.map((a) => [accountKey(a), a]));
  const wantedClients = new Set(desired.clients.map((c) => c.clientId));
  const wantedAccounts = new Set(desired.accounts.map((a) => accountKey(a)));

  const upserts: PlanStep[] = [];
  for (const client of sortBy(desired.clients, (c) => c.clientId)) {
    const stored = storedClients.get(client.clientId);
    if (stored === undefined) {
      upserts.push({
        kind: 'client',
        op: 'create',
        clientId: client.clientId,
        desired: client,
        changes: diffFields(undefined, client),
      });
      continue;
    }
    const changes = diffFields(stored, client);
    if (changes.length > 0) {
      upserts.push({
        kind: 'client',
        op: 'update',
        clientId: client.clientId,
        desired: client,
        current: stored,
        changes,
      });
    }
  }
  for (const account of sortBy(desired.accounts, accountKey)) {
    const stored = storedAccounts.get(accountKey(account));
    const ref = { clientId: account.clientId, accountId: account.accountId };
    if (stored === undefined) {
      upserts.push({
        kind: 'account',
        op: 'create',
        ref,
        desired: account,
        changes: diffFields(undefined, account),
      });
      continue;
    }
    const changes = diffFields(stored, account);
    if (changes.length > 0) {
      upserts.push({ kind: 'account', op: 'update', ref, desired: account, current: stored, changes });
    }
  }

  const removals: PlanStep[] = [];
  const clientRemovals: PlanStep[] = [];
  const op: StepOp = options.prune ? 'remove' : 'keep';
  for (const account of sortBy(current.accounts, accountKey)) {
    if (wantedAccounts.has(accountKey(account))) continue;
    const ref = { clientId: account.clientId, accountId: account.accountId };
    // An account of a client the file keeps, or of a client going away: either way not in the file.
    removals.push({ kind: 'account', op, ref, current: account, changes: [] });
  }
  for (const client of sortBy(current.clients, (c) => c.clientId)) {
    if (wantedClients.has(client.clientId)) continue;
    clientRemovals.push({ kind: 'client', op, clientId: client.clientId, current: client, changes: [] });
  }
  const steps = [...upserts, ...removals, ...clientRemovals];
  const summary: Record<StepOp, number> = { create: 0, update: 0, remove: 0, keep: 0 };
  for (const step of steps) summary[step.op]++;
  return { steps, summary };
}

/** Whether applying the plan would change anything. */
export function planChangesSomething(plan: Plan): boolean {
  return plan.summary.create + plan.summary.update + plan.summary.remove > 0;
}

/**
 * Field-level differences from `before` to `after`, as dotted paths. Plain objects are compared
 * field by field; arrays and scalars as a whole. Fields only `before` has are not differences
 * (attributes the file does not manage are kept), except inside objects the desired record sets
 * in full (policy, observe), where a field that goes away is a difference.
 */
export function diffFields(before: object | undefined, after: object): FieldChange[] {
  const changes: FieldChange[] = [];
  walk(before as Record<string, unknown> | undefined, after as Record<string, unknown>, '', changes, true);
  return changes;
}

function walk(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown>,
  prefix: string,
  out: FieldChange[],
  top: boolean,
): void {
  const keys = new Set(Object.keys(after));
  if (!top && before !== undefined) for (const key of Object.keys(before)) keys.add(key);
  for (const key of [...keys].sort()) {
    if (top && IGNORED.has(key)) continue;
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const from = before?.[key];
    const to = after[key];
    if (to === undefined && from === undefined) continue;
    if (isPlainObject(to) && (from === undefined || isPlainObject(from))) {
      walk(from as Record<string, unknown> | undefined, to, path, out, false);
      continue;
    }
    if (!sameValue(from, to)) out.push({ path, from, to });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality of JSON-like values (key order does not matter). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => sameValue(item, b[index]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!sameValue(a[key], b[key])) return false;
    return true;
  }
  return false;
}

function sortBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
}
