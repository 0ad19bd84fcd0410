import { desiredRegistry, parseClientsFile } from '../../config/clients-file.ts';
import { OBSERVE_DEFAULTS } from '../../config/observe-settings.ts';
import { type AccountRecord, accountKey, needsConnect } from '../../domain/account.ts';
import { ConflictError } from '../../domain/errors.ts';
import { defined } from '../../domain/invariant.ts';
import {
  type FieldChange,
  type Plan,
  type PlanStep,
  planChangesSomething,
  planRegistry,
  sameValue,
} from '../../domain/tenants/plan.ts';
import { UNKNOWN_PLATFORM_USER_ID, weekdayName } from '../../domain/tenants/tenant.ts';
import { removeAccount, type TenantDeps } from './registry.ts';

/**
 * `followback apply clients.yaml`: make the registry match the file. `planFromFile` reads the file
 * and the registry and says what would change (nothing is written); `applyPlan` carries it out.
 * The whole file is validated before anything is written: a bad field anywhere writes nothing.
 * Applying the same file twice is a no-op: the second plan is empty.
 */
export interface FilePlan extends Plan {
  /** How many clients and accounts the file declares (an empty file with --prune removes everything). */
  declared: { clients: number; accounts: number };
  /** Each step's changes as the file writes them, for people: see `declaredChanges`. */
  shown: FieldChange[][];
}

export async function planFromFile(
  deps: Pick<TenantDeps, 'store' | 'clock'>,
  text: string,
  options: { source?: string | undefined; prune?: boolean | undefined } = {},
): Promise<FilePlan> {
  const current = { clients: await deps.store.listClients(), accounts: await deps.store.listAccounts() };
  const parsed = parseClientsFile(text, options.source ?? 'clients.yaml', {
    accounts: current.accounts,
    prune: options.prune ?? false,
  });
  const desired = desiredRegistry(parsed, current, deps.clock.now());
  const plan = planRegistry(current, desired, { prune: options.prune ?? false });
  const zones = new Map(desired.clients.map((c) => [c.clientId, c.timeZone]));
  return {
    ...plan,
    declared: { clients: desired.clients.length, accounts: desired.accounts.length },
    shown: plan.steps.map((step) => declaredChanges(step, zones)),
  };
}

/** The record fields of a client as clients.yaml writes them. */
const CLIENT_PATHS: Readonly<Record<string, string>> = {
  digestEmails: 'digest.emails',
  digestWeekday: 'digest.day',
  digestHour: 'digest.hour',
};

/**
 * A step's changes in the file's words: `digest.day: "fri"`, not `digestWeekday: 5`. A record to
 * create shows what the file declares, not what the system fills in: no ids (the title names them),
 * no "unknown" platform id or status (connect sets them), no observe settings equal to the
 * network's defaults, no policy time zone taken from the client.
 */
export function declaredChanges(step: PlanStep, clientZones: ReadonlyMap<string, string>): FieldChange[] {
  const day = (v: unknown) => (typeof v === 'number' ? weekdayName(v) : v);
  if (step.kind === 'client') {
    return step.changes
      .filter((c) => step.op !== 'create' || c.path !== 'clientId')
      .map((c) =>
        c.path === 'digestWeekday'
          ? { path: 'digest.day', from: day(c.from), to: day(c.to) }
          : { ...c, path: CLIENT_PATHS[c.path] ?? c.path },
      )
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  const named = step.changes.map((c) => (c.path === 'instanceUrl' ? { ...c, path: 'instance' } : c));
  if (step.op !== 'create' || step.desired === undefined) return named;
  const account = step.desired;
  const defaults = OBSERVE_DEFAULTS[account.network] as unknown as Record<string, unknown>;
  return named.filter((c) => {
    if (c.path === 'clientId' || c.path === 'accountId' || c.path === 'status') return false;
    if (c.path === 'platformUserId') return c.to !== UNKNOWN_PLATFORM_USER_ID;
    if (c.path === 'policy.timeZone') return c.to !== clientZones.get(account.clientId);
    if (c.path.startsWith('observe.')) return !sameValue(defaults[c.path.slice(8)], c.to);
    return true;
  });
}

export interface ApplyResult {
  created: number;
  updated: number;
  removed: number;
  /** Accounts created or still waiting for `followback connect` (not connected, or access refused). */
  toConnect: AccountRecord[];
}

/**
 * Carries out a plan step by step, in its order (clients before their accounts; accounts removed
 * before their client). A failure part way leaves the steps done so far; applying the file again
 * finishes the rest, as each step is idempotent.
 */
export async function applyPlan(deps: TenantDeps, plan: Plan): Promise<ApplyResult> {
  const result: ApplyResult = { created: 0, updated: 0, removed: 0, toConnect: [] };
  if (!planChangesSomething(plan)) return result;
  for (const step of plan.steps) {
    if (step.op === 'keep') continue;
    if (step.kind === 'client') {
      if (step.op === 'remove') {
        // Its accounts went in earlier steps; any added since are removed with it.
        for (const account of await deps.store.listAccounts(step.clientId))
          await removeAccount(deps, account);
        await deps.store.deleteClient(step.clientId);
      } else {
        await deps.store.putClient(defined(step.desired, 'the desired client of a create or update step'));
      }
    } else if (step.op === 'remove') {
      if ((await deps.store.getAccount(step.ref)) !== undefined) await removeAccount(deps, step.ref);
    } else {
      // `connect` may have stored the account's id and status since the plan was made: do not undo it.
      const now = await deps.store.getAccount(step.ref);
      if (!sameValue(now, step.current)) {
        throw new ConflictError(
          `account ${accountKey(step.ref)} changed since the plan was made; nothing more applied: run apply again`,
          { details: { ...step.ref } },
        );
      }
      const desired = defined(step.desired, 'the desired account of a create or update step');
      await deps.store.putAccount(desired);
      if (needsConnect(desired.status)) result.toConnect.push(desired);
    }
    if (step.op === 'create') result.created++;
    else if (step.op === 'update') result.updated++;
    else result.removed++;
    deps.logger?.info('apply step done', {
      kind: step.kind,
      op: step.op,
      id: step.kind === 'client' ? step.clientId : accountKey(step.ref),
    });
  }
  return result;
}
